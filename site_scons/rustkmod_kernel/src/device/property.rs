//! A device's firmware node (device tree or ACPI) and its properties, as the in-tree
//! `kernel::device::property`: `dev.fwnode()`, then `property_read::<u32>(c"name")` and the
//! others, each value copied out (nothing borrows the firmware's memory), a node's children and
//! references counted (`ARef<FwNode>`).
//!
//! A read gives a [`PropertyGuard`]: `.required_by(dev)` logs a missing property on the device
//! and returns the error, `.optional()`, `.or(default)` and `.or_default()` do not log.

use core::fmt;
use core::marker::PhantomPinned;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use crate::alloc::{flags::GFP_KERNEL, KVec};
#[cfg(not(target_os = "none"))]
use crate::error::code::EINVAL;
use crate::error::Result;
use crate::str::{CStr, CString};
use crate::types::{ARef, AlwaysRefCounted};

#[cfg(target_os = "none")]
use crate::{bindings, error::to_result};

/// C's `struct fwnode_handle`, only ever behind a reference (a borrow of the device's, or an
/// `ARef` holding a count).
#[repr(C)]
pub struct FwNode {
    _opaque: [u8; 0],
    _pinned: PhantomPinned,
}

impl FwNode {
    /// # Safety
    /// `raw` is a live fwnode that outlives `'a`.
    #[cfg(target_os = "none")]
    pub(crate) unsafe fn from_raw<'a>(raw: *mut bindings::fwnode_handle) -> &'a FwNode {
        // SAFETY: the caller's promise; FwNode is only ever a reference to the C object.
        unsafe { &*(raw as *const FwNode) }
    }

    /// # Safety
    /// `raw` is a live fwnode on which the caller holds a count, which it gives to the `ARef`.
    #[cfg(target_os = "none")]
    unsafe fn from_counted(raw: *mut bindings::fwnode_handle) -> Option<ARef<FwNode>> {
        // SAFETY: the caller's promise.
        NonNull::new(raw as *mut FwNode).map(|node| unsafe { ARef::from_raw(node) })
    }

    #[cfg(target_os = "none")]
    fn as_raw(&self) -> *mut bindings::fwnode_handle {
        self as *const FwNode as *mut bindings::fwnode_handle
    }

    /// Whether this is a device-tree node (not ACPI's, nor software's).
    pub fn is_of_node(&self) -> bool {
        #[cfg(target_os = "none")]
        // SAFETY: the node is live (borrowed).
        return unsafe { bindings::rkk_is_of_node(self.as_raw()) };
        #[cfg(not(target_os = "none"))]
        false
    }

    /// Whether the node has property `name`.
    pub fn property_present(&self, name: &CStr) -> bool {
        #[cfg(target_os = "none")]
        // SAFETY: the node is live; name is NUL-terminated.
        return unsafe { bindings::fwnode_property_present(self.as_raw(), name.as_ptr()) };
        #[cfg(not(target_os = "none"))]
        {
            let _ = name;
            false
        }
    }

    /// A boolean property: true when present (a device-tree flag has no value).
    pub fn property_read_bool(&self, name: &CStr) -> bool {
        self.property_present(name)
    }

    /// The index of `value` in the string list `name` (`compatible`, say).
    pub fn property_match_string(&self, name: &CStr, value: &CStr) -> Result<usize> {
        #[cfg(target_os = "none")]
        {
            // SAFETY: the node is live; both strings are NUL-terminated.
            let index = unsafe { bindings::fwnode_property_match_string(self.as_raw(), name.as_ptr(), value.as_ptr()) };
            to_result(index.min(0))?;
            Ok(index as usize)
        }
        #[cfg(not(target_os = "none"))]
        {
            let _ = (name, value);
            Err(crate::error::code::EINVAL)
        }
    }

    /// Property `name` as a `T`: a string (`CString`), an integer, or an array of integers.
    pub fn property_read<'node, 'name, T: Property>(&'node self, name: &'name CStr) -> PropertyGuard<'node, 'name, T> {
        PropertyGuard { value: T::read(self, name), node: self, name }
    }

