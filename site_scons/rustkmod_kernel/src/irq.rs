//! Interrupt handlers, as the in-tree `kernel::irq`: a [`Registration`] holds a handler, pinned,
//! and the interrupt line it is requested on; the handler runs (in interrupt context: it must not
//! sleep) from the moment the registration is made until it drops, and never after: dropping it
//! frees the line, which waits for a handler still running.
//!
//! A request ([`IrqRequest`]) comes only from a bound device (`pci::Device::irq_vector`), and
//! borrows it: a registration cannot outlive the binding. One that safe code forgets
//! (`mem::forget`) is freed when the driver lets the device go (a devres action), before the
//! device's other resources, so its handler never runs on a device that is gone.

#![cfg_attr(not(target_os = "none"), allow(dead_code, unused_imports))]      // the host requests no lines

use core::marker::PhantomPinned;

use crate::device::{Bound, Device};
use crate::error::{Error, Result};
use crate::init::{pin_init_from_closure, PinInit};
use crate::str::CStr;

#[cfg(target_os = "none")]
use crate::bindings;

/// What a handler says of the interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum IrqReturn {
    /// Not this device's (a shared line).
    None = 0,
    /// Handled.
    Handled = 1,
}

/// What the hard half of a threaded handler says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ThreadedIrqReturn {
    /// Not this device's.
    None = 0,
    /// Handled in full.
    Handled = 1,
    /// Run `handle_threaded` in the interrupt's thread.
    WakeThread = 2,
}

/// A handler: `handle` runs in hard interrupt context, possibly on several CPUs at once (so the
/// handler is `Sync`); it must not sleep.
pub trait Handler: Sync {
    /// Handles the interrupt.
    fn handle(&self) -> IrqReturn;
}

/// A threaded handler: `handle` in interrupt context, `handle_threaded` in a kernel thread (it
/// may sleep).
pub trait ThreadedHandler: Sync {
    /// The hard half: by default, wake the thread.
    fn handle(&self) -> ThreadedIrqReturn {
        ThreadedIrqReturn::WakeThread
    }

    /// The thread's half.
    fn handle_threaded(&self) -> IrqReturn;
}

/// Flags of a request (`IRQF_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flags(core::ffi::c_ulong);

impl Flags {
    /// None.
    pub const NONE: Flags = Flags(0);
    /// The line may be shared with other devices (IRQF_SHARED).
    pub const SHARED: Flags = Flags(0x80);
    /// Keep the line masked until the thread has run (IRQF_ONESHOT).
    pub const ONESHOT: Flags = Flags(0x2000);
    /// Rising edge (IRQF_TRIGGER_RISING).
    pub const TRIGGER_RISING: Flags = Flags(0x1);
    /// Falling edge.
    pub const TRIGGER_FALLING: Flags = Flags(0x2);
    /// High level.
    pub const TRIGGER_HIGH: Flags = Flags(0x4);
    /// Low level.
    pub const TRIGGER_LOW: Flags = Flags(0x8);
}

impl core::ops::BitOr for Flags {
    type Output = Flags;

    fn bitor(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
}

/// An interrupt line of a bound device, ready to be requested; it borrows the device, so the
/// registration made from it cannot outlive the binding.
#[derive(Clone, Copy)]
pub struct IrqRequest<'a> {
    device: &'a Device<Bound>,
    irq: u32,
}

impl<'a> IrqRequest<'a> {
    /// # Safety
    /// `irq` is an interrupt line the bus gave `device` (resolved for it while bound).
    pub(crate) unsafe fn new(device: &'a Device<Bound>, irq: u32) -> IrqRequest<'a> {
        IrqRequest { device, irq }
    }

    /// The line's number.
    pub fn irq(&self) -> u32 {
        self.irq
    }
}

/// What both kinds of registration keep beside their handler.
struct Line<'a> {
    request: IrqRequest<'a>,
}

