#!/usr/bin/env bash
# build-image.sh — build (once) a cached Debian 12 guest with the Debian 6.1 kernel, bpftool and
# bpftrace, for run-on-kernel.sh. Adapted from shared/vm/build-image.sh.
#
#   sudo .ci/vm/build-image.sh               # builds into $IOTRACE_VM_CACHE (default /var/tmp/iotrace-vm)
#   sudo .ci/vm/build-image.sh --force       # rebuild from scratch
#   .ci/vm/build-image.sh --print-dir        # print where the image is (or will be), build nothing
#
# The image directory is named after a hash of this script, so editing the script makes the next
# run build a fresh image instead of reusing a stale one; older images of this script are removed.
# Output (in $IOTRACE_VM_CACHE/debian12-k61-HASH/):
#   vmlinuz      the guest kernel (Debian bookworm linux-image-amd64, 6.1.x)
#   initrd.gz    a tiny busybox initramfs that loads virtio/ext4/9p modules and
#                switch_roots into rootfs.img running /sbin/iotrace-guest-init
#   rootfs.img   raw sparse ext4 image of the debootstrapped system (booted with
#                snapshot=on, so it is never modified by a run)
#   VERSION      kernel release and package versions
#
# Needs root (debootstrap/chroot) and Debian packages, installed when missing:
#   debootstrap busybox-static e2fsprogs cpio (qemu-system-x86 to run it)
# Reaches only Debian's package archive (about 100 s).
set -euo pipefail

CACHE=${IOTRACE_VM_CACHE:-/var/tmp/iotrace-vm}
SELF_HASH=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
NAME=debian12-k61-$SELF_HASH
OUT=$CACHE/$NAME
MIRROR=${IOTRACE_VM_MIRROR:-}   # empty: debootstrap's default Debian mirror
SUITE=bookworm
PKGS=linux-image-amd64,bpftool,bpftrace,kmod,iproute2,procps,util-linux,strace
FORCE=0
case ${1:-} in
  --force) FORCE=1 ;;
  --print-dir) echo "$OUT"; exit 0 ;;
  "") ;;
  *) echo "usage: build-image.sh [--force | --print-dir]" >&2; exit 2 ;;
esac

log() { printf '[build-image %(%T)T] %s\n' -1 "$*" >&2; }

[ "$(id -u)" = 0 ] || { echo "build-image.sh: needs root (debootstrap, chroot)" >&2; exit 1; }
missing=()
for t in debootstrap busybox mkfs.ext4 cpio gzip; do command -v "$t" >/dev/null || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing host tools (missing: ${missing[*]})"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    debootstrap busybox-static e2fsprogs cpio gzip >/dev/null
fi
# busybox must be the static one: it runs inside the guest's initramfs.
dpkg -s busybox-static >/dev/null 2>&1 ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends busybox-static >/dev/null

if [ -f "$OUT/rootfs.img" ] && [ -f "$OUT/initrd.gz" ] && [ -f "$OUT/vmlinuz" ] && [ $FORCE = 0 ]; then
  log "cached image present in $OUT (use --force to rebuild)"; exit 0
fi

START=$(date +%s)
mkdir -p "$OUT"
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/rootfs

log "debootstrap $SUITE (minbase + $PKGS) from ${MIRROR:-the default Debian mirror}"
debootstrap --variant=minbase --include="$PKGS" "$SUITE" "$ROOT" ${MIRROR:+"$MIRROR"} >"$WORK/debootstrap.log" 2>&1 || {
  tail -30 "$WORK/debootstrap.log" >&2; exit 1; }

