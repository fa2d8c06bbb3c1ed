/* The boot test's user program for /dev/ringdev's ioctls: the command numbers come from the C
 * macros of <linux/ioctl.h>, so it also checks the kernel crate's _IOR/_IOW. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define RINGDEV_GET_VALUE _IOR('r', 1, uint32_t)
#define RINGDEV_SET_VALUE _IOW('r', 2, uint32_t)

int main(void)
{
	uint32_t value = 1234, got = 0;
	int fd = open("/dev/ringdev", O_RDWR);

	if (fd < 0 || ioctl(fd, RINGDEV_SET_VALUE, &value) || ioctl(fd, RINGDEV_GET_VALUE, &got))
		return 1;
	printf("ioctl value: %u\n", got);
	if (ioctl(fd, _IO('r', 99)) < 0 && errno == ENOTTY)
		printf("ioctl unknown: ENOTTY\n");
	close(fd);
	return 0;
}
