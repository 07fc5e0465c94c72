/* capture.bpf.h — copies of user memory behind syscall arguments, appended to a record being
 * assembled in the per-CPU scratch buffer. Every offset is masked below IOT_REC_MAX and every
 * copy is smaller than the slack above it, which is what lets the verifier accept variable sizes. */
#pragma once

#define OFF_LIMIT (IOT_REC_MAX - 1024) /* no capture starts past this: room for one more chunk */
#define MASK(off) ((off) & (IOT_REC_MAX - 1))

/* bound keeps the verifier's view of a size in step with the clamp above it: clang may compare
 * one copy of a register and pass another to the helper, so the mask is applied last. */
#define bound(v, pow2) asm volatile("%[x] &= " #pow2 " - 1" : [x] "+r"(v))

static __always_inline __u32 align8(__u32 n)
{
	return (n + 7) & ~7U;
}

static __always_inline __u64 cap_len(const struct iot_cap_spec *s, const __u64 *args, __s64 ret)
{
	__u32 a;

	switch (s->len_src) {
	case IOT_LEN_ARG:
		a = s->len_arg;
		if (a > 5)
			return 0;
		return args[a];
	case IOT_LEN_RET:
		return ret > 0 ? ret : 0;
	case IOT_LEN_FIXED:
		return s->size;
	}
	return 0;
}

static __always_inline __u32 clamp_snap(__u64 want)
{
	__u32 n = want < snaplen ? want : snaplen;
	if (n > IOT_SNAP_MAX)
		n = IOT_SNAP_MAX;
	return n;
}

/* cap_iov captures up to IOT_IOV_MAX iovecs: their lengths, and their first bytes (at exit, no
 * more than the call transferred). */
/* What a looping capture needs; passed by pointer since BPF calls take at most five arguments. */
struct cap_args {
	__u64 uptr;
	__u64 cnt;
	__u64 remain; /* bytes the call transferred (iovecs at exit), or ~0 */
	__u32 size;
	__u32 pad;
};

static __noinline __u32 cap_iov(__u8 *buf, __u32 off, struct iot_cap *c, struct cap_args *a, struct uiov *iov)
{
	__u64 cnt = a->cnt, remain = a->remain;
	/* snaplen is read-only data, a constant to the verifier: so is the stride */
	__u32 stride = sizeof(struct iot_iov) + align8(snaplen < IOT_SNAP_MAX ? snaplen : IOT_SNAP_MAX);
	__u32 n = cnt < IOT_IOV_MAX ? cnt : IOT_IOV_MAX;

	c->len = cnt > 0xffffffffULL ? 0xffffffff : cnt;
	c->n = 0;
	/* the iovec array in one copy: a user-memory read costs more than its bytes */
	bound(n, 32);
	if (!n || n > IOT_IOV_MAX || bpf_probe_read_user(iov, n * sizeof(iov[0]), (void *)a->uptr))
		return off;
	for (int i = 0; i < IOT_IOV_MAX; i++) {
		if (i >= n || off > OFF_LIMIT)
			break;
		__u64 take = iov[i].len < remain ? iov[i].len : remain;
		__u32 k = clamp_snap(take);
		bound(k, 512);
		__u32 caplen = k;
		if (k && bpf_probe_read_user(buf + MASK(off + sizeof(struct iot_iov)), k, (void *)iov[i].base)) {
			/* unreadable: the address in place of the bytes, as strace shows it (k >= 1 means
			 * the stride has room for 8 bytes) */
			*(__u64 *)(buf + MASK(off + sizeof(struct iot_iov))) = iov[i].base;
			caplen = IOT_IOV_FAULT;
		}
		struct iot_iov *e = (void *)(buf + MASK(off));
		e->len = iov[i].len;
		e->caplen = caplen;
		e->stride = stride;
		remain -= take;
		off += stride;
		c->n = i + 1;
	}
	return off;
}

