/* The boot test's user side of ksound: each scenario the kernel crate once got wrong, with what
 * user space saw printed, one line each.
 *   ksound_user removal   a data device removed while a file of it is open; count and ioctl
 *                         values checked at the boundary; an open failing with "errno 0"
 *   ksound_user add       adds the data device (for the stress run)
 *   ksound_user race      opens /dev/ksound_data while the module's init runs and then fails */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KSOUND_ADD _IO('s', 1)
#define KSOUND_REMOVE _IO('s', 2)

static const char *name(int error)
{
	return error == EINVAL ? "EINVAL" : error == ENODEV ? "ENODEV" : error == ENOENT ? "ENOENT" : strerror(error);
}

static int control(unsigned long command)
{
	int fd = open("/dev/ksound_ctl", O_RDWR), rc;

	if (fd < 0) {
		printf("control: open: %s\n", name(errno));
		return -1;
	}
	rc = ioctl(fd, command);
	if (rc < 0)
		printf("control: ioctl %#lx: %s\n", command, name(errno));
	close(fd);
	return rc;
}

static int removal(void)
{
	char text[64] = { 0 };
	struct stat st;
	int fd, n;

	if (control(KSOUND_ADD) < 0)
		return 1;
	fd = open("/dev/ksound_data", O_RDWR);
	if (fd < 0) {
		printf("data: open: %s\n", name(errno));
		return 1;
	}
	n = read(fd, text, 5);
	printf("first read: %.*s\n", n > 0 ? n : 0, text);
	if (control(KSOUND_REMOVE) < 0)
		return 1;
	printf("removed: %s\n", stat("/dev/ksound_data", &st) == 0 ? "node still there" : "node gone");
	n = read(fd, text, sizeof(text) - 1);
	if (n < 0)
		printf("after removal: read failed: %s\n", name(errno));
	else
		printf("after removal: %.*s", n, text);
	n = write(fd, "0123456789", 10);
	printf("write returned %d of 10\n", n);
	n = ioctl(fd, _IO('s', 9));
	printf("ioctl: %s\n", n < 0 ? name(errno) : "succeeded");
	close(fd);
	fd = open("/dev/ksound_zero", O_RDWR);
	printf("zero open: %s\n", fd < 0 ? name(errno) : "succeeded");
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Tries to open the data device until the failing init is over (the node gone again). */
static int race(void)
{
	int seen = 0, refused = 0, opened = 0, error = 0;
	struct timespec pause = { 0, 5 * 1000 * 1000 };

	for (int round = 0; round < 4000; round++) {
		int fd = open("/dev/ksound_data", O_RDWR);

		if (fd >= 0) {
			char text[64];
			int n;

			opened++;
			/* the module's init fails while this file is open: read once it is over */
			while (access("/sys/module/ksound", F_OK) == 0)
				nanosleep(&pause, NULL);
			n = read(fd, text, sizeof(text));
			printf("open during init: opened; read after the failed init: %d\n", n);
			close(fd);
		} else if (errno != ENOENT) {
			seen = 1;
			refused++;
			error = errno;
		} else if (seen) {
			break;          /* gone again: init is over */
		}
		nanosleep(&pause, NULL);
	}
	if (refused)
		printf("open during init: refused %d times (%s), opened %d times\n", refused, name(error), opened);
	else if (!opened)
		printf("open during init: the node never appeared\n");
	return opened != 0;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";

	if (!strcmp(what, "removal"))
		return removal();
	if (!strcmp(what, "add"))
		return control(KSOUND_ADD) < 0;
	if (!strcmp(what, "race"))
		return race();
	fprintf(stderr, "usage: ksound_user removal|add|race\n");
	return 2;
}
