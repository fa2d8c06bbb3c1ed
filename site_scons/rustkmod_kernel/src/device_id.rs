//! Device-id tables, as the in-tree `kernel::device_id`: the C array a bus matches devices
//! against (ending in an all-zero entry), each entry's `driver_data` the index of its Rust
//! `IdInfo`, and the `MODULE_ALIAS` lines that let `modprobe` find the module by a device's
//! modalias.
//!
//! Kbuild's modpost makes those aliases from a `__mod_device_table...` symbol whose name changed
//! between kernels; here [`module_device_table!`] writes them into `.modinfo` itself, worked out
//! at compile time from the ids (the bus's `DeviceId::alias`), so every kernel gets the same lines.

use core::mem::{ManuallyDrop, MaybeUninit};

/// A bus's device id: a `#[repr(transparent)]` wrapper of its C struct.
///
/// # Safety
/// `Self` has the layout of `RawType`, and `DRIVER_DATA_OFFSET` is the offset of its
/// `kernel_ulong_t driver_data` field.
pub unsafe trait RawDeviceId: Copy {
    /// The C struct (`struct pci_device_id`, ...).
    type RawType: Copy;
    /// Where `driver_data` is in it.
    const DRIVER_DATA_OFFSET: usize;
}

/// The C table and the Rust data of each entry, made at compile time by [`IdArray::new`].
#[repr(C)]
pub struct IdArray<T: RawDeviceId, U, const N: usize> {
    raw: RawIds<T::RawType, N>,
    infos: [U; N],
}

/// The entries and the all-zero entry that ends a C id table.
#[repr(C)]
struct RawIds<R, const N: usize> {
    ids: [R; N],
    end: MaybeUninit<R>,
}

impl<T: RawDeviceId, U, const N: usize> IdArray<T, U, N> {
    /// The table of `ids`, each entry's `driver_data` set to its index.
    pub const fn new(ids: [(T, U); N]) -> Self {
        let ids = ManuallyDrop::new(ids);
        let first = &ids as *const ManuallyDrop<[(T, U); N]> as *const (T, U);
        let mut raw: MaybeUninit<[T::RawType; N]> = MaybeUninit::uninit();
        let mut infos: MaybeUninit<[U; N]> = MaybeUninit::uninit();
        let mut index = 0;
        while index < N {
            // SAFETY: each element of `ids` is read out once (the array is never dropped: it is
            // ManuallyDrop), into slot `index` (< N) of the two arrays; T is RawType's layout, and
            // driver_data at its offset is a kernel_ulong_t, a usize on every Linux target.
            unsafe {
                let pair = first.add(index);
                let id = core::ptr::addr_of!((*pair).0).read();
                let info = core::ptr::addr_of!((*pair).1).read();
                let slot = (raw.as_mut_ptr() as *mut T::RawType).add(index);
                slot.write(core::ptr::read(&id as *const T as *const T::RawType));
                (slot as *mut u8).add(T::DRIVER_DATA_OFFSET).cast::<usize>().write_unaligned(index);
                (infos.as_mut_ptr() as *mut U).add(index).write(info);
            }
            index += 1;
        }
        // SAFETY: the loop wrote all N entries of both arrays.
        IdArray { raw: RawIds { ids: unsafe { raw.assume_init() }, end: MaybeUninit::zeroed() }, infos: unsafe { infos.assume_init() } }
    }
}

// SAFETY: the table is never written after it is made; the C side only reads it (pointer
// fields, OF's `data`, hold an index, never dereferenced), and the infos are shared as `&U` only
// where U is Sync.
unsafe impl<T: RawDeviceId, U: Sync, const N: usize> Sync for IdArray<T, U, N> {}

/// What a driver names as its `ID_TABLE` (`&'static dyn IdTable<DeviceId, IdInfo>`).
pub trait IdTable<T: RawDeviceId, U> {
    /// The C table, ending in its all-zero entry.
    fn as_ptr(&self) -> *const T::RawType;
    /// The Rust data of entry `index` (the `driver_data` the bus hands back).
    fn info(&self, index: usize) -> &U;

