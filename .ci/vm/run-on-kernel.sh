#!/usr/bin/env bash
# run-on-kernel.sh — run a host binary as root inside a throw-away Debian 12 guest
# booted on Debian's 6.1 kernel, and return its stdout, stderr and exit code.
#
#   run-on-kernel.sh [options] BINARY [ARGS...]
#
# Options:
#   -C DIR      share host DIR read-write into the guest and run BINARY there as cwd
#               (default: a scratch dir; the binary itself is always copied in)
#   -e VAR=VAL  set VAR in the guest (repeatable). CI is passed through when set.
#   -t SECS     wall-clock limit for the whole boot+run (default 600); exit 124 on expiry
#   -m MiB      guest memory (default 2048)
#   -c N        guest vCPUs (default: host cores, max 4)
#   -a ACCEL    kvm | tcg | auto (default auto: kvm only when the CPU shows vmx/svm and
#               /dev/kvm is usable, else tcg software emulation)
#   -s SCRIPT   run a shell script (bash, in the guest) instead of BINARY
#   -v          also copy the guest kernel console to stderr when the run ends
#   -k          keep the run directory (console.log etc.) and print its path
#   -K DIR      boot the kernel in DIR (vmlinuz + initrd.gz, e.g. ../shared/vm/kernels/
#               ubuntu22.04-5.15) instead of the image's own 6.1: its initramfs switch_roots
#               into the same rootfs.img
#
# Exit status: the guest command's own exit status; 124 on timeout; 125 if the guest
# never reported one (boot failure, kernel panic — the console log tail is printed).
#
# Image: built once by build-image.sh into $IOTRACE_VM_CACHE/debian12-k61-HASH
# (default /var/tmp/iotrace-vm); built here automatically when missing (needs root).
# Adapted from shared/vm/run-on-kernel.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMG=$("$HERE/build-image.sh" --print-dir)
WORKDIR="" ; ENVS=() ; TIMEOUT=600 ; MEM=2048 ; ACCEL=${IOTRACE_VM_ACCEL:-auto}
CPUS=$(nproc); [ "$CPUS" -gt 4 ] && CPUS=4
SCRIPT="" ; VERBOSE=0 ; KEEP=0 ; KDIR=""

usage() { sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "C:e:t:m:c:a:s:K:vkh" o; do
  case $o in
    C) WORKDIR=$(cd "$OPTARG" && pwd) ;;
    e) ENVS+=("$OPTARG") ;;
    t) TIMEOUT=$OPTARG ;;
    m) MEM=$OPTARG ;;
    c) CPUS=$OPTARG ;;
    a) ACCEL=$OPTARG ;;
    s) SCRIPT=$OPTARG ;;
    v) VERBOSE=1 ;;
    k) KEEP=1 ;;
    K) KDIR=$(cd "$OPTARG" && pwd) ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ -n "$SCRIPT" ] || [ $# -ge 1 ] || usage

command -v qemu-system-x86_64 >/dev/null || {
  echo "run-on-kernel: qemu-system-x86_64 missing (apt-get install qemu-system-x86)" >&2; exit 125; }
if [ ! -f "$IMG/rootfs.img" ]; then
  echo "run-on-kernel: no cached image in $IMG, building it (≈1.5 min)" >&2
  "$HERE/build-image.sh" >&2
fi

KERNEL=$IMG/vmlinuz INITRD=$IMG/initrd.gz
if [ -n "$KDIR" ]; then
  for f in vmlinuz initrd.gz; do
    [ -f "$KDIR/$f" ] || { echo "run-on-kernel: $KDIR has no $f" >&2; exit 2; }
  done
  KERNEL=$KDIR/vmlinuz INITRD=$KDIR/initrd.gz
fi

if [ "$ACCEL" = auto ]; then
  if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=kvm; else ACCEL=tcg; fi
fi
# shellcheck disable=SC2054 # the commas are qemu's
case $ACCEL in
  kvm) ACCEL_ARGS=(-accel kvm -cpu host) ;;
  # TCG: emulate a recent x86-64. "max" gives every feature TCG can emulate.
  # One TCG thread: attaching and detaching tracepoints patches kernel text (int3, then a sync
  # across CPUs), and multi-threaded TCG livelocked on that cross-modifying code here (stalls in
  # __schedule at the sched_switch patch site, RCU and soft-lockup reports).
  tcg) ACCEL_ARGS=(-accel tcg,thread=single,tb-size=256 -cpu max) ;;
  *) echo "run-on-kernel: -a must be kvm, tcg or auto" >&2; exit 2 ;;
esac

