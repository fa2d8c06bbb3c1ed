// SPDX-License-Identifier: GPL-2.0
/* "insmod in user space": the Rust core's entry points called as ringdev.c calls them. */
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

int ringdev_init(void);
void ringdev_exit(void);
int ringdev_open(void);
ssize_t ringdev_write(const char *data, size_t len);
ssize_t ringdev_read(char *out, size_t len);

int main(void)
{
	char out[256];
	ssize_t n;

	if (ringdev_init() || ringdev_open())
		return 1;
	ringdev_write("hello, ring", strlen("hello, ring"));
	n = ringdev_read(out, sizeof(out));
	printf("read %zd bytes: %.*s\n", n, (int)n, out);
	ringdev_write("!stats", 6);
	n = ringdev_read(out, sizeof(out));
	printf("%.*s", (int)n, out);
	ringdev_exit();
	return 0;
}
