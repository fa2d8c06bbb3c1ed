//! The faux bus, as the in-tree `kernel::faux`: a device of the module's own, with no hardware
//! behind it, bound by the driver core (it appears in `/sys/bus/faux/devices/`) and removed when
//! its [`Registration`] drops. For a module that wants a `struct device` (for `dev_info!`, devres,
//! sysfs) without a bus of its own.
//!
//! The faux bus exists from Linux 6.14; on an older kernel [`Registration::new`] is a compile
//! error saying so.

use crate::device::Device;
use crate::error::Result;
use crate::str::CStr;

/// Implemented only where the kernel has the faux bus: `Registration::new`'s bound, so that a
/// module built for an older kernel gets one error naming the first kernel that has it.
#[diagnostic::on_unimplemented(
    message = "kernel::faux needs Linux 6.14 or later (the faux bus); this module is built for an older kernel",
    label = "no faux bus in this kernel"
)]
#[doc(hidden)]
pub trait FauxBus {}

#[cfg(not(target_os = "none"))]
impl FauxBus for &() {}
#[cfg(target_os = "none")]
#[cfg(kernel_version_at_least = "6.14")]
impl FauxBus for &() {}

/// A faux device, registered while this lives.
pub struct Registration {
    #[cfg(target_os = "none")]
    device: core::ptr::NonNull<core::ffi::c_void>,
}

impl Registration {
    /// Creates the device `name` (under `parent`, or at the top of the faux bus) and binds it.
    pub fn new(name: &CStr, parent: Option<&Device>) -> Result<Self>
    where
        for<'a> &'a (): FauxBus,
    {
        #[cfg(target_os = "none")]
        {
            let parent = parent.map_or(core::ptr::null_mut(), Device::as_raw);
            // SAFETY: `name` is a NUL-terminated string (the driver core copies it), `parent` a
            // live device or null; the result is a device we own until faux_device_destroy, or
            // null when the device could not be made (an existing name, no memory).
            let device = unsafe { crate::bindings::rkk_faux_device_create(name.as_ptr(), parent) };
            core::ptr::NonNull::new(device).map(|device| Registration { device }).ok_or(crate::error::code::ENODEV)
        }
        #[cfg(not(target_os = "none"))]
        {
            let _ = (name, parent);
            Ok(Registration {})
        }
    }
}

impl AsRef<Device> for Registration {
    fn as_ref(&self) -> &Device {
        #[cfg(target_os = "none")]
        // SAFETY: the faux device lives (and holds its struct device) until this Registration
        // drops, and the returned reference borrows the Registration.
        unsafe {
            Device::from_raw(crate::bindings::rkk_faux_device_dev(self.device.as_ptr()))
        }
        #[cfg(not(target_os = "none"))]
        Device::host()
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        #[cfg(target_os = "none")]
        // SAFETY: the device is ours (made by new, destroyed once, here); no reference to its
        // struct device outlives `self` (AsRef borrows it).
        unsafe {
            crate::bindings::rkk_faux_device_destroy(self.device.as_ptr())
        };
    }
}

// SAFETY: the driver core's calls on a faux device (destroy) may come from any thread.
unsafe impl Send for Registration {}
// SAFETY: a shared Registration gives only `&Device`, which the driver core allows from any thread.
unsafe impl Sync for Registration {}
