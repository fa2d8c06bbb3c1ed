//! The auxiliary bus, as the in-tree `kernel::auxiliary`: a driver bound to a device splits it
//! into devices of its own (`auxiliary::Registration`, with data the other side reads), which
//! drivers of the auxiliary bus take (`auxiliary::Driver`, matched by `"<module>.<name>"`).
//!
//! The bus exists where the kernel has `CONFIG_AUXILIARY_BUS` (Linux 5.11 on; Debian's kernels
//! have it, a small custom config may not); elsewhere registering a device or a driver is a
//! compile error naming it.
//!
//! A registration's data is made for the parent's binding (`'bound`) and lives until the
//! registration drops, which first unbinds whatever driver holds the device: a driver of the
//! device reads the data (`registration_data`) only while bound, so only while it exists.

use core::any::TypeId;
use core::marker::PhantomData;
use core::pin::Pin;

use crate::alloc::{flags::GFP_KERNEL, KBox};
use crate::device::{self, Bound, Core, DeviceContext};
use crate::device_id::{AliasText, IdTable as RawIdTable, RawDeviceId};
use crate::error::{code::*, Error, Result};
use crate::init::PinInit;
use crate::str::CStr;
use crate::types::{CovariantForLt, ForLt, Opaque};

#[cfg(target_os = "none")]
use crate::bindings;

/// Implemented only where the kernel has the auxiliary bus: the bound that makes using it on
/// another kernel one error naming what is missing.
#[diagnostic::on_unimplemented(
    message = "kernel::auxiliary needs a kernel with the auxiliary bus (CONFIG_AUXILIARY_BUS, Linux 5.11 on)",
    label = "no auxiliary bus in this kernel"
)]
#[doc(hidden)]
pub trait AuxiliaryBus {}

#[cfg(not(target_os = "none"))]
impl AuxiliaryBus for &() {}
/// (A kernel without the bus does not declare its option, which rustc would warn of.)
#[allow(unexpected_cfgs)]
mod bus {
    #[cfg(target_os = "none")]
    #[cfg(CONFIG_AUXILIARY_BUS)]
    impl super::AuxiliaryBus for &() {}
}

/// C's `struct auxiliary_device_id`.
#[cfg(target_os = "none")]
type RawId = bindings::auxiliary_device_id;

/// On the host: the fields in C's order.
#[cfg(not(target_os = "none"))]
#[derive(Clone, Copy)]
#[repr(C)]
pub struct RawId {
    name: [core::ffi::c_char; 32],
    driver_data: usize,
}

/// An auxiliary device id: the module that registers the devices, and their name.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct DeviceId(RawId);

impl DeviceId {
    /// The devices `name` that module `modname` registers (`"<modname>.<name>"`, at most 31 bytes:
    /// a longer one does not compile).
    pub const fn new(modname: &CStr, name: &CStr) -> DeviceId {
        // SAFETY: all zeroes is a valid auxiliary_device_id (C's `= {}`).
        let mut raw: RawId = unsafe { core::mem::MaybeUninit::zeroed().assume_init() };
        let (module, device) = (modname.to_bytes(), name.to_bytes());
        if module.len() + 1 + device.len() >= raw.name.len() {
            panic!("auxiliary::DeviceId: \"<module>.<name>\" has at most 31 bytes");
        }
        let mut index = 0;
        while index < module.len() + 1 + device.len() {
            raw.name[index] = if index < module.len() {
                module[index]
            } else if index == module.len() {
                b'.'
            } else {
                device[index - module.len() - 1]
            } as core::ffi::c_char;
            index += 1;
        }
        DeviceId(raw)
    }

    /// The `MODULE_ALIAS` line modpost writes for this id: `auxiliary:<module>.<name>`.
    #[doc(hidden)]
    pub const fn alias(&self) -> AliasText {
        let all = &self.0.name;
        let mut len = 0;
        while len < all.len() && all[len] != 0 {
            len += 1;
        }
        // SAFETY: `len` bytes of the array; c_char and u8 have one layout.
        let name = unsafe { core::slice::from_raw_parts(all.as_ptr() as *const u8, len) };
        AliasText::new("auxiliary:").bytes(name, false).end()
    }
}

