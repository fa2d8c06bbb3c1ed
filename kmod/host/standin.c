// SPDX-License-Identifier: GPL-2.0
/*
 * User-space stand-in for the kernel side of kmod/module.c: the functions the Rust core calls,
 * with the same names and signatures, so hello/ can be tested on the host (scons test-host).
 * Each one does what the kernel does, in user-space terms, and records what was logged so
 * tests can read it back (rustkmod_standin_take_log, per thread: cargo runs tests in threads).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char logged[16384];
static _Thread_local size_t logged_len;

static void record(const char *text, size_t len)
{
	size_t room = sizeof(logged) - logged_len;

	if (len > room)
		len = room;
	memcpy(logged + logged_len, text, len);
	logged_len += len;
}

/* kmod/module.c: pr_info("%.*s\n") */
void rustkmod_log_info(const char *msg, size_t len)
{
	printf("%.*s\n", (int)len, msg);
	fflush(stdout);
	record(msg, len);
	record("\n", 1);
}

/* kmod/module.c: panic("%.*s\n") */
void rustkmod_bug(const char *msg, size_t len)
{
	fprintf(stderr, "Kernel panic - not syncing: %.*s\n", (int)len, msg);
	abort();
}

/* Stand-in only: moves this thread's log into buf (at most cap bytes); returns the length. */
size_t rustkmod_standin_take_log(char *buf, size_t cap)
{
	size_t len = logged_len < cap ? logged_len : cap;

	memcpy(buf, logged, len);
	logged_len = 0;
	return len;
}
