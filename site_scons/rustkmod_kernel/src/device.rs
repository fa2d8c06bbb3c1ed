//! A device as the driver core knows it, as the in-tree `kernel::device`: `Device<Ctx>`, where
//! the context says what the reference may do. `Device` (`Normal`) is any device; a bus callback
//! (a driver's `probe`, `unbind`) gets `Device<Core<'_>>`, which may do what only the driver core's
//! callbacks may (enable the device, map its registers), and derefs to `Device<Bound>` (the device
//! is bound to its driver for as long as the reference lives) and on to `Device`.
//!
//! `dev_info!(dev, "...")` and the other levels print with the device's driver (or class) and
//! name in front, as C's `dev_info()` does, for any device of any bus.

use core::fmt;
use core::marker::{PhantomData, PhantomPinned};

pub mod property;

mod private {
    pub trait Sealed {}
}

/// What a `Device<Ctx>` reference may do (sealed: only the contexts below).
pub trait DeviceContext: private::Sealed {}

/// Any device: the default context, the only one a reference count ([`crate::types::ARef`]) holds.
pub struct Normal;
/// Bound to its driver while the reference lives: what a driver's data may hold.
pub struct Bound;
/// Inside a bus callback (`probe`, `unbind`): the lifetime brands the reference to that one call
/// (invariant, so no reference made for one call fits another's).
pub struct Core<'a>(PhantomData<fn(&'a ()) -> &'a ()>);

impl private::Sealed for Normal {}
impl private::Sealed for Bound {}
impl private::Sealed for Core<'_> {}
impl DeviceContext for Normal {}
impl DeviceContext for Bound {}
impl DeviceContext for Core<'_> {}

/// The kernel's `struct device`, only ever behind a reference.
#[repr(C)]
pub struct Device<Ctx: DeviceContext = Normal> {
    _opaque: [u8; 0],
    _pinned: PhantomPinned,
    _context: PhantomData<Ctx>,
}

impl<Ctx: DeviceContext> Device<Ctx> {
    /// # Safety
    /// `pointer` is a live `struct device` that outlives `'a`, in context `Ctx` for all of `'a`
    /// (bound to its driver for `Bound`; inside the bus callback `'a` lasts for `Core`).
    #[cfg(target_os = "none")]
    pub unsafe fn from_raw<'a>(pointer: *mut crate::bindings::device) -> &'a Self {
        // SAFETY: the caller's promise; Device is only ever a reference to the C object.
        unsafe { &*(pointer as *const Self) }
    }

    /// The `struct device *` to hand to C.
    #[cfg(target_os = "none")]
    pub fn as_raw(&self) -> *mut crate::bindings::device {
        self as *const Self as *mut crate::bindings::device
    }

    /// Prints `args` as this device's line at printk `level` (what `dev_info!` and the others call).
    #[doc(hidden)]
    pub fn __log(&self, level: i32, args: fmt::Arguments<'_>) {
        log(self.as_normal(), level, args);
    }

    fn as_normal(&self) -> &Device {
        // SAFETY: the contexts differ only in what the type allows; the layout is the same, and
        // every device is a Normal one.
        unsafe { &*(self as *const Self as *const Device) }
    }
}

impl Device {
    /// On the host (tests): a device that prints to stderr.
    #[cfg(not(target_os = "none"))]
    pub fn host() -> &'static Device {
        static HOST: Device = Device { _opaque: [], _pinned: PhantomPinned, _context: PhantomData };
        &HOST
    }
}

/// `Core` derefs to `Bound` and `Bound` to the `Normal` context, for a device type generic over
/// its context (`device::Device`, `pci::Device`): a reference may always do less.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_device_context_deref {
    ($device:ident) => {
        impl ::core::ops::Deref for $device<$crate::device::Bound> {
            type Target = $device;

            fn deref(&self) -> &$device {
                // SAFETY: the contexts differ only in what the type allows; the layout is the
                // same, and every bound device is a device.
                unsafe { &*(self as *const Self as *const $device) }
            }
        }

        impl<'a> ::core::ops::Deref for $device<$crate::device::Core<'a>> {
            type Target = $device<$crate::device::Bound>;

            fn deref(&self) -> &$device<$crate::device::Bound> {
                // SAFETY: inside a bus callback the device is bound to the driver whose callback
                // it is; the layout is the same.
                unsafe { &*(self as *const Self as *const $device<$crate::device::Bound>) }
            }
        }
    };
}

