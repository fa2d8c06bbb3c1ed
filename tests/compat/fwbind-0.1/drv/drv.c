// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>

int drv_init(void);

static int __init drv_module_init(void) { return drv_init(); }
static void __exit drv_module_exit(void) { }

module_init(drv_module_init);
module_exit(drv_module_exit);
MODULE_LICENSE("GPL");
