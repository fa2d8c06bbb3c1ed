//! PCI drivers, as the in-tree `kernel::pci`: a [`Driver`] names the devices it takes
//! ([`pci_device_table!`], which also writes the `MODULE_ALIAS` lines `modprobe` finds it by),
//! makes its data in `probe` from a `&'bound Device<Core<'_>>` (enable the device, map a BAR),
//! and has it dropped when the device is unbound: at `remove`, at unbind through sysfs, or when
//! the module unloads. `module_pci_driver!` is the whole module.
//!
//! The data's lifetime `'bound` is the binding's: it may hold `&'bound Device` and the
//! `Bar<'bound, SIZE>` mappings, which cannot outlive it (they are unmapped when the data drops,
//! before the device is released), and it cannot be put anywhere that outlives the binding.

use core::fmt;
use core::marker::PhantomData;
use core::pin::Pin;

use crate::device::{self, Bound, Core, DeviceContext};
use crate::device_id::{AliasText, IdTable as RawIdTable, RawDeviceId};
use crate::devres::Devres;
use crate::revocable::RevocableGuard;
use crate::error::{code::ENOMEM, Error, Result};
use crate::init::PinInit;
use crate::io::{Io, RawIo};
use crate::str::CStr;
use crate::types::Opaque;

#[cfg(target_os = "none")]
use crate::bindings;

/// A PCI vendor id (`pci::Vendor::REDHAT`); prints as its name where known, else as hex.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Vendor(u16);

macro_rules! vendors {
    ($($name:ident = $id:literal,)*) => {
        impl Vendor {
            $(#[allow(missing_docs)] pub const $name: Vendor = Vendor($id);)*
        }

        impl fmt::Display for Vendor {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match *self {
                    $(Vendor::$name => f.write_str(stringify!($name)),)*
                    _ => fmt::Debug::fmt(self, f),
                }
            }
        }
    };
}

vendors! {
    REDHAT_QUMRANET = 0x1af4,
    REDHAT = 0x1b36,
    INTEL = 0x8086,
    AMD = 0x1022,
    NVIDIA = 0x10de,
    BROADCOM = 0x14e4,
    QUALCOMM = 0x17cb,
    XILINX = 0x10ee,
    MELLANOX = 0x15b3,
    SAMSUNG = 0x144d,
}

impl Vendor {
    /// A vendor from its 16-bit id.
    pub const fn from_raw(id: u16) -> Vendor {
        Vendor(id)
    }

    /// The 16-bit id.
    pub const fn as_raw(self) -> u16 {
        self.0
    }
}

impl fmt::Debug for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:04x}", self.0)
    }
}

/// The fields of C's `struct pci_device_id` that matching reads; the layout is the kernel's own
/// (bindgen's), with `override_only` only where the kernel has it.
#[cfg(target_os = "none")]
type RawId = bindings::pci_device_id;

/// On the host: the fields in C's order (the host never hands the table to a kernel).
#[cfg(not(target_os = "none"))]
#[derive(Clone, Copy)]
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct RawId {
    vendor: u32,
    device: u32,
    subvendor: u32,
    subdevice: u32,
    class: u32,
    class_mask: u32,
    driver_data: usize,
}

/// A PCI device id: what `pci_device_table!` lists (C's `PCI_DEVICE`, `PCI_DEVICE_CLASS`).
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct DeviceId(RawId);

const PCI_ANY_ID: u32 = !0;

impl DeviceId {
    const fn raw(vendor: u32, device: u32, class: u32, class_mask: u32) -> DeviceId {
        // SAFETY: all zeroes is a valid pci_device_id (C's `= {}`): integers only.
        let mut raw: RawId = unsafe { core::mem::MaybeUninit::zeroed().assume_init() };
        raw.vendor = vendor;
        raw.device = device;
        raw.subvendor = PCI_ANY_ID;
        raw.subdevice = PCI_ANY_ID;
        raw.class = class;
        raw.class_mask = class_mask;
        DeviceId(raw)
    }

    /// The device `device` of `vendor`, any subsystem (C's `PCI_DEVICE`).
    pub const fn from_id(vendor: Vendor, device: u32) -> DeviceId {
        DeviceId::raw(vendor.as_raw() as u32, device, 0, 0)
    }

