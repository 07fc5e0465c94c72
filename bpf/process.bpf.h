/* process.bpf.h — the traced tree grows with fork/clone/vfork and shrinks when a process's last
 * thread exits. BTF tracepoints give the task structs, so a thread is told from a process by
 * its tgid rather than by clone flags. */
#pragma once

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid;
	struct iot_proc *pp = bpf_map_lookup_elem(&filter, &ptgid);

	if (!pp)
		return 0;
	__u32 ctgid = child->tgid;
	bool thread = ctgid == ptgid;
	if (!thread) {
		/* the child starts with a copy of the parent's descriptors: and of what was lost of them */
		struct iot_proc v = { .state = pp->state, .model_lost = pp->model_lost };
		bpf_map_update_elem(&filter, &ctgid, &v, BPF_ANY);
	}
	if (pp->state == IOT_GATED)
		return 0;
	struct iot_fork *e = reserve(sizeof(*e), IOT_LOST_PROC);
	if (!e)
		return 0;
	fill_hdr(&e->h, bpf_ktime_get_ns(), bpf_get_current_pid_tgid(), IOT_EV_FORK, sizeof(*e));
	e->child_pid = ctgid;
	e->child_tid = child->pid;
	e->thread = thread;
	e->pad = 0;
	bpf_probe_read_kernel(e->comm, sizeof(e->comm), child->comm);
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, int old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;
	struct iot_proc *pr = bpf_map_lookup_elem(&filter, &tgid);

	if (!pr)
		return 0;
	pr->state = IOT_ACTIVE;
	/* A thread other than the leader exec'd: it now has the leader's tid, so the execve in
	 * flight moves with it, or its exit would find nothing to join. */
	__u32 tid = p->pid, old = old_pid;
	if (old != tid) {
		struct inflight *in = bpf_map_lookup_elem(&inflight, &old);
		if (in) {
			struct inflight copy = *in;
			bpf_map_update_elem(&inflight, &tid, &copy, BPF_ANY);
			bpf_map_delete_elem(&inflight, &old);
		}
	}
	struct iot_exec *e = reserve(sizeof(*e), IOT_LOST_PROC);
	if (!e)
		return 0;
	fill_hdr(&e->h, bpf_ktime_get_ns(), bpf_get_current_pid_tgid(), IOT_EV_EXEC, sizeof(*e));
	e->old_tid = old_pid;
	e->pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), bprm->filename);
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid, tid = p->pid;
	struct iot_proc *pr = bpf_map_lookup_elem(&filter, &tgid);

	if (!pr)
		return 0;
	struct inflight *in = bpf_map_lookup_elem(&inflight, &tid);
	if (in && in->ts)
		count_lost(IOT_LOST_CALL_EXIT); /* a call whose exit was never seen */
	bpf_map_delete_elem(&inflight, &tid);
	/* signal->live was decremented before this tracepoint: zero means the whole group is gone */
	if (p->signal->live.counter != 0)
		return 0;
	bpf_map_delete_elem(&filter, &tgid);
	struct iot_exit *e = reserve(sizeof(*e), IOT_LOST_PROC);
	if (!e)
		return 0;
	fill_hdr(&e->h, bpf_ktime_get_ns(), bpf_get_current_pid_tgid(), IOT_EV_EXIT, sizeof(*e));
	e->exit_code = p->exit_code;
	e->pad = 0;
	bpf_probe_read_kernel(e->comm, sizeof(e->comm), p->comm);
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}