    /// The first `len` integers of array property `name`, in a `KVec`.
    pub fn property_read_array_vec<'node, 'name, T: PropertyInt>(
        &'node self,
        name: &'name CStr,
        len: usize,
    ) -> Result<PropertyGuard<'node, 'name, KVec<T>>> {
        let mut vector = KVec::<T>::with_capacity(len, GFP_KERNEL)?;
        // SAFETY: the capacity is at least `len` (just reserved); MaybeUninit needs no init.
        let room = unsafe { core::slice::from_raw_parts_mut(vector.as_mut_ptr() as *mut MaybeUninit<T>, len) };
        let value = T::read_into(self, name, room).map(|_| {
            // SAFETY: read_into succeeded, so it initialised all `len` elements.
            unsafe { vector.set_len(len) };
            vector
        });
        Ok(PropertyGuard { value, node: self, name })
    }

    /// How many `T` the array property `name` holds.
    pub fn property_count_elem<T: PropertyInt>(&self, name: &CStr) -> Result<usize> {
        T::count(self, name)
    }

    /// The child node `name`.
    pub fn get_child_by_name(&self, name: &CStr) -> Option<ARef<FwNode>> {
        #[cfg(target_os = "none")]
        // SAFETY: the node is live; the child comes with a count, given to the ARef.
        return unsafe { FwNode::from_counted(bindings::fwnode_get_named_child_node(self.as_raw(), name.as_ptr())) };
        #[cfg(not(target_os = "none"))]
        {
            let _ = name;
            None
        }
    }

    /// The node's children, each counted.
    pub fn children(&self) -> impl Iterator<Item = ARef<FwNode>> + '_ {
        let mut previous: Option<ARef<FwNode>> = None;
        core::iter::from_fn(move || {
            #[cfg(target_os = "none")]
            {
                // fwnode_get_next_child_node drops a count on the child it is given: the one
                // `previous` holds, given up here (into_raw) so it is not dropped twice.
                let after = previous.take().map_or(core::ptr::null_mut(), |node| {
                    ARef::into_raw(node).as_ptr() as *mut bindings::fwnode_handle
                });
                // SAFETY: the node is live; `after` is null or a child with a count we give up;
                // the next child comes with a count of its own, given to the ARef.
                let next = unsafe { FwNode::from_counted(bindings::fwnode_get_next_child_node(self.as_raw(), after)) }?;
                previous = Some(next.clone());
                Some(next)
            }
            #[cfg(not(target_os = "none"))]
            {
                let _ = (self, &mut previous);
                None
            }
        })
    }

    /// Reference `index` of property `name` (a phandle and its arguments, `<&node 1 2>`), with
    /// `args` arguments: a fixed number, or the count the target node's property says.
    pub fn property_get_reference_args(&self, name: &CStr, args: NArgs<'_>, index: u32) -> Result<FwNodeReferenceArgs> {
        let mut reference = FwNodeReferenceArgs { node: None, len: 0, args: [0; MAX_ARGS] };
        #[cfg(target_os = "none")]
        {
            let (count_name, count) = match args {
                NArgs::Prop(property) => (property.as_ptr(), 0),
                NArgs::N(count) => (core::ptr::null(), count),
            };
            let mut node: *mut bindings::fwnode_handle = core::ptr::null_mut();
            let mut found = 0u32;
            // SAFETY: the node is live; the names are NUL-terminated (count_name may be null with
            // a count); `args` has room for MAX_ARGS, which the C side writes at most.
            to_result(unsafe {
                bindings::rkk_fwnode_get_reference_args(self.as_raw(), name.as_ptr(), count_name, count, index,
                                                        &mut node, &mut found, reference.args.as_mut_ptr(), MAX_ARGS as u32)
            })?;
            // SAFETY: the reference's node comes with a count (or is null), given to the ARef.
            reference.node = unsafe { FwNode::from_counted(node) };
            reference.len = found as usize;
            Ok(reference)
        }
        #[cfg(not(target_os = "none"))]
        {
            let _ = (name, args, index, &mut reference);
            Err(EINVAL)
        }
    }
}

