//! A module without a line of C: the kernel crate's module! makes init_module, cleanup_module
//! and the .modinfo; init's Result is what insmod reports; memory comes with explicit flags.
#![no_std]
#![forbid(unsafe_code)]

use kernel::prelude::*;

module! {
    type: Knoc,
    name: "knoc",
    authors: ["rustkmod"],
    description: "A module with no C",
    license: "GPL",
}

struct Knoc {
    values: KVec<u32>,
    total: KBox<u64>,
}

impl kernel::Module for Knoc {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let mut values = KVec::with_capacity(2, GFP_KERNEL)?;
        values.extend_from_slice(&[1, 2], GFP_KERNEL)?;
        values.push(3, GFP_ATOMIC)?;                      // grows past the capacity asked for
        let total = KBox::new(values.iter().map(|v| *v as u64).sum::<u64>(), GFP_KERNEL | __GFP_ZERO)?;
        pr_info!("up, {} values, sum {}", values.len(), *total);
        Ok(Knoc { values, total })
    }
}

impl Drop for Knoc {
    fn drop(&mut self) {
        pr_info!("down ({} values, sum {})", self.values.len(), *self.total);
    }
}
