// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include <linux/printk.h>

int sizet_length(void);

static int __init sizet_module_init(void)
{
	pr_info("sizet: length %d\n", sizet_length());
	return 0;
}

static void __exit sizet_module_exit(void) { }

module_init(sizet_module_init);
module_exit(sizet_module_exit);
MODULE_LICENSE("GPL");