/// `hard` and `thread` requested on `request`'s line, with `slot` (the registration, pinned) as the cookie;
/// the devres action frees a forgotten registration's line at unbind.
///
/// # Safety
/// `slot` is a pinned registration whose handler is made, and whose `Drop` calls `release`.
#[cfg(target_os = "none")]
unsafe fn request_line(request: IrqRequest<'_>, flags: Flags, name: &'static CStr, slot: *mut core::ffi::c_void,
                  hard: bindings::irq_handler_t, thread: bindings::irq_handler_t,
                  forgotten: unsafe extern "C" fn(*mut core::ffi::c_void)) -> Result {
    // SAFETY: the line is the device's (IrqRequest's promise), the cookie lives until free_irq
    // (the caller's), and the name is 'static.
    crate::error::to_result(unsafe {
        bindings::rkk_request_irq(request.irq, hard, thread, flags.0, name.as_ptr(), slot)
    })?;
    // SAFETY: the device is bound; the action's data is the registration, valid until its Drop
    // removes the action, or for ever when it is forgotten (pinned memory is never freed
    // without its Drop).
    let status = unsafe { bindings::rkk_devm_add_action(request.device.as_raw(), Some(forgotten), slot) };
    if status != 0 {
        // SAFETY: requested just above with this cookie.
        unsafe { bindings::rkk_irq_free(request.irq, slot) };
        return Err(Error::from_errno(status));
    }
    Ok(())
}

/// Frees the line of a registration that is dropping: the action first (it must not run later
/// on freed memory), then the line, which waits for a running handler.
///
/// # Safety
/// `slot` is the cookie `request` registered, for this line, and not yet released.
#[cfg(target_os = "none")]
unsafe fn release(line: &Line<'_>, slot: *mut core::ffi::c_void, forgotten: unsafe extern "C" fn(*mut core::ffi::c_void)) {
    // SAFETY: the caller's promise; the device is still bound (the request's borrow).
    unsafe {
        bindings::devm_remove_action(line.request.device.as_raw(), Some(forgotten), slot);
        bindings::rkk_irq_free(line.request.irq, slot);
    }
}

macro_rules! registration {
    ($(#[$doc:meta])* $name:ident, $trait:ident, $hard:ident, $thread:expr) => {
        $(#[$doc])*
        #[repr(C)]
        pub struct $name<'a, T: $trait> {
            handler: T,                 // first: the cookie is the registration, the handler at it
            line: Line<'a>,
            _pinned: PhantomPinned,
        }

        impl<'a, T: $trait + 'a> $name<'a, T> {
            /// Requests `request`'s line for `handler` (made in place) under `name`.
            pub fn new<E>(request: IrqRequest<'a>, flags: Flags, name: &'static CStr,
                          handler: impl PinInit<T, E> + 'a) -> impl PinInit<Self, Error> + 'a
            where
                Error: From<E>,
            {
                let init = move |slot: *mut Self| {
                    // SAFETY: PinInit's caller gives a valid slot that never moves; the handler is
                    // made before the line is requested (its interrupt may come at once) and
                    // dropped in place when the request fails.
                    unsafe {
                        handler.__pinned_init(core::ptr::addr_of_mut!((*slot).handler)).map_err(Error::from)?;
                        core::ptr::addr_of_mut!((*slot).line).write(Line { request });
                        #[cfg(target_os = "none")]
                        if let Err(error) = request_line(request, flags, name, slot as *mut core::ffi::c_void,
                                                         Some($hard::<T>), $thread, Self::forgotten) {
                            core::ptr::drop_in_place(core::ptr::addr_of_mut!((*slot).handler));
                            return Err(error);
                        }
                        #[cfg(not(target_os = "none"))]
                        let _ = (flags, name);
                    }
                    Ok(())
                };
                // SAFETY: the closure makes every field, or returns the error leaving none made.
                unsafe { pin_init_from_closure(init) }
            }
        }

        impl<'a, T: $trait> $name<'a, T> {
            /// The handler.
            pub fn handler(&self) -> &T {
                &self.handler
            }

            /// Waits for a handler running on another CPU to finish.
            pub fn synchronize(&self) {
                #[cfg(target_os = "none")]
                // SAFETY: the line is requested while self lives.
                unsafe { bindings::rkk_irq_synchronize(self.line.request.irq) };
            }

            /// The devres action of a forgotten registration (see the module's docs).
            ///
            /// # Safety
            /// `slot` is a registration that was forgotten (never dropped), at unbind.
            #[cfg(target_os = "none")]
            unsafe extern "C" fn forgotten(slot: *mut core::ffi::c_void) {
                // SAFETY: forgotten, so still requested and its memory still valid.
                unsafe { bindings::rkk_irq_free((*(slot as *const Self)).line.request.irq, slot) };
            }
        }

        impl<T: $trait> Drop for $name<'_, T> {
            fn drop(&mut self) {
                #[cfg(target_os = "none")]
                {
                    let cookie = self as *mut Self as *mut core::ffi::c_void;
                    // SAFETY: requested by new with self as the cookie, released once, here; the
                    // handler drops after (fields drop after Drop), when no handler runs any more.
                    unsafe { release(&self.line, cookie, Self::forgotten) };
                }
            }
        }

        // SAFETY: the registration hands out only `&T` (T: Sync) and frees its line from any thread.
        unsafe impl<T: $trait + Send> Send for $name<'_, T> {}
        // SAFETY: as above.
        unsafe impl<T: $trait> Sync for $name<'_, T> {}
    };
}

