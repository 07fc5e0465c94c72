#!/usr/bin/env bash
# provision.sh — make a Debian or Ubuntu machine ready to build and run iotrace. Run as root;
# every step checks first and does nothing when its work is already done, so it can be re-run.
#
#   provision.sh install [SRC]   Debian packages (make, gcc, clang, llvm, bpftool, libbpf-dev,
#                                strace) and Go: the version go.mod asks for, from go.dev into
#                                /usr/local/go, when /usr/local/go is missing or older.
#   provision.sh build [SRC]     build SRC/bin/iotrace, link it as /usr/local/bin/iotrace and
#                                run `iotrace doctor`. Needs no network once the Go modules are
#                                in the module cache.
#
# SRC is the iotrace checkout (default /iotrace, where the Vagrantfile syncs it).
# Environment:
#   IOTRACE_GO_TARBALL  install Go from this local go*.linux-ARCH.tar.gz instead of go.dev
#   IOTRACE_GO_SHA256   its expected SHA-256 (checked when set; downloads are always checked)
set -euo pipefail

GOROOT_DIR=/usr/local/go
export DEBIAN_FRONTEND=noninteractive

log() { printf '[provision] %s\n' "$*"; }
die() { printf '[provision] error: %s\n' "$*" >&2; exit 1; }

usage() {
	sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# --- packages -----------------------------------------------------------------------------

pkg_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

APT_UPDATED=0
apt_update_once() {
	if [ "$APT_UPDATED" = 1 ]; then return; fi
	log "apt-get update"
	apt-get update -qq
	APT_UPDATED=1
}

pkg_available() {
	local candidate
	apt_update_once
	# Not `| grep -q`: under pipefail, apt-cache's SIGPIPE would fail the pipeline.
	candidate=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ -n "$candidate" ] && [ "$candidate" != "(none)" ]
}

# pick sets PICKED to the first of its arguments that is installed, else the first that apt can
# install, else to nothing: distributions name some tools differently.
PICKED=""
pick() {
	local p
	PICKED=""
	for p in "$@"; do
		if pkg_installed "$p"; then PICKED=$p; return 0; fi
	done
	for p in "$@"; do
		if pkg_available "$p"; then PICKED=$p; return 0; fi
	done
	return 0
}

