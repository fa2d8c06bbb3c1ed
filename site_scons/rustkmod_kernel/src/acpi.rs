//! ACPI ids, as the in-tree `kernel::acpi`: a driver matched by a device's hardware id
//! (`acpi::DeviceId::new(c"LNUXBEEF")`), listed with [`acpi_device_table!`], which also writes the
//! `MODULE_ALIAS` line (`acpi*:LNUXBEEF:*`) that lets `modprobe` load the module for it.

use crate::device_id::{AliasText, IdTable as RawIdTable, RawDeviceId};
use crate::str::CStr;

/// C's `struct acpi_device_id` (the kernel's layout, from bindgen).
#[cfg(target_os = "none")]
type RawId = crate::bindings::acpi_device_id;

/// On the host: the fields in C's order.
#[cfg(not(target_os = "none"))]
#[derive(Clone, Copy)]
#[repr(C)]
pub struct RawId {
    id: [u8; 16],
    driver_data: usize,
    cls: u32,
    cls_msk: u32,
}

/// An ACPI id: a hardware id (`_HID`) or compatible id (`_CID`).
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct DeviceId(RawId);

impl DeviceId {
    /// The devices with hardware or compatible id `id` (at most 15 bytes: a longer one does not
    /// compile).
    pub const fn new(id: &CStr) -> DeviceId {
        // SAFETY: all zeroes is a valid acpi_device_id (C's `= {}`): integers only.
        let mut raw: RawId = unsafe { core::mem::MaybeUninit::zeroed().assume_init() };
        let bytes = id.to_bytes();
        if bytes.len() >= raw.id.len() {
            panic!("acpi::DeviceId: an ACPI id has at most 15 bytes");
        }
        let mut index = 0;
        while index < bytes.len() {
            raw.id[index] = bytes[index] as _;
            index += 1;
        }
        DeviceId(raw)
    }

    /// The `MODULE_ALIAS` line modpost writes for this id: `acpi*:<id>:*`.
    #[doc(hidden)]
    pub const fn alias(&self) -> AliasText {
        let all = &self.0.id;
        let mut len = 0;
        while len < all.len() && all[len] != 0 {
            len += 1;
        }
        // SAFETY: `len` bytes of the array, u8 or c_char (one layout).
        let id = unsafe { core::slice::from_raw_parts(all.as_ptr() as *const u8, len) };
        AliasText::new("acpi*:").bytes(id, false).text(":*").end()
    }
}

// SAFETY: DeviceId is repr(transparent) over the kernel's acpi_device_id; the offset is its field's.
unsafe impl RawDeviceId for DeviceId {
    type RawType = RawId;
    const DRIVER_DATA_OFFSET: usize = core::mem::offset_of!(RawId, driver_data);
}

/// What a driver names as its `ACPI_ID_TABLE`.
pub type IdTable<T> = &'static dyn RawIdTable<DeviceId, T>;

/// `acpi_device_table!(NAME, IdInfo, [(acpi::DeviceId::new(c"LNUXBEEF"), info), ...])`: the id
/// table and its `MODULE_ALIAS` lines.
#[macro_export]
macro_rules! acpi_device_table {
    ($name:ident, $module_table:ident, $info:ty, $ids:tt $(,)?) => {
        $crate::module_device_table!("acpi", $crate::acpi::DeviceId, $name, $info, $ids);
    };
    ($name:ident, $info:ty, $ids:tt $(,)?) => {
        $crate::module_device_table!("acpi", $crate::acpi::DeviceId, $name, $info, $ids);
    };
}
