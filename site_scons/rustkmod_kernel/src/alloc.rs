//! Fallible allocation with explicit flags: `KBox` and `KVec` over kmalloc, as in the in-tree crate
//! (`KBox::new(value, GFP_KERNEL)?`, `vec.push(value, GFP_ATOMIC)?`). A failure is an
//! `AllocError`, which `?` turns into `ENOMEM`; nothing here panics on a failed allocation.

use core::alloc::Layout;
use core::fmt;
use core::marker::PhantomData;
use core::ops::{BitOr, Deref, DerefMut};
use core::pin::Pin;
use core::ptr::NonNull;

use crate::error::{code, Error};
use crate::init::PinInit;

unsafe extern "C" {
    fn rustkmod_rt_kmalloc_gfp(size: usize, flags: u32) -> *mut u8;
    fn rustkmod_rt_krealloc_gfp(ptr: *mut u8, size: usize, flags: u32) -> *mut u8;
    fn rustkmod_rt_kfree(ptr: *const u8);
    static rustkmod_rt_gfp_kernel: u32;
    static rustkmod_rt_gfp_atomic: u32;
    static rustkmod_rt_gfp_nowait: u32;
    static rustkmod_rt_gfp_zero: u32;
}

/// Allocation flags. Their bits differ between kernel versions, so a `Flags` names them and the
/// module's own kernel gives the bits (rustkmod-rt's C half) when it allocates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    base: u8,
    zero: bool,
}

/// The allocation flags by name, as `kernel::alloc::flags` has them.
pub mod flags {
    use super::Flags;

    /// May sleep and reclaim: process context.
    pub const GFP_KERNEL: Flags = Flags { base: 0, zero: false };
    /// Never sleeps; may use the emergency reserves: interrupts, spinlocks held.
    pub const GFP_ATOMIC: Flags = Flags { base: 1, zero: false };
    /// Never sleeps, no reserves.
    pub const GFP_NOWAIT: Flags = Flags { base: 2, zero: false };
    /// Added to another (`GFP_KERNEL | __GFP_ZERO`): the memory comes zeroed.
    pub const __GFP_ZERO: Flags = Flags { base: u8::MAX, zero: true };
}

impl BitOr for Flags {
    type Output = Flags;

    fn bitor(self, other: Flags) -> Flags {
        let base = if self.base == u8::MAX { other.base } else { self.base };
        Flags { base, zero: self.zero || other.zero }
    }
}

impl Flags {
    /// This kernel's gfp_t for the flags.
    fn bits(self) -> u32 {
        // SAFETY: the C half defines these constants; reading them has no side effect.
        let base = unsafe {
            match self.base {
                1 => rustkmod_rt_gfp_atomic,
                2 => rustkmod_rt_gfp_nowait,
                _ => rustkmod_rt_gfp_kernel,
            }
        };
        base | if self.zero { unsafe { rustkmod_rt_gfp_zero } } else { 0 }
    }
}

/// An allocation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocError;

impl From<AllocError> for Error {
    fn from(_: AllocError) -> Error {
        code::ENOMEM
    }
}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("memory allocation failed")
    }
}

/// kmalloc aligns to 8 bytes, and power-of-two sizes to their size up to a page (5.4 on).
fn kmalloc_size(layout: Layout) -> Result<usize, AllocError> {
    match layout.align() {
        0..=8 => Ok(layout.size().max(1)),
        9..=4096 => Ok(layout.size().max(layout.align()).next_power_of_two()),
        _ => Err(AllocError),
    }
}

fn allocate(layout: Layout, flags: Flags) -> Result<NonNull<u8>, AllocError> {
    let size = kmalloc_size(layout)?;
    // SAFETY: kmalloc takes any size and flags; it returns null or an object of at least `size`.
    NonNull::new(unsafe { rustkmod_rt_kmalloc_gfp(size, flags.bits()) }).ok_or(AllocError)
}

/// A value in kmalloc'd memory, freed when dropped.
pub struct KBox<T> {
    pointer: NonNull<T>,
    _owns: PhantomData<T>,
}

// SAFETY: a KBox owns its value as a Box does.
unsafe impl<T: Send> Send for KBox<T> {}
// SAFETY: as for Send.
unsafe impl<T: Sync> Sync for KBox<T> {}

impl<T> KBox<T> {
    /// `value` in memory allocated with `flags`.
    pub fn new(value: T, flags: Flags) -> Result<KBox<T>, AllocError> {
        let pointer = if core::mem::size_of::<T>() == 0 {
            NonNull::dangling()
        } else {
            allocate(Layout::new::<T>(), flags)?.cast::<T>()
        };
        // SAFETY: the memory is fresh, sized and aligned for T.
        unsafe { pointer.as_ptr().write(value) };
        Ok(KBox { pointer, _owns: PhantomData })
    }

    /// `value` in memory allocated with `flags`, pinned: it never moves again.
    pub fn pin(value: T, flags: Flags) -> Result<Pin<KBox<T>>, AllocError> {
        Ok(KBox::into_pin(KBox::new(value, flags)?))
    }

    /// A `T` made in place by `init` (a lock from `new_mutex!`, say) in memory allocated with
    /// `flags`; an allocation failure is `ENOMEM`, an error of `init` is returned as it is.
    pub fn pin_init(init: impl PinInit<T>, flags: Flags) -> Result<Pin<KBox<T>>, Error> {
        let pointer = if core::mem::size_of::<T>() == 0 {
            NonNull::dangling()
        } else {
            allocate(Layout::new::<T>(), flags)?.cast::<T>()
        };
        // SAFETY: the memory is fresh, sized and aligned for T, and is not moved afterwards.
        if let Err(error) = unsafe { init.__pinned_init(pointer.as_ptr()) } {
            if core::mem::size_of::<T>() != 0 {
                // SAFETY: kmalloc'd above; PinInit left nothing to drop in it.
                unsafe { rustkmod_rt_kfree(pointer.as_ptr() as *const u8) };
            }
            return Err(error);
        }
        // SAFETY: the value is initialised and never moves: the KBox is pinned at once.
        Ok(unsafe { Pin::new_unchecked(KBox { pointer, _owns: PhantomData }) })
    }

