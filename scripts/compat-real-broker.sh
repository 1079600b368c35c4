#!/usr/bin/env bash
# usage: scripts/compat-real-broker.sh HOST PORT
#
# Runs libmemphis against an external Memphis broker, normally a real Memphis
# 1.4.x (docs/compatibility.md says how to run one locally), and prints a
# pass/fail table: the Go, C, Python and Ruby examples, then the sdk's
# integration tests (devbrokertest points them at HOST:PORT through
# MEMPHIS_TEST_BROKER; tests that need a broker of their own, or a restart,
# skip themselves). Not part of `make test`: the real broker needs PostgreSQL.
#
# Credentials: MEMPHIS_USERNAME / MEMPHIS_PASSWORD (default root / memphis).
# The sdk tests log in as root/memphis, so the broker needs that password.
# Every run uses fresh station names for the examples; the sdk tests destroy
# the stations they create.
set -uo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 HOST PORT" >&2
  exit 2
fi
host=$1 port=$2
cd "$(dirname "$0")/.."
root=$(pwd)

# sdk tests (or TEST/SUBTEST) that rely on what only memphis-devbroker does
# (the differences in docs/compatibility.md), with the reason.
declare -A devbroker_only=(
  [TestPoisonMessageReachesConsumer]="waits for the automatic poison-message resend; the real broker resends only from its UI"
  [TestSchemaverseClientSideErrors]="expects station creation with an unknown schema to fail; the real broker answers success"
  [TestConnectWithToken]="the real broker takes passwords (USER_PASS_BASED_AUTH=true, which the other tests need) or its token, not both"
  [TestSchemaverseEndToEnd/graphql]="expects memphis-devbroker's text for an invalid GraphQL schema; the real broker's parser words it differently"
)

if ! (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
  echo "compat-real-broker: nothing accepts connections on $host:$port" >&2
  exit 2
fi

echo "--- building libmemphis"
make lib >/dev/null || { echo "compat-real-broker: make lib failed" >&2; exit 2; }

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
names=() results=()
record() { names+=("$1"); results+=("$2"); }

export MEMPHIS_HOST="$host" MEMPHIS_PORT="$port"
export MEMPHIS_USERNAME="${MEMPHIS_USERNAME:-root}" MEMPHIS_PASSWORD="${MEMPHIS_PASSWORD:-memphis}"
export MEMPHIS_LIBRARY="$root/build/lib/libmemphis.so"
run_id="compat-$(date +%s)"

for lang in go c python ruby; do
  echo "--- $lang example"
  if MEMPHIS_STATION="$run_id-$lang" bash "examples/$lang/run.sh" >"$log/$lang" 2>&1; then
    if grep -q '^SKIP' "$log/$lang"; then
      record "$lang example" "skip: $(grep -m1 '^SKIP' "$log/$lang")"
    else
      record "$lang example" "pass"
    fi
  else
    tail -n 20 "$log/$lang"
    record "$lang example" "FAIL (see output above)"
  fi
done

echo "--- sdk integration tests"
# go test -skip: alternatives split at top-level "|", levels at "/".
skip=""
for t in "${!devbroker_only[@]}"; do
  skip="${skip:+$skip|}^${t//\//\$/^}\$"
done
MEMPHIS_TEST_BROKER="$host:$port" MEMPHIS_TEST_USER=root MEMPHIS_TEST_PASSWORD="$MEMPHIS_PASSWORD" \
  go test -count=1 -p 1 -parallel 1 -timeout 30m -v -skip "$skip" ./sdk/ >"$log/sdk" 2>&1
passed=$(grep -c '^--- PASS' "$log/sdk")
skipped=$(grep -c '^--- SKIP' "$log/sdk")
failed=$(grep '^--- FAIL' "$log/sdk" | awk '{print $3}' | tr '\n' ' ')
if [ -z "$failed" ] && grep -q '^ok' "$log/sdk"; then
  record "sdk integration tests" "pass ($passed passed, $skipped skipped by devbrokertest)"
else
  grep -E '^(--- FAIL|    |panic|FAIL)' "$log/sdk" | head -n 60
  record "sdk integration tests" "FAIL: ${failed:-see output above} ($passed passed)"
fi
for t in "${!devbroker_only[@]}"; do
  record "  $t" "not run: ${devbroker_only[$t]}"
done

echo
printf '%-44s %s\n' "compatibility with $host:$port" "result"
printf '%-44s %s\n' "--------------------------------------------" "------"
status=0
for i in "${!names[@]}"; do
  printf '%-44s %s\n' "${names[$i]}" "${results[$i]}"
  case "${results[$i]}" in FAIL*) status=1 ;; esac
done
exit $status