// SAFETY: DeviceId is repr(transparent) over the kernel's auxiliary_device_id.
unsafe impl RawDeviceId for DeviceId {
    type RawType = RawId;
    const DRIVER_DATA_OFFSET: usize = core::mem::offset_of!(RawId, driver_data);
}

/// What an auxiliary driver names as its `ID_TABLE`.
pub type IdTable<T> = &'static dyn RawIdTable<DeviceId, T>;

/// `auxiliary_device_table!(NAME, IdInfo, [(auxiliary::DeviceId::new(module, name), info), ...])`.
#[macro_export]
macro_rules! auxiliary_device_table {
    ($name:ident, $module_table:ident, $info:ty, $ids:tt $(,)?) => {
        $crate::module_device_table!("auxiliary", $crate::auxiliary::DeviceId, $name, $info, $ids);
    };
    ($name:ident, $info:ty, $ids:tt $(,)?) => {
        $crate::module_device_table!("auxiliary", $crate::auxiliary::DeviceId, $name, $info, $ids);
    };
}

/// A driver of auxiliary devices.
pub trait Driver: Send + 'static {
    /// What each id of the table carries to `probe`.
    type IdInfo: 'static;

    /// The driver's data for one bound device, made by `probe` and dropped at unbind.
    type Data<'bound>: Send + 'bound;

    /// The devices the driver takes.
    const ID_TABLE: IdTable<Self::IdInfo>;

    /// Binds `adev`, matched by the table entry whose data is `id_info`.
    fn probe<'bound>(
        adev: &'bound Device<Core<'_>>,
        id_info: &'bound Self::IdInfo,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound;

    /// The device is being unbound: the data is still there; it drops after.
    fn unbind<'bound>(adev: &'bound Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        let _ = (adev, this);
    }
}

/// The kernel's `struct auxiliary_device`, only ever behind a reference.
#[repr(transparent)]
pub struct Device<Ctx: DeviceContext = device::Normal>(Opaque<[u8; 0]>, PhantomData<Ctx>);

crate::__bus_device!(Device, bindings::auxiliary_device, bindings::rkk_auxiliary_device_dev);

impl<Ctx: DeviceContext> Device<Ctx> {
    /// The id the registering driver gave the device.
    pub fn id(&self) -> u32 {
        #[cfg(target_os = "none")]
        // SAFETY: the device is live (borrowed).
        return unsafe { bindings::rkk_auxiliary_device_id(self.as_raw()) };
        #[cfg(not(target_os = "none"))]
        0
    }
}

impl Device<Bound> {
    /// The registration's data, stored lifetime-erased (for `'static`), as a pointer to its
    /// `Stored<F::Of<'static>>`; EINVAL when `F` is not the family it was registered with, ENOENT
    /// for a device this module did not register.
    fn stored<F: ForLt + 'static>(&self) -> Result<*const Stored<F::Of<'static>>> {
        #[cfg(target_os = "none")]
        {
            // SAFETY: the device is live; the C side returns our data only for a device whose
            // release function is this module's (so one a Registration made).
            let raw = unsafe { bindings::rkk_auxiliary_data(self.as_raw()) } as *const Stored<F::Of<'static>>;
            if raw.is_null() {
                return Err(ENOENT);
            }
            // SAFETY: Stored is repr(C) with its TypeId first, whatever the data's type.
            if unsafe { (raw as *const TypeId).read() } != TypeId::of::<F>() {
                return Err(EINVAL);
            }
            Ok(raw)
        }
        #[cfg(not(target_os = "none"))]
        Err(ENOENT)
    }

    /// The data the parent's driver registered this device with, for a covariant family
    /// (`CovariantForLt!(Data<'_>)`): readable for as long as this device is bound (the data
    /// lives until the registration drops, which unbinds this device first).
    pub fn registration_data<F: CovariantForLt + 'static>(&self) -> Result<Pin<&F::Of<'_>>> {
        let stored = self.stored::<F>()?;
        // SAFETY: `stored` checked the type; the data is pinned in its box and outlives this
        // device's binding, so the borrow of self; covariance makes the shorter lifetime sound.
        let data: &F::Of<'static> = unsafe { &(*stored).data };
        Ok(unsafe { Pin::new_unchecked(F::cast_ref(data)) })
    }

