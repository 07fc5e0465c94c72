#!/usr/bin/env bash
# matrix.sh [KERNEL...] — the kernel matrix of CI: test-kernel.sh on each KERNEL (default: 6.1-arm64
# 6.1 6.8 5.15 5.10, the longest first), MATRIX_JOBS legs at a time (default: the number of cores,
# at most 2). Each guest is one single-threaded TCG process, so two legs side by side take about
# the time of the longer one on a 2-core machine instead of their sum.
#
# What the legs share is prepared first, one at a time: the packages (apt holds one lock), the
# Debian 12 x86 image (run-on-kernel.sh would build it in each leg at once) and the arm64 guest.
# Each leg builds into its own bin/k-KERNEL, and its output goes to a log that is printed whole
# when the leg ends, followed by a table of every leg's exit status and wall time. A guest that
# dies before reporting (exit 125: a boot-time crash of the emulated kernel) gets one more try.
# Exits with 1 when any leg failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
JOBS=${MATRIX_JOBS:-$(nproc)}
[ "$JOBS" -gt 2 ] && JOBS=2
[ "$JOBS" -ge 1 ] || JOBS=1
legs=("$@")
[ ${#legs[@]} -gt 0 ] || legs=(6.1-arm64 6.1 6.8 5.15 5.10)

log() { printf '[matrix %(%T)T] %s\n' -1 "$*" >&2; }

# --- what the legs share --------------------------------------------------------------------
need=()
for c in qemu-system-x86_64:qemu-system-x86 qemu-system-aarch64:qemu-system-arm \
  aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu debootstrap:debootstrap mkfs.ext4:e2fsprogs \
  cpio:cpio depmod:kmod busybox:busybox-static; do
  command -v "${c%%:*}" >/dev/null || need+=("${c#*:}")
done
[ -d /usr/aarch64-linux-gnu/lib ] || need+=(libc6-dev-arm64-cross)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
IMG=$("$HERE/build-image.sh" --print-dir)
if [ ! -f "$IMG/rootfs.img" ]; then
  log "building the Debian 12 x86 guest image"
  "$HERE/build-image.sh" >&2
fi
for leg in "${legs[@]}"; do
  [ "$leg" = 6.1-arm64 ] || continue
  ARM64_IMG=${ARM64_IMG:-/var/tmp/iotrace-arm64}
  export ARM64_IMG
  if [ ! -f "$ARM64_IMG/rootfs.img" ]; then
    SHARED=${IOTRACE_SHARED_VM:-}
    for d in "$ROOT/../shared/vm" /work/shared/vm; do
      [ -z "$SHARED" ] && [ -d "$d" ] && SHARED=$(cd "$d" && pwd)
    done
    [ -n "$SHARED" ] || { log "../shared/vm (arm64-build.sh) not found; set IOTRACE_SHARED_VM"; exit 2; }
    log "building the arm64 guest in $ARM64_IMG"
    "$SHARED/arm64-build.sh" "$ARM64_IMG" >&2
  fi
done

# --- the legs -----------------------------------------------------------------------------------
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/iotrace-matrix.XXXXXX")
pids=() names=()
running() { local n=0 p; for p in "${pids[@]+"${pids[@]}"}"; do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done; echo $n; }
trap 'for p in "${pids[@]+"${pids[@]}"}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null; done' INT TERM
START=$SECONDS
for leg in "${legs[@]}"; do
  while [ "$(running)" -ge "$JOBS" ]; do sleep 2; done
  log "leg $leg starts"
  (
    s=$SECONDS
    rc=0
    "$HERE/test-kernel.sh" "$leg" >"$LOGS/$leg.log" 2>&1 || rc=$?
    if [ "$rc" = 125 ]; then
      # the guest died without reporting (seen: a double fault while the emulated 6.8 kernel
      # booted, before anything of iotrace ran): once more, and both logs are printed; a
      # failure that iotrace causes happens again
      mv "$LOGS/$leg.log" "$LOGS/$leg.first.log"
      rc=0
      "$HERE/test-kernel.sh" "$leg" >"$LOGS/$leg.log" 2>&1 || rc=$?
      { printf '== kernel %s, first attempt: the guest died before reporting\n' "$leg"; cat "$LOGS/$leg.first.log"; } >"$LOGS/$leg.first.out"
      flock "$LOGS" cat "$LOGS/$leg.first.out"
    fi
    echo "$rc $((SECONDS - s))" >"$LOGS/$leg.rc"
    {
      printf '\n== kernel %s: exit %s after %ss\n' "$leg" "$rc" "$((SECONDS - s))"
      cat "$LOGS/$leg.log"
    } >"$LOGS/$leg.out"
    # print the whole leg at once, so two legs' lines do not interleave
    flock "$LOGS" cat "$LOGS/$leg.out"
  ) &
  pids+=($!) names+=("$leg")
done
wait
failed=0
printf '\n== kernel matrix: %d legs, %d at a time, %ss in all\n' "${#legs[@]}" "$JOBS" "$((SECONDS - START))"
for leg in "${legs[@]}"; do
  read -r rc secs <"$LOGS/$leg.rc" || { rc=125 secs="?"; }
  if [ "$rc" = 0 ]; then verdict=ok; else verdict="FAIL (exit $rc)"; failed=1; fi
  printf '  %-10s %-16s %ss\n' "$leg" "$verdict" "$secs"
done
rm -rf "$LOGS"
exit $failed