RUN=$(mktemp -d "${TMPDIR:-/tmp}/iotrace-vm-run.XXXXXX")
CTL=$RUN/ctl; mkdir -p "$CTL/bin"
QPID=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  if [ -n "$QPID" ]; then kill "$QPID" 2>/dev/null || true; fi
  if [ "$KEEP" = 1 ]; then echo "run-on-kernel: run dir kept: $RUN" >&2; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- what the guest runs --------------------------------------------------------
{
  echo '#!/bin/bash'
  if [ -n "$WORKDIR" ]; then
    echo 'mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=none work /mnt/work && cd /mnt/work || exit 125'
  else
    echo 'mkdir -p /tmp/work && cd /tmp/work'
  fi
  [ -n "${CI:-}" ] && printf 'export CI=%q\n' "$CI"
  for kv in "${ENVS[@]+"${ENVS[@]}"}"; do printf 'export %q=%q\n' "${kv%%=*}" "${kv#*=}"; done
  if [ -n "$SCRIPT" ]; then
    cp "$SCRIPT" "$CTL/bin/script.sh"
    printf 'exec /bin/bash /mnt/ctl/bin/script.sh'; printf ' %q' "$@"; echo
  else
    BIN=$1; shift
    [ -f "$BIN" ] || { echo "run-on-kernel: no such file: $BIN" >&2; exit 2; }
    if file_out=$(LC_ALL=C ldd "$BIN" 2>&1) && ! grep -q 'not a dynamic' <<<"$file_out"; then
      echo "run-on-kernel: warning: $BIN is dynamically linked; the guest has Debian 12's libc" >&2
    fi
    NAME=$(basename "$BIN")
    cp "$BIN" "$CTL/bin/$NAME"; chmod 755 "$CTL/bin/$NAME"
    printf 'exec %q' "/mnt/ctl/bin/$NAME"; printf ' %q' "$@"; echo
  fi
} >"$CTL/cmd.sh"

: >"$RUN/stdout"; : >"$RUN/stderr"; : >"$RUN/console.log"
VIRTFS=(-virtfs "local,path=$CTL,mount_tag=ctl,security_model=none,id=ctl")
[ -n "$WORKDIR" ] && VIRTFS+=(-virtfs "local,path=$WORKDIR,mount_tag=work,security_model=none,id=work")

# The guest is emulated: when the host is busy its vCPUs stall, and the soft-lockup watchdog
# fires without a real lockup (seen here while other jobs ran). So the watchdog gets its longest
# threshold and only reports; a real hang ends at the harness's timeout. loglevel=5 lets a
# report's backtrace reach the console tail.
START=$(date +%s.%N)
qemu-system-x86_64 \
  "${ACCEL_ARGS[@]}" -machine pc -smp "$CPUS" -m "$MEM" \
  -nodefaults -no-user-config -display none -no-reboot -nic none \
  -kernel "$KERNEL" -initrd "$INITRD" \
  -append "console=ttyS0 root=/dev/vda rw panic=-1 softlockup_panic=0 watchdog_thresh=60 loglevel=5 mitigations=off" \
  -drive "file=$IMG/rootfs.img,if=virtio,format=raw,snapshot=on,cache=unsafe" \
  "${VIRTFS[@]}" \
  -serial "file:$RUN/console.log" -serial "file:$RUN/stdout" -serial "file:$RUN/stderr" \
  </dev/null >"$RUN/qemu.log" 2>&1 &
QPID=$!

# stream the guest command's stdout/stderr while it runs
tail -n +1 -s 0.2 -f --pid=$QPID "$RUN/stdout" &
T1=$!
tail -n +1 -s 0.2 -f --pid=$QPID "$RUN/stderr" >&2 &
T2=$!

TIMED_OUT=0
deadline=$(( $(date +%s) + TIMEOUT ))
while kill -0 $QPID 2>/dev/null; do
  if [ "$(date +%s)" -ge $deadline ]; then TIMED_OUT=1; kill $QPID 2>/dev/null; break; fi
  sleep 0.2
done
wait $QPID 2>/dev/null || true
QPID=""
wait $T1 $T2 2>/dev/null || true
ELAPSED=$(awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')

READY=$(grep -ao 'IOTRACE-GUEST-READY.*' "$RUN/console.log" | tr -d '\r' | head -1 || true)
if [ $VERBOSE = 1 ]; then echo "----- guest console -----" >&2; tr -d '\r' <"$RUN/console.log" >&2; fi
echo "run-on-kernel: accel=$ACCEL ${READY#IOTRACE-GUEST-READY } wall=${ELAPSED}s" >&2

if [ $TIMED_OUT = 1 ]; then
  echo "run-on-kernel: timed out after ${TIMEOUT}s; console tail:" >&2
  tail -n 20 "$RUN/console.log" | tr -d '\r' >&2; exit 124
fi
if [ ! -s "$CTL/rc" ]; then
  echo "run-on-kernel: the guest reported no exit status; console tail:" >&2
  tail -n 80 "$RUN/console.log" | tr -d '\r' >&2; cat "$RUN/qemu.log" >&2; exit 125
fi
exit "$(cat "$CTL/rc")"
