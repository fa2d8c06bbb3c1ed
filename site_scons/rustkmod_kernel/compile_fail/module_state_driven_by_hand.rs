// The state module! keeps is driven only by the kernel's init and exit: by hand it is unsafe.
// expect: requires unsafe
#![forbid(unsafe_code)]
use kernel::prelude::*;

struct Mine;

impl kernel::Module for Mine {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Mine)
    }
}

static STATE: kernel::module::ModuleState<Mine> = kernel::module::ModuleState::new();

pub fn exit_twice() {
    STATE.exit();
    STATE.exit();
}
