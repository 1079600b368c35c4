#!/usr/bin/env bash
# Install tests: the artifacts in dist/ (from `make dist`) used as a user would,
# in a temporary directory outside the source tree, with Go removed from PATH
# and no MEMPHIS_LIBRARY, PYTHONPATH or RUBYLIB pointing back into the checkout:
#   python  fresh venv, pip install the wheel, version check + round trip
#   sdist   builds a wheel with Go (library compiled) and fails clearly without Go
#   ruby    gem install --local into a temporary GEM_HOME, round trip with the
#           vendored library, then with the vendored copy removed: found through
#           the system loader (LD_LIBRARY_PATH), then not at all (error lists places)
#   c       unpacked tarball: round trip built with pkg-config and with
#           find_package(memphis); versions agree (header, library, .pc, CMake)
# Every check prints "ok: ..." or "FAIL ..."; the script exits 1 if any failed.
# The broker is this checkout's build/bin/memphis-devbroker (a test fixture,
# not an artifact), copied out first.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
here="$root/tests/install"
py=${PYTHON:-python3}

version=$(cat VERSION)
arch=$(uname -m)
wheel=$(ls dist/libmemphis-"$version"-py3-none-*.whl 2>/dev/null | head -n1)
sdist="dist/libmemphis-$version.tar.gz"
gem=$(ls dist/memphis-"$version"-*.gem 2>/dev/null | head -n1)
ctar="dist/libmemphis-$version-linux-$arch.tar.gz"
for f in "$wheel" "$sdist" "$gem" "$ctar" build/bin/memphis-devbroker; do
  [ -n "$f" ] && [ -f "$f" ] || { echo "FAIL install: ${f:-an artifact} missing (run make dist and make)"; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/memphis-install.XXXXXX")
broker_pid=""
cleanup() {
  if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
    kill -TERM "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/dist" "$work/src"
cp "$wheel" "$sdist" "$gem" "$ctar" "$work/dist/"
cp -R "$here"/roundtrip.* "$here/cmake-app" "$work/src/"
cp build/bin/memphis-devbroker "$work/"
go_path=$(command -v go || true)

# From here on: the temporary directory, no Go, nothing from the checkout.
cd "$work"
no_go_path=""
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  [ -n "$d" ] && [ ! -x "$d/go" ] && no_go_path+="${no_go_path:+:}$d"
done
with_go_path=$PATH
export PATH=$no_go_path
unset MEMPHIS_LIBRARY PYTHONPATH RUBYLIB RUBYOPT GEM_PATH GOROOT LD_LIBRARY_PATH PKG_CONFIG_PATH CMAKE_PREFIX_PATH
if command -v go >/dev/null 2>&1; then echo "FAIL install: go still on PATH"; exit 1; fi

failures=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL $*"; failures=$((failures + 1)); }
# run NAME CMD...: runs CMD with its output in $work/NAME.log, shown on failure.
run() {
  local name=$1; shift
  if "$@" >"$work/$name.log" 2>&1; then
    return 0
  fi
  sed 's/^/    /' "$work/$name.log" | tail -n 40
  return 1
}

./memphis-devbroker --port 0 --data-dir "$work/broker" --ready-file "$work/ready" >"$work/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq 1 300); do
  [ -s "$work/ready" ] && break
  kill -0 "$broker_pid" 2>/dev/null || break
  sleep 0.1
done
[ -s "$work/ready" ] || { cat "$work/broker.log"; echo "FAIL install: broker did not start"; exit 1; }
addr=$(cat "$work/ready")
export MEMPHIS_HOST="${addr%:*}" MEMPHIS_PORT="${addr##*:}" MEMPHIS_USERNAME=root MEMPHIS_PASSWORD=memphis

# --- Python: the wheel in a fresh venv.
if run venv "$py" -m venv "$work/venv" &&
  run pip-install "$work/venv/bin/python" -m pip install -q --no-index --no-deps --disable-pip-version-check \
    "dist/$(basename "$wheel")"; then
  if run python-roundtrip "$work/venv/bin/python" src/roundtrip.py "$version" install-python bundled; then
    ok "python: $(tail -n1 "$work/python-roundtrip.log")"
  else
    bad "python: wheel round trip"
  fi
  python_venv=yes
else
  bad "python: venv + pip install $(basename "$wheel")"
fi

# --- Python: the sdist compiles the library with Go, and says so when Go is missing.
# --no-build-isolation: the build uses this Python's setuptools and wheel
# (scripts/install-deps.sh) instead of downloading them.
sdist_wheel() { # PATH, output dir
  env PATH="$1" "$py" -m pip wheel -q --no-deps --no-build-isolation --no-cache-dir --disable-pip-version-check \
    -w "$2" "dist/$(basename "$sdist")"
}
if sdist_wheel "$PATH" "$work/nogo" >"$work/sdist-nogo.log" 2>&1; then
  bad "sdist: built without Go"
elif grep -q "go not found on PATH" "$work/sdist-nogo.log"; then
  ok "sdist: without Go the build stops with: $(grep -m1 -o 'error: libmemphis cannot be compiled here.*' "$work/sdist-nogo.log")"
else
  bad "sdist: without Go it failed without saying why"
  tail -n 20 "$work/sdist-nogo.log"
fi
if [ -z "$go_path" ]; then
  bad "sdist: no Go on this machine to build the sdist with"
elif run sdist-go sdist_wheel "$with_go_path" "$work/fromsdist"; then
  built=$(ls "$work"/fromsdist/*.whl)
  # Not "zipfile -l | grep -q": grep quits at the first match, the lister dies
  # of SIGPIPE, and pipefail turns the match into a failure.
  if "$py" -c 'import sys, zipfile; sys.exit("memphis/_lib/libmemphis.so.1" not in zipfile.ZipFile(sys.argv[1]).namelist())' "$built"; then
    ok "sdist: compiled the library with Go into $(basename "$built")"
  else
    bad "sdist: $(basename "$built") has no memphis/_lib/libmemphis.so.1"
  fi
else
  bad "sdist: wheel build with Go"
fi

# --- Ruby: gem install --local into a temporary GEM_HOME (ffi from the system).
export GEM_HOME="$work/gems"
if run gem-install gem install --local --no-document "dist/$(basename "$gem")"; then
  if run ruby-vendored ruby src/roundtrip.rb "$version" install-ruby vendored; then
    ok "ruby: $(tail -n1 "$work/ruby-vendored.log")"
  else
    bad "ruby: gem round trip (vendored library)"
  fi
else
  bad "ruby: gem install --local $(basename "$gem")"
fi

# --- C: the tarball, built with pkg-config and with find_package.
mkdir -p "$work/prefix"
tar -xzf "dist/$(basename "$ctar")" -C "$work/prefix"
prefix="$work/prefix/libmemphis-$version"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
pc_version=$(pkg-config --modversion memphis 2>&1)
[ "$pc_version" = "$version" ] && ok "c: memphis.pc says $pc_version" || bad "c: memphis.pc version $pc_version, expected $version"
# rpath: the program finds libmemphis.so.1 where pkg-config says it is,
# without LD_LIBRARY_PATH (README, "rpath").
libdir=$(pkg-config --variable=libdir memphis)
# shellcheck disable=SC2046 # pkg-config output is a list of flags
if run c-pkgconfig-build "${CC:-cc}" -std=c11 -Wall -Wextra -Werror -o roundtrip-pc src/roundtrip.c \
  $(pkg-config --cflags --libs memphis) -Wl,-rpath,"$libdir"; then
  if run c-pkgconfig ./roundtrip-pc "$version" install-c-pkgconfig; then
    ok "c (pkg-config): $(tail -n1 "$work/c-pkgconfig.log")"
  else
    bad "c (pkg-config): round trip"
  fi
else
  bad "c (pkg-config): build"
fi
unset PKG_CONFIG_PATH
if run c-cmake-configure cmake -S src/cmake-app -B cmake-build -DCMAKE_PREFIX_PATH="$prefix" \
  -DMEMPHIS_EXPECT_VERSION="$version" && run c-cmake-build cmake --build cmake-build; then
  if run c-cmake ./cmake-build/roundtrip "$version" install-c-cmake; then
    ok "c (find_package): $(tail -n1 "$work/c-cmake.log")"
  else
    bad "c (find_package): round trip"
  fi
else
  bad "c (find_package): configure/build"
fi

# --- Python again: without the bundled copy the package finds a system library.
if [ -n "${python_venv:-}" ]; then
  rm -f "$work"/venv/lib/python*/site-packages/memphis/_lib/libmemphis.so.1
  if LD_LIBRARY_PATH="$prefix/lib" run python-system "$work/venv/bin/python" src/roundtrip.py "$version" \
    install-python-system system; then
    ok "python: without the bundled copy: $(tail -n1 "$work/python-system.log")"
  else
    bad "python: system library through LD_LIBRARY_PATH"
  fi
fi

# --- Ruby again: without the vendored copy the gem finds a system library.
vendored=$(ls "$GEM_HOME"/gems/memphis-"$version"-*/lib/memphis/vendor/libmemphis.so.1 2>/dev/null)
if [ -n "$vendored" ]; then
  rm -f "$vendored"
  if LD_LIBRARY_PATH="$prefix/lib" run ruby-system ruby src/roundtrip.rb "$version" install-ruby-system system; then
    ok "ruby: without the vendored copy: $(tail -n1 "$work/ruby-system.log")"
  else
    bad "ruby: system library through LD_LIBRARY_PATH"
  fi
  if ruby -e 'require "memphis"; Memphis::Native.load!' >"$work/ruby-none.log" 2>&1; then
    bad "ruby: loaded a library although none was left (is libmemphis in /usr/local/lib or the ldconfig cache?)"
  elif grep -q "Looked at:.*vendor/libmemphis.so.1.*system loader" "$work/ruby-none.log"; then
    ok "ruby: with no library anywhere the error lists where it looked"
  else
    bad "ruby: the not-found error does not list where it looked"
    tail -n 5 "$work/ruby-none.log"
  fi
else
  bad "ruby: the installed gem has no vendored libmemphis.so.1"
fi

if [ "$failures" -gt 0 ]; then
  echo "install: $failures check(s) failed"
  exit 1
fi
echo "install: all checks passed"
