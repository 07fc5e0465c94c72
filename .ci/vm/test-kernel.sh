#!/usr/bin/env bash
# test-kernel.sh [KERNEL] — run iotrace's BPF integration tests, doctor and the tour on another
# kernel, in a QEMU guest (make test-kernel-6.1, test-kernel-5.15, test-kernel-6.8). KERNEL is 6.1
# (Debian 12's, the image's own; the default), 5.15 (Ubuntu 22.04), 6.8 (Ubuntu 24.04) or 5.10
# (Debian 11, below the floor: only doctor and one trace, which must refuse in one sentence), or
# 6.1-arm64 (Debian 12's arm64 kernel under qemu-system-aarch64: everything is cross-built, the C
# programs with aarch64-linux-gnu-gcc; the guest is ../shared/vm/arm64-build.sh's, booted by
# run-arm64.sh). The x86 kernels other than 6.1 come from ../shared/vm/kernels (IOTRACE_KERNELS),
# booting the same rootfs.img.
# Needs root the first time, to build the guest image (build-image.sh).
#
# The guest has neither Go nor gcc nor a network, so everything it runs is built here, static:
#   bin/k-KERNEL/iotrace     CGO_ENABLED=0 go build ./cmd/iotrace          IOTRACE_BIN in the guest
#   bin/k-KERNEL/iohelper    gcc -static cmd/iotrace/testdata/iohelper.c   IOTRACE_HELPER in the guest
#   bin/k-KERNEL/storm       gcc -static cmd/iotrace-bench/testdata/storm.c IOTRACE_STORM in the guest
#   bin/k-KERNEL/e2e-c/*     gcc -static internal/e2e/testdata/*.c         IOTRACE_E2E_CBIN in the guest
#                            (and posixaio-dyn, dynamic, on x86)
#   bin/k-KERNEL/*.test      CGO_ENABLED=0 go test -c, one per package whose tests call
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
HELPER_SRC=cmd/iotrace/testdata/iohelper.c
STORM_SRC=cmd/iotrace-bench/testdata/storm.c
TIMEOUT=${K61_TIMEOUT:-2700}
TEST_TIMEOUT=${K61_TEST_TIMEOUT:-20m}
# Emulated (TCG) guests run 6-16x slower, and loading iotrace's BPF takes seconds there: tests
# multiply their own per-command timeouts by IOTRACE_TEST_TIMEOUT_SCALE.
SCALE=${K61_TIMEOUT_SCALE:-10}
KERNEL=${1:-6.1}
# relative to ROOT, so the same path works in the guest under /mnt/work; one per kernel, so
# legs can run side by side (matrix.sh)
OUT=bin/k-$KERNEL
SHARED=${IOTRACE_SHARED_VM:-}
if [ -z "$SHARED" ]; then
  for d in "$ROOT/../shared/vm" /work/shared/vm; do
    [ -d "$d" ] && { SHARED=$(cd "$d" && pwd); break; }
  done
fi
KERNELS=${IOTRACE_KERNELS:-${SHARED:+$SHARED/kernels}}
KARGS=()
CC=gcc
# Lessons the tour must teach on every supported kernel (an extended regexp over its notes
# each, ';' between them); a kernel adds those its tracepoints allow: copy-on-write needs
# per-change rss counts (6.2+) and the write bit of exceptions:page_fault_user (x86).
LESSONS='↳ zero read\(\)/write\(\) calls on [^ ]*/copy/source\.dat while it was mapped: ;↳ DONTNEED evicted [0-9]+ of [0-9]+ pages;↳ WILLNEED inserted;↳ interest list of epoll;↳ fd [0-9]+ and fd [0-9]+ share open file;↳ close-on-exec closed;↳ AIO context;↳ io_uring;↳ blocked .* in epoll_(p)?wait'
case $KERNEL in
  6.8) LESSONS+=';↳ copy-on-write' ;;