static __noinline __u32 cap_ptrarr(__u8 *buf, __u32 off, struct iot_cap *c, struct cap_args *a)
{
	__u64 uptr = a->uptr, cnt = a->cnt;
	__u32 size = a->size;
	__u32 n = 0;

	if (size > IOT_STRUCT_MAX)
		size = IOT_STRUCT_MAX;
	c->len = cnt > 0xffffffffULL ? 0xffffffff : cnt;
	for (int i = 0; i < IOT_PTRS_MAX; i++) {
		__u64 p;

		if (i >= cnt || off > OFF_LIMIT)
			break;
		if (bpf_probe_read_user(&p, sizeof(p), (void *)(uptr + i * sizeof(p))))
			break;
		bound(size, 256);
		if (bpf_probe_read_user(buf + MASK(off), size, (void *)p))
			break;
		off += align8(size);
		n++;
	}
	c->n = n;
	return off;
}

static __noinline __u32 cap_argv(__u8 *buf, __u32 off, struct iot_cap *c, struct cap_args *a)
{
	__u32 stride = sizeof(struct iot_str) + IOT_ARGV_STR;
	__u64 uptr = a->uptr;
	__u32 n = 0;
	/* Each string is cut at the snap length, as strace -s cuts them: one byte more than it is
	 * read, and the NUL, so that a string longer than the snap length is known to be. */
	__u32 lim = snaplen + 2 < IOT_ARGV_STR ? snaplen + 2 : IOT_ARGV_STR;

	for (int i = 0; i < IOT_ARGV_MAX; i++) {
		__u64 p;

		if (off > OFF_LIMIT)
			break;
		if (bpf_probe_read_user(&p, sizeof(p), (void *)(uptr + i * sizeof(p))) || !p)
			break;
		bound(lim, 128);
		long r = bpf_probe_read_user_str(buf + MASK(off + sizeof(struct iot_str)), lim, (void *)p);
		__u32 k = r > 0 ? r - 1 : 0, cut = 0;
		if (r == lim && (k > snaplen || lim == IOT_ARGV_STR)) {
			/* longer than the snap length (or, at the buffer's end, perhaps longer): cut */
			if (k > snaplen)
				k = snaplen;
			cut = IOT_STR_CUT;
		}
		if (k > IOT_ARGV_STR)
			k = IOT_ARGV_STR;
		struct iot_str *s = (void *)(buf + MASK(off));
		s->len = k | cut;
		s->stride = stride;
		off += stride;
		n++;
	}
	c->n = n;
	/* The environment is only counted, as strace does without -v. Its pointers are read a chunk
	 * at a time into the scratch past the record's end, and counted without a branch per pointer:
	 * the verifier walks every step of this loop, and a pointer at a time it was most of the
	 * entry program's verification, the bulk of iotrace's start-up. */
	__u64 envp = a->cnt;
	if (!envp) {
		c->len = IOT_ENV_UNREAD;
		return off;
	}
	__u64 *chunk = (void *)(buf + MASK(off));
	__u64 at = envp, alive = 1;
	__u32 vars = 0;
	bool fault = false;
	for (int i = 0; i < IOT_ENV_MAX / IOT_ENV_CHUNK; i++) {
		if (bpf_probe_read_user(chunk, IOT_ENV_CHUNK * sizeof(__u64), (void *)at)) {
			fault = true; /* the chunk runs into unmapped memory: its pointers one by one, below */
			break;
		}
		for (int j = 0; j < IOT_ENV_CHUNK; j++) {
			__u64 p = chunk[j], neg = -p;
			asm volatile("" : "+r"(neg)); /* kept as arithmetic: (p | -p) >> 63 is p != 0 */
			alive &= (p | neg) >> 63;
			vars += alive;
		}
		if (!alive)
			break;
		at += IOT_ENV_CHUNK * sizeof(__u64);
	}
	for (int j = 0; fault && j < IOT_ENV_CHUNK; j++) {
		__u64 p;

		if (bpf_probe_read_user(&p, sizeof(p), (void *)(at + j * sizeof(p)))) {
			if (!vars)
				vars = IOT_ENV_UNREAD;
			break;
		}
		if (!p)
			break;
		vars++;
	}
	c->len = vars;
	return off;
}

