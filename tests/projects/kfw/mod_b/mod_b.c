// The C side of mod_b: the module's entry points; its Rust core is built on the kfw framework crate.
#include <linux/module.h>

int mod_b_init(void);
void mod_b_exit(void);

static int __init mod_b_start(void) { return mod_b_init(); }
static void __exit mod_b_stop(void) { mod_b_exit(); }

module_init(mod_b_start);
module_exit(mod_b_stop);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("mod_b: a module on the kfw framework crate");
