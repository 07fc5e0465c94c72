/* iohelper makes the system calls the integration tests assert, one mode per test, and nothing
 * else of note. Only the "loop" mode, which runs untraced or under -p, writes to stdout: the
 * others write to /dev/null or to a file the test names, so a trace's stdout stays its own. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <signal.h>
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

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000 * 1000 };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* writes N MS FILE: N writes of "write-I\n" appended to FILE, MS milliseconds apart; a test
 * counts them in the trace and in the file. */
static int writes(int n, int ms, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0) {
		perror("iohelper: open");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char line[32];
		int len = snprintf(line, sizeof line, "write-%d\n", i);
		if (write(fd, line, len) != len) {
			perror("iohelper: write");
			return 1;
		}
		if (ms > 0)
			sleep_ms(ms);
	}
	return close(fd) != 0;
}

/* daemon N MS FILE: a daemon as daemon(3) makes one — fork, setsid, fork again — whose
 * grandchild makes writes' N writes once the command itself has exited; the command and the
 * middle child exit at once. The grandchild's pid is the first line of FILE. */
static int daemonize(int n, int ms, const char *path)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("iohelper: fork");
		return 1;
	}
	if (pid > 0) {
		int status;
		/* the middle child exits at once: reaping it leaves no zombie behind */
		return waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	if (setsid() < 0)
		_exit(1);
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	/* the grandchild: let the command exit first, so every write comes after it */
	sleep_ms(200);
	FILE *f = fopen(path, "a");
	if (f == NULL)
		_exit(1);
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	_exit(writes(n, ms, path));
}

/* fdlabels: a pipe, a socketpair, a socket and a file made with creat; each descriptor's inode,
 * as fstat sees it, goes to stderr ("truth fd=N ino=I"): what strace -y names them by. */
static int fdlabels(const char *path)
{
	int p[2], sv[2];
	if (pipe2(p, O_CLOEXEC) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
		perror("iohelper: pipe2/socketpair");
		return 1;
	}
	int s = socket(AF_INET, SOCK_DGRAM, 0), c = creat(path, 0644);
	if (s < 0 || c < 0) {
		perror("iohelper: socket/creat");
		return 1;
	}
	int fds[] = { p[0], p[1], sv[0], sv[1], s, c };
	/* on the stack, resident: a write refused before it reads its buffer (EBADF) leaves a
	 * constant's page untouched, and BPF cannot fault one in */
	char x[1] = { 'x' };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
		struct stat st;
		if (fstat(fds[i], &st)) {
			perror("iohelper: fstat");
			return 1;
		}
		fprintf(stderr, "truth fd=%d ino=%llu\n", fds[i], (unsigned long long)st.st_ino);
		if (write(fds[i], x, 1) < 0 && i != 0 && i != 4) { /* the pipe's read end and the unconnected socket refuse */
			perror("iohelper: write");
			return 1;
		}
	}
	return 0;
}

/* envs N...: for each N, an execve of a program that does not exist with an environment of N
 * strings (it fails with ENOENT; iotrace counts the environment at entry); then one whose
 * environment array ends on the last word of a page followed by an unmapped one (a chunked read
 * of the array runs into the hole), and one whose array is unreadable. Each count goes to stderr
 * ("truth vars=N", -1: unreadable) in the order of the calls. */
static int envs(int argc, char **argv)
{
	static char *args[] = { "iotrace-no-such-program", 0 };
	long pg = sysconf(_SC_PAGESIZE);
	for (int i = 0; i < argc; i++) {
		int n = atoi(argv[i]);
		char **env = calloc(n + 1, sizeof(char *));
		if (!env) {
			perror("iohelper: calloc");
			return 1;
		}
		for (int j = 0; j < n; j++)
			env[j] = "V=1";
		fprintf(stderr, "truth vars=%d\n", n);
		execve("/nonexistent/iotrace-envs", args, env);
		free(env);
	}
	char *two = mmap(0, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (two == MAP_FAILED || munmap(two + pg, pg)) {
		perror("iohelper: mmap");
		return 1;
	}
	int n = 40; /* more than one chunk, the last one cut by the hole */
	char **env = (char **)(two + pg) - (n + 1);
	for (int j = 0; j < n; j++)
		env[j] = "V=1";
	env[n] = 0;
	fprintf(stderr, "truth vars=%d\n", n);
	execve("/nonexistent/iotrace-envs", args, env);
	fprintf(stderr, "truth vars=-1\n");
	execve("/nonexistent/iotrace-envs", args, (char **)(two + pg));
	return 0;
}

/* stubborn READY: ignore SIGINT, SIGTERM and SIGHUP (trap "" INT TERM HUP), create READY, then
 * sleep until killed. */
static int stubborn(const char *ready)
{
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror("iohelper: open");
		return 1;
	}
	close(fd);
	for (;;)
		pause();
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
	if (argc == 5 && strcmp(argv[1], "writes") == 0)
		return writes(atoi(argv[2]), atoi(argv[3]), argv[4]);
	if (argc == 5 && strcmp(argv[1], "daemon") == 0)
		return daemonize(atoi(argv[2]), atoi(argv[3]), argv[4]);
	if (argc == 3 && strcmp(argv[1], "stubborn") == 0)
		return stubborn(argv[2]);
	if (argc == 3 && strcmp(argv[1], "fdlabels") == 0)
		return fdlabels(argv[2]);
	if (argc >= 2 && strcmp(argv[1], "envs") == 0)
		return envs(argc - 2, argv + 2);
	fprintf(stderr, "usage: iohelper vec FILE | fork | loop MARKER | threads N | writes N MS FILE | daemon N MS FILE | stubborn READY | fdlabels FILE | envs N...\n");
	return 2;
}
