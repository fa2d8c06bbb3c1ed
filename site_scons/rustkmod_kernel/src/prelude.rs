//! What a module crate imports: `use kernel::prelude::*;`, with the in-tree prelude's names (and
//! rustkmod's older ones: `Arc`, `Mutex`, `SpinLock`, `c_str!`, `Module`).

pub use core::ffi::{c_char, c_int, c_long, c_longlong, c_schar, c_short, c_uchar, c_uint, c_ulong, c_ulonglong, c_ushort, c_void, CStr};
pub use core::mem::{align_of, align_of_val, size_of, size_of_val};
pub use core::pin::Pin;

pub use crate::alloc::{flags::*, AllocError, KBox, KVVec, KVec, Vec};
pub use crate::error::{code::*, Error, Result};
pub use crate::init::{InPlaceInit, Init, PinInit};
pub use crate::sync::{Arc, Mutex, SpinLock};
pub use crate::uaccess::UserPtr;
pub use crate::{build_assert, build_error, const_assert, static_assert};
pub use crate::{c_str, current, dbg, dev_alert, dev_crit, dev_dbg, dev_emerg, dev_err, dev_info, dev_notice, dev_warn, fmt, new_mutex, new_spinlock};
pub use crate::{init, pin_init, try_init, try_pin_init};
pub use crate::{module, pin_data, pinned_drop, vtable, InPlaceModule, Module, ThisModule};
pub use crate::{pr_alert, pr_crit, pr_debug, pr_emerg, pr_err, pr_info, pr_notice, pr_warn, pr_warn_once};
