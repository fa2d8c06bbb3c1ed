// SPDX-License-Identifier: GPL-2.0
/* The C side of rkcounter: init, license, a printk wrapper, and the export of the Rust function. */
#include <linux/module.h>
#include <linux/printk.h>

u64 rkcounter_next(u32 step);     /* counter/src/lib.rs */
int rkcounter_start(void);
void rkcounter_log(const char *msg, size_t len);

EXPORT_SYMBOL_GPL(rkcounter_next);

void rkcounter_log(const char *msg, size_t len)
{
	pr_info("%.*s\n", (int)len, msg);
}

static int __init rkcounter_init(void)
{
	return rkcounter_start();
}

static void __exit rkcounter_exit(void)
{
}

module_init(rkcounter_init);
module_exit(rkcounter_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hands out tickets to other modules; Rust core, built by rustkmod");
