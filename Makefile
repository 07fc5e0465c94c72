# iotrace — `make help` lists the targets.
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
# The BPF objects are committed; regenerating them needs this exact clang so the bytes match.
CLANG ?= clang-14
BPF_CFLAGS ?= -O2 -g -Wall -Werror
BIN := bin/iotrace
# Debian packages the tests and generation need (installed by `make deps` when missing).
DEPS := clang-14 llvm bpftool libbpf-dev strace gcc qemu-user-static chromium
# Pure-Go packages whose tests also run for arm64 under qemu-user (no BPF, no root).
ARM64_TEST_PKGS := ./internal/event ./internal/syscalls ./internal/decode ./internal/callfmt \
	./internal/record ./internal/render/... ./internal/annotate ./internal/iostreams

.PHONY: help build generate check-generated test test-unit test-arm64 test-kernel-6.1 test-kernel-5.15 test-kernel-6.8 test-kernel-5.10 test-kernel-6.1-arm64 test-kernels vagrant-tour deps tour run bench fmt vet clean

help: ## list the targets
	@grep -E '^[a-z0-9. %-]+:.*## ' $(MAKEFILE_LIST) | sed 's/: test-kernel-%:/:/' | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

build: ## build bin/iotrace, static (no clang needed: the BPF objects are committed)
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/iotrace

tour: build ## the main job: every workload, traced, one after another (needs root)
	./$(BIN) tour

run: build ## one workload traced: make run W=vectored [V=writev]
	./$(BIN) run $(W) $(if $(V),--variant $(V))

test: build deps ## every test, BPF integration tests included (needs root; in CI a BPF skip fails)
	@# -p 1: test binaries that load BPF side by side would make each other's tracepoint
	@# programs miss events (one per-CPU guard), and the tests assert that nothing is lost.
	$(GO) test -p 1 -count=1 ./...

test-unit: ## the tests that need neither root nor BPF
	IOTRACE_UNIT_ONLY=1 $(GO) test -count=1 ./...

test-arm64: deps ## the pure-Go unit tests built for arm64 and run under qemu-aarch64-static
	@set -e; dir=$$(mktemp -d); for pkg in $$($(GO) list $(ARM64_TEST_PKGS)); do \
		name=$$(echo $$pkg | tr / _); \
		GOARCH=arm64 CGO_ENABLED=0 $(GO) test -c -o $$dir/$$name.test $$pkg; \
		if [ -f $$dir/$$name.test ]; then \
			src=$$($(GO) list -f '{{.Dir}}' $$pkg); \
			(cd $$src && qemu-aarch64-static $$dir/$$name.test -test.count=1 >$$dir/$$name.log 2>&1) \
				&& echo "ok   $$pkg (arm64)" || { cat $$dir/$$name.log; echo "FAIL $$pkg (arm64)"; exit 1; }; \
		fi; \
	done; rm -rf $$dir

test-kernel-6.1: ## doctor, the tour and the BPF integration tests on Debian 12's kernel 6.1 in a QEMU guest (root; ~14 min)
	GO=$(GO) .ci/vm/test-kernel.sh 6.1

test-kernel-5.15 test-kernel-6.8 test-kernel-5.10 test-kernel-6.1-arm64: test-kernel-%: ## the same on Ubuntu 22.04's 5.15, Ubuntu 24.04's 6.8, Debian 12's arm64 6.1 (qemu-system-aarch64); on 5.10 that both refuse in one sentence
	GO=$(GO) .ci/vm/test-kernel.sh $*

test-kernels: ## the whole kernel matrix as CI runs it: every test-kernel-* leg, two at a time (root; ~28 min)
	GO=$(GO) .ci/vm/matrix.sh

vagrant-tour: ## bring up the Vagrant VM (vagrant/) and run the tour in it (macOS, Windows, Linux hosts)
	cd vagrant && vagrant up && vagrant ssh -c 'cd /iotrace && sudo make tour'

generate: ## rebuild the BPF objects and Go types (bpf2go, pinned clang) and the syscall tables
	cd bpf && BPF_CLANG=$(CLANG) BPF_CFLAGS="$(BPF_CFLAGS)" $(GO) generate ./...
	$(GO) generate ./internal/syscalls

check-generated: generate ## fail when the committed generated files differ from a fresh generate
	@git diff --exit-code --stat -- bpf internal/syscalls || \
		{ echo "generated files are out of date: run 'make generate' and commit the result"; exit 1; }

deps: ## install the Debian packages tests and generation need, when missing
	@missing=""; for p in $(DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

bench: build ## tracer overhead vs untraced/strace/bpftrace (and rbref with RBREF=path), start-up, peak RSS, zero-loss rate (root; QUICK=1 for < 2 min)
	$(GO) run ./cmd/iotrace-bench -iotrace $(BIN) $(if $(QUICK),-quick) $(if $(RBREF),-rbref $(RBREF)) $(BENCH_FLAGS)

fmt: ## gofmt and clang-format
	gofmt -w $$(git ls-files '*.go')

vet: ## gofmt check and go vet, both arches
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	GOARCH=arm64 $(GO) vet ./...

clean:
	rm -rf bin
