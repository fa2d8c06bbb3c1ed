// The C side of mod_a: the module's entry points; its Rust core is built on the kfw framework crate.
#include <linux/module.h>

int mod_a_init(void);
void mod_a_exit(void);

static int __init mod_a_start(void) { return mod_a_init(); }
static void __exit mod_a_stop(void) { mod_a_exit(); }

module_init(mod_a_start);
module_exit(mod_a_stop);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("mod_a: a module on the kfw framework crate");
