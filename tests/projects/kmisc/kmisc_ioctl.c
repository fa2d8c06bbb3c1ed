/* The boot test's user program for /dev/kmisc's ioctls: the command numbers come from the C
 * macros of <linux/ioctl.h>, so the test also checks that the kernel crate's _IOR/_IOW agree. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KMISC_GET_VALUE _IOR('k', 1, uint32_t)
#define KMISC_SET_VALUE _IOW('k', 2, uint32_t)
#define KMISC_UNKNOWN _IO('k', 9)

int main(int argc, char **argv)
{
	uint32_t value = 0;
	int fd = open(argc > 1 ? argv[1] : "/dev/kmisc", O_RDWR);

	if (fd < 0) {
		printf("ioctl: open: %s\n", strerror(errno));
		return 1;
	}
	if (ioctl(fd, KMISC_GET_VALUE, &value) == 0)
		printf("ioctl: value %u\n", value);
	value = 42;
	if (ioctl(fd, KMISC_SET_VALUE, &value) == 0 && ioctl(fd, KMISC_GET_VALUE, &value) == 0)
		printf("ioctl: set, now %u\n", value);
	if (ioctl(fd, KMISC_UNKNOWN) < 0)
		printf("ioctl: unknown command: %s\n", errno == ENOTTY ? "ENOTTY" : strerror(errno));
	if (ioctl(fd, KMISC_GET_VALUE, (void *)8) < 0)
		printf("ioctl: bad address: %s\n", errno == EFAULT ? "EFAULT" : strerror(errno));
	close(fd);
	return 0;
}
