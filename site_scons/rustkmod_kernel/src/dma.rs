//! DMA, as the in-tree `kernel::dma`: a device's DMA mask, and [`CoherentAllocation`], memory the
//! CPU and the device both see, allocated for a bound device and freed before the binding ends.
//!
//! The device may write the memory at any time, so Rust never holds a reference into it: each
//! element is read and written whole, volatile ([`CoherentAllocation::read`], `write`), and the
//! elements are plain integers. A PCI driver's device stops being a bus master (no more DMA)
//! before its data, and the allocations in it, are dropped at unbind.

use core::marker::PhantomData;

use crate::device::{Bound, Device};
use crate::error::{code::{EINVAL, ENOMEM}, Result};

#[cfg(target_os = "none")]
use crate::bindings;

/// How many address bits the device can drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaMask(u32);              // its number of bits

impl DmaMask {
    /// The mask of `N` bits (1..=64), checked when the module is built.
    pub const fn new<const N: u32>() -> DmaMask {
        const { assert!(N >= 1 && N <= 64, "a DMA mask has 1 to 64 bits") };
        DmaMask(N)
    }

    /// The mask of `bits` bits, or `EINVAL` outside 1..=64.
    pub const fn try_new(bits: u32) -> Result<DmaMask> {
        if bits == 0 || bits > 64 {
            return Err(EINVAL);
        }
        Ok(DmaMask(bits))
    }

    /// The mask's value.
    pub const fn value(&self) -> u64 {
        if self.0 == 64 { u64::MAX } else { (1u64 << self.0) - 1 }
    }
}

/// What a coherent allocation holds: plain integers, which any bytes the device writes are.
pub trait DmaElement: Copy + private::Sealed {}

mod private {
    pub trait Sealed {}
}

macro_rules! elements {
    ($($type:ty)*) => {$(
        impl private::Sealed for $type {}
        impl DmaElement for $type {}
    )*};
}

elements!(u8 u16 u32 u64 i8 i16 i32 i64);

/// `count` elements of `T` in memory the device reaches at [`dma_handle`](Self::dma_handle),
/// for the binding `'a`.
pub struct CoherentAllocation<'a, T: DmaElement> {
    #[cfg_attr(not(target_os = "none"), allow(dead_code))]
    device: &'a Device<Bound>,
    cpu: *mut T,
    handle: u64,
    count: usize,
    _elements: PhantomData<T>,
}

impl<'a, T: DmaElement> CoherentAllocation<'a, T> {
    /// Allocates `count` zeroed elements for `device` (`dma_alloc_coherent`); `ENOMEM` when the
    /// memory cannot be had under the device's DMA mask.
    pub fn alloc_coherent(device: &'a Device<Bound>, count: usize) -> Result<Self> {
        let size = count.checked_mul(size_of::<T>()).filter(|&size| size > 0).ok_or(EINVAL)?;
        #[cfg(target_os = "none")]
        {
            let mut handle = 0u64;
            // SAFETY: the device is bound (borrowed for 'a); the memory is freed by Drop, within 'a.
            let cpu = unsafe { bindings::rkk_dma_alloc_coherent(device.as_raw(), size, &mut handle) } as *mut T;
            if cpu.is_null() {
                return Err(ENOMEM);
            }
            // SAFETY: coherent memory of `size` bytes; zeroed, as the in-tree crate's is.
            unsafe { core::ptr::write_bytes(cpu as *mut u8, 0, size) };
            Ok(CoherentAllocation { device, cpu, handle, count, _elements: PhantomData })
        }
        #[cfg(not(target_os = "none"))]
        {
            let _ = (device, size);
            Err(ENOMEM)
        }
    }

    /// The address the device uses.
    pub fn dma_handle(&self) -> u64 {
        self.handle
    }

    /// How many elements.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The size in bytes.
    pub fn size(&self) -> usize {
        self.count * size_of::<T>()
    }

    /// Element `index`, as the device last wrote it; `EINVAL` past the end.
    pub fn read(&self, index: usize) -> Result<T> {
        if index >= self.count {
            return Err(EINVAL);
        }
        // SAFETY: in bounds; a volatile read of a plain integer the device may change at any time.
        Ok(unsafe { core::ptr::read_volatile(self.cpu.add(index)) })
    }

    /// Writes element `index`; `EINVAL` past the end.
    pub fn write(&self, index: usize, value: T) -> Result {
        if index >= self.count {
            return Err(EINVAL);
        }
        // SAFETY: in bounds; a volatile write (no reference into the memory exists).
        unsafe { core::ptr::write_volatile(self.cpu.add(index), value) };
        Ok(())
    }
}

impl<T: DmaElement> Drop for CoherentAllocation<'_, T> {
    fn drop(&mut self) {
        #[cfg(target_os = "none")]
        // SAFETY: allocated by alloc_coherent for this device, freed once; the device is still
        // bound ('a).
        unsafe {
            bindings::rkk_dma_free_coherent(self.device.as_raw(), self.size(), self.cpu as *mut core::ffi::c_void,
                                            &self.handle)
        };
    }
}

// SAFETY: the allocation is accessed by volatile element copies only, from any thread.
unsafe impl<T: DmaElement> Send for CoherentAllocation<'_, T> {}
// SAFETY: as above: no reference into the memory is ever made.
unsafe impl<T: DmaElement> Sync for CoherentAllocation<'_, T> {}

impl Device<Bound> {
    #[doc(hidden)]
    pub fn __set_dma_mask(&self, mask: DmaMask) -> Result {
        #[cfg(target_os = "none")]
        // SAFETY: the device is bound; callers are bus callbacks (Core), serialised by its lock.
        return crate::error::to_result(unsafe { bindings::rkk_dma_set_mask_and_coherent(self.as_raw(), mask.0) });
        #[cfg(not(target_os = "none"))]
        {
            let _ = mask;
            Ok(())
        }
    }
}