/* fd_file fills e with the file descriptor fd names, from the task's descriptor table: the
 * inode links kernel events (which name inodes) to descriptors, and the size is the call's. */
static __always_inline bool fd_file(__u64 fd, struct iot_fdinfo *e)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);

	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return false;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = 0;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return false;
	struct inode *in = BPF_CORE_READ(f, f_inode);
	if (!in)
		return false;
	e->ino = BPF_CORE_READ(in, i_ino);
	e->size = BPF_CORE_READ(in, i_size);
	e->dev = BPF_CORE_READ(in, i_sb, s_dev);
	e->pad = 0;
	return true;
}

static __noinline __u32 cap_fdinfo(__u8 *buf, __u32 off, struct iot_cap *c, struct cap_args *a)
{
	struct iot_fdinfo *e = (void *)(buf + MASK(off));

	if (!fd_file(a->uptr, e))
		return off;
	c->n = sizeof(*e);
	c->len = sizeof(*e);
	return off + sizeof(*e);
}

/* cap_fdpair reads the two descriptors a pipe or socketpair call wrote at a->uptr, and the file
 * behind each (strace -y names them pipe:[ino], socket:[ino]). */
static __noinline __u32 cap_fdpair(__u8 *buf, __u32 off, struct iot_cap *c, struct cap_args *a)
{
	__s32 *fds = (void *)(buf + MASK(off));

	if (bpf_probe_read_user(fds, 2 * sizeof(__s32), (void *)a->uptr))
		return off;
	__s32 fd0 = fds[0], fd1 = fds[1];
	struct iot_fdinfo *e = (void *)(buf + MASK(off + 8));
	if (fd0 < 0 || !fd_file(fd0, e))
		__builtin_memset(e, 0, sizeof(*e));
	e = (void *)(buf + MASK(off + 8 + sizeof(*e)));
	if (fd1 < 0 || !fd_file(fd1, e))
		__builtin_memset(e, 0, sizeof(*e));
	c->n = 8 + 2 * sizeof(*e);
	c->len = c->n;
	return off + 8 + 2 * sizeof(*e);
}

/* What one capture works from: the call's arguments and result, and where in the record it
 * goes. Passed by pointer: a BPF function takes at most five arguments. */
struct cap_call {
	__u64 args[6];
	__s64 ret;
	__u32 off;
	__u32 slot;
};

/* capture appends capture cc->slot, described by s, at cc->off in the record being assembled in
 * sc, and returns the new end. entry says which program takes it: only exec's path and argv are
 * read at entry (at exit the old address space is gone), and an argv is never read at exit, so
 * each program carries, and the verifier walks, only the kinds it can take (the argv's
 * environment count alone is a third of a program's verification). probe.configureSyscalls
 * refuses any other split; were one asked for, the capture would come out empty. */
