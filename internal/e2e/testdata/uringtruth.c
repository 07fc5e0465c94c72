/* uringtruth.c: io_uring_enter scenarios that measure their own ground truth in the traced run
 * and print it as lines
 *     truth STEP key=value ...
 * for the e2e tests to hold iotrace's notes against. Right after each io_uring_enter it reads
 * the rings the kernel shares with the process: the CQ (tail - head: completions ready) and the
 * SQ head (SQEs the kernel has taken). Usage: uringtruth. */
#define _GNU_SOURCE
#include <linux/io_uring.h>
#include <linux/time_types.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) { perror(what); exit(2); }

struct uring {
	int fd;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *sq_flags;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static unsigned load(unsigned *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void store(unsigned *p, unsigned v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

static void setup(struct uring *r, unsigned flags, unsigned idle_ms) {
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	p.flags = flags;
	p.sq_thread_idle = idle_ms;
	r->fd = syscall(SYS_io_uring_setup, 4, &p);
	if (r->fd < 0) die("io_uring_setup");
	if (!(p.features & IORING_FEAT_SINGLE_MMAP)) { fprintf(stderr, "no IORING_FEAT_SINGLE_MMAP\n"); exit(2); }
	size_t sqsz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cqsz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	size_t sz = sqsz > cqsz ? sqsz : cqsz;
	char *m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	if (m == MAP_FAILED) die("mmap rings");
	r->sq_head = (unsigned *)(m + p.sq_off.head);
	r->sq_tail = (unsigned *)(m + p.sq_off.tail);
	r->sq_mask = (unsigned *)(m + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)(m + p.sq_off.array);
	r->sq_flags = (unsigned *)(m + p.sq_off.flags);
	r->cq_head = (unsigned *)(m + p.cq_off.head);
	r->cq_tail = (unsigned *)(m + p.cq_off.tail);
	r->cq_mask = (unsigned *)(m + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(m + p.cq_off.cqes);
	r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED) die("mmap sqes");
}

/* push queues one SQE (the ring is never full here: every step reaps what it submitted). */
static struct io_uring_sqe *push(struct uring *r, int op, uint64_t data) {
	unsigned tail = *r->sq_tail, i = tail & *r->sq_mask;
	struct io_uring_sqe *sqe = &r->sqes[i];
	memset(sqe, 0, sizeof *sqe);
	sqe->opcode = op;
	sqe->user_data = data;
	r->sq_array[i] = i;
	store(r->sq_tail, tail + 1);
	return sqe;
}

static int enter(struct uring *r, unsigned submit, unsigned min, unsigned flags) {
	int ret = syscall(SYS_io_uring_enter, r->fd, submit, min, flags, NULL, 0);
	if (ret < 0) die("io_uring_enter");
	return ret;
}

static unsigned cq_ready(struct uring *r) { return load(r->cq_tail) - load(r->cq_head); }

/* reap consumes the ready completions. */
static unsigned reap(struct uring *r) {
	unsigned n = cq_ready(r);
	store(r->cq_head, *r->cq_head + n);
	return n;
}

/* step enters, then says what the rings show right after: what the call returned, the
 * completions ready and the SQEs the kernel had taken since before the call. */
static void step(struct uring *r, const char *name, unsigned submit, unsigned min, unsigned flags) {
	unsigned head = load(r->sq_head);
	int ret = enter(r, submit, min, flags);
	unsigned ready = cq_ready(r), taken = load(r->sq_head) - head;
	fprintf(stderr, "truth %s ret=%d to_submit=%u min_complete=%u flags=%u cq_ready=%u sq_taken=%u\n",
		name, ret, submit, min, flags, ready, taken);
}

/* wait enters with IORING_ENTER_GETEVENTS until n completions were reaped. */
static void wait_for(struct uring *r, unsigned n) {
	while (n > 0) {
		unsigned got = reap(r);
		if (got >= n) break;
		n -= got;
		enter(r, 0, n, IORING_ENTER_GETEVENTS);
	}
}

/* threads prints the tids of this process's threads whose name starts with prefix (io_uring's
 * helper threads: iou-wrk-PID for io-wq workers, iou-sqp-PID for an SQ thread), as
 *     truth STEP threads=N t0=TID t1=TID ... */
static void threads(const char *step, const char *prefix) {
	DIR *d = opendir("/proc/self/task");
	if (!d) die("/proc/self/task");
	char line[1024];
	int n = 0, len = 0;
	struct dirent *e;
	while ((e = readdir(d)) && len < (int)sizeof line - 64) {
		if (e->d_name[0] == '.') continue;
		char path[300], comm[32] = "";
		snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f) continue;
		if (fgets(comm, sizeof comm, f) && strncmp(comm, prefix, strlen(prefix)) == 0)
			len += snprintf(line + len, sizeof line - len, " t%d=%s", n++, e->d_name);
		fclose(f);
	}
	closedir(d);
	line[len] = 0;
	fprintf(stderr, "truth %s threads=%d%s\n", step, n, line);
}

int main(void) {
	struct uring r;
	setup(&r, 0, 0);
	int pfd[2];
	if (pipe(pfd)) die("pipe");
	char c;

	/* A NOP completes as it is submitted: GETEVENTS finds it ready. */
	push(&r, IORING_OP_NOP, 1);
	step(&r, "nop-wait", 1, 1, IORING_ENTER_GETEVENTS);
	wait_for(&r, 1);

	/* A read of an empty pipe cannot complete before the program writes to it: min_complete
	 * without GETEVENTS does not wait for it. */
	struct io_uring_sqe *sqe = push(&r, IORING_OP_READ, 2);
	sqe->fd = pfd[0];
	sqe->addr = (uintptr_t)&c;
	sqe->len = 1;
	step(&r, "read-nowait", 1, 1, 0);
	if (write(pfd[1], "x", 1) != 1) die("write pipe");
	wait_for(&r, 1);

	/* A 20 ms timeout: GETEVENTS waits for it; without GETEVENTS the call returns at once. */
	struct __kernel_timespec ts = { 0, 20 * 1000 * 1000 };
	sqe = push(&r, IORING_OP_TIMEOUT, 3);
	sqe->addr = (uintptr_t)&ts;
	sqe->len = 1;
	step(&r, "timeout-wait", 1, 1, IORING_ENTER_GETEVENTS);
	wait_for(&r, 1);
	sqe = push(&r, IORING_OP_TIMEOUT, 4);
	sqe->addr = (uintptr_t)&ts;
	sqe->len = 1;
	step(&r, "timeout-nowait", 1, 1, 0);
	wait_for(&r, 1);

	/* IOSQE_ASYNC sends each write to io-wq: threads of this process (iou-wrk-PID) run them
	 * while the call waits for the four completions. */
	const char *dir = getenv("TMPDIR");
	char file[512];
	snprintf(file, sizeof file, "%s/uringtruth.XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(file);
	if (fd < 0) die("mkstemp");
	unlink(file);
	static char blk[4][4096];
	for (int i = 0; i < 4; i++) {
		memset(blk[i], 'a' + i, sizeof blk[i]);
		sqe = push(&r, IORING_OP_WRITE, 100 + i);
		sqe->fd = fd;
		sqe->flags = IOSQE_ASYNC;
		sqe->addr = (uintptr_t)blk[i];
		sqe->len = sizeof blk[i];
		sqe->off = (uint64_t)i * sizeof blk[i];
	}
	step(&r, "punt", 4, 4, IORING_ENTER_GETEVENTS);
	wait_for(&r, 4);
	threads("punt", "iou-wrk-");
	close(fd);

	/* SQPOLL: the kernel's SQ thread takes the SQEs; io_uring_enter returns to_submit. Its
	 * idle time is short, so by the time the SQEs are queued it sleeps and needs a wakeup. */
	struct uring q;
	setup(&q, IORING_SETUP_SQPOLL, 1);
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	nanosleep(&nap, NULL);
	for (int i = 0; i < 4; i++) push(&q, IORING_OP_NOP, 10 + i);
	unsigned wake = load(q.sq_flags) & IORING_SQ_NEED_WAKEUP ? IORING_ENTER_SQ_WAKEUP : 0;
	step(&q, "sqpoll", 4, 0, wake);
	wait_for(&q, 4);
	threads("sqpoll", "iou-sqp-");
	return 0;
}
