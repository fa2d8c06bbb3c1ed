// SPDX-License-Identifier: GPL-2.0
/* The C side of debdeps: the log the Rust core uses, and module_init. */
#include <linux/module.h>
#include <linux/printk.h>

int debdeps_init(void);

void debdeps_log(const char *msg, size_t len) { pr_info("%.*s\n", (int)len, msg); }
void __noreturn debdeps_bug(const char *msg, size_t len) { panic("%.*s\n", (int)len, msg); }

static int __init debdeps_module_init(void) { return debdeps_init(); }
static void __exit debdeps_module_exit(void) { }

module_init(debdeps_module_init);
module_exit(debdeps_module_exit);
MODULE_LICENSE("GPL");