    /// Pins a KBox: its value stays at its address (a KBox never moves its value anyway).
    pub fn into_pin(boxed: KBox<T>) -> Pin<KBox<T>> {
        // SAFETY: the value lives in its own allocation, which moving the KBox does not move.
        unsafe { Pin::new_unchecked(boxed) }
    }
}

impl<T> Deref for KBox<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the pointer holds an initialised T for as long as the KBox lives.
        unsafe { self.pointer.as_ref() }
    }
}

impl<T> DerefMut for KBox<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for deref; &mut self is unique.
        unsafe { self.pointer.as_mut() }
    }
}

impl<T> Drop for KBox<T> {
    fn drop(&mut self) {
        // SAFETY: the value is initialised and dropped once; the memory came from kmalloc.
        unsafe {
            core::ptr::drop_in_place(self.pointer.as_ptr());
            if core::mem::size_of::<T>() != 0 {
                rustkmod_rt_kfree(self.pointer.as_ptr() as *const u8);
            }
        }
    }
}

/// A growable array in kmalloc'd memory; each growth names its flags and may fail.
pub struct KVec<T> {
    pointer: NonNull<T>,
    length: usize,
    capacity: usize,
    _owns: PhantomData<T>,
}

// SAFETY: a KVec owns its elements as a Vec does.
unsafe impl<T: Send> Send for KVec<T> {}
// SAFETY: as for Send.
unsafe impl<T: Sync> Sync for KVec<T> {}

impl<T> KVec<T> {
    /// An empty vector; allocates nothing.
    pub const fn new() -> KVec<T> {
        KVec { pointer: NonNull::dangling(), length: 0, capacity: 0, _owns: PhantomData }
    }

    /// An empty vector with room for `capacity` elements.
    pub fn with_capacity(capacity: usize, flags: Flags) -> Result<KVec<T>, AllocError> {
        let mut vector = KVec::new();
        vector.reserve(capacity, flags)?;
        Ok(vector)
    }

    pub fn len(&self) -> usize {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    pub fn capacity(&self) -> usize {
        if core::mem::size_of::<T>() == 0 { usize::MAX } else { self.capacity }
    }

    /// Room for `additional` more elements, growing by krealloc with `flags`.
    pub fn reserve(&mut self, additional: usize, flags: Flags) -> Result<(), AllocError> {
        let needed = self.length.checked_add(additional).ok_or(AllocError)?;
        if needed <= self.capacity() {
            return Ok(());
        }
        let capacity = needed.max(self.capacity * 2).max(4);
        let layout = Layout::array::<T>(capacity).map_err(|_| AllocError)?;
        let size = kmalloc_size(layout)?;
        let old = if self.capacity == 0 { core::ptr::null_mut() } else { self.pointer.as_ptr() as *mut u8 };
        // SAFETY: `old` is null or this vector's kmalloc'd memory; krealloc keeps the contents
        // and kmalloc's alignment (at most 8 for T here: larger alignments were refused above
        // unless they are a power-of-two size, which krealloc keeps aligned as well).
        let new = unsafe { rustkmod_rt_krealloc_gfp(old, size, flags.bits()) };
        self.pointer = NonNull::new(new as *mut T).ok_or(AllocError)?;
        self.capacity = capacity;
        Ok(())
    }

    /// Appends `value`, growing with `flags` when full.
    pub fn push(&mut self, value: T, flags: Flags) -> Result<(), AllocError> {
        self.reserve(1, flags)?;
        // SAFETY: reserve made room for one more element past `length`.
        unsafe { self.pointer.as_ptr().add(self.length).write(value) };
        self.length += 1;
        Ok(())
    }

    /// Removes and returns the last element.
    pub fn pop(&mut self) -> Option<T> {
        if self.length == 0 {
            return None;
        }
        self.length -= 1;
        // SAFETY: the element at `length` was initialised and is no longer counted.
        Some(unsafe { self.pointer.as_ptr().add(self.length).read() })
    }

    /// Appends clones of every element of `items`.
    pub fn extend_from_slice(&mut self, items: &[T], flags: Flags) -> Result<(), AllocError>
    where
        T: Clone,
    {
        self.reserve(items.len(), flags)?;
        for item in items {
            self.push(item.clone(), flags)?;
        }
        Ok(())
    }
}

impl<T> Default for KVec<T> {
    fn default() -> Self {
        KVec::new()
    }
}

impl<T> Deref for KVec<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        // SAFETY: `length` elements are initialised at `pointer` (dangling and aligned when empty).
        unsafe { core::slice::from_raw_parts(self.pointer.as_ptr(), self.length) }
    }
}

impl<T> DerefMut for KVec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as for deref; &mut self is unique.
        unsafe { core::slice::from_raw_parts_mut(self.pointer.as_ptr(), self.length) }
    }
}

impl<T> Drop for KVec<T> {
    fn drop(&mut self) {
        // SAFETY: the first `length` elements are initialised and dropped once; the memory, when
        // there is any, came from krealloc.
        unsafe {
            core::ptr::drop_in_place(core::ptr::slice_from_raw_parts_mut(self.pointer.as_ptr(), self.length));
            if self.capacity != 0 && core::mem::size_of::<T>() != 0 {
                rustkmod_rt_kfree(self.pointer.as_ptr() as *const u8);
            }
        }
    }
}