    /// Entry `index`'s data, or None past the table (a device bound through `new_id` or
    /// `driver_override` may come with an index the table does not have).
    #[doc(hidden)]
    fn __info(&self, index: usize) -> Option<&U>;
}

impl<T: RawDeviceId, U, const N: usize> IdTable<T, U> for IdArray<T, U, N> {
    fn as_ptr(&self) -> *const T::RawType {
        &self.raw as *const RawIds<T::RawType, N> as *const T::RawType
    }

    fn info(&self, index: usize) -> &U {
        &self.infos[index]
    }

    fn __info(&self, index: usize) -> Option<&U> {
        self.infos.get(index)
    }
}

/// Bytes of a modalias being worked out at compile time: `alias=<bus>:...` and its NUL.
#[doc(hidden)]
pub struct AliasText {
    pub bytes: [u8; 192],
    pub len: usize,
}

impl AliasText {
    /// `alias=` and the bus's prefix (`pci:`).
    pub const fn new(prefix: &str) -> Self {
        AliasText { bytes: [0; 192], len: 0 }.text("alias=").text(prefix)
    }

    /// `text` appended.
    pub const fn text(mut self, text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut index = 0;
        while index < bytes.len() {
            self.bytes[self.len] = bytes[index];
            self.len += 1;
            index += 1;
        }
        self
    }

    /// `bytes` appended, whitespace as `_` with `underscores` (modpost's rule for OF aliases).
    pub const fn bytes(mut self, bytes: &[u8], underscores: bool) -> Self {
        let mut index = 0;
        while index < bytes.len() {
            let byte = bytes[index];
            self.bytes[self.len] = if underscores && byte.is_ascii_whitespace() { b'_' } else { byte };
            self.len += 1;
            index += 1;
        }
        self
    }

    /// The NUL, nothing added.
    pub const fn end(mut self) -> Self {
        self.len += 1;                   // bytes start zeroed
        self
    }

    /// `name`, then `value` in `digits` upper-case hex digits when `known`, else `*` (modpost's ADD).
    pub const fn field(mut self, name: &str, known: bool, value: u32, digits: u32) -> Self {
        self = self.text(name);
        if !known {
            return self.text("*");
        }
        let mut shift = digits * 4;
        while shift > 0 {
            shift -= 4;
            self.bytes[self.len] = b"0123456789ABCDEF"[((value >> shift) & 0xF) as usize];
            self.len += 1;
        }
        self
    }

    /// A trailing `*` unless there is one (room for fields a later kernel adds), and the NUL.
    pub const fn finish(mut self) -> Self {
        if self.bytes[self.len - 1] != b'*' {
            self = self.text("*");
        }
        self.len += 1;                   // the NUL (bytes start zeroed)
        self
    }

    /// The first `N` bytes (`N` = `len`), for the `.modinfo` static.
    pub const fn take<const N: usize>(&self) -> [u8; N] {
        let mut out = [0u8; N];
        let mut index = 0;
        while index < N {
            out[index] = self.bytes[index];
            index += 1;
        }
        out
    }
}

/// `module_device_table!("pci", pci::DeviceId, NAME, IdInfo, [(id, info), ...])`: the `static`
/// id table `NAME` and one `MODULE_ALIAS` in `.modinfo` per id (a bus's `*_device_table!` macro
/// calls this). Each id must be a constant expression.
#[macro_export]
#[allow_internal_unsafe]
macro_rules! module_device_table {
    ($bus:literal, $id_type:ty, $name:ident, $info_type:ty, [$(($id:expr, $info:expr)),* $(,)?] $(,)?) => {
        static $name: $crate::device_id::IdArray<$id_type, $info_type, { [$(stringify!($id)),*].len() }> =
            $crate::device_id::IdArray::new([$(($id, $info)),*]);
        $(
            #[cfg(target_os = "none")]
            const _: () = {
                const ALIAS: $crate::device_id::AliasText = <$id_type>::alias(&$id);
                #[unsafe(link_section = ".modinfo")]
                #[used]
                static MODINFO_ALIAS: [u8; ALIAS.len] = ALIAS.take::<{ ALIAS.len }>();
            };
        )*
    };
}
