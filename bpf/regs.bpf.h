/* regs.bpf.h — a syscall's arguments from the registers it was entered with. The syscall
 * programs are BTF tracepoints (tp_btf/sys_enter gets the pt_regs): they are guarded against
 * recursion per program, where perf tracepoint programs share one per-CPU guard — a syscall
 * program running there would make an interrupt's kernel event (a block completion) be missed. */
#pragma once

#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long di, si, dx, r10, r8, r9, orig_ax;
} __attribute__((preserve_access_index));

/* syscall_nr is the number of the syscall being left (at exit rax holds the return value). */
static __always_inline __s64 syscall_nr(struct pt_regs *r)
{
	return (long)BPF_CORE_READ(r, orig_ax);
}

static __always_inline void syscall_args(struct pt_regs *r, __u64 *a)
{
	a[0] = BPF_CORE_READ(r, di);
	a[1] = BPF_CORE_READ(r, si);
	a[2] = BPF_CORE_READ(r, dx);
	a[3] = BPF_CORE_READ(r, r10); /* the syscall ABI passes the fourth in r10, not rcx */
	a[4] = BPF_CORE_READ(r, r8);
	a[5] = BPF_CORE_READ(r, r9);
}
#elif defined(__TARGET_ARCH_arm64)
/* The kernel's struct pt_regs keeps regs[31] in an anonymous union member; CO-RE finds the
 * field by name through it. x0 is overwritten by the return value: the entry value is orig_x0. */
struct pt_regs {
	__u64 regs[31];
	__u64 orig_x0;
	__s32 syscallno;
} __attribute__((preserve_access_index));

static __always_inline __s64 syscall_nr(struct pt_regs *r)
{
	return BPF_CORE_READ(r, syscallno);
}

static __always_inline void syscall_args(struct pt_regs *r, __u64 *a)
{
	a[0] = BPF_CORE_READ(r, orig_x0);
	a[1] = BPF_CORE_READ(r, regs[1]);
	a[2] = BPF_CORE_READ(r, regs[2]);
	a[3] = BPF_CORE_READ(r, regs[3]);
	a[4] = BPF_CORE_READ(r, regs[4]);
	a[5] = BPF_CORE_READ(r, regs[5]);
}
#else
#error "iotrace's BPF programs are built for x86_64 and arm64 (bpf2go -target amd64,arm64)"
#endif

/* call_arg is argument i (0 or 1) of a user function, at its first instruction (a uprobe): the C
 * calling convention's registers. */
#if defined(__TARGET_ARCH_x86)
static __always_inline __u64 call_arg(struct pt_regs *r, int i)
{
	return i == 0 ? BPF_CORE_READ(r, di) : BPF_CORE_READ(r, si);
}
#elif defined(__TARGET_ARCH_arm64)
static __always_inline __u64 call_arg(struct pt_regs *r, int i)
{
	return i == 0 ? BPF_CORE_READ(r, regs[0]) : BPF_CORE_READ(r, regs[1]);
}
#endif

/* The registers a perf event program sees (UAPI bpf_user_pt_regs_t, at the start of struct
 * bpf_perf_event_data): user_mode says whether the sampled context was user code. */
#if defined(__TARGET_ARCH_x86)
struct iot_user_regs {
	__u64 r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};
#define UREGS_IP(r) ((r)->ip)
#define UREGS_USER(r) (((r)->cs & 3) == 3)
#elif defined(__TARGET_ARCH_arm64)
struct iot_user_regs {
	__u64 regs[31];
	__u64 sp, pc, pstate;
};
#define UREGS_IP(r) ((r)->pc)
/* PSR_MODE_MASK 0xf: EL0t is 0, in AArch64 and (with PSR_MODE32_BIT) AArch32 alike */
#define UREGS_USER(r) (((r)->pstate & 0xf) == 0)
#endif

struct iot_perf_event_data {
	struct iot_user_regs regs;
	__u64 sample_period;
	__u64 addr;
};
