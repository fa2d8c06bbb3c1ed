// SPDX-License-Identifier: GPL-2.0
/* The C side of mydrv, named like the module as Kbuild users name it. */
#include <linux/module.h>
#include <linux/printk.h>

int mydrv_init(void);
void mydrv_log(const char *msg, size_t len);
void __noreturn mydrv_bug(const char *msg, size_t len);

void mydrv_log(const char *msg, size_t len) { pr_info("%.*s\n", (int)len, msg); }
void __noreturn mydrv_bug(const char *msg, size_t len) { panic("%.*s\n", (int)len, msg); }

static int __init mydrv_module_init(void) { return mydrv_init(); }
static void __exit mydrv_module_exit(void) { }

module_init(mydrv_module_init);
module_exit(mydrv_module_exit);
MODULE_LICENSE("GPL");
