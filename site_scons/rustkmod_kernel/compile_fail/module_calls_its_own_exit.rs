// The module's entry points are the kernel's to call: its own code cannot name them (calling
// exit from Drop freed the state twice).
// expect: function `__rustkmod_cleanup_module` is private
#![forbid(unsafe_code)]
use kernel::prelude::*;

module! {
    type: Twice,
    name: "twice",
    authors: ["rustkmod"],
    description: "Calls its own exit",
    license: "GPL",
}

struct Twice;

impl kernel::Module for Twice {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Twice)
    }
}

impl Drop for Twice {
    fn drop(&mut self) {
        __rustkmod_module_entry::__rustkmod_cleanup_module();
    }
}
