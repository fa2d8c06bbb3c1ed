//! Platform drivers, as the in-tree `kernel::platform`: a [`Driver`] names the devices it takes
//! by device-tree `compatible` ([`crate::of_device_table!`]) and ACPI id
//! ([`crate::acpi_device_table!`]), which also write the `MODULE_ALIAS` lines `modprobe` finds it
//! by; it makes its data in `probe` and has it dropped when the device is unbound (at unbind
//! through sysfs, or when the module unloads). `module_platform_driver!` is the whole module.
//!
//! As for PCI, the data's lifetime `'bound` is the binding's: what it borrows from the device
//! cannot outlive the binding.

use core::marker::PhantomData;
use core::pin::Pin;

use crate::device::{self, Bound, Core, DeviceContext};
use crate::error::{code::*, Error, Result};
use crate::io::{Io, RawIo};
use crate::irq::IrqRequest;
use crate::init::PinInit;
use crate::str::CStr;
use crate::types::Opaque;
use crate::{acpi, of};

#[cfg(target_os = "none")]
use crate::bindings;

/// A platform driver.
pub trait Driver: Send + 'static {
    /// What each id of the tables carries to `probe`.
    type IdInfo: 'static;

    /// The driver's data for one bound device, made by `probe` and dropped at unbind.
    type Data<'bound>: Send + 'bound;

    /// The device-tree nodes the driver takes (by `compatible`).
    const OF_ID_TABLE: Option<of::IdTable<Self::IdInfo>> = None;

    /// The ACPI devices the driver takes (by hardware id).
    const ACPI_ID_TABLE: Option<acpi::IdTable<Self::IdInfo>> = None;

    /// Binds `dev`, matched by the table entry whose data is `id_info` (None when bound by
    /// `driver_override`): the data, or the error that leaves the device unbound.
    fn probe<'bound>(
        dev: &'bound Device<Core<'_>>,
        id_info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound;

    /// The device is being unbound: the data is still there; it drops after.
    fn unbind<'bound>(dev: &'bound Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        let _ = (dev, this);
    }
}

/// The kernel's `struct platform_device`, only ever behind a reference.
#[repr(transparent)]
pub struct Device<Ctx: DeviceContext = device::Normal>(Opaque<[u8; 0]>, PhantomData<Ctx>);

crate::__bus_device!(Device, bindings::platform_device, bindings::rkk_platform_device);


impl Device<Bound> {
    /// Maps memory resource `index` (requested under `name`) as an `IoMem` of at least `SIZE`
    /// bytes, for as long as the device is bound: `ENOENT` when the device has no such resource
    /// (firmware gave it none), `ENOMEM` when it is smaller, `EBUSY` when another driver holds it.
    pub fn iomap_resource_sized<'a, const SIZE: usize>(&'a self, index: u32, name: &'static CStr) -> Result<IoMem<'a, SIZE>> {
        #[cfg(target_os = "none")]
        {
            let (mut size, mut status) = (0, 0);
            // SAFETY: the device is bound (so live) for 'a; the region is released and unmapped
            // when the IoMem drops, which 'a makes happen before the binding ends.
            let address = unsafe { bindings::rkk_platform_iomap(self.as_raw(), index, name.as_ptr(), &mut size, &mut status) };
            if address.is_null() {
                return Err(Error::from_errno(status));
            }
            // SAFETY: `size` bytes mapped at `address` until rkk_platform_iounmap (IoMem's Drop).
            let io = IoMem { device: self, index, io: unsafe { RawIo::new(address as usize, size as usize) } };
            if (size as usize) < SIZE {
                return Err(ENOMEM);             // unmapped again as `io` drops
            }
            Ok(io)
        }
        #[cfg(not(target_os = "none"))]
        {
            let _ = (index, name);
            Err(ENOENT)
        }
    }

    /// `iomap_resource_sized::<0>`: an `IoMem` whose every access is checked when it runs (`try_*`).
    pub fn iomap_resource<'a>(&'a self, index: u32, name: &'static CStr) -> Result<IoMem<'a, 0>> {
        self.iomap_resource_sized::<0>(index, name)
    }

    /// Interrupt `index` of the device, to request with `irq::Registration::new`; `ENXIO` (or
    /// the firmware's error) when it has none.
    pub fn irq_by_index(&self, index: u32) -> Result<IrqRequest<'_>> {
        #[cfg(target_os = "none")]
        {
            // SAFETY: the device is bound; the C side checks the index.
            let irq = unsafe { bindings::rkk_platform_irq(self.as_raw(), index) };
            crate::error::to_result(irq.min(0))?;
            let device: &device::Device<Bound> = self.as_ref();
            // SAFETY: the line is this bound device's interrupt.
            Ok(unsafe { IrqRequest::new(device, irq as u32) })
        }
        #[cfg(not(target_os = "none"))]
        {
            let _ = index;
            Err(crate::error::code::ENXIO)
        }
    }
}

/// A platform device's memory resource mapped for the binding `'a`, of at least `SIZE` bytes:
/// register access through [`Io`]. Dropping it unmaps the registers and releases the region.
pub struct IoMem<'a, const SIZE: usize = 0> {
    device: &'a Device<Bound>,
    index: u32,
    io: RawIo,
}

impl<const SIZE: usize> crate::io::Sealed for IoMem<'_, SIZE> {}

