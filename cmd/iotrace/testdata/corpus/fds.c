/* fds: descriptors of every kind and the calls that move them: pipes, sockets, files made and
 * opened, failed opens, stat and access, dup and fcntl. No pid is printed (the differential test
 * compares lines as they are). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	char path[512];
	int p[2], sv[2];
	char b[64];
	struct stat st;

	if (chdir(dir))
		return 1;
	pipe2(p, O_CLOEXEC);
	write(p[1], "hello", 5);
	read(p[0], b, sizeof b);
	close(p[0]);
	close(p[1]);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	write(sv[0], "ab", 2);
	read(sv[1], b, sizeof b);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(s, (void *)&a, sizeof a);
	listen(s, 4);
	socklen_t l = sizeof a;
	getsockname(s, (void *)&a, &l);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	connect(c, (void *)&a, sizeof a);
	int x = accept(s, NULL, NULL);
	write(c, "hi", 2);
	read(x, b, sizeof b);
	close(x);
	close(c);
	close(s);
	close(sv[0]);
	close(sv[1]);
	open("/nonexistent/file", O_RDONLY);
	snprintf(path, sizeof path, "made");
	int f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	write(f, "0123456789", 10);
	lseek(f, 2, SEEK_SET);
	read(f, b, 4);
	pread(f, b, 4, 6);
	fstat(f, &st);
	stat("/dev/null", &st);
	lstat(dir, &st);
	access(path, R_OK | W_OK);
	access("/nonexistent", F_OK);
	int d = dup(f);
	dup2(f, 20);
	dup3(f, 21, O_CLOEXEC);
	fcntl(f, F_GETFL);
	fcntl(f, F_SETFD, FD_CLOEXEC);
	fcntl(f, F_GETFD);
	close(d);
	close(20);
	close(21);
	close(f);
	unlink(path);
	return 0;
}
