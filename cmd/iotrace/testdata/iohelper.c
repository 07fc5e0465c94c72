/* iohelper makes the system calls the integration tests assert, one mode per test, and nothing
 * else of note. Only the "loop" mode, which runs untraced or under -p, writes to stdout: the
 * others write to /dev/null or to a file the test names, so a trace's stdout stays its own. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int devnull(void)
{
	int fd = open("/dev/null", O_WRONLY);
	if (fd < 0) {
		perror("iohelper: open /dev/null");
		exit(1);
	}
	return fd;
}

/* vec FILE: one writev of four buffers, then one readv of them back into three. */
static int vec(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror("iohelper: open");
		return 1;
	}
	char h[] = "HEADER: ", d1[] = "data1 ", d2[] = "data2 ", f[] = "FOOTER\n";
	struct iovec out[4] = {
		{ h, strlen(h) }, { d1, strlen(d1) }, { d2, strlen(d2) }, { f, strlen(f) },
	};
	if (writev(fd, out, 4) != 27) {
		perror("iohelper: writev");
		return 1;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		perror("iohelper: lseek");
		return 1;
	}
	char a[8], b[12], c[64];
	struct iovec in[3] = { { a, sizeof a }, { b, sizeof b }, { c, sizeof c } };
	if (readv(fd, in, 3) != 27) {
		perror("iohelper: readv");
		return 1;
	}
	return close(fd) != 0;
}

/* fork: the child writes a marker and execs /bin/true; the parent waits, then writes its own. */
static int forker(void)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("iohelper: fork");
		return 1;
	}
	if (pid == 0) {
		int fd = devnull();
		if (write(fd, "child-marker", 12) != 12)
			_exit(1);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid) {
		perror("iohelper: waitpid");
		return 1;
	}
	int fd = devnull();
	if (write(fd, "parent-marker", 13) != 13)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* loop MARKER: write "MARKER\n" to stdout every 10 ms until killed; the test reads the lines
 * to know the loop is running. */
static int loop(const char *marker)
{
	char line[256];
	int n = snprintf(line, sizeof line, "%s\n", marker);
	struct timespec ten_ms = { 0, 10 * 1000 * 1000 };
	if (n < 0 || n >= (int)sizeof line)
		return 2;
	for (;;) {
		if (write(1, line, n) != n)
			return 1;
		nanosleep(&ten_ms, NULL);
	}
}

static pthread_barrier_t barrier;

/* Every thread writes its own marker, so the test can tell them apart; the barrier keeps all of
 * them alive at once, so each is a distinct task. */
static void *worker(void *arg)
{
	char msg[32];
	int len = snprintf(msg, sizeof msg, "thread-%ld", (long)arg);
	pthread_barrier_wait(&barrier);
	int fd = devnull();
	if (write(fd, msg, len) != len)
		return (void *)1;
	close(fd);
	return NULL;
}

/* threads N: N threads, each writing "thread-I" once. */
static int threads(int n)
{
	pthread_t tids[64];
	if (n < 1 || n > 64)
		return 2;
	pthread_barrier_init(&barrier, NULL, n);
	for (long i = 0; i < n; i++) {
		int err = pthread_create(&tids[i], NULL, worker, (void *)i);
		if (err) {
			fprintf(stderr, "iohelper: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		void *ret;
		pthread_join(tids[i], &ret);
		rc |= ret != NULL;
	}
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "vec") == 0)
		return vec(argv[2]);
	if (argc == 2 && strcmp(argv[1], "fork") == 0)
		return forker();
	if (argc == 3 && strcmp(argv[1], "loop") == 0)
		return loop(argv[2]);
	if (argc == 3 && strcmp(argv[1], "threads") == 0)
		return threads(atoi(argv[2]));
	fprintf(stderr, "usage: iohelper vec FILE | fork | loop MARKER | threads N\n");
	return 2;
}
