/* The kernel API the framework uses; bindgen makes bindings for each kernel from it. */
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/version.h>

// printk is a function up to 5.14 and a macro over _printk from 5.15: each kernel binds the one it has.
// rustkmod-bindgen: allow _printk printk
// rustkmod-bindgen: allow KERN_INFO proc_create_single_data remove_proc_entry seq_write seq_file
