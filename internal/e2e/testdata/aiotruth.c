/* aiotruth.c: native AIO scenarios that measure their own ground truth in the traced run and
 * print it as lines
 *     truth STEP key=value ...
 * for the e2e tests to hold iotrace's notes against. Right after each io_submit it asks
 * io_getevents(min_nr=0, timeout 0) what was already complete (ready=N), then collects the rest
 * with a blocking io_getevents. The ring's own header (ctx_id is its address) says how many
 * events the kernel made room for. Usage: aiotruth FILE. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define MAXREQ 16

static void die(const char *what) { perror(what); exit(2); }

/* The head of the ring io_setup maps into the process (fs/aio.c struct aio_ring). */
struct aio_ring_head { unsigned id, nr, head, tail, magic; };

static aio_context_t ctx;
static struct iocb cbs[MAXREQ];
static struct iocb *cbp[MAXREQ];
static char bufs[MAXREQ][PAGE] __attribute__((aligned(PAGE)));

static long submit(int n) {
	for (int i = 0; i < n; i++) cbp[i] = &cbs[i];
	long r = syscall(SYS_io_submit, ctx, n, cbp);
	if (r != n) die("io_submit");
	return r;
}

/* ready asks, without waiting, how many results are already complete, and collects them. */
static long ready(long max) {
	struct io_event ev[MAXREQ];
	struct timespec zero = { 0, 0 };
	long r = syscall(SYS_io_getevents, ctx, 0, max, ev, &zero);
	if (r < 0) die("io_getevents min_nr=0");
	return r;
}

/* collect waits for n results. */
static void collect(long n) {
	struct io_event ev[MAXREQ];
	while (n > 0) {
		long r = syscall(SYS_io_getevents, ctx, n, n, ev, NULL);
		if (r <= 0) die("io_getevents");
		n -= r;
	}
}

static void prep(int i, int fd, int op, uint64_t data, long off) {
	memset(&cbs[i], 0, sizeof cbs[i]);
	cbs[i].aio_data = data;
	cbs[i].aio_lio_opcode = op;
	cbs[i].aio_fildes = fd;
	cbs[i].aio_buf = (uintptr_t)bufs[i];
	cbs[i].aio_nbytes = PAGE;
	cbs[i].aio_offset = off;
}

/* step submits the prepared n requests, measures what was complete right after, then collects
 * the rest (after calling between(), which may make a request complete). */
static void step(const char *name, int n, void (*between)(void)) {
	submit(n);
	long r = ready(n);
	fprintf(stderr, "truth %s submitted=%d ready=%ld\n", name, n, r);
	if (between) between();
	collect(n - r);
}

static int pipefd[2];
static void fill_pipe(void) { if (write(pipefd[1], "x", 1) != 1) die("write pipe"); }

int main(int argc, char **argv) {
	if (argc != 2) { fprintf(stderr, "usage: aiotruth FILE\n"); return 2; }
	int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) die("create");
	char page[PAGE];
	memset(page, 'a', sizeof page);
	for (int i = 0; i < 16; i++)
		if (write(fd, page, sizeof page) != sizeof page) die("write");
	if (fsync(fd)) die("fsync");
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)) die("fadvise");
	if (pipe(pipefd)) die("pipe");

	if (syscall(SYS_io_setup, 4, &ctx)) die("io_setup");
	struct aio_ring_head *ring = (struct aio_ring_head *)ctx;
	fprintf(stderr, "truth setup asked=4 ring_nr=%u magic_ok=%d\n", ring->nr, ring->magic == 0xa10a10a1);

	/* Buffered reads of a cold file. */
	for (int i = 0; i < 4; i++) prep(i, fd, IOCB_CMD_PREAD, i, (long)i * 4 * PAGE);
	step("pread", 4, NULL);

	/* fsync of a dirty buffered file: the kernel hands it to a worker. */
	if (pwrite(fd, page, PAGE, 0) != PAGE) die("pwrite");
	prep(0, fd, IOCB_CMD_FSYNC, 10, 0);
	cbs[0].aio_buf = 0; /* fsync takes no buffer, length or offset */
	cbs[0].aio_nbytes = 0;
	step("fsync", 1, NULL);

	/* POLL on an empty pipe: complete only once the program writes to it, after measuring. */
	prep(0, pipefd[0], IOCB_CMD_POLL, 20, 0);
	cbs[0].aio_buf = POLLIN;
	cbs[0].aio_nbytes = 0;
	step("poll", 1, fill_pipe);

	/* POLL on a pipe that already has data: ready as it is submitted. */
	prep(0, pipefd[0], IOCB_CMD_POLL, 30, 0);
	cbs[0].aio_buf = POLLIN;
	cbs[0].aio_nbytes = 0;
	step("poll-ready", 1, NULL);
	if (read(pipefd[0], page, 1) != 1) die("read pipe");

	/* More requests in flight at once than io_setup asked room for: the kernel made more. */
	for (int i = 0; i < 12; i++) prep(i, fd, IOCB_CMD_PREAD, 40 + i, (long)i * PAGE);
	step("many", 12, NULL);

	/* O_DIRECT reads: the block requests go to the device from io_submit itself; whether they
	 * completed before it returned is what io_getevents(min_nr=0) right after it finds. The
	 * page cache is bypassed, so what is cached does not matter. */
	int dfd = open(argv[1], O_RDONLY | O_DIRECT);
	if (dfd < 0) die("open O_DIRECT");
	for (int i = 0; i < 4; i++) prep(i, dfd, IOCB_CMD_PREAD, 60 + i, (long)(i + 4) * PAGE);
	step("direct", 4, NULL);
	close(dfd);

	if (syscall(SYS_io_destroy, ctx)) die("io_destroy");
	close(fd);
	return 0;
}
