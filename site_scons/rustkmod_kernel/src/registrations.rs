//! What this module has registered with the kernel, so that nothing it registered outlives it.
//!
//! A registration (a misc device, say) removes itself when dropped, but safe code may also
//! `mem::forget` it: its memory then stays allocated (a pinned value is never freed without its
//! `Drop`), and the kernel would keep a device whose callbacks are gone at `rmmod`. So every
//! registration is listed here while it is registered, and `module!`'s exit removes any left once
//! the module's state is dropped, with a warning naming it.
//!
//! The module is also *live* here only once its `init` returned `Ok`: a device of a module still
//! in `init` (or failing it) refuses to open (`ENODEV`), since the kernel frees a module whose
//! `init` failed whatever files of it are open.
//!
//! The list is this module's own (each `.ko` links its own copy of the kernel crate), behind a
//! kernel mutex made when `module!`'s init starts. On the host (tests) nothing is registered with
//! a kernel, so nothing is listed, and a module counts as live.

use core::ffi::CStr;

/// A registration's entry in the list: where it is, and how to remove it.
#[cfg_attr(not(target_os = "none"), allow(dead_code))]      // the host lists nothing
pub struct Entry {
    next: *mut Entry,
    prev: *mut Entry,
    owner: *const (),
    remove: unsafe fn(*const ()),
    name: &'static CStr,
}

impl Entry {
    /// An entry for the registration at `owner`, which `remove(owner)` deregisters.
    pub const fn new(owner: *const (), remove: unsafe fn(*const ()), name: &'static CStr) -> Entry {
        Entry { next: core::ptr::null_mut(), prev: core::ptr::null_mut(), owner, remove, name }
    }
}

#[cfg(target_os = "none")]
mod list {
    use core::cell::UnsafeCell;
    use core::mem::MaybeUninit;
    use core::sync::atomic::{AtomicBool, Ordering};

    use super::Entry;
    use crate::error::{code, Result};
    use crate::sync::{Backend, LockClassKey, MutexBackend};

    type State = <MutexBackend as Backend>::State;

    struct List {
        lock: UnsafeCell<MaybeUninit<State>>,
        head: UnsafeCell<*mut Entry>,
        started: AtomicBool,
        live: AtomicBool,
    }

    // SAFETY: `head` is touched only with `lock` held; `lock` is made once, in `start`, before
    // `started` is set (Release), and used only after `started` is seen (Acquire).
    unsafe impl Sync for List {}

    static LIST: List = List {
        lock: UnsafeCell::new(MaybeUninit::uninit()),
        head: UnsafeCell::new(core::ptr::null_mut()),
        started: AtomicBool::new(false),
        live: AtomicBool::new(false),
    };
    // SAFETY: this static's value, where it stays.
    static KEY: LockClassKey = unsafe { LockClassKey::new_static() };

    fn with_lock<R>(body: impl FnOnce(*mut *mut Entry) -> R) -> R {
        let lock = LIST.lock.get() as *mut State;
        // SAFETY: callers checked `started`, so the mutex was made; `head` is ours while it is held.
        unsafe {
            MutexBackend::lock(lock);
            let result = body(LIST.head.get());
            MutexBackend::unlock(lock);
            result
        }
    }

    /// # Safety
    /// Called once, by `module!`'s init_module, before the module's `init`.
    pub unsafe fn start() {
        // SAFETY: the static's memory never moves; the key is static; nothing else runs yet.
        unsafe { MutexBackend::init(LIST.lock.get() as *mut State, c"rustkmod registrations", &KEY) };
        LIST.started.store(true, Ordering::Release);
    }

    /// The module's `init` returned `Ok`: its devices may open from now on.
    pub fn set_live() {
        LIST.live.store(true, Ordering::Release);
    }

    pub fn is_live() -> bool {
        LIST.live.load(Ordering::Acquire)
    }

    /// Lists `entry` (a registration about to register). EINVAL when the module was not declared
    /// with `module!`, whose init makes the list.
    ///
    /// # Safety
    /// `entry` is valid and stays at its address until `untrack(entry)`.
    pub unsafe fn track(entry: *mut Entry) -> Result {
        if !LIST.started.load(Ordering::Acquire) {
            crate::pr_err!("a device was registered by a module not declared with kernel::module!\n");
            return Err(code::EINVAL);
        }
        with_lock(|head| {
            // SAFETY: the list's entries are valid while listed (track's promise); the lock is held.
            unsafe {
                (*entry).prev = core::ptr::null_mut();
                (*entry).next = *head;
                if !(*head).is_null() {
                    (**head).prev = entry;
                }
                *head = entry;
            }
        });
        Ok(())
    }

    /// Unlists `entry`.
    ///
    /// # Safety
    /// `entry` was listed by `track` and not yet unlisted.
    pub unsafe fn untrack(entry: *mut Entry) {
        with_lock(|head| {
            // SAFETY: as for track.
            unsafe {
                let (prev, next) = ((*entry).prev, (*entry).next);
                if prev.is_null() { *head = next } else { (*prev).next = next }
                if !next.is_null() {
                    (*next).prev = prev;
                }
            }
        });
    }

    /// Removes what is still listed: registrations the module's code forgot.
    ///
    /// # Safety
    /// Called once, by `module!`'s exit (or its init, failing), after the module's state is
    /// dropped: no code of the module runs any more but this.
    pub unsafe fn remove_leftovers() {
        LIST.live.store(false, Ordering::Release);
        if !LIST.started.load(Ordering::Acquire) {
            return;
        }
        loop {
            let entry = with_lock(|head| {
                // SAFETY: the lock is held; a listed entry is valid.
                unsafe {
                    let entry = *head;
                    if !entry.is_null() {
                        *head = (*entry).next;
                        if !(*head).is_null() {
                            (**head).prev = core::ptr::null_mut();
                        }
                    }
                    entry
                }
            });
            if entry.is_null() {
                return;
            }
            // SAFETY: a forgotten registration: pinned memory that was never dropped, so never
            // freed, and still registered; `remove` deregisters it, once (it is unlisted).
            unsafe {
                crate::pr_warn!("{} was never dropped (mem::forget?): removed at unload\n",
                                (*entry).name.to_str().unwrap_or("a device"));
                ((*entry).remove)((*entry).owner);
            }
        }
    }
}

#[cfg(target_os = "none")]
pub use list::{is_live, remove_leftovers, set_live, start, track, untrack};

/// On the host: nothing registers with a kernel, so nothing is listed.
#[cfg(not(target_os = "none"))]
mod host {
    use super::Entry;
    use crate::error::Result;

    /// # Safety
    /// As the kernel half's.
    pub unsafe fn track(_entry: *mut Entry) -> Result {
        Ok(())
    }

    /// # Safety
    /// As the kernel half's.
    pub unsafe fn untrack(_entry: *mut Entry) {}
}

#[cfg(not(target_os = "none"))]
pub use host::{track, untrack};
