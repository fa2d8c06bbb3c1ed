//! Fallible allocation with explicit flags: `KBox` and `KVec` over kmalloc and `KVVec` over
//! kvmalloc (kmalloc, else vmalloc: for buffers too large to want physically contiguous pages), as
//! in the in-tree crate (`KBox::new(value, GFP_KERNEL)?`, `vec.push(value, GFP_ATOMIC)?`). A
//! failure is an `AllocError`, which `?` turns into `ENOMEM`; nothing here panics on a failed
//! allocation.

use core::alloc::Layout;
use core::fmt;
use core::marker::PhantomData;
use core::ops::{BitOr, Deref, DerefMut};
use core::pin::Pin;
use core::ptr::NonNull;

use crate::error::{code, Error};
use crate::init::PinInit;

// The allocator's calls: the kernel's kmalloc family, or on the host (tests) the C library's.
#[cfg(target_os = "none")]
#[path = "kernel.rs"]
mod raw;
#[cfg(not(target_os = "none"))]
#[path = "host.rs"]
mod raw;

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
    /// The flags without `__GFP_ZERO`: 0 GFP_KERNEL, 1 GFP_ATOMIC, 2 GFP_NOWAIT.
    #[cfg_attr(not(target_os = "none"), allow(dead_code))]      // the host's allocator has no such flags
    fn base(self) -> u8 {
        if self.base == u8::MAX { 0 } else { self.base }
    }

    /// Whether the memory comes zeroed.
    fn zeroed(self) -> bool {
        self.zero
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

/// kmalloc'd memory for one `T` (none for a zero-sized `T`: a dangling pointer).
fn allocate<T>(flags: Flags) -> Result<NonNull<T>, AllocError> {
    if core::mem::size_of::<T>() == 0 {
        return Ok(NonNull::dangling());
    }
    let size = kmalloc_size(Layout::new::<T>())?;
    // SAFETY: kmalloc takes any size and flags; it returns null or an object of at least `size`.
    NonNull::new(unsafe { raw::kmalloc(size, flags) } as *mut T).ok_or(AllocError)
}

/// Frees what `allocate::<T>` returned (nothing for a zero-sized `T`).
///
/// # Safety
/// `pointer` came from `allocate::<T>`, its value is dropped or was never made, and it is freed once.
unsafe fn free<T>(pointer: NonNull<T>) {
    if core::mem::size_of::<T>() != 0 {
        // SAFETY: the caller's promise.
        unsafe { raw::kfree(pointer.as_ptr() as *mut u8) };
    }
}

/// Frees kmalloc'd memory whose value was dropped (an `Arc` of an unsized value).
///
/// # Safety
/// `pointer` came from this module's kmalloc (a KBox's), its value is dropped, and it is freed once.
pub(crate) unsafe fn free_bytes(pointer: *mut u8) {
    // SAFETY: the caller's promise.
    unsafe { raw::kfree(pointer) }
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
        let pointer = allocate::<T>(flags)?;
        // SAFETY: the memory is fresh, sized and aligned for T.
        unsafe { pointer.as_ptr().write(value) };
        Ok(KBox { pointer, _owns: PhantomData })
    }

    /// `value` in memory allocated with `flags`, pinned: it never moves again.
    pub fn pin(value: T, flags: Flags) -> Result<Pin<KBox<T>>, AllocError> {
        Ok(KBox::into_pin(KBox::new(value, flags)?))
    }

    /// A `T` made in place by `init` (a lock from `new_mutex!`, say) in memory allocated with
    /// `flags`, with `init`'s own error type (which takes an allocation failure).
    pub fn try_pin_init<E: From<AllocError>>(init: impl PinInit<T, E>, flags: Flags) -> Result<Pin<KBox<T>>, E> {
        let pointer = allocate::<T>(flags)?;
        // SAFETY: the memory is fresh, sized and aligned for T, and is not moved afterwards.
        if let Err(error) = unsafe { init.__pinned_init(pointer.as_ptr()) } {
            // SAFETY: allocated above; PinInit left nothing to drop in it.
            unsafe { free(pointer) };
            return Err(error);
        }
        // SAFETY: the value is initialised and never moves: the KBox is pinned at once.
        Ok(unsafe { Pin::new_unchecked(KBox { pointer, _owns: PhantomData }) })
    }

    /// As [`try_pin_init`](KBox::try_pin_init), errors as kernel errors (`ENOMEM` for the
    /// allocation): `KBox::pin_init(new_mutex!(0), GFP_KERNEL)?`.
    pub fn pin_init<E>(init: impl PinInit<T, E>, flags: Flags) -> Result<Pin<KBox<T>>, Error>
    where
        Error: From<E>,
    {
        // SAFETY: only the error is mapped; the slot is the one try_pin_init gives.
        let mapped = unsafe { crate::init::pin_init_from_closure(move |slot: *mut T| init.__pinned_init(slot).map_err(Error::from)) };
        KBox::try_pin_init(mapped, flags)
    }

    /// A `T` made by `init` (which may move it) in memory allocated with `flags`.
    pub fn try_init<E: From<AllocError>>(init: impl crate::init::Init<T, E>, flags: Flags) -> Result<KBox<T>, E> {
        let pointer = allocate::<T>(flags)?;
        // SAFETY: the memory is fresh, sized and aligned for T.
        if let Err(error) = unsafe { init.__init(pointer.as_ptr()) } {
            // SAFETY: allocated above; Init left nothing to drop in it.
            unsafe { free(pointer) };
            return Err(error);
        }
        Ok(KBox { pointer, _owns: PhantomData })
    }

    /// As [`try_init`](KBox::try_init), errors as kernel errors.
    pub fn init<E>(init: impl crate::init::Init<T, E>, flags: Flags) -> Result<KBox<T>, Error>
    where
        Error: From<E>,
    {
        // SAFETY: only the error is mapped.
        let mapped = unsafe { crate::init::init_from_closure(move |slot: *mut T| init.__init(slot).map_err(Error::from)) };
        KBox::try_init(mapped, flags)
    }

    /// The raw pointer, owning the value: `from_raw` takes it back.
    pub fn into_raw(boxed: KBox<T>) -> *mut T {
        let pointer = boxed.pointer.as_ptr();
        core::mem::forget(boxed);
        pointer
    }

    /// # Safety
    /// `pointer` came from `into_raw`, and is taken back once.
    pub unsafe fn from_raw(pointer: *mut T) -> KBox<T> {
        // SAFETY: into_raw's pointer is never null.
        KBox { pointer: unsafe { NonNull::new_unchecked(pointer) }, _owns: PhantomData }
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
        // SAFETY: the value is initialised and dropped once; the memory came from allocate.
        unsafe {
            core::ptr::drop_in_place(self.pointer.as_ptr());
            free(self.pointer);
        }
    }
}

