/* kernel.bpf.h — what the kernel did for the traced tree. One program copies any tracepoint's
 * own record; Go reads the fields by the running kernel's format file, so field layouts that
 * change between kernels need no BPF change. Which events are kept is decided per event id
 * (struct iot_kev_conf): raised by a traced task, or by a kernel thread for a file a traced task
 * touched, or the completion of a block request a traced task issued. */
#pragma once

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32); /* tracepoint event id */
	__type(value, struct iot_kev_conf);
} kev_conf SEC(".maps");

/* Inodes whose pages a traced task touched. Keyed by inode number alone: writeback events carry
 * no device. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} files SEC(".maps");

struct req_key {
	__u64 sector;
	__u32 dev;
	__u32 pad;
};

/* Who issued a block request, and in which syscall: its completion (in interrupt context) is
 * reported as the issuer's, linked to that syscall. */
struct req_owner {
	__u64 pid_tgid;
	__u64 sc_ts;
	__u64 ts; /* when it was remembered: a request never seen completing goes stale */
	__u32 sc_seq;
	__u32 sc_untraced;
};

#define REQ_STALE_NS (10ULL * 1000 * 1000 * 1000)

/* Block requests a traced task issued, until they complete. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct req_key);
	__type(value, struct req_owner);
} reqs SEC(".maps");

#define PF_KTHREAD 0x00200000

/* The syscall a thread is in: its entry time (0: none) and seq, or, for a call -e does not
 * trace, 1 + its number (untraced). */
struct in_call {
	__u64 ts;
	__u32 seq;
	__u32 untraced;
};

static __always_inline struct in_call in_syscall(__u32 tid)
{
	struct in_call c = {};
	struct inflight *in = bpf_map_lookup_elem(&inflight, &tid);
	if (in && in->ts) {
		c.ts = in->ts;
		c.seq = in->seq;
	} else if (in) {
		c.untraced = in->untraced;
	}
	return c;
}

static __always_inline bool current_kthread(void)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	unsigned int flags = BPF_CORE_READ(t, flags);
	return flags & PF_KTHREAD;
}

static __always_inline __u64 field64(void *ctx, __u16 off)
{
	__u64 v = 0;
	if (off)
		bpf_probe_read_kernel(&v, sizeof(v), ctx + off);
	return v;
}

static __always_inline __u32 field32(void *ctx, __u16 off)
{
	__u32 v = 0;
	if (off)
		bpf_probe_read_kernel(&v, sizeof(v), ctx + off);
	return v;
}

