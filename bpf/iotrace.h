/* iotrace.h — the only header whose types cross into Go (bpf2go -type turns them into Go types).
 *
 * Every ring-buffer record starts with struct iot_hdr; `kind` says which record follows and
 * `size` is the record's length in bytes, captures included.
 */
#pragma once

#define IOT_NR_MAX 1024      /* syscall numbers below this are traced (both arches stay < 500) */
#define IOT_SNAP_MAX 256     /* most bytes captured of one buffer or iovec (-s is clamped to it) */
#define IOT_STR_MAX 256      /* most bytes of a path */
#define IOT_IOV_MAX 16       /* iovecs captured per call; the count is always complete */
#define IOT_ARR_BYTES 768    /* most bytes of an array capture (epoll events, io_events) */
#define IOT_PTRS_MAX 16      /* iocbs captured per io_submit */
#define IOT_STRUCT_MAX 128   /* largest struct capture (io_uring_params is 120) */
#define IOT_ARGV_MAX 8       /* argv strings captured per execve */
#define IOT_ARGV_STR 64      /* bytes of each argv string */
#define IOT_KEV_MAX 128      /* room for a kernel tracepoint record; at most 120 bytes are copied */
#define IOT_REC_MAX 8192     /* largest record (the per-CPU scratch is twice this, under the 32 KiB per-CPU value limit) */

enum iot_kind {
	IOT_EV_SYSCALL = 1,       /* struct iot_syscall: a call, at its exit (or entry, if it never returns) */
	IOT_EV_SYSCALL_ENTER = 2, /* struct iot_sc_enter: what was captured at entry, before the exit record */
	IOT_EV_FORK = 3,          /* struct iot_fork */
	IOT_EV_EXEC = 4,          /* struct iot_exec */
	IOT_EV_EXIT = 5,          /* struct iot_exit */
	IOT_EV_KERNEL = 6,        /* struct iot_kernel: a kernel tracepoint's own record */
	IOT_EV_BLOCKED = 7,       /* struct iot_blocked: time a traced thread spent off CPU in a syscall */
};

/* Which kernel events are kept (iot_kev_conf.mode). */
enum iot_kev_mode {
	IOT_KEV_TASK = 1,     /* raised by a traced task */
	IOT_KEV_FILE = 2,     /* also raised by a kernel thread for a file a traced task touched */
	IOT_KEV_REQ_ISSUE = 3,/* a block request or bio for a traced task: remembered by (dev, sector) when a
	                       * traced task raises it, kept when raised elsewhere for a remembered one */
	IOT_KEV_REQ_DONE = 4, /* the completion of a remembered block request, in any context */
};

/* What is copied from user memory (the Go twin is syscalls.CaptureKind). */
enum iot_cap_kind {
	IOT_CAP_NONE = 0,
	IOT_CAP_BUF = 1,    /* bytes; payload: n bytes; len: the length asked for (or returned) */
	IOT_CAP_STR = 2,    /* string; payload: n bytes without the NUL */
	IOT_CAP_STRUCT = 3, /* fixed-size struct; payload: n bytes */
	IOT_CAP_IOV = 4,    /* iovecs; len: iovcnt; payload: n entries (struct iot_iov + caplen bytes), stride apart */
	IOT_CAP_ARRAY = 5,  /* elements; len: count; payload: n elements of spec.size */
	IOT_CAP_PTRARR = 6, /* pointers to structs; len: count; payload: n structs of spec.size */
	IOT_CAP_ARGV = 7,   /* strings; payload: n entries (struct iot_str + len bytes), stride apart */
	IOT_CAP_FDINFO = 8, /* the file behind a descriptor (spec.arg, or the return value when arg > 5):
	                     * payload: struct iot_fdinfo */
};

enum iot_len_src {
	IOT_LEN_NONE = 0,
	IOT_LEN_ARG = 1,   /* argument spec.len_arg */
	IOT_LEN_RET = 2,   /* the return value */
	IOT_LEN_FIXED = 3, /* spec.size */
};

/* Values of the filter map: a traced thread group is active, or gated (its first traced syscall
 * is the execve that the launcher's gate makes once the probes are attached). */
enum iot_trace_state {
	IOT_ACTIVE = 1,
	IOT_GATED = 2,
};

