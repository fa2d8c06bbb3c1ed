/* The kernel API the fw crate wraps for its modules. */
#include <linux/kernel.h>
#include <linux/kstrtox.h>

// rustkmod-bindgen: allow kstrtoint
