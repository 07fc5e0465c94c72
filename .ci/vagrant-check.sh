#!/usr/bin/env bash
# vagrant-check.sh — check vagrant/ without a hypervisor (CI runs it as root):
#   1. shellcheck the provisioning script and the CI scripts;
#   2. `vagrant validate`: every setting, with provider blocks ignored; the VirtualBox block too,
#      against a stand-in VBoxManage; and with the environment overrides;
#   3. run vagrant/provision.sh in a fresh Debian 12 root (debootstrap minbase, cached):
#      "install" with apt against the Debian archive, Go from a tarball of this machine's Go
#      (go.dev is out of reach here), then again to show it changes nothing; "build" with no
#      network at all (the Go modules come read-only from this machine's module cache), twice.
# Needs root and Debian's archive; installs shellcheck, vagrant and debootstrap when missing.
# The cache (the minbase tarball, downloaded .debs, the Go tarball) is under
# $IOTRACE_VM_CACHE/chroot (default /var/tmp/iotrace-vm/chroot).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${IOTRACE_VM_CACHE:-/var/tmp/iotrace-vm}/chroot
export PATH=$PATH:/usr/local/go/bin
GO=${GO:-$(command -v go)}

log() { printf '[vagrant-check %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# chroot_run DIR NET CMD...: run CMD as root inside the Debian root DIR, in a private mount
# namespace (so every mount made for it disappears with it), without a network when NET is
# "none". Extra bind mounts come from the BINDS array: "SRC:DST[:ro]".
BINDS=()
chroot_run() {
  local dir=$1 net=$2
  shift 2
  local ns=(--mount --propagation private)
  [ "$net" = none ] && ns+=(--net)
  # shellcheck disable=SC2016 # the inner script expands its own arguments
  unshare "${ns[@]}" bash -euo pipefail -c '
    dir=$1; nbinds=$2; shift 2
    mount -t proc proc "$dir/proc"
    mount --rbind /sys "$dir/sys"
    mount --rbind /dev "$dir/dev"
    mount -t tmpfs tmpfs "$dir/tmp"
    for ((i = 0; i < nbinds; i++)); do
      IFS=: read -r src dst mode <<<"$1"; shift
      if [ -d "$src" ]; then
        mkdir -p "$dir$dst"
      else
        mkdir -p "$(dirname "$dir$dst")"; : >"$dir$dst"
      fi
      mount --bind "$src" "$dir$dst"
      if [ "$mode" = ro ]; then mount -o remount,bind,ro "$dir$dst"; fi
    done
    exec chroot "$dir" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root LANG=C.UTF-8 "$@"
  ' chroot_run "$dir" "${#BINDS[@]}" "${BINDS[@]}" "$@"
}

need() { # need COMMAND PACKAGE
  command -v "$1" >/dev/null && return
  log "installing $2"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, unshare)"
need shellcheck shellcheck
need vagrant vagrant
need debootstrap debootstrap

# --- 1. shellcheck --------------------------------------------------------------------------
log "shellcheck"
shellcheck "$ROOT/vagrant/provision.sh" "$ROOT/.ci/vagrant-check.sh" "$ROOT"/.ci/vm/*.sh

# --- 2. vagrant validate ----------------------------------------------------------------------
WORK=$(mktemp -d /var/tmp/iotrace-vagrant-check.XXXXXX)
cleanup() {
  # Mounts live only in the namespaces chroot_run made; refuse to delete through one anyway.
  if findmnt -rn -o TARGET | grep -q "^$WORK"; then log "mounts left under $WORK; not removing it"; return; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
log "vagrant validate ($(vagrant --version))"
mkdir -p "$WORK/vbox"
printf '#!/bin/sh\necho 7.0.20r163906\n' >"$WORK/vbox/VBoxManage" # enough for Vagrant to call VirtualBox usable
chmod +x "$WORK/vbox/VBoxManage"
(
  cd "$ROOT/vagrant"
  export VAGRANT_HOME=$WORK/vagrant.d VAGRANT_DOTFILE_PATH=$WORK/dot VAGRANT_CHECKPOINT_DISABLE=1
  vagrant validate --ignore-provider
  PATH=$WORK/vbox:$PATH VAGRANT_DEFAULT_PROVIDER=virtualbox vagrant validate
  IOTRACE_VAGRANT_ARCH=arm64 IOTRACE_VAGRANT_BOX=example/box IOTRACE_VAGRANT_MEM=2048 \
    PATH=$WORK/vbox:$PATH VAGRANT_DEFAULT_PROVIDER=virtualbox vagrant validate
  if IOTRACE_VAGRANT_ARCH=sparc vagrant validate --ignore-provider >/dev/null 2>&1; then
    die "the Vagrantfile accepted IOTRACE_VAGRANT_ARCH=sparc"
  fi
  # a memory size with a unit is refused in one sentence, not a Ruby backtrace
  if out=$(IOTRACE_VAGRANT_MEM=4g vagrant validate --ignore-provider 2>&1); then
    die "the Vagrantfile accepted IOTRACE_VAGRANT_MEM=4g"
  fi
  grep -q 'IOTRACE_VAGRANT_MEM=4g is not a number of MiB' <<<"$out" || die "IOTRACE_VAGRANT_MEM=4g: $out"
  if grep -q '\.rb:[0-9]' <<<"$out"; then die "IOTRACE_VAGRANT_MEM=4g printed a backtrace: $out"; fi
)

# --- 3. provisioning in a fresh Debian 12 root ---------------------------------------------------
mkdir -p "$CACHE/apt-archives/partial"
BASE=$CACHE/bookworm-minbase.tar
if [ ! -f "$BASE" ]; then
  log "debootstrap bookworm minbase into the cache (once)"
  debootstrap --variant=minbase bookworm "$WORK/base" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap"; }
  tar -C "$WORK/base" -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
  rm -rf "$WORK/base"
fi
R=$WORK/root
mkdir -p "$R"
tar -C "$R" -xf "$BASE"
cp /etc/resolv.conf "$R/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d" # no daemons start in the root
chmod +x "$R/usr/sbin/policy-rc.d"
# The checkout as a fresh clone would have it (tracked and new files, nothing ignored).
mkdir -p "$R/iotrace"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf - --) | tar -C "$R/iotrace" -xf -

GOVER=$("$GO" env GOVERSION)
GOTAR=$CACHE/$GOVER.linux-$("$GO" env GOARCH).tar
if [ ! -f "$GOTAR" ]; then
  log "packing this machine's $GOVER as a Go release tarball (once)"
  tar -C "$("$GO" env GOROOT)/.." -cf "$GOTAR.tmp" "$(basename "$("$GO" env GOROOT)")" && mv "$GOTAR.tmp" "$GOTAR"
fi

log "provision.sh install (apt from the Debian archive; Go from $GOTAR)"
BINDS=("$CACHE/apt-archives:/var/cache/apt/archives" "$GOTAR:/tmp/go.tar:ro")
T0=$SECONDS
chroot_run "$R" host env IOTRACE_GO_TARBALL=/tmp/go.tar bash /iotrace/vagrant/provision.sh install /iotrace
log "install took $((SECONDS - T0))s"
chroot_run "$R" none /usr/local/go/bin/go version
log "provision.sh install again, without a network: it must change nothing"
chroot_run "$R" none bash /iotrace/vagrant/provision.sh install /iotrace | tee "$WORK/install2.log"
grep -q 'packages: all present' "$WORK/install2.log" || die "the second install wanted packages"
grep -q "Go: $GOVER in /usr/local/go" "$WORK/install2.log" || die "the second install wanted Go again"

log "provision.sh build, without a network (modules read-only from $("$GO" env GOMODCACHE))"
BINDS=("$("$GO" env GOMODCACHE):/root/go/pkg/mod:ro")
T0=$SECONDS
chroot_run "$R" none env GOPROXY=off GOFLAGS=-mod=readonly bash /iotrace/vagrant/provision.sh build /iotrace
log "build took $((SECONDS - T0))s"
[ -x "$R/iotrace/bin/iotrace" ] || die "build left no bin/iotrace"
[ "$(readlink "$R/usr/local/bin/iotrace")" = /iotrace/bin/iotrace ] || die "no /usr/local/bin/iotrace link"
log "provision.sh build again"
chroot_run "$R" none env GOPROXY=off GOFLAGS=-mod=readonly bash /iotrace/vagrant/provision.sh build /iotrace >/dev/null

log "ok: shellcheck, vagrant validate, provision.sh install and build in a Debian 12 root"
