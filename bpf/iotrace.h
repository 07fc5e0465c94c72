/* iotrace.h — the only header whose types cross into Go (bpf2go -type turns them into Go types).
 *
 * Every ring-buffer record starts with struct iot_hdr; `kind` says which record follows and
 * `size` is the record's length in bytes, captures included.
 */
#pragma once

#define IOT_NR_MAX 1024      /* syscall numbers below this are traced (both arches stay < 500) */
#define IOT_SNAP_MAX 256     /* most bytes captured of one buffer or iovec (-s is clamped to it) */
#define IOT_STR_MAX 256      /* most bytes of exec's filename record */
#define IOT_PATH_MAX 1024    /* most bytes of a path argument; a longer one is cut, and says so */
#define IOT_IOV_MAX 16       /* iovecs captured per call; the count is always complete */
#define IOT_ARR_BYTES 768    /* most bytes of an array capture (epoll events, io_events) */
#define IOT_PTRS_MAX 16      /* iocbs captured per io_submit */
#define IOT_STRUCT_MAX 128   /* largest struct capture (io_uring_params is 120) */
#define IOT_ARGV_MAX 8       /* argv strings captured per execve */
#define IOT_ARGV_STR 64      /* bytes of each argv string */
#define IOT_ENV_MAX 1024     /* environment strings counted per execve (strace shows "N vars") */
#define IOT_ENV_CHUNK 32     /* environment pointers read at once */
#define IOT_ENV_UNREAD 0xffffffffu
/* iot_kernel.id of user page faults from the software perf event (no tracepoint has it: the
 * kernel gives event ids below TRACE_EVENT_TYPE_MAX, 0xffff) */
#define IOT_KEV_ID_PAGE_FAULTS 0xffff
/* iot_kernel.id of glibc's POSIX AIO calls, from uprobes on libc (the attach cookie): aio_fsync
 * takes its aiocb as the second argument, the others as the first */
#define IOT_KEV_ID_AIO_READ 0xfffe
#define IOT_KEV_ID_AIO_WRITE 0xfffd
#define IOT_KEV_ID_AIO_FSYNC 0xfffc
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
	IOT_CAP_ARGV = 7,   /* strings; payload: n entries (struct iot_str + len bytes), stride apart;
	                     * len: the environment's strings (the pointer array after argv), counted up
	                     * to IOT_ENV_MAX, or IOT_ENV_UNREAD when it could not be read */
	IOT_CAP_FDINFO = 8, /* the file behind a descriptor (spec.arg, or the return value when arg > 5):
	                     * payload: struct iot_fdinfo */
	IOT_CAP_FDPAIR = 9, /* the int[2] of descriptors at spec.arg (pipe, socketpair) and the file
	                     * behind each: payload: __s32[2], then two struct iot_fdinfo (ino 0:
	                     * not found) */
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

/* Indexes of the per-CPU lost counters. Calls, their entry captures, kernel events and process
 * events are counted apart: a user acts on lost calls differently from lost kernel events. */
enum iot_lost_reason {
	IOT_LOST_CALL_RING = 0,  /* calls whose record the ring buffer could not take */
	IOT_LOST_CALL_BUSY = 1,  /* calls whose record could not be assembled: this CPU's capture
	                          * buffer was held by a preempted program */
	IOT_LOST_CALL_EXIT = 2,  /* calls whose exit the syscall program never saw (it was skipped) */
	IOT_LOST_CALL_TRACK = 3, /* calls of a thread the BPF side had no room to track */
	IOT_LOST_ENTRY = 4,      /* entry captures lost; the call itself was recorded, and says so */
	IOT_LOST_KEV = 5,        /* kernel event records the ring buffer could not take */
	IOT_LOST_PROC = 6,       /* fork/exec/exit records the ring buffer could not take */
	IOT_LOST_NR = 7,
};

enum iot_sc_flags {
	IOT_SC_NORETURN = 1,    /* emitted at entry; the call does not return */
	IOT_SC_ENTRY_LOST = 2,  /* the entry record with this call's entry captures was lost */
	IOT_SC_NO_ENTRY = 4,    /* the exit was seen, the entry was not: arguments unknown */
};

/* Values of the filter map, one per traced thread group. */
struct iot_proc {
	__u8 state;        /* enum iot_trace_state */
	__u8 pad[3];
	__u32 model_lost;  /* calls of this process lost that change what the annotator models
	                    * (descriptors, mappings…): every call record carries the count */
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
	__u32 seq;        /* the thread's call number (1, 2, …): a gap is calls of this thread lost */
	__u32 model_lost; /* iot_proc.model_lost when the call entered */
	__u32 kev_lost;   /* kernel events lost (on any CPU) while the call ran: its notes are lower bounds */
	__u8 ncap;        /* captures that follow */
	__u8 flags;       /* enum iot_sc_flags */
	__u16 pad;
	__u32 pad2;
};

/* What was captured at a call's entry; joined to the call record with the same tid and seq. */
struct iot_sc_enter {
	struct iot_hdr h;
	__s32 nr;
	__u32 seq;
	__u8 ncap;
	__u8 pad[7];
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
	__u32 caplen; /* IOT_IOV_FAULT: the base could not be read; the 8 bytes after are the base */
	__u32 stride;
};

#define IOT_IOV_FAULT 0xffffffffu

struct iot_fdinfo {
	__u64 ino;
	__s64 size; /* i_size when the call returned */
	__u32 dev;
	__u32 pad;
};

#define IOT_STR_CUT 0x80000000u /* in iot_str.len: the string went on past what was captured */

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
	__u8 input; /* at exit, but what the call was given: not limited to what it transferred */
	__u16 size;
};

struct iot_sc_conf {
	__u8 trace;
	__u8 noreturn;
	__u8 ncap;
	__u8 enter_mask; /* bit i: cap[i] is taken at entry */
	__u8 exit_mask;  /* bit i: cap[i] is taken at exit */
	__u8 model;      /* the call changes what the annotator models: its loss is counted per process */
	__u8 pad[2];
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
	__u64 sc_ts;       /* entry time of the syscall the task was in, 0 if none */
	__u32 sc_seq;      /* that syscall's seq (struct iot_syscall), 0 if none */
	__u32 lost_before; /* this CPU's count of lost kernel events when this one was taken */
	__u16 id;          /* tracepoint event id (common_type) */
	__u16 len;         /* bytes of data */
	__u32 sc_untraced; /* 1 + the number of the syscall the task was in when -e does not trace
	                    * it (sc_ts is then 0); 0: not in such a call */
	__u8 data[IOT_KEV_MAX];
};

/* Time a traced thread spent off CPU inside a traced syscall: blocked (it gave up the CPU to
 * wait), or preempted (it was still runnable and the scheduler ran another task). */
struct iot_blocked {
	struct iot_hdr h; /* ts: when it went off CPU */
	__u64 sc_ts;      /* entry time of the syscall it blocked in */
	__u32 sc_seq;
	__u32 lost_before;
	__u64 off_ns;
	__u32 waker_pid;
	__u32 waker_tid;
	__u32 waker_kthread; /* the waker was a kernel thread */
	__u32 preempted;     /* 1: switched out still runnable (see on_switch), never woken */
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
