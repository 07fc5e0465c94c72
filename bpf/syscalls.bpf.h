/* syscalls.bpf.h — every syscall of the traced tree, from the two raw_syscalls tracepoints
 * (two attachments instead of one per syscall: attaching and detaching hundreds of perf events
 * would take seconds). Entry stashes the arguments per thread; exit emits one joined record.
 * Captures configured "at entry" (writev's data, paths, execve's argv) go out at entry in an
 * IOT_EV_SYSCALL_ENTER record that the decoder joins to the thread's next exit record. */
#pragma once

static __always_inline struct scratch *scratch_get(void)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);

	if (!s)
		return 0;
	if (s->busy) {
		/* a program preempted on this CPU holds it (faultable syscall tracepoints) */
		count_lost(IOT_LOST_BUSY);
		return 0;
	}
	s->busy = 1;
	return s;
}

static __always_inline void scratch_output(struct scratch *s, __u32 size)
{
	struct iot_hdr *h = (void *)s->buf;

	if (size > IOT_REC_MAX)
		size = IOT_REC_MAX;
	h->size = size;
	if (bpf_ringbuf_output(&events, s->buf, size, submit_flags()))
		count_lost(IOT_LOST_RINGBUF);
	s->busy = 0;
}

/* next_off reads the record's end back from the map value: to the verifier it is then a range,
 * not one constant per path, so the captures after it are checked once instead of once for
 * every size the one before could have had (which cost seconds at load). */
static __always_inline __u32 next_off(struct scratch *s)
{
	return *(volatile __u32 *)&s->off;
}

/* take_captures appends the captures selected by mask and returns the end offset. */
static __always_inline __u32 take_captures(struct scratch *s, __u32 off, const struct iot_sc_conf *conf, __u8 mask,
					   const __u64 *args, __s64 ret, __u8 *ncap)
{
	s->off = off;
	if (mask & 1) {
		s->off = take_capture(s->buf, next_off(s), &conf->cap[0], 0, args, ret);
		(*ncap)++;
	}
	if (mask & 2) {
		s->off = take_capture(s->buf, next_off(s), &conf->cap[1], 1, args, ret);
		(*ncap)++;
	}
	return next_off(s);
}

static __always_inline void fill_syscall(struct iot_syscall *e, const __u64 *args, __s64 nr, __s64 ret, __u64 dur)
{
	e->dur = dur;
	e->ret = ret;
	for (int i = 0; i < 6; i++)
		e->args[i] = args[i];
	e->nr = nr;
	e->ncap = 0;
	e->flags = 0;
	e->pad = 0;
}

/* emit_syscall sends the joined record: straight into the ring when there is nothing to capture,
 * through the scratch buffer when there is. */
static __always_inline void emit_syscall(__u64 pid_tgid, __u64 ts, const __u64 *args, __s64 nr, __s64 ret,
					 __u64 dur, const struct iot_sc_conf *conf, __u8 mask, __u8 flags)
{
	if (!conf || !mask) {
		struct iot_syscall *e = reserve(sizeof(*e));
		if (!e)
			return;
		fill_hdr(&e->h, ts, pid_tgid, IOT_EV_SYSCALL, sizeof(*e));
		fill_syscall(e, args, nr, ret, dur);
		e->flags = flags;
		bpf_ringbuf_submit(e, submit_flags());
		return;
	}
	struct scratch *s = scratch_get();
	if (!s)
		return;
	struct iot_syscall *e = (void *)s->buf;
	fill_hdr(&e->h, ts, pid_tgid, IOT_EV_SYSCALL, 0);
	fill_syscall(e, args, nr, ret, dur);
	e->flags = flags;
	__u8 ncap = 0;
	__u32 off = take_captures(s, sizeof(*e), conf, mask, args, ret, &ncap);
	e->ncap = ncap;
	scratch_output(s, off);
}

static __always_inline void emit_enter(__u64 pid_tgid, __u64 ts, const __u64 *args, __s64 nr,
				       const struct iot_sc_conf *conf)
{
	struct scratch *s = scratch_get();
	if (!s)
		return;
	struct iot_sc_enter *e = (void *)s->buf;
	fill_hdr(&e->h, ts, pid_tgid, IOT_EV_SYSCALL_ENTER, 0);
	e->nr = nr;
	e->pad[0] = e->pad[1] = e->pad[2] = 0;
	__u8 ncap = 0;
	__u32 off = take_captures(s, sizeof(*e), conf, conf->enter_mask, args, 0, &ncap);
	e->ncap = ncap;
	scratch_output(s, off);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;
	__u8 *state = bpf_map_lookup_elem(&filter, &tgid);

	if (!state)
		return 0;
	__s64 nr = id;
	/* The launcher's gate: tracing starts with the execve it makes once released; the exec
	 * itself (on_exec) makes the process active, so the gate's other threads stay untraced. */
	if (*state == IOT_GATED && nr != execve_nr && nr != execveat_nr)
		return 0;
	if (nr < 0 || nr >= IOT_NR_MAX)
		return 0;
	__u32 key = nr;
	struct iot_sc_conf *conf = bpf_map_lookup_elem(&sc_conf, &key);
	if (!conf || !conf->trace)
		return 0;

	struct inflight in = { .ts = bpf_ktime_get_ns(), .nr = nr };
	syscall_args(regs, in.args);
	if (conf->noreturn) {
		emit_syscall(pid_tgid, in.ts, in.args, nr, 0, 0, conf, 0, IOT_SC_NORETURN);
		return 0;
	}
	if (conf->enter_mask)
		emit_enter(pid_tgid, in.ts, in.args, nr, conf);
	bpf_map_update_elem(&inflight, &tid, &in, BPF_ANY);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct inflight *in = bpf_map_lookup_elem(&inflight, &tid);

	if (!in)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	__s64 nr = in->nr;
	__u32 key = nr;
	struct iot_sc_conf *conf = bpf_map_lookup_elem(&sc_conf, &key);
	emit_syscall(pid_tgid, in->ts, in->args, nr, ret, now - in->ts, conf, conf ? conf->exit_mask : 0, 0);
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}