impl<const SIZE: usize> Io for IoMem<'_, SIZE> {
    const MIN_SIZE: usize = SIZE;

    fn maxsize(&self) -> usize {
        self.io.size()
    }

    crate::io::mmio_primitives!();
}

impl<const SIZE: usize> IoMem<'_, SIZE> {
    fn raw(&self) -> RawIo {
        self.io
    }
}

impl<const SIZE: usize> Drop for IoMem<'_, SIZE> {
    fn drop(&mut self) {
        #[cfg(target_os = "none")]
        // SAFETY: mapped and requested by iomap_resource_sized, once; the device is still bound
        // (the borrow 'a).
        unsafe {
            bindings::rkk_platform_iounmap(self.device.as_raw(), self.index, self.io.address() as *mut core::ffi::c_void)
        };
        #[cfg(not(target_os = "none"))]
        let _ = (self.device, self.index);
    }
}

// SAFETY: MMIO through ioread/iowrite may be done from any thread; the mapping lives for 'a.
unsafe impl<const SIZE: usize> Send for IoMem<'_, SIZE> {}
// SAFETY: as above: each access is one ioread or iowrite.
unsafe impl<const SIZE: usize> Sync for IoMem<'_, SIZE> {}

/// `module_platform_driver! { type: Driver, name: "...", ...module! keys }`: the module is the
/// driver.
#[macro_export]
macro_rules! module_platform_driver {
    ($($keys:tt)*) => {
        $crate::module_driver!(<T>, $crate::platform::Adapter<T>, { $($keys)* });
    };
}

/// How `driver::Registration` registers a platform driver `T`.
pub struct Adapter<T: Driver>(PhantomData<T>);

#[cfg(target_os = "none")]
impl<T: Driver> Adapter<T> {
    /// The info of the table entry `dev` matched: its device-tree node's, else its ACPI id's.
    fn id_info(dev: &device::Device) -> Option<&'static T::IdInfo> {
        if let Some(table) = T::OF_ID_TABLE {
            // SAFETY: the device is live; the table ends in its all-zero entry.
            let index = unsafe { bindings::rkk_of_match_index(dev.as_raw(), table.as_ptr()) };
            if index >= 0 {
                return table.__info(index as usize);
            }
        }
        if let Some(table) = T::ACPI_ID_TABLE {
            // SAFETY: as above.
            let index = unsafe { bindings::rkk_acpi_match_index(dev.as_raw(), table.as_ptr()) };
            if index >= 0 {
                return table.__info(index as usize);
            }
        }
        None
    }

    extern "C" fn probe_callback(pdev: *mut bindings::platform_device) -> core::ffi::c_int {
        // SAFETY: the platform core calls probe with a live device it holds bound to this driver
        // for the call (Core).
        let dev: &Device<Core<'_>> = unsafe { Device::from_raw(pdev) };
        let device: &device::Device<Core<'_>> = dev.as_ref();
        let info = Self::id_info(device);
        Self::probe_device(dev, info)
    }

    fn probe_device<'bound>(dev: &'bound Device<Core<'_>>, info: Option<&'bound T::IdInfo>) -> core::ffi::c_int {
        crate::driver::__probe_into(dev.as_ref(), T::probe(dev, info))
    }

    fn drop_data<'bound>(dev: &'bound Device<Core<'_>>) {
        // SAFETY: drvdata holds the data probe_device kept for this binding (remove runs once,
        // after a successful probe); its references point at this device, still bound.
        let data: Pin<crate::alloc::KBox<T::Data<'bound>>> = unsafe { crate::driver::__take_data(dev.as_ref()) };
        T::unbind(dev, data.as_ref());
        drop(data);
    }

    extern "C" fn remove_callback(pdev: *mut bindings::platform_device) {
        // SAFETY: the platform core calls remove with the live device, bound to this driver,
        // whose probe succeeded (so drvdata is our data).
        let dev: &Device<Core<'_>> = unsafe { Device::from_raw(pdev) };
        Self::drop_data(dev);
    }
}

// SAFETY: register fills in the zeroed platform_driver (name, tables, callbacks) and registers it
// with the platform core; unregister returns once every device is unbound (remove has run).
unsafe impl<T: Driver> crate::driver::RegistrationOps for Adapter<T> {
    #[cfg(target_os = "none")]
    type RegType = bindings::rkk_platform_driver;
    #[cfg(not(target_os = "none"))]
    type RegType = [u8; 0];

    unsafe fn register(driver: *mut Self::RegType, name: &'static CStr, module: &'static crate::ThisModule) -> Result {
        #[cfg(target_os = "none")]
        // SAFETY: the caller's promise (valid, zeroed, pinned until unregister); the name and
        // the tables are 'static.
        unsafe {
            let platform = &mut (*driver).driver;
            platform.driver.name = name.as_ptr();
            if let Some(table) = T::OF_ID_TABLE {
                platform.driver.of_match_table = table.as_ptr();
            }
            if let Some(table) = T::ACPI_ID_TABLE {
                platform.driver.acpi_match_table = table.as_ptr();
            }
            platform.probe = Some(Self::probe_callback);
            (*driver).remove = Some(Self::remove_callback);      // the C side puts it in place
            return crate::error::to_result(bindings::rkk_platform_register_driver(driver, module.as_ptr() as _, name.as_ptr()));
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
        unsafe { bindings::rkk_platform_unregister_driver(driver) };
        #[cfg(not(target_os = "none"))]
        let _ = driver;
    }
}
