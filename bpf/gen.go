// Package bpf holds iotrace's compiled BPF programs and the Go types bpf2go generated from
// iotrace.h. The generated files are committed so that `go build` needs no clang; `make generate`
// rebuilds them with the pinned clang and CI checks that they are in sync.
package bpf

//go:generate go tool bpf2go -cc ${BPF_CLANG} -cflags ${BPF_CFLAGS} -target amd64,arm64 -type iot_hdr -type iot_syscall -type iot_sc_enter -type iot_cap -type iot_iov -type iot_str -type iot_cap_spec -type iot_sc_conf -type iot_fork -type iot_exec -type iot_exit -type iot_kind -type iot_cap_kind -type iot_len_src -type iot_trace_state -type iot_lost_reason -type iot_sc_flags -type iot_kernel -type iot_blocked -type iot_kev_conf -type iot_kev_mode -type iot_fdinfo -type iot_proc Iotrace iotrace.bpf.c