install_packages() {
	# The tour needs only make and Go; the rest is for `make test` and `make generate`. clang-14
	# is the compiler the committed BPF objects were built with (Debian 12's clang; Ubuntu
	# 24.04 has it too), plain clang where a distribution lacks it.
	local want=(make git ca-certificates curl gcc libc6-dev llvm libbpf-dev strace)
	local p
	pick clang-14 clang
	if [ -n "$PICKED" ]; then want+=("$PICKED"); fi
	# Debian packages bpftool; Ubuntu ships it in linux-tools for the running kernel.
	pick bpftool
	if [ -n "$PICKED" ]; then
		want+=("$PICKED")
	else
		for p in linux-tools-common "linux-tools-$(uname -r)"; do
			if pkg_installed "$p" || pkg_available "$p"; then
				want+=("$p")
			else
				log "warning: no package $p here, so no bpftool (only 'make generate' needs it)"
			fi
		done
	fi

	local missing=()
	for p in "${want[@]}"; do pkg_installed "$p" || missing+=("$p"); done
	if [ ${#missing[@]} -eq 0 ]; then
		log "packages: all present"
		return
	fi
	apt_update_once
	log "installing: ${missing[*]}"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- Go -----------------------------------------------------------------------------------

# go_wanted prints the Go release go.mod needs, as go.dev names it: the toolchain line when there
# is one, else the go line (a "go 1.N" line means release 1.N.0).
go_wanted() {
	local mod=$1/go.mod v
	[ -f "$mod" ] || die "no go.mod in $1"
	v=$(awk '$1 == "toolchain" { print $2; exit }' "$mod")
	if [ -z "$v" ]; then
		v=$(awk '$1 == "go" { print "go" $2; exit }' "$mod")
		if [[ $v =~ ^go[0-9]+\.[0-9]+$ ]]; then v=$v.0; fi
	fi
	[[ $v =~ ^go[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "cannot read the Go version from $mod (got '$v')"
	echo "$v"
}

# version_ge A B: is Go release A (go1.x.y) at least B?
version_ge() {
	[ "$(printf '%s\n%s\n' "${1#go}" "${2#go}" | sort -V | head -1)" = "${2#go}" ]
}

install_go() {
	local want have arch tarball tmp sum
	want=$(go_wanted "$1")
	if [ -x "$GOROOT_DIR/bin/go" ]; then
		have=$("$GOROOT_DIR/bin/go" env GOVERSION 2>/dev/null || true)
		if [ -n "$have" ] && version_ge "$have" "$want"; then
			log "Go: $have in $GOROOT_DIR (go.mod needs $want)"
			return
		fi
	fi
	arch=$(dpkg --print-architecture) # amd64 or arm64, as go.dev names them
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064 # expand tmp now: it is local
	trap "rm -rf '$tmp'" EXIT
	if [ -n "${IOTRACE_GO_TARBALL:-}" ]; then
		tarball=$IOTRACE_GO_TARBALL
		[ -f "$tarball" ] || die "IOTRACE_GO_TARBALL=$tarball: no such file"
		log "Go: installing $want from $tarball"
		sum=${IOTRACE_GO_SHA256:-}
	else
		local file=$want.linux-$arch.tar.gz
		tarball=$tmp/$file
		log "Go: downloading $file from go.dev"
		curl -fsSL --retry 3 -o "$tarball" "https://go.dev/dl/$file" || die "download https://go.dev/dl/$file failed: without access to go.dev, fetch that file elsewhere and set IOTRACE_GO_TARBALL=/path/to/$file"
		sum=$(curl -fsSL --retry 3 "https://dl.google.com/go/$file.sha256") || die "download the checksum of $file failed"
		sum=${sum%% *}
	fi
	if [ -n "$sum" ]; then
		echo "$sum  $tarball" | sha256sum -c --quiet - || die "$tarball: SHA-256 mismatch"
	fi
	# Unpack beside the old tree and swap, so a failed unpack leaves the old Go in place.
	mkdir -p "$tmp/root"
	tar -C "$tmp/root" -xf "$tarball" || die "unpack $tarball"
	[ -x "$tmp/root/go/bin/go" ] || die "$tarball holds no go/bin/go"
	have=$("$tmp/root/go/bin/go" env GOVERSION) || die "the go in $tarball does not run here (not linux-$arch?)"
	version_ge "$have" "$want" || die "$tarball holds $have, go.mod needs $want"
	rm -rf "$GOROOT_DIR.old"
	if [ -e "$GOROOT_DIR" ]; then mv "$GOROOT_DIR" "$GOROOT_DIR.old"; fi
	mv "$tmp/root/go" "$GOROOT_DIR"
	rm -rf "$GOROOT_DIR.old"
	# Login shells (vagrant ssh) find go; `sudo make` finds it through the Makefile's fallback.
	# shellcheck disable=SC2016 # $PATH is for the login shell to expand
	echo 'case ":$PATH:" in *:/usr/local/go/bin:*) ;; *) PATH=$PATH:/usr/local/go/bin ;; esac' \
		>/etc/profile.d/iotrace-go.sh
	log "Go: $have installed in $GOROOT_DIR"
}

# --- build --------------------------------------------------------------------------------

build() {
	local src=$1
	[ -x "$GOROOT_DIR/bin/go" ] || command -v go >/dev/null || die "no Go: run '$0 install' first"
	export PATH=$PATH:$GOROOT_DIR/bin
	log "building $src/bin/iotrace"
	make -C "$src" build
	ln -sfn "$src/bin/iotrace" /usr/local/bin/iotrace
	log "iotrace doctor:"
	# doctor says what this kernel allows; a shortfall is for the reader, not a failed build.
	iotrace doctor || log "warning: doctor found something missing; tracing may not work here"
}

# --- main ---------------------------------------------------------------------------------

[ $# -ge 1 ] || usage
cmd=$1
src=${2:-/iotrace}
[ "$(id -u)" = 0 ] || die "run as root"
[ -f "$src/go.mod" ] || die "$src is not an iotrace checkout (no go.mod)"
case $cmd in
install)
	install_packages
	install_go "$src"
	;;
build) build "$src" ;;
*) usage ;;
esac
