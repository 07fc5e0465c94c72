// storm: N writev calls to /dev/null split over T threads, as fast as they go; every call's
// iovecs carry its thread and index, so a tracer's record of a call can be checked against the
// call it claims to be.
//   gcc -O2 -pthread -o storm storm.c
//   storm N T
// iov[0] "t=TT i=IIIIIIIIII " (18 bytes), iov[1] 16 bytes of payload, iov[2] "IIIIIIIIII" (the
// index again), iov[3] "\n": 45 bytes a call. Each thread waits 100 ms after its last call (so a tracer's reader
// has drained before the exit) and prints "storm thread=T tid=TID writev=COUNT" to stderr; the
// main thread prints "storm calls=N threads=T loop_ns=NS" once all are done.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static long per_thread;
static int fd;

static long long now_ns(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

// digits writes the last n decimal digits of v, zero-padded.
static void digits(char *p, int n, long v) {
	for (int k = n - 1; k >= 0; k--, v /= 10)
		p[k] = '0' + v % 10;
}

static void *worker(void *arg) {
	int t = (int)(long)arg;
	char head[18] = "t=00 i=0000000000 ", idx[10], payload[16] = "payload-payload-", nl[1] = {'\n'};
	struct iovec iov[4] = {{head, 18}, {payload, 16}, {idx, 10}, {nl, 1}};
	long n = 0;
	digits(head + 2, 2, t);
	for (long i = 0; i < per_thread; i++) {
		digits(head + 7, 10, i);
		memcpy(idx, head + 7, 10);
		if (writev(fd, iov, 4) == 45)
			n++;
	}
	struct timespec pause = {0, 100 * 1000 * 1000};
	nanosleep(&pause, NULL);
	fprintf(stderr, "storm thread=%d tid=%ld writev=%ld\n", t, (long)syscall(SYS_gettid), n);
	return NULL;
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: storm N THREADS\n");
		return 2;
	}
	long total = atol(argv[1]);
	int threads = atoi(argv[2]);
	if (total <= 0 || threads <= 0 || threads > 64) {
		fprintf(stderr, "storm: N and THREADS must be positive (THREADS at most 64)\n");
		return 2;
	}
	per_thread = total / threads;
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		perror("storm: open /dev/null");
		return 1;
	}
	pthread_t tids[64];
	long long t0 = now_ns();
	for (int t = 0; t < threads; t++)
		if (pthread_create(&tids[t], NULL, worker, (void *)(long)t) != 0) {
			fprintf(stderr, "storm: pthread_create failed\n");
			return 1;
		}
	for (int t = 0; t < threads; t++)
		pthread_join(tids[t], NULL);
	fprintf(stderr, "storm calls=%ld threads=%d loop_ns=%lld\n", per_thread * threads, threads, now_ns() - t0 - 100000000LL);
	return 0;
}
