/* syscalls.bpf.h — every syscall of the traced tree, from the two raw_syscalls tracepoints
 * (two attachments instead of one per syscall: attaching and detaching hundreds of perf events
 * would take seconds). Entry stashes the arguments per thread; exit emits one joined record.
 * Captures configured "at entry" (writev's data, execve's argv) go out at entry in an
 * IOT_EV_SYSCALL_ENTER record that carries the call's seq, so the decoder joins it to that
 * call's record and to no other.
 *
 * Every call a thread enters gets the next number of its count (inflight.seq), and its record
 * carries it: a reader that sees a thread's numbers jump knows exactly how many of its calls were
 * lost, and where. Each way a call can be lost is counted per CPU as well (enum iot_lost_reason). */
#pragma once

static __always_inline struct scratch *scratch_get(__u32 busy_reason)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);

	if (!s)
		return 0;
	if (s->busy) {
		/* a program preempted on this CPU holds it (faultable syscall tracepoints) */
		count_lost(busy_reason);
		return 0;
	}
	s->busy = 1;
	return s;
}

static __always_inline bool scratch_output(struct scratch *s, __u32 size, __u32 ring_reason)
{
	struct iot_hdr *h = (void *)s->buf;

	if (size > IOT_REC_MAX)
		size = IOT_REC_MAX;
	bound(size, 16384); /* 2 * IOT_REC_MAX: the verifier sees the clamp on the register passed */
	h->size = size;
	bool ok = !bpf_ringbuf_output(&events, s->buf, size, submit_flags());
	if (!ok)
		count_lost(ring_reason);
	s->busy = 0;
	return ok;
}

/* take_captures appends the captures selected by mask and returns the end offset; entry says
 * whether the call is being entered or returns. */
static __always_inline __u32 take_captures(struct scratch *s, __u32 off, const struct iot_sc_conf *conf, __u8 mask,
					   const __u64 *args, __s64 ret, __u8 *ncap, const bool entry)
{
	struct cap_call cc = { .ret = ret, .off = off };
	for (int i = 0; i < 6; i++)
		cc.args[i] = args[i];
	if (mask & 1) {
		cc.off = entry ? take_capture_entry(s, &conf->cap[0], &cc) : take_capture_exit(s, &conf->cap[0], &cc);
		(*ncap)++;
	}
	if (mask & 2) {
		cc.slot = 1;
		cc.off = entry ? take_capture_entry(s, &conf->cap[1], &cc) : take_capture_exit(s, &conf->cap[1], &cc);
		(*ncap)++;
	}
	return cc.off;
}

/* The parts of a call record that are not its arguments. */
struct call {
	__u64 ts;
	__u64 dur;
	__s64 ret;
	__s64 nr;
	__u32 seq;
	__u32 model_lost;
	__u32 kev_lost;
	__u8 flags;
};

static __always_inline void fill_syscall(struct iot_syscall *e, const __u64 *args, const struct call *c)
{
	e->dur = c->dur;
	e->ret = c->ret;
	for (int i = 0; i < 6; i++)
		e->args[i] = args[i];
	e->nr = c->nr;
	e->seq = c->seq;
	e->model_lost = c->model_lost;
	e->kev_lost = c->kev_lost;
	e->ncap = 0;
	e->flags = c->flags;
	e->pad = 0;
	e->pad2 = 0;
}

/* emit_syscall sends the call's record: straight into the ring when there is nothing to capture,
 * through the scratch buffer when there is. It returns false when the call was lost (counted). */
static __always_inline bool emit_syscall(__u64 pid_tgid, const __u64 *args, const struct call *c,
					 const struct iot_sc_conf *conf, __u8 mask, const bool entry)
{
	if (!conf || !mask) {
		struct iot_syscall *e = reserve(sizeof(*e), IOT_LOST_CALL_RING);
		if (!e)
			return false;
		fill_hdr(&e->h, c->ts, pid_tgid, IOT_EV_SYSCALL, sizeof(*e));
		fill_syscall(e, args, c);
		bpf_ringbuf_submit(e, submit_flags());
		return true;
	}
	struct scratch *s = scratch_get(IOT_LOST_CALL_BUSY);
	if (!s)
		return false;
	struct iot_syscall *e = (void *)s->buf;
	fill_hdr(&e->h, c->ts, pid_tgid, IOT_EV_SYSCALL, 0);
	fill_syscall(e, args, c);
	__u8 ncap = 0;
	__u32 off = take_captures(s, sizeof(*e), conf, mask, args, c->ret, &ncap, entry);
	e->ncap = ncap;
	return scratch_output(s, off, IOT_LOST_CALL_RING);
}

/* emit_enter sends the captures taken at entry; false when they were lost (counted). */
static __always_inline bool emit_enter(__u64 pid_tgid, __u64 ts, const __u64 *args, __s64 nr, __u32 seq,
				       const struct iot_sc_conf *conf)
{
	struct scratch *s = scratch_get(IOT_LOST_ENTRY);
	if (!s)
		return false;
	struct iot_sc_enter *e = (void *)s->buf;
	fill_hdr(&e->h, ts, pid_tgid, IOT_EV_SYSCALL_ENTER, 0);
	e->nr = nr;
	e->seq = seq;
	for (int i = 0; i < 7; i++)
		e->pad[i] = 0;
	__u8 ncap = 0;
	__u32 off = take_captures(s, sizeof(*e), conf, conf->enter_mask, args, 0, &ncap, true);
	e->ncap = ncap;
	return scratch_output(s, off, IOT_LOST_ENTRY);
}