    /// Any device of class `class` under `class_mask` (C's `PCI_DEVICE_CLASS`).
    pub const fn from_class(class: u32, class_mask: u32) -> DeviceId {
        DeviceId::raw(PCI_ANY_ID, PCI_ANY_ID, class, class_mask)
    }

    /// The device's vendor id (`!0`: any).
    pub const fn vendor(&self) -> u32 {
        self.0.vendor
    }

    /// The device id (`!0`: any).
    pub const fn device(&self) -> u32 {
        self.0.device
    }

    /// The `MODULE_ALIAS` line modpost writes for this id (`pci:v00001B36d00000005sv*sd*bc*sc*i*`):
    /// each id field in hex, or `*` for any; class bytes only where the mask takes all of one.
    #[doc(hidden)]
    pub const fn alias(&self) -> AliasText {
        let id = &self.0;
        let (class, mask) = (id.class, id.class_mask);
        let text = AliasText::new("pci:")
            .field("v", id.vendor != PCI_ANY_ID, id.vendor, 8)
            .field("d", id.device != PCI_ANY_ID, id.device, 8)
            .field("sv", id.subvendor != PCI_ANY_ID, id.subvendor, 8)
            .field("sd", id.subdevice != PCI_ANY_ID, id.subdevice, 8)
            .field("bc", (mask >> 16) & 0xff == 0xff, (class >> 16) & 0xff, 2)
            .field("sc", (mask >> 8) & 0xff == 0xff, (class >> 8) & 0xff, 2)
            .field("i", mask & 0xff == 0xff, class & 0xff, 2);
        let byte_masks = [(mask >> 16) & 0xff, (mask >> 8) & 0xff, mask & 0xff];
        let mut index = 0;
        while index < 3 {
            if byte_masks[index] != 0 && byte_masks[index] != 0xff {
                panic!("pci::DeviceId: a class mask must take whole bytes (0x00 or 0xff each), as modpost's aliases do");
            }
            index += 1;
        }
        text.finish()
    }
}

// SAFETY: DeviceId is repr(transparent) over the kernel's pci_device_id; the offset is its field's.
unsafe impl RawDeviceId for DeviceId {
    type RawType = RawId;
    const DRIVER_DATA_OFFSET: usize = core::mem::offset_of!(RawId, driver_data);
}

/// What a PCI driver names as its `ID_TABLE`.
pub type IdTable<T> = &'static dyn RawIdTable<DeviceId, T>;

/// `pci_device_table!(NAME, IdInfo, [(pci::DeviceId::from_id(..), info), ...])`: the id table
/// and its `MODULE_ALIAS` lines. (`MODULE_PCI_TABLE`, which 7.2's form passes second, is read
/// and ignored: the aliases are written here.)
#[macro_export]
macro_rules! pci_device_table {
    ($name:ident, $module_table:ident, $info:ty, $ids:tt $(,)?) => {
        $crate::module_device_table!("pci", $crate::pci::DeviceId, $name, $info, $ids);
    };
    ($name:ident, $info:ty, $ids:tt $(,)?) => {
        $crate::module_device_table!("pci", $crate::pci::DeviceId, $name, $info, $ids);
    };
}

/// `module_pci_driver! { type: Driver, name: "...", ...module! keys }`: the module is the driver.
#[macro_export]
macro_rules! module_pci_driver {
    ($($keys:tt)*) => {
        $crate::module_driver!(<T>, $crate::pci::Adapter<T>, { $($keys)* });
    };
}

/// A PCI driver.
pub trait Driver: Send + 'static {
    /// What each id of the table carries to `probe`.
    type IdInfo: 'static;

    /// The driver's data for one bound device, made by `probe` and dropped at unbind.
    type Data<'bound>: Send + 'bound;

    /// The devices the driver takes.
    const ID_TABLE: IdTable<Self::IdInfo>;

    /// Binds `dev` (matched by the table entry whose data is `id_info`): the data, or the error
    /// that leaves the device unbound.
    fn probe<'bound>(
        dev: &'bound Device<Core<'_>>,
        id_info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound;

    /// The device is being unbound: the data is still there (and its mappings); it drops after.
    fn unbind<'bound>(dev: &'bound Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        let _ = (dev, this);
    }
}