static __always_inline __u32 capture(struct scratch *sc, const struct iot_cap_spec *s, const struct cap_call *cc,
				     const bool entry)
{
	if (!sc || !s || !cc)
		return 0;
	__u8 *buf = sc->buf;
	__u32 off = cc->off, slot = cc->slot;
	const __u64 *args = cc->args;
	__s64 ret = cc->ret;
	__u32 a = s->arg;
	__u32 k, size;
	__u64 want, cnt;
	struct cap_args ca = {};
	long r;

	if (off > OFF_LIMIT)
		return off;
	struct iot_cap *c = (void *)(buf + MASK(off));
	c->kind = s->kind;
	c->slot = slot;
	c->n = 0;
	c->len = 0;
	off += sizeof(*c);
	if (entry ? s->kind != IOT_CAP_STR && s->kind != IOT_CAP_ARGV : s->kind == IOT_CAP_ARGV)
		return off;
	if (s->kind == IOT_CAP_FDINFO) {
		if (a <= 5)
			ca.uptr = args[a];
		else if (ret >= 0)
			ca.uptr = ret;
		else
			return off;
		return cap_fdinfo(buf, off, c, &ca);
	}
	if (a > 5)
		return off;
	__u64 uptr = args[a];
	if (!uptr)
		return off;
	__u8 *dst = buf + MASK(off);

	switch (s->kind) {
	case IOT_CAP_BUF:
		want = cap_len(s, args, ret);
		k = clamp_snap(want);
		bound(k, 512);
		if (k && bpf_probe_read_user(dst, k, (void *)uptr))
			k = 0;
		c->n = k;
		c->len = want > 0xffffffffULL ? 0xffffffff : want;
		return off + align8(k);
	case IOT_CAP_STR:
		r = bpf_probe_read_user_str(dst, IOT_PATH_MAX, (void *)uptr);
		k = r > 0 ? r - 1 : 0;
		if (k > IOT_PATH_MAX)
			k = IOT_PATH_MAX;
		c->n = k;
		/* a full buffer may be a longer string cut: len > n says it was (or may have been) */
		c->len = r == IOT_PATH_MAX ? k + 1 : k;
		return off + align8(k);
	case IOT_CAP_STRUCT:
		size = s->size;
		if (size > IOT_STRUCT_MAX)
			size = IOT_STRUCT_MAX;
		bound(size, 256);
		if (bpf_probe_read_user(dst, size, (void *)uptr))
			size = 0;
		c->n = size;
		c->len = s->size;
		return off + align8(size);
	case IOT_CAP_IOV:
		ca.uptr = uptr;
		ca.cnt = cap_len(s, args, ret);
		ca.remain = s->at_exit && !s->input ? (ret > 0 ? ret : 0) : ~0ULL;
		return cap_iov(buf, off, c, &ca, sc->iov);
	case IOT_CAP_ARRAY:
		size = s->size;
		if (!size)
			return off;
		cnt = cap_len(s, args, ret);
		c->len = cnt > 0xffffffffULL ? 0xffffffff : cnt;
		k = IOT_ARR_BYTES / size;
		if (cnt < k)
			k = cnt;
		__u32 bytes = k * size;
		if (bytes > IOT_ARR_BYTES)
			bytes = IOT_ARR_BYTES;
		bound(bytes, 1024);
		if (bytes && bpf_probe_read_user(dst, bytes, (void *)uptr))
			k = bytes = 0;
		c->n = k;
		return off + align8(bytes);
	case IOT_CAP_PTRARR:
		ca.uptr = uptr;
		ca.cnt = cap_len(s, args, ret);
		ca.size = s->size;
		return cap_ptrarr(buf, off, c, &ca);
	case IOT_CAP_ARGV:
		ca.uptr = uptr;
		ca.cnt = a < 5 ? args[a + 1] : 0; /* envp follows argv (execve, execveat) */
		return cap_argv(buf, off, c, &ca);
	case IOT_CAP_FDPAIR:
		ca.uptr = uptr;
		return cap_fdpair(buf, off, c, &ca);
	}
	return off;
}

/* Global functions: the verifier checks each once, on its own, instead of once for every state of
 * every caller (which made loading slow). */
__attribute__((noinline)) __u32 take_capture_entry(struct scratch *sc, const struct iot_cap_spec *s,
						   const struct cap_call *cc)
{
	return capture(sc, s, cc, true);
}

__attribute__((noinline)) __u32 take_capture_exit(struct scratch *sc, const struct iot_cap_spec *s,
						  const struct cap_call *cc)
{
	return capture(sc, s, cc, false);
}