/* call_lost counts a lost call that changes the annotator's model against its process: every
 * later call record of the process carries the count, so the annotator knows its model of that
 * process may be wrong from there on. */
static __always_inline void call_lost(__u32 tgid, const struct iot_sc_conf *conf)
{
	if (!conf || !conf->model)
		return;
	struct iot_proc *p = bpf_map_lookup_elem(&filter, &tgid);
	if (p)
		__sync_fetch_and_add(&p->model_lost, 1);
}

static __always_inline struct inflight *thread_state(__u32 tid)
{
	struct inflight *in = bpf_map_lookup_elem(&inflight, &tid);
	if (in)
		return in;
	struct inflight fresh = {};
	bpf_map_update_elem(&inflight, &tid, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&inflight, &tid);
}

/* enter_untraced marks a thread as inside a call -e does not trace: kernel events raised in it
 * name it rather than look raised between calls. Nothing else is kept of it, and its number does
 * not count (the thread's seq numbers only its traced calls). */
static __always_inline void enter_untraced(__u32 tid, __s64 nr)
{
	struct inflight *in = thread_state(tid);
	if (!in)
		return;
	if (in->ts) {
		count_lost(IOT_LOST_CALL_EXIT); /* a traced call whose exit was never seen */
		in->ts = 0;
	}
	in->untraced = nr + 1;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;
	struct iot_proc *p = bpf_map_lookup_elem(&filter, &tgid);

	if (!p)
		return 0;
	__s64 nr = id;
	/* The launcher's gate: tracing starts with the execve it makes once released; the exec
	 * itself (on_exec) makes the process active, so the gate's other threads stay untraced. */
	if (p->state == IOT_GATED && nr != execve_nr && nr != execveat_nr)
		return 0;
	if (nr < 0 || nr >= IOT_NR_MAX)
		return 0;
	__u32 key = nr;
	struct iot_sc_conf *conf = bpf_map_lookup_elem(&sc_conf, &key);
	if (!conf)
		return 0;
	if (!conf->trace) {
		enter_untraced(tid, nr);
		return 0;
	}
	struct inflight *in = thread_state(tid);
	if (!in) {
		count_lost(IOT_LOST_CALL_TRACK);
		call_lost(tgid, conf);
		return 0;
	}
	if (in->ts)
		count_lost(IOT_LOST_CALL_EXIT); /* the previous call's seq is then a gap */
	in->untraced = 0;

	struct call c = { .ts = bpf_ktime_get_ns(), .nr = nr, .seq = ++in->seq, .model_lost = p->model_lost };
	syscall_args(regs, in->args);
	if (conf->noreturn) {
		in->ts = 0;
		c.flags = IOT_SC_NORETURN;
		if (!emit_syscall(pid_tgid, in->args, &c, conf, conf->enter_mask, true))
			call_lost(tgid, conf);
		return 0;
	}
	in->ts = c.ts;
	in->nr = nr;
	in->model_lost = c.model_lost;
	in->kev_lost = kev_lost_total;
	in->flags = 0;
	if (conf->enter_mask && !emit_enter(pid_tgid, c.ts, in->args, nr, c.seq, conf))
		in->flags = IOT_SC_ENTRY_LOST;
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct inflight *in = bpf_map_lookup_elem(&inflight, &tid);

	if (!in)
		return 0; /* not a thread being traced, or its first call began before tracing did */
	if (in->untraced) {
		in->untraced = 0; /* the end of a call -e does not trace */
		return 0;
	}
	__u64 now = bpf_ktime_get_ns();
	struct call c = { .ret = ret, .model_lost = in->model_lost };
	__u32 key;
	struct iot_sc_conf *conf;
	if (!in->ts) {
		/* A call of a traced thread whose entry the entry program did not see (skipped while
		 * another BPF program ran here, or filtered out by -e): a traced number is recorded
		 * for what is known of it, its number, result and time. */
		c.nr = syscall_nr(regs);
		if (c.nr < 0 || c.nr >= IOT_NR_MAX)
			return 0;
		key = c.nr;
		conf = bpf_map_lookup_elem(&sc_conf, &key);
		if (!conf || !conf->trace)
			return 0;
		__u64 none[6] = {};
		c.ts = now;
		c.seq = ++in->seq;
		c.flags = IOT_SC_NO_ENTRY;
		if (!emit_syscall(pid_tgid, none, &c, 0, 0, false))
			call_lost(pid_tgid >> 32, conf);
		return 0;
	}
	c.ts = in->ts;
	c.dur = now - in->ts;
	c.nr = in->nr;
	c.seq = in->seq;
	c.flags = in->flags;
	c.kev_lost = kev_lost_total - in->kev_lost;
	in->ts = 0;
	key = c.nr;
	conf = bpf_map_lookup_elem(&sc_conf, &key);
	if (!emit_syscall(pid_tgid, in->args, &c, conf, conf ? conf->exit_mask : 0, false))
		call_lost(pid_tgid >> 32, conf);
	return 0;
}
