/* vec: scatter/gather on a file, each iovec its own bytes. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc > 1 && chdir(argv[1]))
		return 1;
	int fd = open("vec.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
	char h[] = "HEADER: ", d[] = "payload ", t[] = "FOOTER\n";
	struct iovec out[3] = { { h, 8 }, { d, 8 }, { t, 7 } };
	writev(fd, out, 3);
	pwritev(fd, out, 2, 100);
	char a[4], b[8], c[32];
	struct iovec in[3] = { { a, sizeof a }, { b, sizeof b }, { c, sizeof c } };
	lseek(fd, 0, SEEK_SET);
	readv(fd, in, 3);
	preadv(fd, in, 2, 100);
	close(fd);
	unlink("vec.dat");
	return 0;
}
