// A module without a license taints the kernel: module! asks for it by name.
// expect: module!: `license` missing
use kernel::prelude::*;

struct Quiet;

impl kernel::Module for Quiet {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Quiet)
    }
}

module! {
    type: Quiet,
    name: "quiet",
}