/// The kernel's `struct pci_dev`, only ever behind a reference.
#[repr(transparent)]
pub struct Device<Ctx: DeviceContext = device::Normal>(Opaque<[u8; 0]>, PhantomData<Ctx>);

crate::__bus_device!(Device, bindings::pci_dev, bindings::rkk_pci_device);

impl<Ctx: DeviceContext> Device<Ctx> {
    fn ids(&self) -> [u16; 5] {
        #[allow(unused_mut)]
        let mut ids = [0u16; 5];
        #[cfg(target_os = "none")]
        // SAFETY: the device is live (borrowed); the C side writes five ids.
        unsafe {
            bindings::rkk_pci_ids(self.as_raw(), ids.as_mut_ptr())
        };
        ids
    }

    /// The vendor id.
    pub fn vendor_id(&self) -> Vendor {
        Vendor(self.ids()[0])
    }

    /// The device id.
    pub fn device_id(&self) -> u16 {
        self.ids()[1]
    }

    /// The revision id.
    pub fn revision_id(&self) -> u8 {
        self.ids()[2] as u8
    }

    /// The subsystem vendor id.
    pub fn subsystem_vendor_id(&self) -> u16 {
        self.ids()[3]
    }

    /// The subsystem device id.
    pub fn subsystem_device_id(&self) -> u16 {
        self.ids()[4]
    }

    /// The length of BAR `bar` (0 for a BAR the device does not have); `EINVAL` past BAR 5.
    pub fn resource_len(&self, bar: u32) -> Result<u64> {
        if bar > 5 {
            return Err(crate::error::code::EINVAL);
        }
        #[cfg(target_os = "none")]
        // SAFETY: the device is live; bar is one of its six.
        return Ok(unsafe { bindings::rkk_pci_resource_len(self.as_raw(), bar as i32) } as u64);
        #[cfg(not(target_os = "none"))]
        Ok(0)
    }
}

impl<'a> Device<Core<'a>> {
    /// Enables the device's memory space (`pci_enable_device_mem`); it is disabled again when the
    /// device is unbound (a devres action), whether probe succeeds or not.
    pub fn enable_device_mem(&self) -> Result {
        #[cfg(target_os = "none")]
        // SAFETY: inside the driver's probe or unbind (Core): the driver core's lock is held.
        crate::error::to_result(unsafe { bindings::rkk_pci_enable_device_mem(self.as_raw()) })?;
        Ok(())
    }

    /// Makes the device a bus master (it may do DMA). At unbind it stops being one before the
    /// driver's data (and the DMA memory in it) is dropped.
    pub fn set_master(&self) {
        #[cfg(target_os = "none")]
        // SAFETY: as for enable_device_mem.
        unsafe { bindings::pci_set_master(self.as_raw()) };
    }

    /// The addresses the device can drive (`dma_set_mask_and_coherent`).
    pub fn dma_set_mask_and_coherent(&self, mask: crate::dma::DmaMask) -> Result {
        let device: &device::Device<Core<'a>> = self.as_ref();
        let bound: &device::Device<Bound> = device;
        bound.__set_dma_mask(mask)
    }
}

/// The kinds of interrupt a PCI device may be given (`pci::IrqTypes::all()`, or
/// `IrqTypes::default().with(IrqType::Msi)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqType {
    /// The legacy pin (INTx).
    Intx,
    /// Message-signalled.
    Msi,
    /// MSI-X.
    MsiX,
}

/// A set of [`IrqType`]s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IrqTypes(u32);

impl IrqTypes {
    /// Every kind, the best first (MSI-X, MSI, INTx).
    pub const fn all() -> IrqTypes {
        IrqTypes(1 | 2 | 4)
    }

    /// This set and `kind`.
    pub const fn with(self, kind: IrqType) -> IrqTypes {
        IrqTypes(self.0 | match kind { IrqType::Intx => 1, IrqType::Msi => 2, IrqType::MsiX => 4 })
    }
}

