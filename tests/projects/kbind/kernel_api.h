/* The kernel API the Rust core of kbind uses: bindgen makes Rust declarations of what the
 * allow lines name, from the configured kernel's own headers, for each kernel. Static inline
 * functions (IS_ERR, PTR_ERR) get C helpers; macros with a number (GFP_KERNEL, O_RDONLY) become
 * constants; a function-like macro (PAGE_ALIGN), or one that changed shape between kernels
 * (kmalloc is a macro from 6.10), is wrapped in a static inline function here. printk is
 * a function before 5.15 and _printk after: both are allowed, the crate picks by version. */
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <linux/slab.h>

static inline void *kbind_alloc(size_t size, gfp_t flags) { return kmalloc(size, flags); }
static inline unsigned long kbind_page_align(unsigned long n) { return PAGE_ALIGN(n); }

// rustkmod-bindgen: allow kstrtoint printk _printk kfree filp_open IS_ERR PTR_ERR GFP_KERNEL O_RDONLY
// rustkmod-bindgen: allow kbind_alloc kbind_page_align
