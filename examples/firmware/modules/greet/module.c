// SPDX-License-Identifier: GPL-2.0
/* The C side of rkgreet: init, license and a printk wrapper. Its Rust core calls rkcounter. */
#include <linux/module.h>
#include <linux/printk.h>

int rkgreet_start(void);          /* greet/src/lib.rs */
void rkgreet_log(const char *msg, size_t len);

void rkgreet_log(const char *msg, size_t len)
{
	pr_info("%.*s\n", (int)len, msg);
}

static int __init rkgreet_init(void)
{
	return rkgreet_start();
}

static void __exit rkgreet_exit(void)
{
}

module_init(rkgreet_init);
module_exit(rkgreet_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("greets with a ticket from rkcounter; Rust core, built by rustkmod");
