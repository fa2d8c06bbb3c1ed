// SPDX-License-Identifier: GPL-2.0
/* The C side of kalloc: the allocator and log the Rust core uses, and module_init. */
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/slab.h>

#ifndef KALLOC_FAULT
#define KALLOC_FAULT 0		/* KCFLAGS=-DKALLOC_FAULT=N: the Rust core panics at init */
#endif

int kalloc_init(int fault);

void *kalloc_kmalloc(size_t size) { return kmalloc(size, GFP_KERNEL); }
void *kalloc_krealloc(void *ptr, size_t size) { return krealloc(ptr, size, GFP_KERNEL); }
void kalloc_kfree(void *ptr) { kfree(ptr); }
void kalloc_log(const char *msg, size_t len) { pr_info("%.*s\n", (int)len, msg); }
void __noreturn kalloc_bug(const char *msg, size_t len) { panic("%.*s\n", (int)len, msg); }

static int __init kalloc_module_init(void) { return kalloc_init(KALLOC_FAULT); }
static void __exit kalloc_module_exit(void) { }

module_init(kalloc_module_init);
module_exit(kalloc_module_exit);
MODULE_LICENSE("GPL");
