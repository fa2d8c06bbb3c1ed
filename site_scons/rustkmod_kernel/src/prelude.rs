//! What a module crate imports: `use kernel::prelude::*;`.

pub use crate::alloc::{flags::*, AllocError, KBox, KVVec, KVec};
pub use crate::error::{code::*, Error, Result};
pub use crate::init::PinInit;
pub use crate::sync::{Arc, Mutex, SpinLock};
pub use crate::{c_str, dev_alert, dev_crit, dev_dbg, dev_emerg, dev_err, dev_info, dev_notice, dev_warn, module, new_mutex, new_spinlock, pr_alert, pr_crit, pr_debug, pr_emerg, pr_err, pr_info, pr_notice, pr_warn, pr_warn_once, Module, ThisModule};
