/* The kernel API the Rust core of kbind uses: bindgen makes Rust declarations of what the
 * allow lines name, from the configured kernel's own headers, for each kernel. */
#include <linux/kstrtox.h>
#include <linux/printk.h>

// rustkmod-bindgen: allow kstrtoint _printk