impl Device<Bound> {
    /// Allocates `min..=max` interrupt vectors of `types` (`pci_alloc_irq_vectors`): how many it
    /// got. They are freed when the driver lets the device go, after its data.
    pub fn alloc_irq_vectors(&self, min: u32, max: u32, types: IrqTypes) -> Result<usize> {
        #[cfg(target_os = "none")]
        {
            // SAFETY: the device is bound; the vectors are freed by a devres action at unbind.
            let count = unsafe { bindings::rkk_pci_alloc_irq_vectors(self.as_raw(), min, max, types.0) };
            crate::error::to_result(count.min(0))?;
            Ok(count as usize)
        }
        #[cfg(not(target_os = "none"))]
        {
            let _ = (min, max, types);
            Err(crate::error::code::ENODEV)
        }
    }

    /// Vector `index`'s interrupt line, to request with `irq::Registration::new`; `EINVAL` for
    /// one not allocated.
    pub fn irq_vector(&self, index: u32) -> Result<crate::irq::IrqRequest<'_>> {
        #[cfg(target_os = "none")]
        {
            // SAFETY: the device is bound; pci_irq_vector checks the index.
            let irq = unsafe { bindings::rkk_pci_irq_vector(self.as_raw(), index) };
            crate::error::to_result(irq.min(0))?;
            let device: &device::Device<Bound> = self.as_ref();
            // SAFETY: the line is this bound device's vector.
            Ok(unsafe { crate::irq::IrqRequest::new(device, irq as u32) })
        }
        #[cfg(not(target_os = "none"))]
        {
            let _ = index;
            Err(crate::error::code::EINVAL)
        }
    }
}

impl Device<Bound> {
    /// Maps BAR `bar` (requested under `name`) as a `Bar` of at least `SIZE` bytes, for as long
    /// as the device is bound; `ENOMEM` when the BAR is smaller, `EBUSY` when another driver
    /// holds it.
    pub fn iomap_region_sized<'a, const SIZE: usize>(&'a self, bar: u32, name: &'static CStr) -> Result<Bar<'a, SIZE>> {
        let length = self.resource_len(bar)? as usize;
        if length < SIZE || length == 0 {
            return Err(ENOMEM);
        }
        #[cfg(target_os = "none")]
        // SAFETY: the device is bound (so live) for 'a; the region is released and unmapped when
        // the Bar drops, which 'a makes happen before the binding ends.
        unsafe {
            crate::error::to_result(bindings::pci_request_region(self.as_raw(), bar as i32, name.as_ptr()))?;
            let address = bindings::rkk_pci_iomap(self.as_raw(), bar as i32);
            if address.is_null() {
                bindings::pci_release_region(self.as_raw(), bar as i32);
                return Err(ENOMEM);
            }
            return Ok(Bar { device: self, bar, io: RawIo::new(address as usize, length) });
        }
        #[cfg(not(target_os = "none"))]
        {
            let _ = name;
            Err(crate::error::code::ENODEV)
        }
    }

    /// `iomap_region_sized::<0>`: a `Bar` whose every access is checked when it runs (`try_*`).
    pub fn iomap_region<'a>(&'a self, bar: u32, name: &'static CStr) -> Result<Bar<'a, 0>> {
        self.iomap_region_sized::<0>(bar, name)
    }
}

/// A bound device's configuration space (its first 256 bytes, which every PCI device has), read
/// and written through [`Io`] like a BAR: `config.read(REVISION_ID)`, `config.read16(0)`.
#[derive(Clone, Copy)]
pub struct ConfigSpace<'a> {
    device: &'a Device<Bound>,
}

impl Device<Bound> {
    /// The configuration space.
    pub fn config_space(&self) -> ConfigSpace<'_> {
        ConfigSpace { device: self }
    }
}

impl crate::io::Sealed for ConfigSpace<'_> {}

macro_rules! config_primitives {
    ($($read:ident $write:ident $type:ty => $c_read:ident $c_write:ident;)*) => {$(
        unsafe fn $read(&self, offset: usize) -> $type {
            #[allow(unused_mut)]
            let mut value: $type = 0;
            #[cfg(target_os = "none")]
            // SAFETY: the device is bound (borrowed); the offset is within the 256 bytes (the
            // caller's promise); a failed read leaves the value as the kernel sets it (all ones).
            unsafe {
                bindings::$c_read(self.device.as_raw(), offset as i32, &mut value as *mut $type as *mut _)
            };
            #[cfg(not(target_os = "none"))]
            let _ = (offset, self.device);
            value
        }

        unsafe fn $write(&self, value: $type, offset: usize) {
            #[cfg(target_os = "none")]
            // SAFETY: as for the read.
            unsafe {
                bindings::$c_write(self.device.as_raw(), offset as i32, value as _)
            };
            #[cfg(not(target_os = "none"))]
            let _ = (value, offset);
        }
    )*};
}

