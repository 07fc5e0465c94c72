/* ep: an epoll instance over a pipe, level-triggered then edge-triggered. */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <unistd.h>

int main(void)
{
	int p[2];
	pipe(p);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = p[0] };
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	struct epoll_event got[4];
	epoll_wait(ep, got, 4, 0);
	write(p[1], "x", 1);
	epoll_wait(ep, got, 4, 0);
	ev.events = EPOLLIN | EPOLLET;
	epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
	epoll_wait(ep, got, 4, 0);
	epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);
	close(ep);
	close(p[0]);
	close(p[1]);
	return 0;
}