/// Where a [`Vec`] keeps its elements.
///
/// # Safety
/// `realloc` returns null or memory of at least `new_size` bytes, aligned as kmalloc aligns,
/// holding the first `min(old_size, new_size)` bytes of `old`, which it has freed unless it
/// returned null; `free` frees what `realloc` returned.
pub unsafe trait Allocator {
    /// # Safety
    /// `old` is null (with `old_size` 0) or came from this allocator with `old_size` bytes.
    unsafe fn realloc(old: *mut u8, old_size: usize, new_size: usize, flags: Flags) -> *mut u8;
    /// # Safety
    /// `pointer` came from this allocator's `realloc`.
    unsafe fn free(pointer: *mut u8);
}

/// kmalloc: physically contiguous memory.
pub struct Kmalloc;

// SAFETY: krealloc keeps the contents and frees the old object when it moves it.
unsafe impl Allocator for Kmalloc {
    unsafe fn realloc(old: *mut u8, _old_size: usize, new_size: usize, flags: Flags) -> *mut u8 {
        // SAFETY: the caller's promise.
        unsafe { raw::krealloc(old, new_size, flags) }
    }

    unsafe fn free(pointer: *mut u8) {
        // SAFETY: the caller's promise.
        unsafe { raw::kfree(pointer) }
    }
}

/// kvmalloc: kmalloc when it can, else vmalloc (virtually contiguous), for large buffers.
pub struct KVmalloc;

