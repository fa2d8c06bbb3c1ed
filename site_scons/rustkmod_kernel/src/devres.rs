//! Resources of a bound device that others may keep a handle to, as the in-tree
//! `kernel::devres`: a [`Devres<T>`] holds `T` (a BAR mapping, say) until the driver lets the
//! device go, when it is revoked and dropped, whoever still holds the `Devres` (an open file, a
//! work item): from then on their `try_access` gets None. Dropping the `Devres` drops `T` at once.
//!
//! A `Devres` outlives the binding safely because `T` does not: it is revoked by a devres action,
//! which the driver core runs when the device is unbound, after the driver's `remove`.

use crate::alloc::flags::GFP_KERNEL;
use crate::device::{Bound, Device};
use crate::error::{code::{EINVAL, ENXIO}, Error, Result};
use crate::init::PinInit;
use crate::revocable::{Revocable, RevocableGuard};
use crate::sync::Arc;
use crate::types::ARef;

/// `T`, while the device it came from is bound to its driver.
pub struct Devres<T: Send + 'static> {
    data: Arc<Revocable<T>>,
    device: ARef<Device>,
}

impl<T: Send + 'static> Devres<T> {
    /// `data` (made in place), revoked when `dev` is unbound.
    pub fn new<E>(dev: &Device<Bound>, data: impl PinInit<T, E>) -> Result<Self>
    where
        Error: From<E>,
    {
        let data = Arc::pin_init(Revocable::new(data), GFP_KERNEL)?;
        let device: &Device = dev;
        #[cfg(target_os = "none")]
        {
            // The action owns one count of the Arc (given up here, taken back when it runs).
            let raw = Arc::into_raw(data.clone()) as *mut core::ffi::c_void;
            // SAFETY: the device is bound; the action's data is a count of the Arc, which keeps
            // it valid until the action runs, once, when the device is unbound (or at once, by
            // devm_add_action_or_reset, if it cannot be added).
            crate::error::to_result(unsafe { crate::bindings::rkk_devm_add_action_or_reset(dev.as_raw(), Some(Self::revoke_at_unbind), raw) })?;
        }
        Ok(Devres { data, device: device.into() })
    }

    /// The devres action: the device is being unbound.
    #[cfg(target_os = "none")]
    unsafe extern "C" fn revoke_at_unbind(raw: *mut core::ffi::c_void) {
        // SAFETY: the count `new` gave up, taken back once (the action runs once).
        let data = unsafe { Arc::from_raw(raw as *const Revocable<T>) };
        data.revoke();
    }

    /// The device the data belongs to.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The data, for a caller that proves the device is still bound (holding `&Device<Bound>` of
    /// the same device): no guard needed. `EINVAL` for another device; `ENXIO` when the data was
    /// made in an earlier binding of the device (revoked when that one ended).
    pub fn access<'a>(&'a self, dev: &'a Device<Bound>) -> Result<&'a T> {
        let same = core::ptr::eq(dev as *const Device<Bound> as *const Device, &*self.device as *const Device);
        if !same {
            return Err(EINVAL);
        }
        // A Devres kept past an unbind (by an open file) meets the device bound again: the same
        // device, but the data went with the binding it was made in.
        if self.data.is_revoked() {
            return Err(ENXIO);
        }
        // SAFETY: not revoked, so made in the binding `dev` proves current; that binding ends
        // (and its action revokes the data) only after `dev`'s borrow does, and this Devres
        // drops only after the borrow of self.
        Ok(unsafe { self.data.__unchecked() })
    }

    /// A guard on the data, or None once the device is unbound.
    pub fn try_access(&self) -> Option<RevocableGuard<'_, T>> {
        self.data.try_access()
    }

    /// `f` on the data, or None once the device is unbound.
    pub fn try_access_with<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.data.try_access_with(f)
    }
}

impl<T: Send + 'static> Drop for Devres<T> {
    fn drop(&mut self) {
        // Dropped before the unbind: T goes now; the action frees what is left when it runs.
        self.data.revoke();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_of_an_earlier_binding_is_not_reached_through_access() {
        // SAFETY (test): the host's device stands for one bound to its driver.
        let dev: &Device<Bound> = unsafe { &*(Device::host() as *const Device as *const Device<Bound>) };
        let devres = Devres::new(dev, Ok::<u32, Error>(7)).unwrap();
        assert_eq!(devres.access(dev).copied(), Ok(7));
        devres.data.revoke();                   // what the unbind's action does
        assert_eq!(devres.access(dev).err(), Some(ENXIO));
        assert!(devres.try_access().is_none());
    }
}