esac
case $KERNEL in
  6.1) ;;
  6.1-arm64)
    export GOARCH=arm64
    CC=aarch64-linux-gnu-gcc
    ARM64_IMG=${ARM64_IMG:-/var/tmp/iotrace-arm64}
    [ -n "$SHARED" ] || { echo "test-kernel: ../shared/vm (arm64-build.sh, run-arm64.sh) not found; set IOTRACE_SHARED_VM" >&2; exit 2; }
    ;;
  5.15) KDIR=ubuntu22.04-5.15 ;;
  6.8) KDIR=ubuntu24.04-6.8 ;;
  5.10) KDIR=debian11-5.10 ;;
  *) echo "test-kernel: unknown kernel $KERNEL (6.1, 5.15, 6.8, 5.10 or 6.1-arm64)" >&2; exit 2 ;;
esac
if [ -n "${KDIR:-}" ]; then
  if [ -z "$KERNELS" ] || [ ! -f "$KERNELS/$KDIR/vmlinuz" ]; then
    echo "test-kernel: no $KDIR kernel (looked in ../shared/vm/kernels; set IOTRACE_KERNELS)" >&2; exit 2
  fi
  KARGS=(-K "$KERNELS/$KDIR")
fi

log() { printf '[test-kernel %(%T)T] %s\n' -1 "$*" >&2; }
cd "$ROOT"

need=()
if [ "$KERNEL" = 6.1-arm64 ]; then
  for c in qemu-system-aarch64:qemu-system-arm aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu \
    debootstrap:debootstrap mkfs.ext4:e2fsprogs cpio:cpio depmod:kmod; do
    command -v "${c%%:*}" >/dev/null || need+=("${c#*:}")
  done
  [ -d /usr/aarch64-linux-gnu/lib ] || need+=(libc6-dev-arm64-cross)
else
  command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
fi
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
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
  $CC -O1 -Wall -Wextra -Werror -pthread -static -o "$OUT/iohelper" "$HELPER_SRC"
fi
if [ -f "$STORM_SRC" ]; then
  $CC -O2 -Wall -Wextra -Werror -pthread -static -o "$OUT/storm" "$STORM_SRC"
