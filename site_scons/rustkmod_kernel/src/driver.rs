//! A driver registered with its bus for as long as the module wants it, as the in-tree
//! `kernel::driver`: a bus's adapter (`pci::Adapter<T>`) says how to register a driver `T` of
//! that bus; [`Registration`] holds the C driver structure, pinned, and unregisters it when
//! dropped; `module_pci_driver!` and the others make a module that is just such a registration.
//!
//! Unregistering unbinds every device the driver holds (the bus calls its `remove`, which drops
//! the driver's data), so nothing of the driver runs after its module is gone. A registration
//! that safe code forgets (`mem::forget`) is unregistered by `module!`'s exit all the same (the
//! module's list of what it registered, as for misc devices).

use core::cell::UnsafeCell;
use core::marker::PhantomPinned;
use core::pin::Pin;

use crate::alloc::{flags::GFP_KERNEL, KBox};
use crate::device;
use crate::error::{Error, Result};
use crate::init::PinInit;
use crate::registrations;
use crate::str::CStr;
use crate::ThisModule;

/// How a bus registers a driver.
///
/// # Safety
/// `register` makes `driver` known to the bus (its callbacks may run from then on) or fails
/// leaving nothing registered; `unregister` undoes a successful `register`, and when it returns
/// no callback of the driver runs or will run.
pub unsafe trait RegistrationOps {
    /// The C driver structure (`struct pci_driver`, ...).
    type RegType;

    /// Fills in and registers `driver` (zeroed, pinned until `unregister`).
    ///
    /// # Safety
    /// `driver` is valid, zeroed, and stays at its address until `unregister`.
    unsafe fn register(driver: *mut Self::RegType, name: &'static CStr, module: &'static ThisModule) -> Result;

    /// Unregisters `driver`.
    ///
    /// # Safety
    /// `driver` was registered by `register` and not yet unregistered.
    unsafe fn unregister(driver: *mut Self::RegType);
}

struct Inner<T: RegistrationOps> {
    driver: UnsafeCell<T::RegType>,          // what the bus holds a pointer to
    entry: UnsafeCell<registrations::Entry>, // listed while registered
    _pinned: PhantomPinned,
}

/// A driver registered with its bus until this drops.
pub struct Registration<T: RegistrationOps> {
    inner: Pin<KBox<Inner<T>>>,
}

// SAFETY: the bus serialises registration and removal; Registration hands out nothing.
unsafe impl<T: RegistrationOps> Send for Registration<T> {}
// SAFETY: as for Send.
unsafe impl<T: RegistrationOps> Sync for Registration<T> {}

impl<T: RegistrationOps> Registration<T> {
    /// Registers the driver under `name` (the module's name, as C's `pci_register_driver` does).
    pub fn new(name: &'static CStr, module: &'static ThisModule) -> Result<Self> {
        // SAFETY: all zeroes is a valid C driver structure (C's `= {}`) and a valid list entry
        // (null links, which track overwrites, and an owner set below).
        let inner = KBox::pin(Inner::<T> {
            driver: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            entry: UnsafeCell::new(registrations::Entry::new(core::ptr::null(), Self::remove_forgotten, name)),
            _pinned: PhantomPinned,
        }, GFP_KERNEL)?;
        let owner = &*inner as *const Inner<T> as *const ();
        // SAFETY: the box is pinned and lives until Drop (or, forgotten, for ever), so the entry
        // and the driver keep their addresses while listed and registered; the entry is listed
        // before the bus can call the driver and unlisted only after it is unregistered.
        unsafe {
            *inner.entry.get() = registrations::Entry::new(owner, Self::remove_forgotten, name);
            registrations::track(inner.entry.get())?;
            if let Err(error) = T::register(inner.driver.get(), name, module) {
                registrations::untrack(inner.entry.get());
                return Err(error);
            }
        }
        Ok(Registration { inner })
    }

    /// The module's exit found this registration still listed (forgotten): unregister it.
    ///
    /// # Safety
    /// `owner` is a listed, never freed `Inner<T>` (a forgotten box is never freed), unlisted now.
    unsafe fn remove_forgotten(owner: *const ()) {
        // SAFETY: the caller's promise: still registered.
        unsafe { T::unregister((*(owner as *const Inner<T>)).driver.get()) };
    }
}

impl<T: RegistrationOps> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: registered by new and not yet unregistered (only Drop or the module's exit,
        // for a forgotten one, do); unlisted first so the exit does not unregister it again.
        unsafe {
            registrations::untrack(self.inner.entry.get());
            T::unregister(self.inner.driver.get());
        }
    }
}

/// A bus adapter's probe: makes the driver's data for `dev` with `init` and keeps it, pinned, in
/// the device's drvdata until [`__take_data`]; 0, or the errno that fails the probe.
#[doc(hidden)]
pub fn __probe_into<D>(dev: &device::Device, init: impl PinInit<D, Error>) -> core::ffi::c_int {
    match KBox::pin_init(init, GFP_KERNEL) {
        Ok(data) => {
            // SAFETY: the data stays pinned: __take_data rebuilds the same box; nothing else
            // reads the pointer.
            let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(data) });
            #[cfg(target_os = "none")]
            // SAFETY: the device is live (borrowed); drvdata is the driver's own slot.
            unsafe { crate::bindings::rkk_dev_set_drvdata(dev.as_raw(), raw as *mut core::ffi::c_void) };
            #[cfg(not(target_os = "none"))]
            let _ = (dev, raw);
            0
        }
        Err(error) => error.to_errno(),
    }
}

/// A bus adapter's remove: the driver's data kept by [`__probe_into`], taken back (drvdata cleared).
///
/// # Safety
/// `dev`'s drvdata is the `D` `__probe_into` kept for this binding, not yet taken.
#[doc(hidden)]
#[cfg(target_os = "none")]
pub unsafe fn __take_data<D>(dev: &device::Device) -> Pin<KBox<D>> {
    // SAFETY: the caller's promise: a pinned box of D, given up by __probe_into, taken once.
    unsafe {
        let raw = crate::bindings::rkk_dev_get_drvdata(dev.as_raw()) as *mut D;
        crate::bindings::rkk_dev_set_drvdata(dev.as_raw(), core::ptr::null_mut());
        Pin::new_unchecked(KBox::from_raw(raw))
    }
}

/// `module_driver!(<T>, bus::Adapter<T>, { type: Driver, name: "...", ...module! keys })`: a
/// module whose state is the driver's registration (what `module_pci_driver!` expands to).
#[macro_export]
macro_rules! module_driver {
    (<$generic:ident>, $adapter:ty, { type: $type:ty, name: $name:literal, $($rest:tt)* }) => {
        type __ModuleDriverAdapter<$generic> = $adapter;

        struct __ModuleDriver {
            _driver: $crate::driver::Registration<__ModuleDriverAdapter<$type>>,
        }

        impl $crate::Module for __ModuleDriver {
            fn init(module: &'static $crate::ThisModule) -> $crate::error::Result<Self> {
                Ok(__ModuleDriver {
                    _driver: $crate::driver::Registration::new($crate::c_str!($name), module)?,
                })
            }
        }

        $crate::module! {
            type: __ModuleDriver,
            name: $name,
            $($rest)*
        }
    };
}
