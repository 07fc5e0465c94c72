/* posixaio.c: glibc's POSIX AIO (aio_read, aio_write, aio_fsync), which glibc runs as pread64,
 * pwrite64 and fsync on helper threads of its own. Prints its ground truth as lines
 *     truth STEP key=value ...
 * for the e2e tests: each request's aiocb fields (fd, buffer address, length, offset), the
 * thread that called aio_*, what aio_return gave, and at the end the process's threads other
 * than the caller (from /proc/self/task: glibc's helpers). Usage: posixaio. */
#define _GNU_SOURCE
#include <aio.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void die(const char *what) { perror(what); exit(2); }

static void wait_done(struct aiocb *cb) {
	const struct aiocb *list[1] = { cb };
	while (aio_error(cb) == EINPROGRESS)
		aio_suspend(list, 1, NULL);
}

static void report(const char *step, struct aiocb *cb) {
	wait_done(cb);
	fprintf(stderr, "truth %s fd=%d buf=%lu nbytes=%zu offset=%lld tid=%ld ret=%zd\n", step, cb->aio_fildes,
		(unsigned long)cb->aio_buf, cb->aio_nbytes, (long long)cb->aio_offset, (long)syscall(SYS_gettid),
		aio_return(cb));
}

int main(void) {
	const char *dir = getenv("TMPDIR");
	char file[512];
	snprintf(file, sizeof file, "%s/posixaio.XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(file);
	if (fd < 0) die("mkstemp");
	unlink(file);
	static char out[8192], in[4096];
	memset(out, 'w', sizeof out);

	struct aiocb w = { .aio_fildes = fd, .aio_buf = out, .aio_nbytes = sizeof out, .aio_offset = 4096,
			  .aio_sigevent.sigev_notify = SIGEV_NONE };
	if (aio_write(&w)) die("aio_write");
	report("aio_write", &w);

	struct aiocb s = { .aio_fildes = fd, .aio_sigevent.sigev_notify = SIGEV_NONE };
	if (aio_fsync(O_SYNC, &s)) die("aio_fsync");
	report("aio_fsync", &s);

	struct aiocb r = { .aio_fildes = fd, .aio_buf = in, .aio_nbytes = sizeof in, .aio_offset = 8192,
			  .aio_sigevent.sigev_notify = SIGEV_NONE };
	if (aio_read(&r)) die("aio_read");
	report("aio_read", &r);

	/* the helpers: every thread but this one */
	long me = syscall(SYS_gettid);
	DIR *d = opendir("/proc/self/task");
	if (!d) die("/proc/self/task");
	char line[1024];
	int n = 0, len = 0;
	struct dirent *e;
	while ((e = readdir(d)) && len < (int)sizeof line - 64) {
		if (e->d_name[0] == '.' || atol(e->d_name) == me) continue;
		len += snprintf(line + len, sizeof line - len, " t%d=%s", n++, e->d_name);
	}
	closedir(d);
	line[len] = 0;
	fprintf(stderr, "truth helpers threads=%d%s\n", n, line);
	return 0;
}