impl Io for ConfigSpace<'_> {
    const MIN_SIZE: usize = 256;

    fn maxsize(&self) -> usize {
        256
    }

    config_primitives! {
        __read8 __write8 u8 => pci_read_config_byte pci_write_config_byte;
        __read16 __write16 u16 => pci_read_config_word pci_write_config_word;
        __read32 __write32 u32 => pci_read_config_dword pci_write_config_dword;
    }
}


/// A PCI BAR mapped for the binding `'a`, of at least `SIZE` bytes: register access through
/// [`Io`]. Dropping it unmaps the BAR and releases its region.
pub struct Bar<'a, const SIZE: usize = 0> {
    device: &'a Device<Bound>,
    bar: u32,
    io: RawIo,
}

impl<const SIZE: usize> crate::io::Sealed for Bar<'_, SIZE> {}

impl<const SIZE: usize> Bar<'_, SIZE> {
    fn raw(&self) -> RawIo {
        self.io
    }
}

impl<const SIZE: usize> Io for Bar<'_, SIZE> {
    const MIN_SIZE: usize = SIZE;

    fn maxsize(&self) -> usize {
        self.io.size()
    }

    crate::io::mmio_primitives!();
}

impl<const SIZE: usize> Drop for Bar<'_, SIZE> {
    fn drop(&mut self) {
        #[cfg(target_os = "none")]
        // SAFETY: mapped and requested by iomap_region_sized, once; the device is still bound
        // (the borrow 'a).
        unsafe {
            bindings::rkk_pci_iounmap(self.device.as_raw(), self.io.address() as *mut core::ffi::c_void);
            bindings::pci_release_region(self.device.as_raw(), self.bar as i32);
        }
        #[cfg(not(target_os = "none"))]
        let _ = (self.device, self.bar, self.io.size());
    }
}

impl<'a, const SIZE: usize> Bar<'a, SIZE> {
    /// The mapping as a [`DevresBar`]: a handle that may outlive this borrow of the device (kept
    /// by an open file, say), through which the BAR is reached while the device stays bound;
    /// unbinding revokes and unmaps it.
    pub fn into_devres(self) -> Result<DevresBar<SIZE>> {
        let device: &'a device::Device<Bound> = self.device.as_ref();
        // SAFETY: a Bar only holds the device reference and the mapping, both valid for as long
        // as the device is bound, not only for 'a; the Devres drops it before the binding ends
        // (its action), and hands it out only as `Bar<'g>` for a guard's 'g (DevresBarGuard).
        let erased: Bar<'static, SIZE> = unsafe { core::mem::transmute::<Bar<'a, SIZE>, Bar<'static, SIZE>>(self) };
        Ok(DevresBar(Devres::new(device, Ok::<_, Error>(erased))?))
    }
}

/// A BAR mapping for as long as the device is bound, with a handle that may outlive the binding
/// (`Bar::into_devres`): `try_access()` gives the `Bar` until the device is unbound, then None.
pub struct DevresBar<const SIZE: usize = 0>(Devres<Bar<'static, SIZE>>);

impl<const SIZE: usize> DevresBar<SIZE> {
    /// The BAR while the device is bound, else None.
    pub fn try_access(&self) -> Option<DevresBarGuard<'_, SIZE>> {
        self.0.try_access().map(DevresBarGuard)
    }

    /// The BAR, for a caller holding the same device bound (a probe, an unbind, the driver's data).
    pub fn access<'a>(&'a self, dev: &'a Device<Bound>) -> Result<&'a Bar<'a, SIZE>> {
        let device: &device::Device<Bound> = dev.as_ref();
        self.0.access(device).map(|bar| bar as &Bar<'a, SIZE>)
    }

    /// The device the BAR belongs to.
    pub fn device(&self) -> &device::Device {
        self.0.device()
    }
}