crate::__impl_device_context_deref!(Device);

/// What every bus's device type (`pci::Device<Ctx>`, `platform::Device<Ctx>`, ...) is: a
/// reference to the bus's C structure (`$raw`) that holds a `struct device` (`$device_of` gives
/// it), with the context derefs, `AsRef<device::Device<Ctx>>`, and Send/Sync as for any device.
#[doc(hidden)]
#[macro_export]
macro_rules! __bus_device {
    ($device:ident, $raw:ty, $device_of:path) => {
        impl<Ctx: $crate::device::DeviceContext> $device<Ctx> {
            #[cfg(target_os = "none")]
            fn as_raw(&self) -> *mut $raw {
                self as *const Self as *mut $raw
            }

            /// # Safety
            /// `raw` is a live device of the bus, in context `Ctx`, for all of `'a`.
            #[cfg(target_os = "none")]
            unsafe fn from_raw<'a>(raw: *mut $raw) -> &'a Self {
                // SAFETY: the caller's promise; the type is only ever a reference to the C object.
                unsafe { &*(raw as *const Self) }
            }
        }

        $crate::__impl_device_context_deref!($device);

        impl<Ctx: $crate::device::DeviceContext> AsRef<$crate::device::Device<Ctx>> for $device<Ctx> {
            fn as_ref(&self) -> &$crate::device::Device<Ctx> {
                #[cfg(target_os = "none")]
                // SAFETY: the bus device's struct device lives as long as it, in the same context.
                return unsafe { $crate::device::Device::from_raw($device_of(self.as_raw())) };
                #[cfg(not(target_os = "none"))]
                // SAFETY: on the host every device is the host's, which prints to stderr.
                return unsafe {
                    &*($crate::device::Device::host() as *const $crate::device::Device
                       as *const $crate::device::Device<Ctx>)
                };
            }
        }

        // SAFETY: get_device on the bus device's struct device keeps the whole bus device alive
        // (its release frees it) until put_device, from any thread.
        unsafe impl $crate::types::AlwaysRefCounted for $device {
            fn inc_ref(&self) {
                let device: &$crate::device::Device = self.as_ref();
                $crate::types::AlwaysRefCounted::inc_ref(device);
            }

            unsafe fn dec_ref(raw: ::core::ptr::NonNull<$device>) {
                // SAFETY: the caller holds a count (taken on the struct device) and gives it up;
                // the bus device is live until then.
                unsafe {
                    let device: &$crate::device::Device = raw.as_ref().as_ref();
                    <$crate::device::Device as $crate::types::AlwaysRefCounted>::dec_ref(::core::ptr::NonNull::from(device));
                }
            }
        }

        // A reference in any context counts as one of the device (`pdev.into()`, as in-tree).
        impl<'a> From<&$device<$crate::device::Core<'a>>> for $crate::types::ARef<$device> {
            fn from(bound: &$device<$crate::device::Core<'a>>) -> $crate::types::ARef<$device> {
                let normal: &$device = bound;
                normal.into()
            }
        }

        impl From<&$device<$crate::device::Bound>> for $crate::types::ARef<$device> {
            fn from(bound: &$device<$crate::device::Bound>) -> $crate::types::ARef<$device> {
                let normal: &$device = bound;
                normal.into()
            }
        }

        // SAFETY: a bus's device may be used from any thread (the driver core locks what it changes).
        unsafe impl Send for $device {}
        // SAFETY: as above.
        unsafe impl Sync for $device {}
        // SAFETY: as above; a Bound reference is only made while the binding outlives it.
        unsafe impl Sync for $device<$crate::device::Bound> {}
    };
}

