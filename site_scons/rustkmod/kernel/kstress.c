/* kstress: a character device hammered the way careless and hostile user space would, for a boot
 * test on the debug kernel (KASAN, lockdep, ...), which reports what the device's module gets wrong.
 *
 *   kstress DEVICE SECONDS MODULE [COMMAND ...]
 *
 * Several processes open DEVICE (some files kept open across rounds), read and write random
 * sizes to good buffers and to bad addresses, seek, and issue ioctls: the COMMANDs given (the
 * device's own, in hex) and random ones of every direction and size; meanwhile the parent holds
 * a file of DEVICE open and tries to remove MODULE, which must be refused every time. Prints one
 * line of counts, then "kstress DEVICE: done", or what went wrong (exit 1). Static, for any
 * architecture's boot (rustkmod builds it with the kernel's cross gcc).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROCESSES 4
#define KEPT 4
#define BUFFER 8192

struct counts {
	long opens, refused_opens, reads, writes, ioctls, seeks;
};

static uint64_t state;

static uint64_t next_random(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static unsigned int below(unsigned int bound)
{
	return (unsigned int)(next_random() % bound);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* An address user space should not hand the kernel: null, unmapped, misaligned, the kernel's. */
static void *bad_address(void)
{
	static const uintptr_t bad[] = { 0, 1, 4096, (uintptr_t)-4096, (uintptr_t)-1 };

	return (void *)bad[below(sizeof(bad) / sizeof(bad[0]))];
}

static unsigned long random_command(int count, unsigned long *given)
{
	unsigned int dir = below(4), size = below(3) ? below(64) : below(1 << 14);

	if (count && below(2))
		return given[below(count)];
	return ((unsigned long)dir << 30) | ((unsigned long)size << 16) | (below(256) << 8) | below(256);
}

static void one_round(const char *device, int *files, struct counts *c, int count, unsigned long *given)
{
	static char buffer[BUFFER];
	int slot = below(KEPT);
	int fd = files[slot];

	if (fd < 0) {
		fd = open(device, O_RDWR | O_NONBLOCK);
		if (fd < 0) {
			c->refused_opens++;
			return;
		}
		c->opens++;
		files[slot] = fd;
	}
	switch (below(5)) {
	case 0:
		c->reads++;
		(void)!read(fd, below(4) ? buffer : bad_address(), below(BUFFER));
		break;
	case 1:
		c->writes++;
		for (unsigned int i = 0; i < 16; i++)
			buffer[i] = (char)next_random();
		(void)!write(fd, below(4) ? buffer : bad_address(), below(BUFFER));
		break;
	case 2:
		c->ioctls++;
		(void)ioctl(fd, random_command(count, given), below(3) ? (unsigned long)buffer :
			    below(2) ? (unsigned long)bad_address() : (unsigned long)next_random());
		break;
	case 3:
		c->seeks++;
		(void)lseek(fd, (off_t)below(1 << 20) - (1 << 19), below(3));
		break;
	default:
		close(fd);
		files[slot] = -1;
	}
}

int main(int argc, char **argv)
{
	unsigned long given[16];
	int count = 0, refused = 0, tries = 0, failed = 0, held;
	struct counts total = { 0 };
	int pipes[2];
	double end;

	if (argc < 4) {
		fprintf(stderr, "usage: kstress DEVICE SECONDS MODULE [COMMAND ...]\n");
		return 2;
	}
	for (int i = 4; i < argc && count < 16; i++)
		given[count++] = strtoul(argv[i], NULL, 16);
	end = now() + atof(argv[2]);
	held = open(argv[1], O_RDWR | O_NONBLOCK);
	if (held < 0) {
		printf("kstress %s: open: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (pipe(pipes) != 0)
		return 1;
	for (int p = 0; p < PROCESSES; p++) {
		if (fork() == 0) {
			int files[KEPT] = { -1, -1, -1, -1 };
			struct counts c = { 0 };

			state = 0x9e3779b97f4a7c15ull ^ ((uint64_t)getpid() << 17) ^ (uint64_t)p;
			while (now() < end)
				one_round(argv[1], files, &c, count, given);
			for (int i = 0; i < KEPT; i++)
				if (files[i] >= 0)
					close(files[i]);
			(void)!write(pipes[1], &c, sizeof(c));
			_exit(0);
		}
	}
	while (now() < end) {
		/* a file is held open: the module must refuse to go */
		tries++;
		if (syscall(SYS_delete_module, argv[3], O_NONBLOCK) == 0) {
			printf("kstress %s: %s was removed while a file of it was open\n", argv[1], argv[3]);
			return 1;
		}
		refused += errno == EWOULDBLOCK || errno == EBUSY;
		usleep(100000);
	}
	for (int p = 0; p < PROCESSES; p++) {
		struct counts c;
		int status;

		if (read(pipes[0], &c, sizeof(c)) == sizeof(c)) {
			total.opens += c.opens;
			total.refused_opens += c.refused_opens;
			total.reads += c.reads;
			total.writes += c.writes;
			total.ioctls += c.ioctls;
			total.seeks += c.seeks;
		}
		wait(&status);
		failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	close(held);
	printf("kstress %s: %d processes, %ld opens (%ld refused), %ld reads, %ld writes, %ld ioctls, %ld seeks; "
	       "removal refused %d of %d times while open\n", argv[1], PROCESSES, total.opens, total.refused_opens,
	       total.reads, total.writes, total.ioctls, total.seeks, refused, tries);
	if (failed || refused != tries) {
		printf("kstress %s: %d process(es) died, removal refused %d of %d\n", argv[1], failed, refused, tries);
		return 1;
	}
	printf("kstress %s: done\n", argv[1]);
	return 0;
}
