/* iovtruth.c: scatter/gather transfers, short and complete, that measure their own ground
 * truth in the traced run — the bytes that really landed in each buffer (buffers pre-filled with
 * a byte the data never holds), and for writes into a pipe the bytes of each iovec read back
 * from it — and print it as lines
 *     truth STEP ret=N lens=L0,L1,... got=G0,G1,...
 * in the order the steps run (one syscall each), for the e2e tests to hold iotrace's fill-map
 * notes against. Usage: iovtruth FILE (a scratch file it creates). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define FILE_SIZE 6000
#define SENTINEL 0xEE
#define MAXV 20

static void die(const char *what) { perror(what); exit(2); }

static char bufs[MAXV][65536];

/* report prints a step: what the call returned, its iovec lengths and the bytes of each. */
static void report(const char *step, long ret, const long *lens, const long *got, int n) {
	char l[512] = "", g[512] = "";
	for (int i = 0; i < n; i++) {
		snprintf(l + strlen(l), sizeof l - strlen(l), "%s%ld", i ? "," : "", lens[i]);
		snprintf(g + strlen(g), sizeof g - strlen(g), "%s%ld", i ? "," : "", got[i]);
	}
	fprintf(stderr, "truth %s ret=%ld lens=%s got=%s\n", step, ret, l, g);
}

/* setup fills n buffers with the sentinel and points iov at them. */
static void setup(struct iovec *iov, const long *lens, int n) {
	for (int i = 0; i < n; i++) {
		memset(bufs[i], SENTINEL, lens[i]);
		iov[i] = (struct iovec){ bufs[i], lens[i] };
	}
}

/* landed counts, per buffer, the bytes a read put there: those no longer the sentinel. */
static void landed(const long *lens, long *got, int n) {
	for (int i = 0; i < n; i++) {
		got[i] = 0;
		for (long j = 0; j < lens[i]; j++) got[i] += (unsigned char)bufs[i][j] != SENTINEL;
	}
}

/* readstep runs one vectored read: readv (off < 0) or preadv at off. */
static void readstep(const char *step, int fd, long off, const long *lens, int n) {
	struct iovec iov[MAXV];
	long got[MAXV];
	setup(iov, lens, n);
	long ret = off < 0 ? syscall(SYS_readv, fd, iov, n) : syscall(SYS_preadv, fd, iov, n, off, 0);
	if (ret < 0) die(step);
	landed(lens, got, n);
	report(step, ret, lens, got, n);
}

/* writestep runs one vectored write into an empty non-blocking pipe — writev, or pwritev2 at
 * offset -1 (the current position, which a pipe accepts) — with iovec i full of byte 'A'+i,
 * then reads the pipe back and counts each iovec's bytes in it. */
static void writestep(const char *step, int rd, int wr, int pwritev2, const long *lens, int n) {
	struct iovec iov[MAXV];
	long got[MAXV] = { 0 };
	for (int i = 0; i < n; i++) {
		memset(bufs[i], 'A' + i, lens[i]);
		iov[i] = (struct iovec){ bufs[i], lens[i] };
	}
	long ret = pwritev2 ? syscall(SYS_pwritev2, wr, iov, n, -1L, -1L, 0) : syscall(SYS_writev, wr, iov, n);
	if (ret < 0) die(step);
	int q;
	if (ioctl(rd, FIONREAD, &q)) die("FIONREAD");
	static char back[1 << 20];
	long total = 0;
	while (total < q) {
		ssize_t r = read(rd, back + total, q - total);
		if (r <= 0) die("read back");
		total += r;
	}
	for (long j = 0; j < total; j++) {
		int i = back[j] - 'A';
		if (i < 0 || i >= n) die("read back: a byte no iovec held");
		got[i]++;
	}
	report(step, ret, lens, got, n);
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: iovtruth FILE\n");
		return 2;
	}
	int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) die("create");
	char data[FILE_SIZE];
	for (int i = 0; i < FILE_SIZE; i++) data[i] = 'a' + i % 26;
	if (pwrite(fd, data, FILE_SIZE, 0) != FILE_SIZE) die("pwrite");

	/* the example: 6000 bytes into four 4096-byte buffers */
	readstep("readv-short", fd, -1, (long[]){ 4096, 4096, 4096, 4096 }, 4);
	/* all of it: no short transfer */
	readstep("preadv-full", fd, 0, (long[]){ 2000, 4000 }, 2);
	/* 1000 bytes left past offset 5000: the second buffer partly, the third untouched */
	readstep("preadv-short", fd, 5000, (long[]){ 512, 1024, 64 }, 3);
	/* 20 iovecs, more than iotrace copies: the last 50 bytes end in the first */
	long many[MAXV];
	for (int i = 0; i < MAXV; i++) many[i] = 100;
	readstep("preadv-many", fd, 5950, many, MAXV);

	int p[2];
	if (pipe2(p, O_NONBLOCK)) die("pipe2");
	if (fcntl(p[1], F_SETPIPE_SZ, 65536) != 65536) die("F_SETPIPE_SZ 65536");
	/* a pipe takes 64 KiB of 120 KiB */
	writestep("writev-pipe", p[0], p[1], 0, (long[]){ 1000, 30000, 50000, 41880 }, 4);
	writestep("pwritev2-pipe", p[0], p[1], 1, (long[]){ 40000, 40000 }, 2);
	/* 20 iovecs of 4096: the pipe takes the 16 iotrace copies, and the total is unknown to it */
	for (int i = 0; i < MAXV; i++) many[i] = 4096;
	writestep("writev-many", p[0], p[1], 0, many, MAXV);
	close(p[0]), close(p[1]), close(fd);
	return 0;
}
