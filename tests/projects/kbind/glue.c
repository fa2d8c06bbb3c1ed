// SPDX-License-Identifier: GPL-2.0
/* The C side of kbind: module_init only; the Rust core calls the kernel through its bindings. */
#include <linux/module.h>

int kbind_init(void);

static int __init kbind_module_init(void) { return kbind_init(); }
static void __exit kbind_module_exit(void) { }

module_init(kbind_module_init);
module_exit(kbind_module_exit);
MODULE_LICENSE("GPL");
