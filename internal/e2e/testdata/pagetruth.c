/* pagetruth.c: page-cache, readahead and mmap scenarios that measure their own ground truth in
 * the traced run — cachestat (6.5+) or mincore for what is cached, dirty and under writeback,
 * /proc/self/pagemap for what is mapped — and print it as lines
 *     truth STEP key=value ...
 * for the e2e tests to hold iotrace's notes against. Usage: pagetruth SCENARIO FILE. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

struct cs_range { uint64_t off, len; };
struct cs { uint64_t cache, dirty, writeback, evicted, recently_evicted; };

static void die(const char *what) { perror(what); exit(2); }

/* mincore's count of the file's resident pages (it maps the file to ask): pages in the cache
 * whose read has completed (mincore reports a folio only once it is up to date). */
static long resident(int fd, long pages) {
	void *m = mmap(NULL, pages * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) die("mmap for mincore");
	unsigned char *v = malloc(pages);
	if (mincore(m, pages * PAGE, v)) die("mincore");
	long n = 0;
	for (long i = 0; i < pages; i++) n += v[i] & 1;
	free(v);
	munmap(m, pages * PAGE);
	return n;
}

/* state prints what the kernel says of the file's pages. */
static void state(const char *step, int fd, long pages) {
	struct cs_range r = { 0, 0 };
	struct cs c;
	if (syscall(__NR_cachestat, fd, &r, &c, 0) == 0)
		fprintf(stderr, "truth %s cached=%llu dirty=%llu writeback=%llu\n", step, (unsigned long long)c.cache,
		       (unsigned long long)c.dirty, (unsigned long long)c.writeback);
	else
		fprintf(stderr, "truth %s cached=%ld cachestat=no\n", step, resident(fd, pages));
	
}

/* mapped counts the present pages of [m, m+pages) in pagemap, and those anonymous (bit 61, file
 * or shared-anon, clear) and exclusively mapped (bit 56). */
static void mapped(const char *step, void *m, long pages) {
	int pm = open("/proc/self/pagemap", O_RDONLY);
	if (pm < 0) die("open pagemap");
	long present = 0, anon = 0, excl = 0;
	for (long i = 0; i < pages; i++) {
		uint64_t e;
		if (pread(pm, &e, 8, ((uintptr_t)m / PAGE + i) * 8) != 8) die("pread pagemap");
		if (!(e >> 63 & 1)) continue;
		present++;
		if (!(e >> 61 & 1)) anon++;
		if (e >> 56 & 1) excl++;
	}
	close(pm);
	fprintf(stderr, "truth %s present=%ld anon=%ld exclusive=%ld\n", step, present, anon, excl);
	
}

static int create(const char *path, long pages) {
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) die("create");
	char buf[PAGE];
	for (long i = 0; i < pages; i++) {
		memset(buf, 'a' + i % 26, sizeof buf);
		if (write(fd, buf, sizeof buf) != sizeof buf) die("write");
	}
	return fd;
}

/* cold writes the file, writes it back and evicts it: its own pages, nothing system-wide. */
static int cold(const char *path, long pages) {
	int fd = create(path, pages);
	if (fdatasync(fd)) die("fdatasync");
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)) die("fadvise");
	if (lseek(fd, 0, SEEK_SET)) die("lseek");
	return fd;
}

