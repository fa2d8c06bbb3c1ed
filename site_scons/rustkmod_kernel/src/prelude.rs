//! What a module crate imports: `use kernel::prelude::*;`.

pub use crate::alloc::{flags::*, AllocError, KBox, KVec};
pub use crate::error::{code::*, Error, Result};
pub use crate::{module, pr_debug, pr_emerg, pr_err, pr_info, pr_warn, Module, ThisModule};