/// The BAR behind a [`DevresBar`], for as long as the guard lives (unbinding waits for it).
pub struct DevresBarGuard<'a, const SIZE: usize>(RevocableGuard<'a, Bar<'static, SIZE>>);

impl<'a, const SIZE: usize> core::ops::Deref for DevresBarGuard<'a, SIZE> {
    type Target = Bar<'a, SIZE>;

    fn deref(&self) -> &Bar<'a, SIZE> {
        &self.0
    }
}

// SAFETY: MMIO through ioread/iowrite may be done from any thread; the mapping lives for 'a.
unsafe impl<const SIZE: usize> Send for Bar<'_, SIZE> {}
// SAFETY: as above: each access is one ioread or iowrite.
unsafe impl<const SIZE: usize> Sync for Bar<'_, SIZE> {}

/// How `driver::Registration` registers a PCI driver `T`.
pub struct Adapter<T: Driver>(PhantomData<T>);

#[cfg(target_os = "none")]
impl<T: Driver> Adapter<T> {
    extern "C" fn probe_callback(pdev: *mut bindings::pci_dev, id: *const bindings::pci_device_id) -> core::ffi::c_int {
        // SAFETY: the PCI core calls probe with a live device it holds bound to this driver for
        // the call (Core), and the matching entry: of the table registered (driver_data: its
        // index), or one made by new_id or driver_override (checked: None past the table).
        let (dev, info) = unsafe {
            let dev: &Device<Core<'_>> = Device::from_raw(pdev);
            let info = if id.is_null() { None } else { T::ID_TABLE.__info((*id).driver_data as usize) };
            (dev, info)
        };
        Self::probe_device(dev, info)
    }

    fn probe_device<'bound>(dev: &'bound Device<Core<'_>>, info: Option<&'bound T::IdInfo>) -> core::ffi::c_int {
        crate::driver::__probe_into(dev.as_ref(), T::probe(dev, info))
    }

    extern "C" fn remove_callback(pdev: *mut bindings::pci_dev) {
        // SAFETY: the PCI core calls remove with the live device, bound to this driver, whose
        // probe succeeded (so drvdata is our data).
        let dev: &Device<Core<'_>> = unsafe { Device::from_raw(pdev) };
        Self::remove_device(dev);
    }

    fn remove_device<'bound>(dev: &'bound Device<Core<'_>>) {
        // SAFETY: drvdata holds the data probe_device kept for this binding (remove runs once,
        // after a successful probe); its references point at this device, still bound.
        let data: Pin<crate::alloc::KBox<T::Data<'bound>>> = unsafe { crate::driver::__take_data(dev.as_ref()) };
        T::unbind(dev, data.as_ref());
        // SAFETY: the device is bound (Core); no more DMA from it into memory the data frees.
        unsafe { bindings::rkk_pci_clear_master(dev.as_raw()) };
        drop(data);                             // unmaps the BARs it holds, frees its lines and DMA memory
    }
}

// SAFETY: register fills in the zeroed pci_driver (name, table, callbacks) and registers it with
// the PCI core; unregister returns once every device is unbound (remove has run for each).
unsafe impl<T: Driver> crate::driver::RegistrationOps for Adapter<T> {
    #[cfg(target_os = "none")]
    type RegType = bindings::pci_driver;
    #[cfg(not(target_os = "none"))]
    type RegType = [u8; 0];

    unsafe fn register(driver: *mut Self::RegType, name: &'static CStr, module: &'static crate::ThisModule) -> Result {
        #[cfg(target_os = "none")]
        // SAFETY: the caller's promise (valid, zeroed, pinned until unregister); the name and the
        // table are 'static.
        unsafe {
            (*driver).name = name.as_ptr();
            (*driver).id_table = T::ID_TABLE.as_ptr();
            (*driver).probe = Some(Self::probe_callback);
            (*driver).remove = Some(Self::remove_callback);
            return crate::error::to_result(bindings::rkk_pci_register_driver(driver, module.as_ptr() as _, name.as_ptr()));
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
        unsafe { bindings::pci_unregister_driver(driver) };
        #[cfg(not(target_os = "none"))]
        let _ = driver;
    }
}