    /// `f` on the registration data, for any family (`ForLt!(MutexData<'_>)`, invariant ones too):
    /// `f` takes it for every lifetime, so it cannot keep it.
    pub fn registration_data_with<F: ForLt + 'static, R>(&self, f: impl for<'a> FnOnce(Pin<&'a F::Of<'a>>) -> R) -> Result<R> {
        let stored = self.stored::<F>()?;
        // SAFETY: as for registration_data; `f` is generic over the lifetime, so it can neither
        // keep the data nor put a shorter-lived reference into it.
        let data: &F::Of<'_> = unsafe { &*(core::ptr::addr_of!((*stored).data) as *const F::Of<'_>) };
        Ok(f(unsafe { Pin::new_unchecked(data) }))
    }
}


/// A registration's data, with the family's `TypeId` first for the check on the other side.
#[repr(C)]
struct Stored<T> {
    type_id: TypeId,
    data: T,
}

/// An auxiliary device registered under a bound parent with data `F::Of<'bound>`; deleted
/// (unbinding its driver) when dropped, then the data dropped.
pub struct Registration<'bound, F: ForLt + 'static> {
    #[cfg(target_os = "none")]
    adev: core::ptr::NonNull<bindings::auxiliary_device>,
    data: Pin<KBox<Stored<F::Of<'static>>>>,
    _bound: PhantomData<&'bound device::Device<Bound>>,
}

impl<'bound, F: ForLt + 'static> Registration<'bound, F> {
    /// Registers the device `<modname>.<name>.<id>` under `parent`, with `data` made in place.
    ///
    /// # Safety
    /// The registration is dropped before `parent`'s binding ends (it is part of the parent
    /// driver's data, which is): forgetting it would leave the data borrowed past `'bound`.
    pub unsafe fn new_with_lt<E>(
        parent: &'bound device::Device<Bound>,
        name: &'static CStr,
        id: u32,
        modname: &'static CStr,
        data: impl PinInit<F::Of<'bound>, E>,
    ) -> Result<Self>
    where
        Error: From<E>,
        for<'a> &'a (): AuxiliaryBus,
    {
        let init = move |slot: *mut Stored<F::Of<'bound>>| {
            // SAFETY: the slot is valid and pinned (PinInit's caller); each field written once.
            unsafe {
                core::ptr::addr_of_mut!((*slot).type_id).write(TypeId::of::<F>());
                data.__pinned_init(core::ptr::addr_of_mut!((*slot).data)).map_err(Error::from)
            }
        };
        // SAFETY: the closure initialises both fields or fails.
        let stored = KBox::pin_init::<Error>(unsafe { crate::init::pin_init_from_closure(init) }, GFP_KERNEL)?;
        // SAFETY: the lifetime is erased for storage only: the data is read back for shorter
        // lifetimes (registration_data) while this registration lives, which the caller keeps
        // within 'bound.
        let stored: Pin<KBox<Stored<F::Of<'static>>>> = unsafe {
            let raw = KBox::into_raw(Pin::into_inner_unchecked(stored)) as *mut Stored<F::Of<'static>>;
            Pin::new_unchecked(KBox::from_raw(raw))
        };
        #[cfg(target_os = "none")]
        {
            let mut status = 0;
            // SAFETY: the parent is bound; the names are 'static; the data stays pinned in its box
            // until this registration drops, after the device is deleted.
            let adev = unsafe {
                bindings::rkk_auxiliary_device_add(parent.as_raw(), name.as_ptr(), id, modname.as_ptr(),
                                                   &*stored as *const Stored<F::Of<'static>> as *mut core::ffi::c_void,
                                                   &mut status)
            };
            let adev = core::ptr::NonNull::new(adev).ok_or_else(|| Error::from_errno(status))?;
            Ok(Registration { adev, data: stored, _bound: PhantomData })
        }
        #[cfg(not(target_os = "none"))]
        {
            let _ = (parent, name, id, modname);
            Ok(Registration { data: stored, _bound: PhantomData })
        }
    }
}

