//! `Arc<T>`: a value shared by reference count in kmalloc'd memory, freed with its last owner,
//! as the in-tree `kernel::sync::Arc`. Its value never moves, so `Arc::pin_init` may hold a lock.

use core::ops::Deref;
use core::ptr::NonNull;
use core::sync::atomic::{fence, AtomicUsize, Ordering};

use crate::alloc::{AllocError, Flags, KBox};
use crate::error::Result;
use crate::init::{InitClosure, PinInit};

struct Inner<T> {
    count: AtomicUsize,
    value: T,
}

/// A shared `T`; cloning adds an owner, dropping the last one drops the value.
pub struct Arc<T> {
    inner: NonNull<Inner<T>>,
}

// SAFETY: as std's Arc: owners on other threads see a T that is Send + Sync.
unsafe impl<T: Send + Sync> Send for Arc<T> {}
// SAFETY: as for Send.
unsafe impl<T: Send + Sync> Sync for Arc<T> {}

impl<T> Arc<T> {
    /// `value`, shared, in memory allocated with `flags`.
    pub fn new(value: T, flags: Flags) -> core::result::Result<Arc<T>, AllocError> {
        let inner = KBox::new(Inner { count: AtomicUsize::new(1), value }, flags)?;
        // SAFETY: into_raw's pointer is never null.
        Ok(Arc { inner: unsafe { NonNull::new_unchecked(KBox::into_raw(inner)) } })
    }

    /// A `T` made in place by `init` (a lock from `new_mutex!`), shared.
    pub fn pin_init(init: impl PinInit<T>, flags: Flags) -> Result<Arc<T>> {
        let inner_init = move |slot: *mut Inner<T>| {
            // SAFETY: the slot is valid and pinned (PinInit's caller); `init` fills the value.
            unsafe {
                core::ptr::addr_of_mut!((*slot).count).write(AtomicUsize::new(1));
                init.__pinned_init(core::ptr::addr_of_mut!((*slot).value))
            }
        };
        // SAFETY: the closure initialises both fields or returns the init's error.
        let boxed = KBox::pin_init(unsafe { InitClosure::new(inner_init) }, flags)?;
        // SAFETY: the Arc never moves its value, as the pin promised.
        let raw = KBox::into_raw(unsafe { core::pin::Pin::into_inner_unchecked(boxed) });
        // SAFETY: into_raw's pointer is never null.
        Ok(Arc { inner: unsafe { NonNull::new_unchecked(raw) } })
    }

    fn inner(&self) -> &Inner<T> {
        // SAFETY: the memory lives while an owner does, and this is one.
        unsafe { self.inner.as_ref() }
    }
}

impl<T> Clone for Arc<T> {
    fn clone(&self) -> Arc<T> {
        self.inner().count.fetch_add(1, Ordering::Relaxed);
        Arc { inner: self.inner }
    }
}

impl<T> Deref for Arc<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner().value
    }
}

impl<T> Drop for Arc<T> {
    fn drop(&mut self) {
        if self.inner().count.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        fence(Ordering::Acquire);
        // SAFETY: the last owner: nothing else reaches the memory, which came from KBox.
        drop(unsafe { KBox::from_raw(self.inner.as_ptr()) });
    }
}