SEC("tracepoint")
int kernel_event(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	/* The record's common fields are not readable here (perf puts a pt_regs pointer over them
	 * for BPF), so the event id comes with the attachment, as its cookie (5.15+). */
	__u32 id = bpf_get_attach_cookie(ctx);
	struct iot_kev_conf *c = bpf_map_lookup_elem(&kev_conf, &id);

	if (!c)
		return 0;
	bool mine = traced(tgid);
	struct in_call sc = {};
	if (mine)
		sc = in_syscall((__u32)pid_tgid);
	switch (c->mode) {
	case IOT_KEV_TASK:
		if (!mine)
			return 0;
		break;
	case IOT_KEV_FILE: {
		__u64 ino = field64(ctx, c->ino_off);
		if (mine) {
			if (c->learn) {
				__u8 one = 1;
				bpf_map_update_elem(&files, &ino, &one, BPF_ANY);
			}
		} else if (!current_kthread() || !bpf_map_lookup_elem(&files, &ino)) {
			return 0;
		}
		break;
	}
	case IOT_KEV_REQ_ISSUE: {
		struct req_key k = { .sector = field64(ctx, c->sector_off), .dev = field32(ctx, c->dev_off) };
		if (mine) {
			struct req_owner o = { .pid_tgid = pid_tgid, .sc_ts = sc.ts, .sc_seq = sc.seq, .ts = bpf_ktime_get_ns(),
					       .sc_untraced = sc.untraced };
			bpf_map_update_elem(&reqs, &k, &o, BPF_ANY);
		} else {
			/* dispatched by a kernel thread (kblockd) for a request a traced task queued */
			struct req_owner *o = bpf_map_lookup_elem(&reqs, &k);
			if (!o)
				return 0;
			pid_tgid = o->pid_tgid;
			sc.ts = o->sc_ts;
			sc.seq = o->sc_seq;
			sc.untraced = o->sc_untraced;
		}
		if (c->quiet)
			return 0;
		break;
	}
	case IOT_KEV_REQ_DONE: {
		struct req_key k = { .sector = field64(ctx, c->sector_off), .dev = field32(ctx, c->dev_off) };
		struct req_owner *o = bpf_map_lookup_elem(&reqs, &k);
		if (!o)
			return 0;
		pid_tgid = o->pid_tgid;
		sc.ts = o->sc_ts;
		sc.seq = o->sc_seq;
		sc.untraced = o->sc_untraced;
		bool stale = bpf_ktime_get_ns() - o->ts > REQ_STALE_NS;
		bpf_map_delete_elem(&reqs, &k);
		if (stale)
			return 0;
		break;
	}
	default:
		return 0;
	}

	struct iot_kernel *e = reserve(sizeof(*e), IOT_LOST_KEV);
	if (!e)
		return 0;
	__u32 size = c->size;
	if (size > IOT_KEV_MAX - 8)
		size = IOT_KEV_MAX - 8;
	bound(size, 128);
	fill_hdr(&e->h, bpf_ktime_get_ns(), pid_tgid, IOT_EV_KERNEL, sizeof(*e));
	e->sc_ts = sc.ts;
	e->sc_seq = sc.seq;
	e->lost_before = lost_now(IOT_LOST_KEV);
	e->id = id;
	e->len = size;
	e->sc_untraced = sc.untraced;
	if (bpf_probe_read_kernel(e->data, size, ctx))
		e->len = 0;
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

/* Off-CPU time inside syscalls: a traced thread that leaves the CPU to wait while in a
 * syscall is blocked; its waker is whoever wakes it; the block ends when it runs again. One
 * switched out while still runnable is preempted: nobody wakes it, it waits on the run queue
 * until it runs again. Runnable is sched_switch's preempt (an involuntary switch: the time slice
 * ended, a task of higher priority woke) or a state still TASK_RUNNING (schedule() called to
 * yield the CPU, as cond_resched and the need-resched checks do): the cases the kernel counts
 * as involuntary switches (nivcsw), which stay on the run queue. The 4th argument prev_state
 * came in 5.18; prev->__state (5.14+) says the same here. */
struct offcpu {
	__u64 ts;
	__u64 sc_ts;
	__u32 sc_seq;
	__u32 preempted;
	__u32 waker_pid;
	__u32 waker_tid;
	__u32 waker_kthread;
	__u32 pad;
	char waker_comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct offcpu);
} offcpu SEC(".maps");

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 tid;

	if (traced(prev->tgid)) {
		tid = prev->pid;
		struct in_call sc = in_syscall(tid);
		if (sc.ts) {
			__u32 runnable = preempt || BPF_CORE_READ(prev, __state) == 0;
			struct offcpu o = { .ts = bpf_ktime_get_ns(), .sc_ts = sc.ts, .sc_seq = sc.seq, .preempted = runnable };
			bpf_map_update_elem(&offcpu, &tid, &o, BPF_ANY);
		}
	}
	tid = next->pid;
	struct offcpu *o = bpf_map_lookup_elem(&offcpu, &tid);
	if (!o)
		return 0;
	struct iot_blocked *e = reserve(sizeof(*e), IOT_LOST_KEV);
	if (e) {
		__u64 now = bpf_ktime_get_ns();
		fill_hdr(&e->h, o->ts, ((__u64)next->tgid << 32) | tid, IOT_EV_BLOCKED, sizeof(*e));
		e->sc_ts = o->sc_ts;
		e->sc_seq = o->sc_seq;
		e->lost_before = lost_now(IOT_LOST_KEV);
		e->off_ns = now - o->ts;
		e->waker_pid = o->waker_pid;
		e->waker_tid = o->waker_tid;
		e->waker_kthread = o->waker_kthread;
		e->preempted = o->preempted;
		__builtin_memcpy(e->waker_comm, o->waker_comm, sizeof(e->waker_comm));
		bpf_ringbuf_submit(e, submit_flags());
	}
	bpf_map_delete_elem(&offcpu, &tid);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct *p)
{
	__u32 tid = p->pid;
	struct offcpu *o = bpf_map_lookup_elem(&offcpu, &tid);

	if (!o || o->waker_tid || o->preempted)
		return 0; /* a preempted task is runnable: a wakeup of it is not what it waited for */
	__u64 id = bpf_get_current_pid_tgid();
	o->waker_pid = id >> 32;
	o->waker_tid = (__u32)id;
	o->waker_kthread = current_kthread();
	bpf_get_current_comm(o->waker_comm, sizeof(o->waker_comm));
	return 0;
}

