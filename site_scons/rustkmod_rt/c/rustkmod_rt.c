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

/* Whether kmalloc can serve `size`, and the flags to ask with: a size past KMALLOC_MAX_SIZE is
 * refused here (the page allocator would WARN before failing it: taint W, and a panic under
 * panic_on_warn); above a page, __GFP_NOWARN, as kvmalloc asks, since such a request may fail
 * and its failure is an ENOMEM the caller handles. */
static bool rustkmod_rt_servable(size_t size, gfp_t *flags)
{
	if (size > KMALLOC_MAX_SIZE)
		return false;
	if (size > PAGE_SIZE)
		*flags |= __GFP_NOWARN;
	return true;
}

void *rustkmod_rt_kmalloc_gfp(size_t size, gfp_t flags)
{
	return rustkmod_rt_servable(size, &flags) ? kmalloc(size, flags) : NULL;
}

void *rustkmod_rt_krealloc_gfp(void *ptr, size_t size, gfp_t flags)
{
	return rustkmod_rt_servable(size, &flags) ? krealloc(ptr, size, flags) : NULL;
}

void *rustkmod_rt_kmalloc(size_t size)
{
	return rustkmod_rt_kmalloc_gfp(size, GFP_KERNEL);
}

void *rustkmod_rt_krealloc(void *ptr, size_t size)
{
	return rustkmod_rt_krealloc_gfp(ptr, size, GFP_KERNEL);
}

void rustkmod_rt_kfree(const void *ptr)
{
	kfree(ptr);
}

void rustkmod_rt_log(int level, const char *msg, size_t len)
{
	/* the text as given: its newline (or none, leaving the line open) is the caller's */
	if (level < 0)
		printk(KERN_CONT "%.*s", (int)len, msg);
	else	/* KERN_SOH and the level's digit: the printk level the Rust side chose */
		printk("\001%c%s: %.*s", '0' + (level & 7), KBUILD_MODNAME, (int)len, msg);
}

void __noreturn rustkmod_rt_bug(const char *msg, size_t len)
{
	pr_emerg("%s: %.*s\n", KBUILD_MODNAME, (int)len, msg);
	BUG();
}

#ifdef CONFIG_X86_32
#include <linux/math64.h>

/* 64-bit division for Rust on i386 (see rustkmod/kernel/arch.py, i386's weak_symbols): LLVM calls
 * these as the kernel's C ABI passes arguments (-mregparm=3), which compiler_builtins' own copies
 * do not take; these are compiled with the kernel's flags. Division by zero is the caller's
 * (Rust checks it before dividing, and panics). */
u64 __udivdi3(u64 dividend, u64 divisor);
u64 __umoddi3(u64 dividend, u64 divisor);
s64 __divdi3(s64 dividend, s64 divisor);
s64 __moddi3(s64 dividend, s64 divisor);

u64 __udivdi3(u64 dividend, u64 divisor)
{
	return div64_u64(dividend, divisor);
}

u64 __umoddi3(u64 dividend, u64 divisor)
{
	u64 remainder;

	div64_u64_rem(dividend, divisor, &remainder);
	return remainder;
}

s64 __divdi3(s64 dividend, s64 divisor)
{
	return div64_s64(dividend, divisor);
}

s64 __moddi3(s64 dividend, s64 divisor)
{
	return dividend - div64_s64(dividend, divisor) * divisor;
}
#endif