/* Indexes of the per-CPU lost counters. */
enum iot_lost_reason {
	IOT_LOST_RINGBUF = 0, /* the ring buffer was full */
	IOT_LOST_BUSY = 1,    /* the capture buffer of this CPU was in use by a preempted program */
	IOT_LOST_NR = 2,
};

enum iot_sc_flags {
	IOT_SC_NORETURN = 1, /* emitted at entry; the call does not return */
};

struct iot_hdr {
	__u64 ts; /* CLOCK_MONOTONIC ns: the call's entry for syscalls */
	__u32 pid;
	__u32 tid;
	__u16 kind;
	__u16 size;
	__u32 cpu;
};

struct iot_syscall {
	struct iot_hdr h;
	__u64 dur;
	__s64 ret;
	__u64 args[6];
	__s32 nr;
	__u8 ncap; /* captures that follow */
	__u8 flags;
	__u16 pad;
};

struct iot_sc_enter {
	struct iot_hdr h;
	__s32 nr;
	__u8 ncap;
	__u8 pad[3];
};

struct iot_cap {
	__u8 kind;
	__u8 slot; /* which of the syscall's capture specs */
	__u16 n;   /* bytes, or elements, captured */
	__u32 len; /* see enum iot_cap_kind */
};

/* Entries of IOV and ARGV captures sit `stride` bytes apart, whatever each one captured: fixed
 * offsets keep the verifier from walking every combination of entry sizes. */
struct iot_iov {
	__u64 len;
	__u32 caplen;
	__u32 stride;
};

struct iot_fdinfo {
	__u64 ino;
	__s64 size; /* i_size when the call returned */
	__u32 dev;
	__u32 pad;
};

struct iot_str {
	__u32 len;
	__u32 stride;
};

/* Per-syscall configuration, written by Go into the sc_conf array (index: syscall number). */
struct iot_cap_spec {
	__u8 kind;
	__u8 at_exit;
	__u8 arg;
	__u8 len_src;
	__u8 len_arg;
	__u8 pad;
	__u16 size;
};

struct iot_sc_conf {
	__u8 trace;
	__u8 noreturn;
	__u8 ncap;
	__u8 enter_mask; /* bit i: cap[i] is taken at entry */
	__u8 exit_mask;  /* bit i: cap[i] is taken at exit */
	__u8 pad[3];
	struct iot_cap_spec cap[2];
};

/* Per kernel tracepoint (by its event id), written from Go using the tracepoint's format file,
 * so that field offsets are the running kernel's. Offsets of 0 mean "no such field". */
struct iot_kev_conf {
	__u16 size; /* bytes of the record to copy */
	__u8 mode;
	__u8 learn; /* a traced task touching this file makes the file traced (IOT_KEV_FILE) */
	__u16 ino_off;
	__u16 dev_off;
	__u16 sector_off;
	__u8 quiet; /* only remember (IOT_KEV_REQ_ISSUE): block_bio_queue ties a request to its task */
	__u8 pad[5];
};

struct iot_kernel {
	struct iot_hdr h;
	__u64 sc_ts; /* entry time of the syscall the task was in, 0 if none */
	__u16 id;    /* tracepoint event id (common_type) */
	__u16 len;   /* bytes of data */
	__u32 pad;
	__u8 data[IOT_KEV_MAX];
};

struct iot_blocked {
	struct iot_hdr h; /* ts: when it went off CPU */
	__u64 sc_ts;      /* entry time of the syscall it blocked in */
	__u64 off_ns;
	__u32 waker_pid;
	__u32 waker_tid;
	__u32 waker_kthread; /* the waker was a kernel thread */
	__u32 pad;
	char waker_comm[16];
};

struct iot_fork {
	struct iot_hdr h; /* pid/tid: the parent */
	__u32 child_pid;
	__u32 child_tid;
	__u32 thread; /* 1: a thread of the same process */
	__u32 pad;
	char comm[16];
};

struct iot_exec {
	struct iot_hdr h;
	__u32 old_tid;
	__u32 pad;
	char comm[16];
	char filename[IOT_STR_MAX];
};

struct iot_exit {
	struct iot_hdr h;
	__s32 exit_code; /* wait status: code << 8, or the signal number */
	__u32 pad;
	char comm[16];
};