// SAFETY: a new allocation, the old contents copied in, then the old one freed.
unsafe impl Allocator for KVmalloc {
    unsafe fn realloc(old: *mut u8, old_size: usize, new_size: usize, flags: Flags) -> *mut u8 {
        // SAFETY: kvmalloc takes any size; the copy stays within both allocations; `old` came
        // from kvmalloc (the caller's promise) and is freed once.
        unsafe {
            let new = raw::kvmalloc(new_size, flags);
            if !new.is_null() && !old.is_null() {
                core::ptr::copy_nonoverlapping(old, new, old_size.min(new_size));
                raw::kvfree(old);
            }
            new
        }
    }

    unsafe fn free(pointer: *mut u8) {
        // SAFETY: the caller's promise.
        unsafe { raw::kvfree(pointer) }
    }
}

/// A growable array whose memory comes from `A`; each growth names its flags and may fail.
pub struct Vec<T, A: Allocator> {
    pointer: NonNull<T>,
    length: usize,
    capacity: usize,
    _owns: PhantomData<(T, A)>,
}

/// A [`Vec`] in kmalloc'd memory.
pub type KVec<T> = Vec<T, Kmalloc>;
/// A [`Vec`] in kvmalloc'd memory.
pub type KVVec<T> = Vec<T, KVmalloc>;

// SAFETY: a Vec owns its elements as std's does; the allocators hold no state.
unsafe impl<T: Send, A: Allocator> Send for Vec<T, A> {}
// SAFETY: as for Send.
unsafe impl<T: Sync, A: Allocator> Sync for Vec<T, A> {}

impl<T, A: Allocator> Vec<T, A> {
    /// An empty vector; allocates nothing.
    pub const fn new() -> Self {
        Vec { pointer: NonNull::dangling(), length: 0, capacity: 0, _owns: PhantomData }
    }

    /// An empty vector with room for `capacity` elements.
    pub fn with_capacity(capacity: usize, flags: Flags) -> Result<Self, AllocError> {
        let mut vector = Vec::new();
        vector.reserve(capacity, flags)?;
        Ok(vector)
    }

    pub fn len(&self) -> usize {
        self.length
    }

    /// The elements' memory (dangling while nothing is allocated).
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.pointer.as_ptr()
    }

    /// # Safety
    /// `length` is at most the capacity, and the first `length` elements are initialised.
    pub unsafe fn set_len(&mut self, length: usize) {
        self.length = length;
    }

    /// Drops the elements past `length`.
    pub fn truncate(&mut self, length: usize) {
        while self.length > length {
            drop(self.pop());
        }
    }

    /// Drops every element; keeps the memory.
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    pub fn capacity(&self) -> usize {
        if core::mem::size_of::<T>() == 0 { usize::MAX } else { self.capacity }
    }

    /// Room for `additional` more elements, growing with `flags`.
    pub fn reserve(&mut self, additional: usize, flags: Flags) -> Result<(), AllocError> {
        let needed = self.length.checked_add(additional).ok_or(AllocError)?;
        if needed <= self.capacity() {
            return Ok(());
        }
        let capacity = needed.max(self.capacity * 2).max(4);
        let layout = Layout::array::<T>(capacity).map_err(|_| AllocError)?;
        let size = kmalloc_size(layout)?;
        let (old, old_size) = if self.capacity == 0 {
            (core::ptr::null_mut(), 0)
        } else {
            (self.pointer.as_ptr() as *mut u8, self.capacity * core::mem::size_of::<T>())
        };
        // SAFETY: `old` is null or this vector's memory from A, of `old_size` bytes; A keeps the
        // contents and kmalloc's alignment (at most 8 for T here: larger alignments were refused
        // above unless they are a power-of-two size, which kmalloc keeps aligned as well; vmalloc
        // memory is page-aligned).
        let new = unsafe { A::realloc(old, old_size, size, flags) };
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

    /// Keeps only the elements for which `keep` is true, in order (the others dropped).
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let mut kept = 0;
        for index in 0..self.length {
            // SAFETY: `index` < length: element `index` is initialised, and read once here
            // (moved down to `kept`, or dropped); the length is set to what was kept at the end,
            // and, should `keep` panic (an oops, not an unwind), nothing is read twice.
            unsafe {
                let element = self.pointer.as_ptr().add(index);
                if keep(&*element) {
                    if kept != index {
                        core::ptr::copy_nonoverlapping(element, self.pointer.as_ptr().add(kept), 1);
                    }
                    kept += 1;
                } else {
                    core::ptr::drop_in_place(element);
                }
            }
        }
        self.length = kept;
    }

    /// Grows to `length` elements with clones of `value` (growing with `flags`), or shrinks to it.
    pub fn resize(&mut self, length: usize, value: T, flags: Flags) -> Result<(), AllocError>
    where
        T: Clone,
    {
        if length <= self.length {
            self.truncate(length);
            return Ok(());
        }
        self.reserve(length - self.length, flags)?;
        while self.length < length {
            self.push(value.clone(), flags)?;
        }
        Ok(())
    }

    /// `n` clones of `value`, in memory allocated with `flags` (what `kvec![value; n]` makes).
    pub fn from_elem(value: T, n: usize, flags: Flags) -> Result<Self, AllocError>
    where
        T: Clone,
    {
        let mut vector = Vec::with_capacity(n, flags)?;
        vector.resize(n, value, flags)?;
        Ok(vector)
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

impl<T, A: Allocator> Default for Vec<T, A> {
    fn default() -> Self {
        Vec::new()
    }
}

impl<T, A: Allocator> Deref for Vec<T, A> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        // SAFETY: `length` elements are initialised at `pointer` (dangling and aligned when empty).
        unsafe { core::slice::from_raw_parts(self.pointer.as_ptr(), self.length) }
    }
}