KREL=$(find "$ROOT/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -1)
log "guest kernel $KREL"

# --- configure the guest ---------------------------------------------------
echo iotrace-guest >"$ROOT/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n127.0.1.1 iotrace-guest\n' >"$ROOT/etc/hosts"
mkdir -p "$ROOT/mnt/ctl" "$ROOT/mnt/work" "$ROOT/sys/fs/bpf"

cat >"$ROOT/sbin/iotrace-guest-init" <<'EOF'
#!/bin/bash
# PID 1 of the iotrace test guest. Runs /mnt/ctl/cmd.sh (written by the host's
# run-on-kernel.sh, which also mounts the optional "work" share), stdout -> ttyS1,
# stderr -> ttyS2, exit code -> /mnt/ctl/rc, then powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys  || mount -t sysfs sysfs /sys
mountpoint -q /dev  || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
# tracefs/debugfs are deliberately NOT mounted: like a fresh VM, the tool under test
# must mount them itself (cmd.sh may mount them when asked to).
hostname iotrace-guest
ip link set lo up
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=none ctl /mnt/ctl || {
  echo "iotrace-guest-init: cannot mount the ctl share" >/dev/ttyS0; echo o >/proc/sysrq-trigger; }
stty -F /dev/ttyS1 raw -echo 2>/dev/null
stty -F /dev/ttyS2 raw -echo 2>/dev/null
read -r up _ </proc/uptime
echo "IOTRACE-GUEST-READY kernel=$(uname -r) uptime=${up}s" >/dev/ttyS0
/bin/bash /mnt/ctl/cmd.sh </dev/null >/dev/ttyS1 2>/dev/ttyS2
rc=$?
echo "$rc" >/mnt/ctl/rc
sync
read -r up _ </proc/uptime
echo "IOTRACE-GUEST-EXIT rc=$rc uptime=${up}s" >/dev/ttyS0
echo o >/proc/sysrq-trigger   # power off; qemu exits (-no-reboot)
sleep 10
EOF
chmod 755 "$ROOT/sbin/iotrace-guest-init"

# --- shrink -----------------------------------------------------------------
log "pruning (apt cache, docs, unneeded driver modules)"
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* \
       "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/locale/* \
       "$ROOT"/boot/initrd.img-*
M=$ROOT/lib/modules/$KREL/kernel
rm -rf "$M"/sound "$M"/drivers/{gpu,media,net/wireless,net/ethernet,infiniband,staging,iio,bluetooth,isdn,hid,usb,input,video,mmc,mtd,nfc,thunderbolt,hwmon,platform,edac,comedi,fpga,misc,power,leds,ata,firewire,pcmcia,spi,i2c,w1,rtc}
chroot "$ROOT" depmod -a "$KREL"

# --- kernel + initramfs -----------------------------------------------------
cp "$ROOT/boot/vmlinuz-$KREL" "$WORK/vmlinuz"
IR=$WORK/initramfs
mkdir -p "$IR"/{bin,dev,proc,sys,newroot,lib/mod}
cp "$(command -v busybox)" "$IR/bin/busybox"
# modules needed to reach the root disk and the 9p shares, in dependency order
MODS="virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk
      crc16 mbcache jbd2 crc32c_generic ext4 netfs fscache 9pnet 9pnet_virtio 9p"
: >"$IR/lib/mod/order"
for m in $MODS; do
  f=$(find "$ROOT/lib/modules/$KREL/kernel" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
  [ -n "$f" ] || { log "module $m not found (built in?)"; continue; }
  case $f in *.xz) xz -dc "$f" >"$IR/lib/mod/$m.ko" ;; *) cp "$f" "$IR/lib/mod/$m.ko" ;; esac
  echo "$m" >>"$IR/lib/mod/order"
done
cat >"$IR/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
for m in $(cat /lib/mod/order); do insmod /lib/mod/$m.ko 2>/dev/null; done
root=/dev/vda
for a in $(cat /proc/cmdline); do case $a in root=*) root=${a#root=} ;; esac; done
i=0; while [ ! -b "$root" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
mount -t ext4 -o rw "$root" /newroot || { echo "initramfs: cannot mount $root"; exec sh; }
mount --move /dev /newroot/dev; umount /proc /sys
exec switch_root /newroot /sbin/iotrace-guest-init
EOF
chmod 755 "$IR/init"
(cd "$IR" && find . | cpio -o -H newc 2>/dev/null | gzip -1 >"$WORK/initrd.gz")

# --- rootfs image -------------------------------------------------------------
# Free space for the tests' files (TMPDIR is on this disk); sparse, and runs are snapshot=on.
SIZE_MB=$(( $(du -sm "$ROOT" | cut -f1) + 2048 ))
log "mkfs.ext4 -d (${SIZE_MB} MiB, sparse)"
rm -f "$WORK/rootfs.img"
mkfs.ext4 -q -F -L iotrace-root -d "$ROOT" "$WORK/rootfs.img" "${SIZE_MB}M"

{ echo "kernel=$KREL"
  # shellcheck disable=SC2016 # dpkg-query's format, not the shell's
  chroot "$ROOT" dpkg-query -W -f='${Package}=${Version}\n' "linux-image-$KREL" bpftool bpftrace
  echo "built=$(date -u +%FT%TZ)"; } >"$WORK/VERSION"

mv -f "$WORK/vmlinuz" "$WORK/initrd.gz" "$WORK/rootfs.img" "$WORK/VERSION" "$OUT/"
for old in "$CACHE"/debian12-k61-*; do
  [ "$old" = "$OUT" ] || { log "removing the outdated image $old"; rm -rf "$old"; }
done
log "done in $(( $(date +%s) - START ))s: $(du -sh --apparent-size "$OUT/rootfs.img" | cut -f1) apparent, $(du -sh "$OUT" | cut -f1) on disk in $OUT"
cat "$OUT/VERSION" >&2
