/* The kernel API ringdev's Rust core calls itself, through bindings rustkmod generates for each
 * kernel: the copies from and to the user's buffers. copy_to_user, IS_ERR and PTR_ERR are static
 * inline functions (reached through C helpers rustkmod compiles into the module); EFAULT is a
 * macro (a constant); memdup_user and kfree are exported functions. */
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

// rustkmod-bindgen: allow memdup_user kfree copy_to_user IS_ERR PTR_ERR EFAULT