/// As a slice is (`pr_info!("{:?}\n", numbers)`, as the in-tree crate's KVec prints).
impl<T: fmt::Debug, A: Allocator> fmt::Debug for Vec<T, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// As the value is.
impl<T: fmt::Debug> fmt::Debug for KBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T, A: Allocator> DerefMut for Vec<T, A> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as for deref; &mut self is unique.
        unsafe { core::slice::from_raw_parts_mut(self.pointer.as_ptr(), self.length) }
    }
}

impl<T, A: Allocator> Drop for Vec<T, A> {
    fn drop(&mut self) {
        // SAFETY: the first `length` elements are initialised and dropped once; the memory, when
        // there is any, came from A.
        unsafe {
            core::ptr::drop_in_place(core::ptr::slice_from_raw_parts_mut(self.pointer.as_ptr(), self.length));
            if self.capacity != 0 && core::mem::size_of::<T>() != 0 {
                A::free(self.pointer.as_ptr() as *mut u8);
            }
        }
    }
}

impl<T> crate::init::InPlaceInit<T> for KBox<T> {
    type PinnedSelf = Pin<KBox<T>>;

    fn try_pin_init<E: From<AllocError>>(init: impl PinInit<T, E>, flags: Flags) -> Result<Pin<KBox<T>>, E> {
        KBox::try_pin_init(init, flags)
    }

    fn try_init<E: From<AllocError>>(init: impl crate::init::Init<T, E>, flags: Flags) -> Result<KBox<T>, E> {
        KBox::try_init(init, flags)
    }
}

/// `kvec![]`, `kvec![value; n]` or `kvec![a, b, c]`: a `KVec`, as the in-tree macro makes it
/// (the last two allocate with GFP_KERNEL and give `Result<KVec<_>, AllocError>`).
#[macro_export]
macro_rules! kvec {
    () => {
        $crate::alloc::KVec::new()
    };
    ($value:expr; $n:expr) => {
        $crate::alloc::KVec::from_elem($value, $n, $crate::alloc::flags::GFP_KERNEL)
    };
    ($($item:expr),+ $(,)?) => {{
        let items = [$($item),+];
        match $crate::alloc::KVec::with_capacity(items.len(), $crate::alloc::flags::GFP_KERNEL) {
            Ok(mut vector) => {
                for item in items {
                    // cannot fail: the capacity is there
                    let _ = vector.push(item, $crate::alloc::flags::GFP_KERNEL);
                }
                Ok(vector)
            }
            Err(error) => Err(error),
        }
    }};
}

#[cfg(test)]
mod kvec_tests {
    #[test]
    fn kvec_makes_the_three_forms() {
        let empty: crate::alloc::KVec<u8> = crate::kvec![];
        assert!(empty.is_empty());
        let filled = crate::kvec![0x42u8; 3].unwrap();
        assert_eq!(&filled[..], &[0x42, 0x42, 0x42]);
        let listed = crate::kvec![1, 2, 3].unwrap();
        assert_eq!(&listed[..], &[1, 2, 3]);
    }
}
