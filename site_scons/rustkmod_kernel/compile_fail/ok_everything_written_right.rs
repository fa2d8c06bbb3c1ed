// The refused snippets' code written the right way: this must compile.
#![forbid(unsafe_code)]
use kernel::prelude::*;

module! {
    type: Right,
    name: "right",
    authors: ["rustkmod"],
    description: "Holds its locks in its state, unlocks where it locked",
    license: "GPL",
}

struct Right {
    counter: Pin<KBox<SpinLock<u32>>>,
    _shared: Arc<Mutex<u32>>,
}

impl kernel::Module for Right {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let counter = KBox::pin_init(new_spinlock!(0u32), GFP_KERNEL)?;
        *counter.lock() += 1;
        let _shared = Arc::pin_init(kernel::sync::Mutex::new(0u32, kernel::c_str!("right"),
                                                             kernel::static_lock_class!()), GFP_KERNEL)?;
        Ok(Right { counter, _shared })
    }
}

impl Drop for Right {
    fn drop(&mut self) {
        let _count = *self.counter.lock();
    }
}

pub const FITS: u32 = kernel::ioctl::_IOR::<[u8; 16000]>(b'x' as u32, 1);

use core::pin::Pin;
