// The program behind testdata/fixture.jsonl: a little of each mechanism, two threads, statically
// linked so the recording holds the program's own calls and not the dynamic loader's.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

static int fd;

static void *reader(void *arg)
{
	char b[64];
	(void)arg;
	pread(fd, b, sizeof b, 4096);
	pread(-1, b, sizeof b, 0); /* EBADF */
	return 0;
}

int main(void)
{
	char a[8], b[16];
	struct iovec iov[2] = {{a, sizeof a}, {b, sizeof b}};
	pthread_t t;
	struct epoll_event ev = {.events = EPOLLIN}, out;
	int p[2], ep;

	fd = open("/etc/services", O_RDONLY);
	posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
	readv(fd, iov, 2);
	char *m = mmap(0, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
	volatile char c = m[4096];
	(void)c;
	pthread_create(&t, 0, reader, 0);
	pthread_join(t, 0);
	pipe(p);
	ep = epoll_create1(0);
	ev.data.fd = p[0];
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	epoll_wait(ep, &out, 1, 3); /* times out: 3 ms blocked */
	write(p[1], "x", 1);
	epoll_wait(ep, &out, 1, 3);
	dup2(p[1], 9);
	writev(9, iov, 2);
	close(fd);
	return 0;
}
