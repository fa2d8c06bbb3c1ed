//! `Arc<T>`: a value shared by reference count in kmalloc'd memory, freed with its last owner,
//! as the in-tree `kernel::sync::Arc`. Its value never moves, so `Arc::pin_init` may hold a lock.
//!
//! The count saturates as the kernel's `refcount_t` does: `mem::forget` of clones can push it
//! past half its range (2^31 clones on a 32-bit kernel, a few seconds), and from there it stays
//! pinned at [`SATURATED`], the value is never freed (a leak, with a warning) and never freed
//! early (which a wrapped count would do, then a use after free).

use core::ops::Deref;
use core::ptr::NonNull;
use core::sync::atomic::{fence, AtomicUsize, Ordering};

use crate::alloc::{AllocError, Flags, KBox};
use crate::error::{Error, Result};
use crate::init::{pin_init_from_closure, PinInit};

/// Where a saturated count stays: the middle of the upper half, so that racing increments and
/// decrements from there neither wrap nor reach 0.
pub const SATURATED: usize = usize::MAX / 4 * 3;

/// Past this (a count with its top bit set) the count is saturated.
const LIMIT: usize = usize::MAX / 2;

struct Inner<T: ?Sized> {
    count: AtomicUsize,
    value: T,
}

/// A shared `T`; cloning adds an owner, dropping the last one drops the value. `T` may be
/// unsized: an `Arc<i32>` coerces to an `Arc<dyn Display>`.
pub struct Arc<T: ?Sized> {
    inner: NonNull<Inner<T>>,
}

// SAFETY: as std's Arc: owners on other threads see a T that is Send + Sync.
unsafe impl<T: ?Sized + Send + Sync> Send for Arc<T> {}
// SAFETY: as for Send.
unsafe impl<T: ?Sized + Send + Sync> Sync for Arc<T> {}

// An Arc of a sized value is an Arc of what it can be seen as (a trait object, a slice).
impl<T: ?Sized + core::marker::Unsize<U>, U: ?Sized> core::ops::CoerceUnsized<Arc<U>> for Arc<T> {}

impl<T> Arc<T> {
    /// `value`, shared, in memory allocated with `flags`.
    pub fn new(value: T, flags: Flags) -> core::result::Result<Arc<T>, AllocError> {
        let inner = KBox::new(Inner { count: AtomicUsize::new(1), value }, flags)?;
        // SAFETY: into_raw's pointer is never null.
        Ok(Arc { inner: unsafe { NonNull::new_unchecked(KBox::into_raw(inner)) } })
    }

    /// A `T` made in place by `init` (a lock from `new_mutex!`), shared; `init`'s own error type.
    pub fn try_pin_init<E: From<AllocError>>(init: impl PinInit<T, E>, flags: Flags) -> core::result::Result<Arc<T>, E> {
        let inner_init = move |slot: *mut Inner<T>| {
            // SAFETY: the slot is valid and pinned (PinInit's caller); `init` fills the value.
            unsafe {
                core::ptr::addr_of_mut!((*slot).count).write(AtomicUsize::new(1));
                init.__pinned_init(core::ptr::addr_of_mut!((*slot).value))
            }
        };
        // SAFETY: the closure initialises both fields or returns the init's error.
        let boxed = KBox::try_pin_init(unsafe { pin_init_from_closure(inner_init) }, flags)?;
        // SAFETY: the Arc never moves its value, as the pin promised.
        let raw = KBox::into_raw(unsafe { core::pin::Pin::into_inner_unchecked(boxed) });
        // SAFETY: into_raw's pointer is never null.
        Ok(Arc { inner: unsafe { NonNull::new_unchecked(raw) } })
    }

    /// As [`try_pin_init`](Arc::try_pin_init), errors as kernel errors.
    pub fn pin_init<E>(init: impl PinInit<T, E>, flags: Flags) -> Result<Arc<T>>
    where
        Error: From<E>,
    {
        // SAFETY: only the error is mapped.
        let mapped = unsafe { pin_init_from_closure(move |slot: *mut T| init.__pinned_init(slot).map_err(Error::from)) };
        Arc::try_pin_init(mapped, flags)
    }

    /// Gives up this owner to a pointer to the value (`from_raw` takes it back).
    pub fn into_raw(arc: Arc<T>) -> *const T {
        let inner = arc.inner.as_ptr();
        core::mem::forget(arc);
        // SAFETY: the owner kept by the pointer keeps the memory.
        unsafe { core::ptr::addr_of!((*inner).value) }
    }

    /// Takes back an owner given up by `into_raw`.
    ///
    /// # Safety
    /// `value` came from `Arc::into_raw` of this type, and is taken back once.
    pub unsafe fn from_raw(value: *const T) -> Arc<T> {
        let offset = core::mem::offset_of!(Inner<T>, value);
        // SAFETY: into_raw's pointer is `offset` bytes into the Inner it came from.
        Arc { inner: unsafe { NonNull::new_unchecked((value as *mut u8).sub(offset) as *mut Inner<T>) } }
    }

}

