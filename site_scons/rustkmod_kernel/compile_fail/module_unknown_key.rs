// module! names the key it does not know, and the ones it does.
// expect: module!: unknown key `autor`; the keys are type, name, authors
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
    autor: ["A. Author"],
    license: "GPL",
}