impl fmt::Display for FwNode {
    /// The node's full path (`/rust-device/child-0`), as the kernel's `%pfwf` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[allow(unused_mut)]
        let mut path = [0u8; 256];
        #[allow(unused_mut, unused_assignments)]
        let mut len = 0usize;
        #[cfg(target_os = "none")]
        {
            // SAFETY: the node is live; snprintf writes at most the buffer, NUL included.
            let written = unsafe { bindings::rkk_fwnode_path(self.as_raw(), path.as_mut_ptr() as *mut _, path.len()) };
            len = (written.max(0) as usize).min(path.len() - 1);
        }
        f.write_str(core::str::from_utf8(&path[..len]).unwrap_or("<fwnode>"))
    }
}

// SAFETY: a fwnode's count may be taken and dropped from any thread (kobject or ACPI counts).
unsafe impl AlwaysRefCounted for FwNode {
    fn inc_ref(&self) {
        #[cfg(target_os = "none")]
        // SAFETY: the node is live (borrowed).
        unsafe { bindings::rkk_fwnode_get(self.as_raw()) };
    }

    unsafe fn dec_ref(node: NonNull<FwNode>) {
        #[cfg(target_os = "none")]
        // SAFETY: the caller holds a count and gives it up.
        unsafe { bindings::rkk_fwnode_put(node.as_ptr() as *mut bindings::fwnode_handle) };
        #[cfg(not(target_os = "none"))]
        let _ = node;
    }
}

// SAFETY: the firmware's nodes are read-only to drivers and may be read from any thread.
unsafe impl Send for FwNode {}
// SAFETY: as above.
unsafe impl Sync for FwNode {}

impl<Ctx: super::DeviceContext> super::Device<Ctx> {
    /// The device's firmware node, if it has one.
    pub fn fwnode(&self) -> Option<&FwNode> {
        #[cfg(target_os = "none")]
        {
            // SAFETY: the device is live (borrowed); its fwnode lives as long as it does.
            let node = unsafe { bindings::rkk_dev_fwnode(self.as_raw()) };
            // SAFETY: non-null, and the device's own.
            (!node.is_null()).then(|| unsafe { FwNode::from_raw(node) })
        }
        #[cfg(not(target_os = "none"))]
        None
    }
}

/// How many arguments a reference has (`property_get_reference_args`).
pub enum NArgs<'a> {
    /// As many as the target node's property of this name says (`#gpio-cells`).
    Prop(&'a CStr),
    /// This many.
    N(u32),
}

const MAX_ARGS: usize = 16;     // NR_FWNODE_REFERENCE_ARGS of recent kernels (8 before)

/// A reference found by `property_get_reference_args`: its target node (counted) and arguments.
pub struct FwNodeReferenceArgs {
    node: Option<ARef<FwNode>>,
    len: usize,
    args: [u64; MAX_ARGS],
}

impl FwNodeReferenceArgs {
    /// The arguments.
    pub fn as_slice(&self) -> &[u64] {
        &self.args[..self.len]
    }

    /// How many arguments.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The node the reference points at.
    pub fn fwnode(&self) -> Option<&FwNode> {
        self.node.as_deref()
    }
}

impl fmt::Debug for FwNodeReferenceArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

mod private {
    pub trait Sealed {}
}

/// What `property_read` reads: `CString`, the integers and arrays of them (sealed).
pub trait Property: Sized + private::Sealed {
    #[doc(hidden)]
    fn read(node: &FwNode, name: &CStr) -> Result<Self>;
}

/// An integer type a property array holds (`u8` to `u64`, `i8` to `i64`; sealed).
pub trait PropertyInt: Copy + private::Sealed {
    #[doc(hidden)]
    fn read_into(node: &FwNode, name: &CStr, out: &mut [MaybeUninit<Self>]) -> Result;
    #[doc(hidden)]
    fn count(node: &FwNode, name: &CStr) -> Result<usize>;
}

impl private::Sealed for CString {}

