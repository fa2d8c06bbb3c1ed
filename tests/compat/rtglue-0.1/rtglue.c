// SPDX-License-Identifier: GPL-2.0
/* The C side of rtglue, named like the module as Kbuild users name it. */
#include <linux/module.h>

int rtglue_init(int count);
void rtglue_exit(void);

static int __init rtglue_module_init(void)
{
	return rtglue_init(4);
}

static void __exit rtglue_module_exit(void)
{
	rtglue_exit();
}

module_init(rtglue_module_init);
module_exit(rtglue_module_exit);
MODULE_LICENSE("GPL");