impl<T: ?Sized> Arc<T> {
    fn inner(&self) -> &Inner<T> {
        // SAFETY: the memory lives while an owner does, and this is one.
        unsafe { self.inner.as_ref() }
    }
}

impl<T: ?Sized> Clone for Arc<T> {
    fn clone(&self) -> Arc<T> {
        let count = &self.inner().count;
        if count.fetch_add(1, Ordering::Relaxed) >= LIMIT {
            saturate(count);
        }
        Arc { inner: self.inner }
    }
}

/// Pins a count that went past `LIMIT` at SATURATED, saying so once.
#[cold]
fn saturate(count: &AtomicUsize) {
    if count.swap(SATURATED, Ordering::Relaxed) != SATURATED {
        crate::pr_warn!("an Arc's count overflowed: saturated, its value is leaked\n");
    }
}

impl<T: ?Sized> Deref for Arc<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner().value
    }
}

impl<T: ?Sized> Drop for Arc<T> {
    fn drop(&mut self) {
        let count = &self.inner().count;
        let before = count.fetch_sub(1, Ordering::Release);
        if before != 1 {
            if before > LIMIT {
                saturate(count);          // stays saturated: never reaches 0
            }
            return;
        }
        fence(Ordering::Acquire);
        // SAFETY: the last owner: nothing else reaches the value or the memory, which came from
        // KBox (kmalloc) as an Inner of the sized type this one was coerced from.
        unsafe {
            core::ptr::drop_in_place(self.inner.as_ptr());
            crate::alloc::free_bytes(self.inner.as_ptr() as *mut u8);
        }
    }
}

impl<T: ?Sized + core::fmt::Display> core::fmt::Display for Arc<T> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(&**self, formatter)
    }
}

impl<T: ?Sized + core::fmt::Debug> core::fmt::Debug for Arc<T> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&**self, formatter)
    }
}

/// An `Arc` with one owner, so its value may be changed (`DerefMut`); `.into()` shares it.
pub struct UniqueArc<T> {
    arc: Arc<T>,
}

impl<T> UniqueArc<T> {
    /// `value`, in memory allocated with `flags`.
    pub fn new(value: T, flags: Flags) -> core::result::Result<UniqueArc<T>, AllocError> {
        Ok(UniqueArc { arc: Arc::new(value, flags)? })
    }
}

impl<T> Deref for UniqueArc<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.arc
    }
}

impl<T> core::ops::DerefMut for UniqueArc<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: a UniqueArc is the only owner (its Arc is never cloned), so no other
        // reference to the value exists.
        unsafe { &mut (*self.arc.inner.as_ptr()).value }
    }
}

impl<T> From<UniqueArc<T>> for Arc<T> {
    fn from(unique: UniqueArc<T>) -> Arc<T> {
        unique.arc
    }
}

impl<T: core::fmt::Display> core::fmt::Display for UniqueArc<T> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(&**self, formatter)
    }
}

impl<T: core::fmt::Debug> core::fmt::Debug for UniqueArc<T> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&**self, formatter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc::flags::GFP_KERNEL;

    fn count<T>(arc: &Arc<T>) -> usize {
        arc.inner().count.load(Ordering::Relaxed)
    }

    #[test]
    fn the_last_owner_frees_the_value() {
        let first = Arc::new(std::string::String::from("shared"), GFP_KERNEL).unwrap();
        let second = first.clone();
        assert_eq!(count(&first), 2);
        drop(first);
        assert_eq!(count(&second), 1);
        assert_eq!(*second, "shared");
    }

    #[test]
    fn a_count_near_overflow_saturates_and_never_frees() {
        let arc = Arc::new(5u32, GFP_KERNEL).unwrap();
        // as if 2^63 clones had been forgotten (2^31 on a 32-bit kernel)
        arc.inner().count.store(LIMIT, Ordering::Relaxed);
        let clones: std::vec::Vec<_> = (0..3).map(|_| arc.clone()).collect();
        assert_eq!(count(&arc), SATURATED);
        drop(clones);
        assert_eq!(count(&arc), SATURATED);
        arc.inner().count.store(usize::MAX, Ordering::Relaxed);   // a count that wrapped past the top
        let _again = arc.clone();
        assert_eq!(count(&arc), SATURATED);
        let leaked = arc.inner;
        drop(arc);
        drop(_again);
        // SAFETY: saturated: the memory was never freed.
        let inner = unsafe { leaked.as_ref() };
        assert_eq!((inner.count.load(Ordering::Relaxed), inner.value), (SATURATED, 5));
        inner.count.store(1, Ordering::Relaxed);        // the test's own: free it (LeakSanitizer)
        drop(Arc { inner: leaked });
    }
}
