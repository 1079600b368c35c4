#!/usr/bin/env bash
# Installs what the build and the test suites need and is missing, so that
# `make test` works on a fresh machine. Idempotent: installed things are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

need_cmd() { command -v "$1" >/dev/null 2>&1 || { echo "missing required tool: $1 ($2)" >&2; exit 1; }; }
need_cmd go "the Go toolchain (1.26 or newer)"
need_cmd python3 "CPython 3.9 or newer"

# Debian packages: C toolchain for the C API tests, openssl for their TLS
# certificates, Ruby and its ffi gem
# (rubygems.org is not reachable here, Debian ships the gem).
apt_pkgs=(gcc g++ make cmake pkg-config openssl ruby ruby-ffi ruby-minitest)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Python packages the binding's tests and lint need, and those `make dist`
# needs (wheel, sdist, auditwheel).
for req in bindings/python/requirements-test.txt scripts/dist-requirements.txt; do
  if [ -f "$req" ]; then
    python3 -m pip install -q --disable-pip-version-check -r "$req"
  fi
done

# staticcheck for scripts/test-go.sh, pinned, from the Go module proxy.
staticcheck_version=v0.8.2
staticcheck="$(go env GOPATH)/bin/staticcheck"
if ! "$staticcheck" -version 2>/dev/null | grep -q "(${staticcheck_version})"; then
  echo "install-deps: go install honnef.co/go/tools/cmd/staticcheck@$staticcheck_version"
  GOFLAGS= go install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version"
fi

# Go modules, for the main module and the separate compatibility module.
go mod download
if [ -f tests/compat/go.mod ]; then (cd tests/compat && go mod download); fi
echo "install-deps: done"
