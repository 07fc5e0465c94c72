//go:build ignore

/* The single compilation unit: one object, so one collection, one ring buffer, one filter map. */
#include "include/types.h"
#include "include/bpf_helpers.h"
#include "include/bpf_tracing.h"
#include "include/bpf_core_read.h"
#include "iotrace.h"
#include "regs.bpf.h"
#include "maps.bpf.h"
#include "capture.bpf.h"
#include "syscalls.bpf.h"
#include "process.bpf.h"
#include "kernel.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
