/* attrib.c: kernel work no traced call causes, and preemption inside a call, with the ground
 * truth measured in the same run and printed as lines
 *     truth STEP key=value ...
 * Usage: attrib SCENARIO FILE.
 *
 * outside: with iotrace -e leaving read out, reads a cold file (the readahead happens inside
 *   untraced reads), then touches a cold mapping of it between calls (user page faults and the
 *   read-around they do). CLOCK_MONOTONIC (the vDSO: no syscall) brackets each phase, so the
 *   test knows which events the kernel raised in it; getrusage counts the faults taken.
 * preempt: two threads pinned to one CPU; the traced one reads /dev/zero into a large buffer
 *   (busy in the kernel, yielding at cond_resched) while the other spins, until a read was
 *   switched out involuntarily at least twice. getrusage(RUSAGE_THREAD)'s ru_nivcsw and
 *   /proc/thread-self/schedstat's time on a run queue (with CLOCK_THREAD_CPUTIME_ID's time on
 *   CPU) bracket each read. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define FILE_PAGES 2048 /* 8 MiB */

static void die(const char *what) { perror(what); exit(2); }

static uint64_t now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* cold writes the file and drops it from the page cache (written back first, so all goes). */
static int cold(const char *path) {
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) die("create");
	char *buf = malloc(FILE_PAGES * PAGE);
	memset(buf, 'x', FILE_PAGES * PAGE);
	if (write(fd, buf, FILE_PAGES * PAGE) != FILE_PAGES * PAGE) die("write");
	free(buf);
	if (fdatasync(fd)) die("fdatasync");
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)) die("fadvise");
	return fd;
}

static long faults(void) {
	struct rusage ru;
	if (getrusage(RUSAGE_THREAD, &ru)) die("getrusage");
	return ru.ru_minflt + ru.ru_majflt;
}

static void outside(const char *path) {
	int fd = cold(path);
	char buf[PAGE];
	long sum = 0;
	syscall(SYS_getpid); /* a traced call right before: nothing below is its */
	uint64_t t0 = now();
	for (off_t off = 0; pread(fd, buf, sizeof buf, off) > 0; off += sizeof buf) sum += buf[0];
	uint64_t t1 = now();
	syscall(SYS_getpid);
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)) die("fadvise");
	char *m = mmap(NULL, FILE_PAGES * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) die("mmap");
	long f0 = faults();
	syscall(SYS_getpid);
	uint64_t t2 = now();
	for (long i = 0; i < FILE_PAGES; i += 16) sum += m[i * PAGE];
	uint64_t t3 = now();
	syscall(SYS_getpid);
	long f1 = faults();
	fprintf(stderr, "truth read tid=%ld from=%llu to=%llu sum=%ld\n", (long)gettid(), (unsigned long long)t0,
		(unsigned long long)t1, sum);
	fprintf(stderr, "truth touch tid=%ld from=%llu to=%llu faults=%ld\n", (long)gettid(), (unsigned long long)t2,
		(unsigned long long)t3, f1 - f0);
	munmap(m, FILE_PAGES * PAGE);
	close(fd);
}

static volatile int spinning = 1;
static int cpu = -1;

static void pin(void) {
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set)) die("sched_setaffinity");
}

static void *spin(void *arg) {
	(void)arg;
	pin();
	while (spinning) ;
	return NULL;
}

/* waited is the thread's time waiting on a run queue so far (schedstat's second field, brought
 * up to date each time the thread gets a CPU), in ns of the scheduler's clock, which an emulated
 * guest may run at another rate than CLOCK_MONOTONIC. */
static long long waited(int ss) {
	char b[128];
	ssize_t n = pread(ss, b, sizeof b - 1, 0);
	if (n <= 0) die("pread schedstat");
	b[n] = 0;
	long long run, wait;
	if (sscanf(b, "%lld %lld", &run, &wait) != 2) die("parse schedstat");
	return wait;
}

/* ran is the thread's time on CPU, on the scheduler's clock too (schedstat's first field lags
 * by up to a tick for a running thread; this clock does not). */
static long long ran(void) {
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)) die("clock_gettime");
	return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void switches(long *involuntary, long *voluntary) {
	struct rusage ru;
	if (getrusage(RUSAGE_THREAD, &ru)) die("getrusage");
	*involuntary = ru.ru_nivcsw;
	*voluntary = ru.ru_nvcsw;
}

static void preempt(void) {
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set)) die("sched_getaffinity");
	for (int i = 0; i < CPU_SETSIZE && cpu < 0; i++)
		if (CPU_ISSET(i, &set)) cpu = i;
	pin();
	pthread_t t;
	if (pthread_create(&t, NULL, spin, NULL)) die("pthread_create");
	int zero = open("/dev/zero", O_RDONLY);
	int ss = open("/proc/thread-self/schedstat", O_RDONLY);
	if (zero < 0 || ss < 0) die("open");
	size_t len = 64 << 20;
	char *buf = malloc(len + 64 * PAGE);
	memset(buf, 1, len + 64 * PAGE); /* fault it in now: the reads only copy */
	/* The switch counts bracket the wait: a switch is counted when the thread leaves the CPU,
	 * its wait when it comes back, so every wait ending inside [w0, w1] began after c0. */
	for (int i = 0, forced = 0; i < 40 && forced < 3; i++) {
		size_t n = len + i * PAGE; /* each read told apart by its count */
		long c0, v0, c1, v1;
		switches(&c0, &v0);
		long long w0 = waited(ss), r0 = ran();
		if (read(zero, buf, n) != (ssize_t)n) die("read /dev/zero");
		long long r1 = ran(), w1 = waited(ss);
		switches(&c1, &v1);
		fprintf(stderr, "truth preempt count=%zu nivcsw=%ld nvcsw=%ld run_ns=%lld wait_ns=%lld\n", n, c1 - c0, v1 - v0,
			r1 - r0, w1 - w0);
		forced += c1 - c0 >= 2;
	}
	spinning = 0;
	pthread_join(t, NULL);
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: attrib outside FILE | attrib preempt\n");
		return 2;
	}
	if (!strcmp(argv[1], "outside") && argc == 3)
		outside(argv[2]);
	else if (!strcmp(argv[1], "preempt"))
		preempt();
	else {
		fprintf(stderr, "unknown scenario %s\n", argv[1]);
		return 2;
	}
	return 0;
}