registration!(
    /// A handler requested on an interrupt line while this lives.
    Registration, Handler, hard_callback, None
);

registration!(
    /// A threaded handler requested on an interrupt line while this lives.
    ThreadedRegistration, ThreadedHandler, threaded_hard_callback, Some(thread_callback::<T>)
);

#[cfg(target_os = "none")]
impl IrqReturn {
    /// What C's irqreturn_t holds for it (IRQ_NONE 0, IRQ_HANDLED 1).
    fn raw(self) -> bindings::irqreturn_t {
        self as u32 as bindings::irqreturn_t
    }
}

#[cfg(target_os = "none")]
impl ThreadedIrqReturn {
    /// What C's irqreturn_t holds for it (IRQ_WAKE_THREAD 2).
    fn raw(self) -> bindings::irqreturn_t {
        self as u32 as bindings::irqreturn_t
    }
}

/// # Safety
/// Only as the hard handler of a `Registration<T>`, whose cookie it gets.
#[cfg(target_os = "none")]
unsafe extern "C" fn hard_callback<T: Handler>(_irq: core::ffi::c_int, cookie: *mut core::ffi::c_void) -> bindings::irqreturn_t {
    // SAFETY: the cookie is the registration, whose handler is its first field and lives until
    // free_irq returns.
    unsafe { &*(cookie as *const T) }.handle().raw()
}

/// # Safety
/// Only as the hard handler of a `ThreadedRegistration<T>`.
#[cfg(target_os = "none")]
unsafe extern "C" fn threaded_hard_callback<T: ThreadedHandler>(_irq: core::ffi::c_int, cookie: *mut core::ffi::c_void)
    -> bindings::irqreturn_t {
    // SAFETY: as for hard_callback.
    unsafe { &*(cookie as *const T) }.handle().raw()
}

/// # Safety
/// Only as the thread handler of a `ThreadedRegistration<T>`.
#[cfg(target_os = "none")]
unsafe extern "C" fn thread_callback<T: ThreadedHandler>(_irq: core::ffi::c_int, cookie: *mut core::ffi::c_void)
    -> bindings::irqreturn_t {
    // SAFETY: as for hard_callback.
    unsafe { &*(cookie as *const T) }.handle_threaded().raw()
}
