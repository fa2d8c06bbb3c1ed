/* What sizet's Rust core calls: a sized copy and a string length, in size_t. */
#include <linux/printk.h>
#include <linux/string.h>

static inline size_t sizet_bounded_length(const char *s, size_t limit) { return strnlen(s, limit); }

// rustkmod-bindgen: allow sizet_bounded_length