/* User page faults from the software perf event "page-faults" (period 1, one per CPU), for
 * kernels without exceptions:page_fault_user (arm64 has none). Its sample carries the faulting
 * address and the faulting context's registers: faults taken in kernel mode (a syscall touching
 * user memory) are left out, as page_fault_user leaves them out. Whether the access was a write
 * is not in the sample. The record has page_fault_user's shape without error_code: 8 bytes where
 * a tracepoint's common fields are, then the address and the user ip. */
SEC("perf_event")
int page_fault(struct iot_perf_event_data *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!traced(pid_tgid >> 32) || !UREGS_USER(&ctx->regs))
		return 0;
	struct in_call sc = in_syscall((__u32)pid_tgid);
	struct iot_kernel *e = reserve(sizeof(*e), IOT_LOST_KEV);
	if (!e)
		return 0;
	fill_hdr(&e->h, bpf_ktime_get_ns(), pid_tgid, IOT_EV_KERNEL, sizeof(*e));
	e->sc_ts = sc.ts;
	e->sc_seq = sc.seq;
	e->lost_before = lost_now(IOT_LOST_KEV);
	e->id = IOT_KEV_ID_PAGE_FAULTS;
	e->len = 24;
	e->sc_untraced = sc.untraced;
	__u64 *d = (__u64 *)e->data;
	d[0] = 0;
	d[1] = ctx->addr;
	d[2] = UREGS_IP(&ctx->regs);
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

/* glibc's POSIX AIO (uprobes on aio_read, aio_write and aio_fsync in libc, or in a static
 * program): the request as its aiocb holds it when the program hands it over. glibc runs it
 * later as a pread64, pwrite64, fsync or fdatasync on a helper thread of its own; the
 * annotator links the two. The record has a tracepoint record's shape (8 bytes where the common
 * fields are), then the aiocb's address, aio_fildes, aio_fsync's op, aio_buf, aio_nbytes and
 * aio_offset, read at glibc's LP64 layout (x86_64 and arm64 alike: 0, 16, 24, 128). The event
 * id is the attach cookie, one per function. lio_listio is not probed. */
SEC("uprobe")
int posix_aio(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!traced(pid_tgid >> 32))
		return 0;
	__u32 id = bpf_get_attach_cookie(ctx);
	bool fsync = id == IOT_KEV_ID_AIO_FSYNC;
	__u64 cb = call_arg(ctx, fsync ? 1 : 0);
	struct iot_kernel *e = reserve(sizeof(*e), IOT_LOST_KEV);
	if (!e)
		return 0;
	fill_hdr(&e->h, bpf_ktime_get_ns(), pid_tgid, IOT_EV_KERNEL, sizeof(*e));
	e->sc_ts = 0;
	e->sc_seq = 0;
	e->lost_before = lost_now(IOT_LOST_KEV);
	e->id = id;
	e->len = 48;
	e->sc_untraced = 0;
	__u64 *d = (__u64 *)e->data;
	d[0] = 0;
	d[1] = cb;
	__s32 fd = -1;
	bpf_probe_read_user(&fd, sizeof(fd), (void *)cb);
	((__s32 *)e->data)[4] = fd;
	((__s32 *)e->data)[5] = fsync ? (__s32)call_arg(ctx, 0) : 0;
	d[3] = 0;
	d[4] = 0;
	d[5] = 0;
	bpf_probe_read_user(&d[3], 8, (void *)(cb + 16));
	bpf_probe_read_user(&d[4], 8, (void *)(cb + 24));
	bpf_probe_read_user(&d[5], 8, (void *)(cb + 128));
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}
