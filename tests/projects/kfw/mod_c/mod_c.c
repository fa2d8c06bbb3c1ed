// The C side of mod_c: the module's entry points; its Rust core is built on the kfw framework crate.
#include <linux/module.h>

int mod_c_init(void);
void mod_c_exit(void);

static int __init mod_c_start(void) { return mod_c_init(); }
static void __exit mod_c_stop(void) { mod_c_exit(); }

module_init(mod_c_start);
module_exit(mod_c_stop);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("mod_c: a module on the kfw framework crate");