static double now_us(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: pagetruth SCENARIO FILE\n");
		return 2;
	}
	const char *sc = argv[1], *path = argv[2];
	volatile char sink = 0;
	if (!strcmp(sc, "dontneed-dirty")) {
		/* freshly written pages: DONTNEED starts their writeback and cannot drop them */
		long n = 256;
		int fd = create(path, n);
		state("before", fd, n);
		if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)) die("fadvise");
		state("after", fd, n);
	} else if (!strcmp(sc, "dontneed-sync")) {
		/* written pages made clean by sync(), then kept by a live mapping, not by being dirty */
		long n = 64;
		int fd = create(path, n);
		sync();
		state("synced", fd, n);
		char *m = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) die("mmap");
		for (long i = 0; i < n; i++) sink += m[i * PAGE];
		mapped("mapped", m, n);
		if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)) die("fadvise");
		state("after", fd, n);
		munmap(m, n * PAGE);
	} else if (!strcmp(sc, "dontneed-mapped")) {
		/* clean pages kept by a live mapping; unmapped, the same advice drops them */
		long n = 64;
		int fd = create(path, n);
		if (fsync(fd)) die("fsync");
		char *m = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) die("mmap");
		for (long i = 0; i < n; i++) sink += m[i * PAGE];
		mapped("mapped", m, n);
		if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)) die("fadvise");
		state("after", fd, n);
		munmap(m, n * PAGE);
		if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)) die("fadvise");
		state("unmapped", fd, n);
	} else if (!strcmp(sc, "willneed")) {
		/* WILLNEED on a cold file, the first read timed; then WILLNEED on the cached file */
		long n = 2048;
		int fd = cold(path, n);
		if (posix_fadvise(fd, 0, n * PAGE, POSIX_FADV_WILLNEED)) die("fadvise");
		char buf[PAGE];
		double t = now_us();
		if (pread(fd, buf, PAGE, 0) != PAGE) die("pread");
		double us = now_us() - t;
		state("willneed", fd, n); /* the pages WILLNEED inserted (the read added none) */
		fprintf(stderr, "truth first-read us=%.0f\n", us);
		for (long i = 1; i < n; i++)
			if (pread(fd, buf, PAGE, i * PAGE) != PAGE) die("pread");
		state("read", fd, n);
		if (posix_fadvise(fd, 0, n * PAGE, POSIX_FADV_WILLNEED)) die("fadvise");
		state("again", fd, n);
	} else if (!strcmp(sc, "sequential") || !strcmp(sc, "random")) {
		/* 4 KiB reads of a cold file, front to back; the cache counted after each */
		long n = 128;
		int fd = cold(path, n);
		if (!strcmp(sc, "random") && posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM)) die("fadvise");
		char buf[PAGE];
		for (long i = 0; i < n; i++) {
			if (read(fd, buf, PAGE) != PAGE) die("read");
			/* cachestat counts the pages in the cache; mincore only those already read */
			struct cs_range r = { 0, 0 };
			struct cs c;
			if (syscall(__NR_cachestat, fd, &r, &c, 0) == 0)
				fprintf(stderr, "truth read%ld cached=%llu\n", i, (unsigned long long)c.cache);
			fprintf(stderr, "truth read%ld uptodate=%ld\n", i, resident(fd, n));
		}
	} else if (!strcmp(sc, "mmap-cold") || !strcmp(sc, "mmap-exit")) {
		/* a cold MAP_PRIVATE mapping: faults fill the cache and map pages; a write copies */
		long n = 64;
		int fd = cold(path, n);
		char *m = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) die("mmap");
		sink += m[0];
		mapped("touch0", m, n);
		fprintf(stderr, "truth touch0 resident=%ld\n", resident(fd, n));
		sink += m[40 * PAGE];
		mapped("touch40", m, n);
		mapped("page0-before", m, 1);
		m[0] = 'X';
		mapped("page0-after", m, 1);
		mapped("end", m, n);
		if (!strcmp(sc, "mmap-exit"))
			_exit(sink == 0x7f); /* no munmap: the exit takes the mapping down */
		munmap(m, n * PAGE);
	} else if (!strcmp(sc, "populate")) {
		long n = 256;
		int fd = cold(path, n);
		char *m = mmap(NULL, n * PAGE, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (m == MAP_FAILED) die("mmap");
		mapped("populated", m, n);
		munmap(m, n * PAGE);
	} else {
		fprintf(stderr, "unknown scenario %s\n", sc);
		return 2;
	}
	return sink == 0x7f;
}
