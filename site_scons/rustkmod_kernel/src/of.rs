//! Device-tree ids, as the in-tree `kernel::of`: a driver matched by a node's `compatible`
//! (`of::DeviceId::new(c"vendor,device")`), listed with [`of_device_table!`], which also writes
//! the `MODULE_ALIAS` lines (`of:N*T*Cvendor,device`) that let `modprobe` load the module for it.

use crate::device_id::{AliasText, IdTable as RawIdTable, RawDeviceId};
use crate::str::CStr;

/// C's `struct of_device_id` (the kernel's layout, from bindgen).
#[cfg(target_os = "none")]
type RawId = crate::bindings::of_device_id;

/// On the host: the fields in C's order.
#[cfg(not(target_os = "none"))]
#[derive(Clone, Copy)]
#[repr(C)]
pub struct RawId {
    name: [core::ffi::c_char; 32],
    type_: [core::ffi::c_char; 32],
    compatible: [core::ffi::c_char; 128],
    data: *const core::ffi::c_void,
}

/// A device-tree id: a `compatible` string.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct DeviceId(RawId);

impl DeviceId {
    /// The nodes whose `compatible` holds `compatible` (at most 127 bytes: a longer one does not
    /// compile).
    pub const fn new(compatible: &CStr) -> DeviceId {
        // SAFETY: all zeroes is a valid of_device_id (C's `= {}`): arrays and a null pointer.
        let mut raw: RawId = unsafe { core::mem::MaybeUninit::zeroed().assume_init() };
        let bytes = compatible.to_bytes();
        if bytes.len() >= raw.compatible.len() {
            panic!("of::DeviceId: a compatible string has at most 127 bytes");
        }
        let mut index = 0;
        while index < bytes.len() {
            raw.compatible[index] = bytes[index] as core::ffi::c_char;
            index += 1;
        }
        DeviceId(raw)
    }

    /// The `compatible` string's bytes.
    pub const fn compatible(&self) -> &[u8] {
        let all = &self.0.compatible;
        let mut len = 0;
        while len < all.len() && all[len] != 0 {
            len += 1;
        }
        // SAFETY: c_char and u8 have one layout; `len` bytes of the array.
        unsafe { core::slice::from_raw_parts(all.as_ptr() as *const u8, len) }
    }

    /// The two `MODULE_ALIAS` lines modpost writes for this id: `of:N*T*C<compatible>` and, with
    /// `second`, `of:N*T*C<compatible>C*` (a node listing more compatibles after it).
    #[doc(hidden)]
    pub const fn alias_pair(&self, second: bool) -> AliasText {
        let text = AliasText::new("of:").text("N*T*C").bytes(self.compatible(), true);
        if second { text.text("C*").end() } else { text.end() }
    }

    #[doc(hidden)]
    pub const fn alias(&self) -> AliasText {
        self.alias_pair(false)
    }
}

// SAFETY: DeviceId is repr(transparent) over the kernel's of_device_id; `data` (a pointer, as
// wide as the kernel_ulong_t the index is written as) carries the index.
unsafe impl RawDeviceId for DeviceId {
    type RawType = RawId;
    const DRIVER_DATA_OFFSET: usize = core::mem::offset_of!(RawId, data);
}

/// What a driver names as its `OF_ID_TABLE`.
pub type IdTable<T> = &'static dyn RawIdTable<DeviceId, T>;

/// `of_device_table!(NAME, IdInfo, [(of::DeviceId::new(c"vendor,device"), info), ...])`: the id
/// table and its `MODULE_ALIAS` lines. (A `MODULE_OF_TABLE` name passed second, 7.2's form, is
/// read and ignored: the aliases are written here.)
#[macro_export]
macro_rules! of_device_table {
    ($name:ident, $module_table:ident, $info:ty, $ids:tt $(,)?) => {
        $crate::of_device_table!($name, $info, $ids);
    };
    ($name:ident, $info:ty, [$(($id:expr, $data:expr)),* $(,)?] $(,)?) => {
        $crate::module_device_table!("of", $crate::of::DeviceId, $name, $info, [$(($id, $data)),*]);
        $(
            #[cfg(target_os = "none")]
            const _: () = {
                const ALIAS: $crate::device_id::AliasText = $crate::of::DeviceId::alias_pair(&$id, true);
                #[unsafe(link_section = ".modinfo")]
                #[used]
                static MODINFO_ALIAS: [u8; ALIAS.len] = ALIAS.take::<{ ALIAS.len }>();
            };
        )*
    };
}
