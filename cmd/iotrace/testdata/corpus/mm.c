/* mm: a file mapped, advised, synced and unmapped; fadvise on it. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc > 1 && chdir(argv[1]))
		return 1;
	int fd = open("mm.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ftruncate(fd, 16384);
	char *m = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	memset(m, 'x', 16384);
	msync(m, 16384, MS_SYNC);
	madvise(m, 16384, MADV_DONTNEED);
	munmap(m, 16384);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	posix_fadvise(fd, 0, 4096, POSIX_FADV_DONTNEED);
	fsync(fd);
	close(fd);
	unlink("mm.dat");
	return 0;
}