impl Property for CString {
    fn read(node: &FwNode, name: &CStr) -> Result<Self> {
        #[cfg(target_os = "none")]
        {
            let mut text: *const core::ffi::c_char = core::ptr::null();
            // SAFETY: the node is live; the string found lives as long as the node, and is
            // copied below before the borrow of the node ends.
            to_result(unsafe { bindings::fwnode_property_read_string(node.as_raw(), name.as_ptr(), &mut text) })?;
            // SAFETY: fwnode_property_read_string succeeded: a NUL-terminated string.
            CString::try_from(unsafe { CStr::from_ptr(text) })
        }
        #[cfg(not(target_os = "none"))]
        {
            let _ = (node, name);
            Err(EINVAL)
        }
    }
}

macro_rules! property_ints {
    ($($int:ty => $read:ident;)*) => {$(
        impl private::Sealed for $int {}
        impl<const N: usize> private::Sealed for [$int; N] {}

        impl PropertyInt for $int {
            fn read_into(node: &FwNode, name: &CStr, out: &mut [MaybeUninit<Self>]) -> Result {
                #[cfg(target_os = "none")]
                // SAFETY: the node is live; the C side writes `out.len()` elements of this
                // width (signed and unsigned share it) or fails.
                return to_result(unsafe {
                    bindings::$read(node.as_raw(), name.as_ptr(), out.as_mut_ptr() as *mut _, out.len())
                });
                #[cfg(not(target_os = "none"))]
                {
                    let _ = (node, name, out);
                    Err(EINVAL)
                }
            }

            fn count(node: &FwNode, name: &CStr) -> Result<usize> {
                #[cfg(target_os = "none")]
                {
                    // SAFETY: the node is live; with no buffer the C side returns the count.
                    let count = unsafe { bindings::$read(node.as_raw(), name.as_ptr(), core::ptr::null_mut(), 0) };
                    to_result(count.min(0))?;
                    Ok(count as usize)
                }
                #[cfg(not(target_os = "none"))]
                {
                    let _ = (node, name);
                    Err(EINVAL)
                }
            }
        }

        impl Property for $int {
            fn read(node: &FwNode, name: &CStr) -> Result<Self> {
                <[$int; 1]>::read(node, name).map(|[value]| value)
            }
        }

        impl<const N: usize> Property for [$int; N] {
            fn read(node: &FwNode, name: &CStr) -> Result<Self> {
                let mut values = [MaybeUninit::<$int>::uninit(); N];
                <$int>::read_into(node, name, &mut values)?;
                // SAFETY: read_into succeeded: all N are initialised.
                Ok(values.map(|value| unsafe { value.assume_init() }))
            }
        }
    )*};
}

property_ints! {
    u8 => fwnode_property_read_u8_array;
    u16 => fwnode_property_read_u16_array;
    u32 => fwnode_property_read_u32_array;
    u64 => fwnode_property_read_u64_array;
    i8 => fwnode_property_read_u8_array;
    i16 => fwnode_property_read_u16_array;
    i32 => fwnode_property_read_u32_array;
    i64 => fwnode_property_read_u64_array;
}

/// A property read: the value or the error, and what to say of a missing one.
pub struct PropertyGuard<'node, 'name, T> {
    value: Result<T>,
    node: &'node FwNode,
    name: &'name CStr,
}

impl<T> PropertyGuard<'_, '_, T> {
    /// The value; a missing or malformed property is logged on `dev` and its error returned.
    pub fn required_by(self, dev: &super::Device) -> Result<T> {
        if self.value.is_err() {
            crate::dev_err!(dev, "{}: property '{}' is missing\n", self.node, self.name);
        }
        self.value
    }

    /// The value, or None.
    pub fn optional(self) -> Option<T> {
        self.value.ok()
    }

    /// The value, or `default`.
    pub fn or(self, default: T) -> T {
        self.value.unwrap_or(default)
    }
}

impl<T: Default> PropertyGuard<'_, '_, T> {
    /// The value, or `T::default()`.
    pub fn or_default(self) -> T {
        self.value.unwrap_or_default()
    }
}