fi
# the C programs of internal/e2e (ground-truth scenarios), IOTRACE_E2E_CBIN in the guest
mkdir -p "$OUT/e2e-c"
for c in internal/e2e/testdata/*.c; do
  [ -f "$c" ] || continue
  $CC -O1 -Wall -Wextra -Werror -static -o "$OUT/e2e-c/$(basename "$c" .c)" "$c"
done
# and glibc's POSIX AIO linked dynamically, probed in the guest's libc (the x86 guests' root is
# Debian 12, as this host; the arm64 root is never configured)
if [ "$KERNEL" != 6.1-arm64 ]; then
  $CC -O1 -Wall -Wextra -Werror -o "$OUT/e2e-c/posixaio-dyn" internal/e2e/testdata/posixaio.c
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
[ -x "\$ROOT/$OUT/storm" ] && export IOTRACE_STORM=\$ROOT/$OUT/storm
export IOTRACE_E2E_CBIN=\$ROOT/$OUT/e2e-c
# The guest's /tmp is tmpfs, where pages never go cold and O_DIRECT and RWF_NOWAIT fail: the
# tests' files go on the ext4 root disk instead (a throw-away snapshot).
mkdir -p /var/tmp/iotrace-tests && export TMPDIR=/var/tmp/iotrace-tests
echo "== \$(uname -r): iotrace doctor"
"\$IOTRACE_BIN" doctor
doctor_rc=\$?
if [ "$KERNEL" = 5.10 ]; then
  # below the floor: doctor and trace must both refuse, trace in one sentence
  "\$IOTRACE_BIN" trace -- /bin/true >/tmp/out 2>/tmp/err; rc=\$?
  cat /tmp/err
  lines=\$(wc -l </tmp/err)
  echo "test-kernel-$KERNEL: doctor exit \$doctor_rc, trace exit \$rc, \$lines line(s) on stderr"
  [ "\$doctor_rc" != 0 ] && [ "\$rc" != 0 ] && [ "\$lines" = 1 ]
  exit
fi
[ "\$doctor_rc" = 0 ] || echo "FAIL    doctor exit \$doctor_rc"
echo "== \$(uname -r): iotrace tour"
start=\$SECONDS
"\$IOTRACE_BIN" tour >/tmp/tour.out 2>/tmp/tour.err
tour_rc=\$?
echo "tour: exit \$tour_rc, \$(wc -l </tmp/tour.out) lines, \$(grep -c '↳' /tmp/tour.out) notes, \$((SECONDS - start))s"
grep -E '✘|✔' /tmp/tour.out | sort | uniq -c | sort -rn | head -40
tail -5 /tmp/tour.err
passed=0 failed=0 broken=()
[ "\$doctor_rc" = 0 ] || { failed=\$((failed + 1)); broken+=(doctor); }
[ "\$tour_rc" = 0 ] || { failed=\$((failed + 1)); broken+=(tour); }
# the workloads' predictions: a ✘ is a finding on this kernel, and fails the leg
pred=\$(grep -a '^predictions: ' /tmp/tour.out | tail -1)
echo "tour \$pred"
case \$pred in
  *" 0 did not hold"*) ;;
  *) failed=\$((failed + 1)); broken+=(predictions); echo "FAIL    the tour's predictions: \${pred:-none printed}" ;;
esac
IFS=';' read -r -a lessons <<<'$LESSONS'
for l in "\${lessons[@]}"; do
  n=\$(grep -c -E -- "\$l" /tmp/tour.out)
  echo "lesson '\$l': \$n note(s)"
  [ "\$n" != 0 ] || { failed=\$((failed + 1)); broken+=("lesson '\$l'"); echo "FAIL    the tour never says '\$l' on this kernel"; }
done
while read -r dir name; do
  [ -n "\$dir" ] || continue
  echo "== \$dir"
  start=\$SECONDS
  # One test at a time: the guest is emulated. The strace comparison is left to the host (it
  # depends on the host's strace, not on the kernel, and is slow under emulation).
  (cd "\$ROOT/\$dir" && "\$ROOT/$OUT/\$name.test" -test.v -test.count=1 -test.parallel=1 -test.skip='TestAgainstStrace|TestStraceCorpus' \\
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
echo "test-kernel-$KERNEL: \$passed passed, \$failed failed"
[ \${#broken[@]} = 0 ]
EOF

# --- run --------------------------------------------------------------------------------------
log "booting kernel $KERNEL (limit ${TIMEOUT}s)"
rc=0
if [ "$KERNEL" = 6.1-arm64 ]; then
  if [ ! -f "$ARM64_IMG/rootfs.img" ]; then
    log "building the arm64 guest in $ARM64_IMG (≈1 min)"
    "$SHARED/arm64-build.sh" "$ARM64_IMG" >&2
  fi
  ARM64_IMG=$ARM64_IMG "$SHARED/run-arm64.sh" -C "$ROOT" -t "$TIMEOUT" -m 3072 "$OUT/guest.sh" || rc=$?
else
  "$HERE/run-on-kernel.sh" "${KARGS[@]+"${KARGS[@]}"}" -C "$ROOT" -t "$TIMEOUT" -m 3072 -s "$OUT/guest.sh" || rc=$?
fi
case $rc in
  0) log "all passed on kernel $KERNEL in $((SECONDS - START))s" ;;
  124) log "the guest run passed its ${TIMEOUT}s limit (K61_TIMEOUT)" ;;
  125) log "the guest died before reporting (console tail above)" ;;
  *) log "failures on kernel $KERNEL (exit $rc) after $((SECONDS - START))s" ;;
esac
exit "$rc"
