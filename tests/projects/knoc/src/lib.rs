//! A module without a line of C: the kernel crate's module! makes init_module, cleanup_module,
//! the .modinfo and the module's parameters; init's Result is what insmod reports; memory comes
//! with explicit flags (a large buffer from kvmalloc); the running total sits behind a mutex and
//! the count behind a spinlock.
#![no_std]
#![forbid(unsafe_code)]

use core::pin::Pin;

use kernel::prelude::*;

module! {
    type: Knoc,
    name: "knoc",
    authors: ["rustkmod"],
    description: "A module with no C",
    license: "GPL",
    params: {
        extra: u32 {
            default: 0,
            description: "A value added to the three",
        },
        greeting: str {
            default: "up",
            description: "The word init logs first",
        },
        refuse: bool {
            default: false,
            description: "Fail init with EINVAL",
        },
    },
}

struct Knoc {
    values: KVec<u32>,
    buffer: KVVec<u8>,
    total: Pin<KBox<Mutex<u64>>>,
    count: Pin<KBox<SpinLock<usize>>>,
}

impl kernel::Module for Knoc {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        if *module_parameters::refuse.value() {
            pr_err!("refusing to load, as asked");
            return Err(EINVAL);
        }
        let mut values = KVec::with_capacity(2, GFP_KERNEL)?;
        values.extend_from_slice(&[1, 2], GFP_KERNEL)?;
        values.push(3, GFP_ATOMIC)?;                      // grows past the capacity asked for
        let extra = *module_parameters::extra.value();
        if extra != 0 {
            values.push(extra, GFP_KERNEL)?;
        }
        let total = KBox::pin_init(new_mutex!(0u64, "knoc_total"), GFP_KERNEL)?;
        pr_notice!("mutex made");
        let count = KBox::pin_init(new_spinlock!(0usize), GFP_KERNEL)?;
        for value in values.iter() {
            *total.lock() += *value as u64;
            *count.lock() += 1;
        }
        let greeting = core::str::from_utf8(module_parameters::greeting.value()).unwrap_or("?");
        // One lock at a time: a guard lives to the end of its statement, and taking the mutex
        // (which may sleep) while the spinlock is held is what lockdep calls an invalid wait context.
        let counted = *count.lock();
        let sum = *total.lock();
        pr_info!("{}, {} values, sum {}", greeting, counted, sum);
        let mut buffer = KVVec::with_capacity(256 * 1024, GFP_KERNEL)?;   // kvmalloc: kmalloc, else vmalloc
        buffer.extend_from_slice(b"knoc", GFP_KERNEL)?;
        pr_info!("a buffer of {} bytes, {} used", buffer.capacity(), buffer.len());
        Ok(Knoc { values, buffer, total, count })
    }
}

impl Drop for Knoc {
    fn drop(&mut self) {
        let counted = *self.count.lock();
        let sum = *self.total.lock();
        pr_info!("down ({} values, {} counted, sum {}, {} buffered)", self.values.len(), counted, sum,
                 self.buffer.len());
    }
}
