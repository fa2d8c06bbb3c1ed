// SPDX-License-Identifier: GPL-2.0
/*
 * "insmod in user space": calls the Rust core's init and exit as kmod/module.c does, against
 * the stand-in. Usage: insmod-hello [WHO]  (WHO as the module parameter who=).
 */
#include <stdio.h>

int hello(const char *who);
void hello_exit(void);

int main(int argc, char **argv)
{
	const char *who = argc > 1 ? argv[1] : "world";
	int status = hello(who);

	if (status) {
		fprintf(stderr, "insmod: init failed with %d\n", status);
		return 1;
	}
	hello_exit();
	return 0;
}