impl<Ctx: DeviceContext> AsRef<Device<Ctx>> for Device<Ctx> {
    fn as_ref(&self) -> &Device<Ctx> {
        self
    }
}

// SAFETY: a struct device may be used from any thread (the driver core locks what it changes);
// a Normal reference does nothing a Bound one could not.
unsafe impl Send for Device {}
// SAFETY: as above.
unsafe impl Sync for Device {}
// SAFETY: as above; a Bound reference is only made where the binding outlives it.
unsafe impl Sync for Device<Bound> {}

// SAFETY: get_device takes a count that keeps the struct device alive until put_device, from any
// thread; on the host the device is a static.
unsafe impl crate::types::AlwaysRefCounted for Device {
    fn inc_ref(&self) {
        #[cfg(target_os = "none")]
        // SAFETY: the device is live (borrowed); get_device adds a count.
        unsafe { crate::bindings::get_device(self.as_raw()) };
    }

    unsafe fn dec_ref(device: core::ptr::NonNull<Device>) {
        #[cfg(target_os = "none")]
        // SAFETY: the caller holds a count and gives it up.
        unsafe { crate::bindings::put_device(device.as_ptr() as *mut crate::bindings::device) };
        #[cfg(not(target_os = "none"))]
        let _ = device;
    }
}

/// Formats and logs `args` for `device` at printk `level`.
#[doc(hidden)]
pub fn log(device: &Device, level: i32, args: fmt::Arguments<'_>) {
    let line = rustkmod_rt::print::Line::format_whole(args);
    let text = line.as_bytes();
    #[cfg(target_os = "none")]
    // SAFETY: the device is live (it is borrowed); the C side reads `len` bytes and keeps none.
    unsafe {
        crate::bindings::rkk_dev_log(device.as_raw(), level, text.as_ptr() as *const core::ffi::c_char, text.len())
    };
    #[cfg(not(target_os = "none"))]
    {
        let _ = device;
        std::eprintln!("<{level}> device: {}", std::string::String::from_utf8_lossy(text));
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __dev_log {
    ($level:expr, $device:expr, $($arg:tt)*) => {
        $crate::device::Device::__log(($device).as_ref(), $level, $crate::fmt!($($arg)*))
    };
}

/// `dev_emerg!(device, "...", ...)`: the device's line at KERN_EMERG.
#[macro_export]
macro_rules! dev_emerg { ($device:expr, $($arg:tt)*) => { $crate::__dev_log!(0, $device, $($arg)*) } }
/// At KERN_ALERT.
#[macro_export]
macro_rules! dev_alert { ($device:expr, $($arg:tt)*) => { $crate::__dev_log!(1, $device, $($arg)*) } }
/// At KERN_CRIT.
#[macro_export]
macro_rules! dev_crit { ($device:expr, $($arg:tt)*) => { $crate::__dev_log!(2, $device, $($arg)*) } }
/// At KERN_ERR.
#[macro_export]
macro_rules! dev_err { ($device:expr, $($arg:tt)*) => { $crate::__dev_log!(3, $device, $($arg)*) } }
/// At KERN_WARNING.
#[macro_export]
macro_rules! dev_warn { ($device:expr, $($arg:tt)*) => { $crate::__dev_log!(4, $device, $($arg)*) } }
/// At KERN_NOTICE.
#[macro_export]
macro_rules! dev_notice { ($device:expr, $($arg:tt)*) => { $crate::__dev_log!(5, $device, $($arg)*) } }
/// At KERN_INFO.
#[macro_export]
macro_rules! dev_info { ($device:expr, $($arg:tt)*) => { $crate::__dev_log!(6, $device, $($arg)*) } }
/// At KERN_DEBUG.
#[macro_export]
macro_rules! dev_dbg { ($device:expr, $($arg:tt)*) => { $crate::__dev_log!(7, $device, $($arg)*) } }
