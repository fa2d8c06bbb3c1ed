//! A device as the kernel's log knows it: `dev_info!(dev, "...")` and the other levels print
//! with the device's driver (or class) and name in front, as C's `dev_info()` does. A misc
//! device's is `registration.device()`.

use core::fmt;
use core::marker::PhantomPinned;

/// The kernel's `struct device`, only ever behind a reference.
#[repr(C)]
pub struct Device {
    _opaque: [u8; 0],
    _pinned: PhantomPinned,
}

impl Device {
    /// # Safety
    /// `pointer` is a live `struct device` that outlives `'a`.
    #[cfg(target_os = "none")]
    pub unsafe fn from_raw<'a>(pointer: *mut crate::bindings::device) -> &'a Device {
        // SAFETY: the caller's promise; Device is only ever a reference to the C object.
        unsafe { &*(pointer as *const Device) }
    }

    /// The `struct device *` to hand to C.
    #[cfg(target_os = "none")]
    pub fn as_raw(&self) -> *mut crate::bindings::device {
        self as *const Device as *mut crate::bindings::device
    }

    /// On the host (tests): a device that prints to stderr.
    #[cfg(not(target_os = "none"))]
    pub fn host() -> &'static Device {
        static HOST: Device = Device { _opaque: [], _pinned: PhantomPinned };
        &HOST
    }
}

impl AsRef<Device> for Device {
    fn as_ref(&self) -> &Device {
        self
    }
}

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
        $crate::device::log(::core::convert::AsRef::<$crate::device::Device>::as_ref(&$device), $level, format_args!($($arg)*))
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
