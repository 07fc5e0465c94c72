/* epolltruth.c: epoll scenarios that measure their own ground truth in the traced run — the
 * descriptors really ready (poll() with a zero timeout on each), what each wait returned, and
 * the bytes queued on a socket (FIONREAD) — and print it as lines
 *     truth STEP key=value ...
 * for the e2e tests to hold iotrace's notes against. Usage: epolltruth SCENARIO, one of
 *   data      ready events whose data is a pointer, another fd's number, or shared by two fds
 *   et        edge-triggered, one 16-byte read per event on 96 queued bytes: 80 left behind
 *   et-exact  the same on exactly 16 bytes: the full read took everything
 *   et-drain  the same 96 bytes, read until EAGAIN */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) { perror(what); exit(2); }

static void add(int ep, int fd, uint32_t events, uint64_t data) {
	struct epoll_event ev = { .events = events, .data.u64 = data };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) die("epoll_ctl ADD");
}

/* ready prints, for a step, which of fds poll() says are readable right now, and the fds. */
static void ready(const char *step, const int *fds, int n) {
	char list[256] = "";
	for (int i = 0; i < n; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN };
		if (poll(&p, 1, 0) < 0) die("poll");
		if (p.revents & POLLIN)
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", *list ? "," : "", fds[i]);
	}
	fprintf(stderr, "truth %s ready=%s\n", step, *list ? list : "none");
}

static void poke(int fd) {
	if (write(fd, "x", 1) != 1) die("write");
}

static void drain(int fd) {
	char c;
	if (read(fd, &c, 1) != 1) die("read");
}

/* wait runs one epoll_wait and prints what it returned. */
static int epwait(const char *step, int ep, int timeout) {
	struct epoll_event evs[8];
	int n = epoll_wait(ep, evs, 8, timeout);
	if (n < 0) die("epoll_wait");
	fprintf(stderr, "truth %s n=%d\n", step, n);
	return n;
}

/* data: five pipes watched with data that is not always the fd. Round 1 makes b, c and d
 * readable (b's data is a's number: a is not ready); round 2 makes only a readable (its data
 * is a pointer); round 3 closes d, whose data 777 it shared with e, and makes e readable. */
static void scenario_data(void) {
	static struct conn { int fd; } obj;
	int p[5][2], fds[5];
	for (int i = 0; i < 5; i++) {
		if (pipe(p[i])) die("pipe");
		fds[i] = p[i][0];
	}
	int a = fds[0], b = fds[1], c = fds[2], d = fds[3], e = fds[4];
	obj.fd = a;
	int ep = epoll_create1(0);
	if (ep < 0) die("epoll_create1");
	add(ep, a, EPOLLIN, (uint64_t)(uintptr_t)&obj);
	add(ep, b, EPOLLIN, (uint64_t)a);
	add(ep, c, EPOLLIN, (uint64_t)c);
	add(ep, d, EPOLLIN, 777);
	add(ep, e, EPOLLIN, 777);
	fprintf(stderr, "truth fds a=%d b=%d c=%d d=%d e=%d ptr=%llu\n", a, b, c, d, e,
		(unsigned long long)(uintptr_t)&obj);

	poke(p[1][1]), poke(p[2][1]), poke(p[3][1]);
	ready("r1", fds, 5);
	epwait("r1", ep, 1000);

	drain(b), drain(c), drain(d);
	poke(p[0][1]);
	ready("r2", fds, 5);
	epwait("r2", ep, 1000);

	drain(a);
	close(p[3][0]), close(p[3][1]);
	poke(p[4][1]);
	int left[] = { a, b, c, e };
	ready("r3", left, 4);
	epwait("r3", ep, 1000);
}

/* loopback returns a connected pair of TCP sockets on 127.0.0.1: the accepted one (made
 * non-blocking) in *server, the client's in *client. */
static void loopback(int *server, int *client) {
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0) die("socket");
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	if (bind(l, (struct sockaddr *)&sa, sizeof sa) || listen(l, 1) || getsockname(l, (struct sockaddr *)&sa, &len))
		die("listen on 127.0.0.1");
	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (*client < 0 || connect(*client, (struct sockaddr *)&sa, sizeof sa)) die("connect");
	*server = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	if (*server < 0) die("accept4");
	close(l);
}

/* queued is what FIONREAD says is waiting on fd. */
static int queued(int fd) {
	int n;
	if (ioctl(fd, FIONREAD, &n)) die("ioctl FIONREAD");
	return n;
}

/* edge: the article's edge-triggered handler on a socket with `send` bytes queued: one event,
 * then one 16-byte read (or reads until EAGAIN with drain), then a 50 ms wait that gets no new
 * edge, then FIONREAD and one 4096-byte read of whatever was left. */
static void scenario_edge(int send, int drain_all) {
	int srv, cli;
	loopback(&srv, &cli);
	char buf[4096];
	memset(buf, '.', sizeof buf);
	for (int sent = 0; sent < send; sent += 32)
		if (write(cli, buf, send - sent < 32 ? send - sent : 32) < 0) die("client write");
	/* loopback delivers inside the client's write; the bounded retry covers a deferred softirq */
	for (int i = 0; queued(srv) < send; i++) {
		if (i == 1000) die("bytes did not arrive on loopback");
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	int ep = epoll_create1(0);
	if (ep < 0) die("epoll_create1");
	add(ep, srv, EPOLLIN | EPOLLET, (uint64_t)srv);
	fprintf(stderr, "truth edge fd=%d sent=%d\n", srv, send);
	epwait("w1", ep, 1000);
	int got = 0, reads = 0;
	for (;;) {
		ssize_t n = read(srv, buf, 16);
		if (n < 0 && errno == EAGAIN) break;
		if (n < 0) die("read");
		got += n, reads++;
		if (!drain_all || n == 0) break;
	}
	fprintf(stderr, "truth handler read=%d reads=%d\n", got, reads);
	epwait("w2", ep, 50);
	fprintf(stderr, "truth left queued=%d\n", queued(srv));
	ssize_t later = read(srv, buf, sizeof buf);
	fprintf(stderr, "truth later ret=%zd eagain=%d\n", later, later < 0 && errno == EAGAIN);
	close(ep), close(srv), close(cli);
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: epolltruth data|et|et-exact|et-drain\n");
		return 2;
	}
	if (!strcmp(argv[1], "data"))
		scenario_data();
	else if (!strcmp(argv[1], "et"))
		scenario_edge(96, 0);
	else if (!strcmp(argv[1], "et-exact"))
		scenario_edge(16, 0);
	else if (!strcmp(argv[1], "et-drain"))
		scenario_edge(96, 1);
	else {
		fprintf(stderr, "epolltruth: unknown scenario %s\n", argv[1]);
		return 2;
	}
	return 0;
}