impl<F: ForLt + 'static> Drop for Registration<'_, F> {
    fn drop(&mut self) {
        #[cfg(target_os = "none")]
        // SAFETY: added by new_with_lt, removed once; deleting unbinds its driver first, so
        // nothing reads the data once this returns.
        unsafe { bindings::rkk_auxiliary_device_remove(self.adev.as_ptr()) };
        let _ = &self.data;                     // dropped after the device is gone
    }
}

// SAFETY: the registration only deletes its device (any thread) and drops the data (F::Of: Send).
unsafe impl<F: ForLt + 'static> Send for Registration<'_, F> where for<'a> F::Of<'a>: Send {}
// SAFETY: it hands nothing out.
unsafe impl<F: ForLt + 'static> Sync for Registration<'_, F> {}

/// How `driver::Registration` registers an auxiliary driver `T`.
pub struct Adapter<T: Driver>(PhantomData<T>);

#[cfg(target_os = "none")]
impl<T: Driver> Adapter<T> {
    extern "C" fn probe_callback(adev: *mut bindings::auxiliary_device, id: *const bindings::auxiliary_device_id) -> core::ffi::c_int {
        // SAFETY: the bus calls probe with a live device it holds bound to this driver for the
        // call (Core), and the matching entry of the table registered (driver_data: its index).
        let (dev, info) = unsafe {
            let dev: &Device<Core<'_>> = Device::from_raw(adev);
            let info = if id.is_null() { None } else { T::ID_TABLE.__info((*id).driver_data as usize) };
            (dev, info)
        };
        match info {
            Some(info) => Self::probe_device(dev, info),
            None => ENODEV.to_errno(),
        }
    }

    fn probe_device<'bound>(dev: &'bound Device<Core<'_>>, info: &'bound T::IdInfo) -> core::ffi::c_int {
        crate::driver::__probe_into(dev.as_ref(), T::probe(dev, info))
    }

    extern "C" fn remove_callback(adev: *mut bindings::auxiliary_device) {
        // SAFETY: the bus calls remove with the live device bound to this driver, whose probe
        // succeeded (so drvdata is our data).
        let dev: &Device<Core<'_>> = unsafe { Device::from_raw(adev) };
        Self::drop_data(dev);
    }

    fn drop_data<'bound>(dev: &'bound Device<Core<'_>>) {
        // SAFETY: drvdata holds the data probe_device kept for this binding (remove runs once,
        // after a successful probe); its references point at this device, still bound.
        let data: Pin<KBox<T::Data<'bound>>> = unsafe { crate::driver::__take_data(dev.as_ref()) };
        T::unbind(dev, data.as_ref());
        drop(data);
    }
}

// SAFETY: register fills in the zeroed auxiliary_driver (name, table, callbacks) and registers it;
// unregister returns once every device is unbound (remove has run for each).
unsafe impl<T: Driver> crate::driver::RegistrationOps for Adapter<T>
where
    for<'a> &'a (): AuxiliaryBus,
{
    #[cfg(target_os = "none")]
    type RegType = bindings::auxiliary_driver;
    #[cfg(not(target_os = "none"))]
    type RegType = [u8; 0];

    unsafe fn register(driver: *mut Self::RegType, name: &'static CStr, module: &'static crate::ThisModule) -> Result {
        #[cfg(target_os = "none")]
        // SAFETY: the caller's promise (valid, zeroed, pinned until unregister); the name and
        // the table are 'static.
        unsafe {
            (*driver).name = name.as_ptr();
            (*driver).id_table = T::ID_TABLE.as_ptr();
            (*driver).probe = Some(Self::probe_callback);
            (*driver).remove = Some(Self::remove_callback);
            return crate::error::to_result(bindings::rkk_auxiliary_register_driver(driver, module.as_ptr() as _, name.as_ptr()));
        }
        #[cfg(not(target_os = "none"))]
        {
            let _ = (driver, name, module);
            Ok(())
        }
    }

    unsafe fn unregister(driver: *mut Self::RegType) {
        #[cfg(target_os = "none")]
        // SAFETY: the caller's promise: registered.
        unsafe { bindings::rkk_auxiliary_unregister_driver(driver) };
        #[cfg(not(target_os = "none"))]
        let _ = driver;
    }
}
