// SPDX-License-Identifier: GPL-2.0
/*
 * The C half of rustkmod-rt, compiled into every module whose crate uses it (rustkmod stages
 * it beside the module's own C files). KBUILD_MODNAME is the module's name.
 */
#include <linux/bug.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/slab.h>

void *rustkmod_rt_kmalloc(size_t size);
void *rustkmod_rt_krealloc(void *ptr, size_t size);
void rustkmod_rt_kfree(const void *ptr);
void rustkmod_rt_log(int level, const char *msg, size_t len);
void __noreturn rustkmod_rt_bug(const char *msg, size_t len);
void *rustkmod_rt_kmalloc_gfp(size_t size, gfp_t flags);
void *rustkmod_rt_krealloc_gfp(void *ptr, size_t size, gfp_t flags);

/* This kernel's allocation flags, for the kernel crate's GFP_KERNEL, GFP_ATOMIC, ...: their bits
 * differ between kernel versions. */
const gfp_t rustkmod_rt_gfp_kernel = GFP_KERNEL;
const gfp_t rustkmod_rt_gfp_atomic = GFP_ATOMIC;
const gfp_t rustkmod_rt_gfp_nowait = GFP_NOWAIT;
const gfp_t rustkmod_rt_gfp_zero = __GFP_ZERO;

void *rustkmod_rt_kmalloc(size_t size)
{
	return kmalloc(size, GFP_KERNEL);
}

void *rustkmod_rt_krealloc(void *ptr, size_t size)
{
	return krealloc(ptr, size, GFP_KERNEL);
}

void *rustkmod_rt_kmalloc_gfp(size_t size, gfp_t flags)
{
	return kmalloc(size, flags);
}

void *rustkmod_rt_krealloc_gfp(void *ptr, size_t size, gfp_t flags)
{
	return krealloc(ptr, size, flags);
}

void rustkmod_rt_kfree(const void *ptr)
{
	kfree(ptr);
}

void rustkmod_rt_log(int level, const char *msg, size_t len)
{
	/* KERN_SOH and the level's digit: the printk level the Rust side chose */
	printk("\001%c%s: %.*s\n", '0' + (level & 7), KBUILD_MODNAME, (int)len, msg);
}

void __noreturn rustkmod_rt_bug(const char *msg, size_t len)
{
	pr_emerg("%s: %.*s\n", KBUILD_MODNAME, (int)len, msg);
	BUG();
}
