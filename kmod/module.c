// SPDX-License-Identifier: GPL-2.0
/*
 * The C side of the hello module: module_init/exit, the license, and C wrappers around the
 * kernel macros that the Rust core (hello/) calls. Rust functions are declared here by hand;
 * they are exported from hello/src/lib.rs with #[unsafe(no_mangle)].
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>

/* The Rust core's entry points (hello/src/lib.rs) ... */
int hello(const char *who);
void hello_exit(void);

/* ... and the kernel functions it calls, wrapped here (hello/src/kernel.rs). */
void rustkmod_log_info(const char *msg, size_t len);
void __noreturn rustkmod_bug(const char *msg, size_t len);

/* Whom to greet: "NAME" or "NAME*COUNT"; Rust checks it (hello/src/greeting.rs). */
static char *who = "world";
module_param(who, charp, 0444);
MODULE_PARM_DESC(who, "whom to greet: NAME or NAME*COUNT (COUNT 1..5)");

void rustkmod_log_info(const char *msg, size_t len)
{
	pr_info("%.*s\n", (int)len, msg);
}

void __noreturn rustkmod_bug(const char *msg, size_t len)
{
	panic("%.*s\n", (int)len, msg);
}

static int __init hello_module_init(void)
{
	return hello(who);
}

static void __exit hello_module_exit(void)
{
	hello_exit();
}

module_init(hello_module_init);
module_exit(hello_module_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hello world, with its core in Rust, built by rustkmod");
