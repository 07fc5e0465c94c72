#!/usr/bin/env bash
# test-kernel.sh — run iotrace's BPF integration tests on Debian 12's kernel 6.1, in a QEMU guest
# (make test-kernel-6.1). Needs root the first time, to build the guest image (build-image.sh).
#
# The guest has neither Go nor gcc nor a network, so everything it runs is built here, static:
#   bin/k61/iotrace     CGO_ENABLED=0 go build ./cmd/iotrace          IOTRACE_BIN in the guest
#   bin/k61/iohelper    gcc -static cmd/iotrace/testdata/iohelper.c   IOTRACE_HELPER in the guest
#   bin/k61/*.test      CGO_ENABLED=0 go test -c, one per package whose tests call
#                       testutil.RequireBPF (the tests that load BPF)
# The guest sees the repository read-write at /mnt/work and runs each test binary in its
# package's directory (for testdata/) with CI=true, so a test that cannot load BPF fails,
# IOTRACE_TEST_TIMEOUT_SCALE, by which tests stretch their own timeouts, and TMPDIR on ext4. Exits
# with 1 when a test fails, 124 when the guest run times out, 125 when the guest dies.
#
# Environment:
#   GO                the go command (default: go on PATH, else /usr/local/go/bin/go)
#   K61_PKGS          packages to test instead of the discovered ones, e.g. "./cmd/iotrace"
#   K61_RUN           passed as -test.run
#   K61_TIMEOUT       seconds for the whole guest run, boot included (default 2700)
#   K61_TEST_TIMEOUT  -test.timeout of each test binary (default 20m)
#   K61_TIMEOUT_SCALE exported to the tests as IOTRACE_TEST_TIMEOUT_SCALE (default 10)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
OUT=bin/k61 # relative to ROOT, so the same path works in the guest under /mnt/work
HELPER_SRC=cmd/iotrace/testdata/iohelper.c
TIMEOUT=${K61_TIMEOUT:-2700}
TEST_TIMEOUT=${K61_TEST_TIMEOUT:-20m}
# Emulated (TCG) guests run 6-16x slower, and loading iotrace's BPF takes seconds there: tests
# multiply their own per-command timeouts by IOTRACE_TEST_TIMEOUT_SCALE.
SCALE=${K61_TIMEOUT_SCALE:-10}

log() { printf '[test-kernel %(%T)T] %s\n' -1 "$*" >&2; }
cd "$ROOT"

if ! command -v qemu-system-x86_64 >/dev/null; then
  log "installing qemu-system-x86"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null
fi

# --- what to test -----------------------------------------------------------------------------
if [ -n "${K61_PKGS:-}" ]; then
  read -r -a pkgs <<<"$K61_PKGS"
else
  mapfile -t pkgs < <(grep -rlE --include='*_test.go' --exclude-dir=.git --exclude-dir=bin \
    'testutil\.RequireBPF\(' . | xargs -r -n1 dirname | sort -u)
fi
[ ${#pkgs[@]} -gt 0 ] || { log "no package has tests that call testutil.RequireBPF"; exit 1; }

# --- build --------------------------------------------------------------------------------------
START=$SECONDS
rm -rf "$OUT" && mkdir -p "$OUT"
export CGO_ENABLED=0
log "building $OUT/iotrace and ${#pkgs[@]} test binaries (static)"
"$GO" build -o "$OUT/iotrace" ./cmd/iotrace
list=""
for p in "${pkgs[@]}"; do
  dir=${p#./}
  name=${dir//\//_}
  "$GO" test -c -vet=off -o "$OUT/$name.test" "./$dir" # make vet covers vet
  list+="$dir $name"$'\n'
done
if [ -f "$HELPER_SRC" ]; then
  gcc -O1 -Wall -Wextra -Werror -pthread -static -o "$OUT/iohelper" "$HELPER_SRC"
fi
log "built in $((SECONDS - START))s"

# --- the guest's script ---------------------------------------------------------------------------
run_arg=""
[ -n "${K61_RUN:-}" ] && run_arg=$(printf ' -test.run=%q' "$K61_RUN")
cat >"$OUT/guest.sh" <<EOF
#!/bin/bash
# Written by .ci/vm/test-kernel.sh; runs in the guest, in the repository root.
set -u
ROOT=\$PWD
export CI=true IOTRACE_BIN=\$ROOT/$OUT/iotrace IOTRACE_TEST_TIMEOUT_SCALE=$SCALE
[ -x "\$ROOT/$OUT/iohelper" ] && export IOTRACE_HELPER=\$ROOT/$OUT/iohelper
# The guest's /tmp is tmpfs, where pages never go cold and O_DIRECT and RWF_NOWAIT fail: the
# tests' files go on the ext4 root disk instead (a throw-away snapshot).
mkdir -p /var/tmp/iotrace-tests && export TMPDIR=/var/tmp/iotrace-tests
echo "== \$(uname -r): iotrace doctor"
"\$IOTRACE_BIN" doctor
passed=0 failed=0 broken=()
while read -r dir name; do
  [ -n "\$dir" ] || continue
  echo "== \$dir"
  start=\$SECONDS
  # One test at a time: the guest is emulated. The strace comparison is left to the host (it
  # depends on the host's strace, not on the kernel, and is slow under emulation).
  (cd "\$ROOT/\$dir" && "\$ROOT/$OUT/\$name.test" -test.v -test.count=1 -test.parallel=1 -test.skip=TestAgainstStrace \\
    -test.timeout=$TEST_TIMEOUT$run_arg) 2>&1 | tee "/tmp/\$name.log"
  rc=\${PIPESTATUS[0]}
  p=\$(grep -c '^--- PASS' "/tmp/\$name.log")
  f=\$(grep -c '^--- FAIL' "/tmp/\$name.log")
  # A binary that fails without a failed test (TestMain, a panic, the timeout) counts as one.
  [ "\$rc" != 0 ] && [ "\$f" = 0 ] && f=1
  passed=\$((passed + p)) failed=\$((failed + f))
  if [ "\$rc" = 0 ]; then
    echo "ok      \$dir  \$((SECONDS - start))s"
  else
    echo "FAIL    \$dir  \$((SECONDS - start))s (exit \$rc)"
    broken+=("\$dir")
  fi
done <<'LIST'
$list
LIST
echo "test-kernel-6.1: \$passed passed, \$failed failed"
[ \${#broken[@]} = 0 ]
EOF

# --- run --------------------------------------------------------------------------------------
log "booting Debian 12 / kernel 6.1 (limit ${TIMEOUT}s)"
rc=0
"$HERE/run-on-kernel.sh" -C "$ROOT" -t "$TIMEOUT" -m 3072 -s "$OUT/guest.sh" || rc=$?
case $rc in
  0) log "all passed on kernel 6.1 in $((SECONDS - START))s" ;;
  124) log "the guest run passed its ${TIMEOUT}s limit (K61_TIMEOUT)" ;;
  125) log "the guest died before reporting (console tail above)" ;;
  *) log "failures on kernel 6.1 (exit $rc) after $((SECONDS - START))s" ;;
esac
exit "$rc"
