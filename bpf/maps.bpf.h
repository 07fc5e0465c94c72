/* maps.bpf.h — the maps every program shares, and the emit helpers that count every loss. */
#pragma once

/* Thread groups being traced: tgid -> struct iot_proc. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct iot_proc);
} filter SEC(".maps");

/* Per-syscall configuration, filled from Go's syscall table and the -e filter. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IOT_NR_MAX);
	__type(key, __u32);
	__type(value, struct iot_sc_conf);
} sc_conf SEC(".maps");

/* Per traced thread: its call count, and the call in progress (entry stashed until its exit).
 * The entry stays from the thread's first traced call until it exits, so the count survives
 * between calls; ts is 0 between calls. */
struct inflight {
	__u64 ts; /* entry time of the call in progress; 0: none */
	__u64 args[6];
	__s32 nr;
	__u32 seq;        /* calls this thread entered: the one in progress has this number */
	__u32 model_lost; /* the process's iot_proc.model_lost at entry */
	__u32 kev_lost;   /* kev_lost_total at entry */
	__u8 flags;       /* enum iot_sc_flags of the call in progress */
	__u8 pad[3];
	/* 1 + the number of the call in progress when -e does not trace it (ts is then 0): kernel
	 * events raised in it say so, rather than look raised between calls; 0: none */
	__u32 untraced;
};

/* Kernel events lost on any CPU: calls read it at entry and exit, so a call knows whether its
 * kernel evidence is complete. Written only when a record is lost (rarely, and atomically). */
__u64 kev_lost_total = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct inflight);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized from Go (--buffer-size) */
	__type(value, struct iot_hdr);  /* keeps the record types in BTF for bpf2go -type */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOT_LOST_NR);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* Where records with captures are assembled before bpf_ringbuf_output: a reservation must have a
 * constant size, and a capture's size is only known while it is taken. */
struct uiov {
	__u64 base;
	__u64 len;
};

struct scratch {
	__u32 busy;
	__u32 pad;
	__u8 buf[2 * IOT_REC_MAX];
	/* a call's iovec array, read here rather than on the stack: kernels before private BPF
	 * stacks (6.13) cap a program and its calls at 512 bytes of stack together */
	struct uiov iov[IOT_IOV_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* Set by the loader. */
const volatile __u32 snaplen = 32;
const volatile __u32 tracer_tgid = 0;
const volatile __s64 execve_nr = -1;
const volatile __s64 execveat_nr = -1;
/* Wake the reader only once this many bytes are pending (0: on every record). The reader also
 * polls on a short timer, so nothing waits long. A wakeup costs microseconds; a record, nanoseconds. */
const volatile __u64 wakeup_bytes = 0;

/* Keep the record types in BTF so bpf2go can emit Go types for them. */
const struct iot_syscall *unused_syscall __attribute__((unused));
const struct iot_sc_enter *unused_sc_enter __attribute__((unused));
const struct iot_cap *unused_cap __attribute__((unused));
const struct iot_iov *unused_iov __attribute__((unused));
const struct iot_str *unused_str __attribute__((unused));
const struct iot_fork *unused_fork __attribute__((unused));
const struct iot_exec *unused_exec __attribute__((unused));
const struct iot_exit *unused_exit __attribute__((unused));
const struct iot_kernel *unused_kernel __attribute__((unused));
const struct iot_blocked *unused_blocked __attribute__((unused));
const struct iot_kev_conf *unused_kev_conf __attribute__((unused));
const struct iot_proc *unused_proc __attribute__((unused));
const struct iot_fdinfo *unused_fdinfo __attribute__((unused));
const enum iot_kev_mode *unused_kev_mode __attribute__((unused));
const enum iot_kind *unused_kind __attribute__((unused));
const enum iot_cap_kind *unused_cap_kind __attribute__((unused));
const enum iot_len_src *unused_len_src __attribute__((unused));
const enum iot_trace_state *unused_state __attribute__((unused));
const enum iot_lost_reason *unused_lost_reason __attribute__((unused));
const enum iot_sc_flags *unused_sc_flags __attribute__((unused));

static __always_inline void count_lost(__u32 reason)
{
	__u64 *c = bpf_map_lookup_elem(&lost, &reason);
	if (c)
		(*c)++;
}

/* lost_now is this CPU's count for reason (kernel records carry it, so a reader sees where a
 * gap is, not only that there was one). */
static __always_inline __u32 lost_now(__u32 reason)
{
	__u64 *c = bpf_map_lookup_elem(&lost, &reason);
	return c ? (__u32)*c : 0;
}

static __always_inline __u64 submit_flags(void)
{
	if (!wakeup_bytes)
		return 0;
	/* Wake the reader once, as the backlog crosses the threshold (one record is at most
	 * IOT_REC_MAX): above it the reader is already draining, and every forced wakeup is a
	 * self-IPI that costs microseconds. */
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	return avail >= wakeup_bytes && avail < wakeup_bytes + IOT_REC_MAX + 8 ? BPF_RB_FORCE_WAKEUP
										: BPF_RB_NO_WAKEUP;
}

/* reserve takes room for a fixed-size record; when the ring is full the loss is counted under
 * reason. */
static __always_inline void *reserve(__u64 size, __u32 reason)
{
	void *p = bpf_ringbuf_reserve(&events, size, 0);
	if (!p) {
		count_lost(reason);
		if (reason == IOT_LOST_KEV)
			__sync_fetch_and_add(&kev_lost_total, 1);
	}
	return p;
}

static __always_inline void fill_hdr(struct iot_hdr *h, __u64 ts, __u64 pid_tgid, __u16 kind, __u16 size)
{
	h->ts = ts;
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->kind = kind;
	h->size = size;
	h->cpu = bpf_get_smp_processor_id();
}

/* traced: the thread group is traced and past its gate. */
static __always_inline bool traced(__u32 tgid)
{
	struct iot_proc *p = bpf_map_lookup_elem(&filter, &tgid);
	return p && p->state == IOT_ACTIVE;
}
