//! kplat: a platform driver in safe Rust. It takes the device a device tree names
//! `compatible = "rustkmod,kplat"` (arm64) or ACPI names `RKMD0001` (x86), reads the same two
//! properties from either firmware (`label`, a string, and `rustkmod,channels`, an array of u32),
//! and keeps them for as long as the device is bound. When firmware gives the device registers
//! and an interrupt (the device tree does: the arm64 machine's PL031 real-time clock), it maps
//! them, reads the clock's PrimeCell id and takes one interrupt from its match register.
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU32, Ordering};

use kernel::{
    acpi, device, device::Core, io::Io, irq, of, platform, prelude::*, str::CString,
    time::{delay::fsleep, Delta},
};

// The PL031's registers
const DATA: usize = 0x00; // seconds
const MATCH: usize = 0x04; // an interrupt when DATA reaches it
const MASK: usize = 0x10; // 1: the match interrupt enabled
const MASKED_STATUS: usize = 0x18;
const CLEAR: usize = 0x1c;
const PERIPHERAL_ID: usize = 0xfe0; // four bytes, one per word, then the PrimeCell id's four
const REGISTERS: usize = 0x1000;

/// The interrupt handler owns the registers.
struct Clock<'bound> {
    registers: platform::IoMem<'bound, REGISTERS>,
    interrupts: AtomicU32,
}

impl irq::Handler for Clock<'_> {
    fn handle(&self) -> irq::IrqReturn {
        if self.registers.read32(MASKED_STATUS) & 1 == 0 {
            return irq::IrqReturn::None;
        }
        self.registers.write32(0, MASK);
        self.registers.write32(1, CLEAR);
        self.interrupts.fetch_add(1, Ordering::SeqCst);
        irq::IrqReturn::Handled
    }
}

impl Clock<'_> {
    /// The id bytes at `PERIPHERAL_ID + 4 * first ..`, little end first.
    fn id(&self, first: usize) -> u32 {
        (0..4).fold(0, |id, byte| id | (self.registers.read32(PERIPHERAL_ID + 4 * (first + byte)) & 0xff) << (8 * byte))
    }
}

struct Info {
    firmware: &'static str,
}

kernel::of_device_table!(OF_TABLE, MODULE_OF_TABLE, <Kplat as platform::Driver>::IdInfo,
                         [(of::DeviceId::new(c"rustkmod,kplat"), Info { firmware: "device tree" })]);

kernel::acpi_device_table!(ACPI_TABLE, MODULE_ACPI_TABLE, <Kplat as platform::Driver>::IdInfo,
                           [(acpi::DeviceId::new(c"RKMD0001"), Info { firmware: "ACPI" })]);

struct Kplat;

/// What one bound device holds: the device itself (borrowed for the binding) and its properties.
struct KplatData<'bound> {
    dev: &'bound device::Device<device::Bound>,
    label: CString,
    channels: KVec<u32>,
    _clock: Option<Pin<KBox<irq::Registration<'bound, Clock<'bound>>>>>, // kept: the mapping and the line
}

/// The clock's registers and interrupt, when firmware gave the device both.
fn clock<'bound>(pdev: &'bound platform::Device<device::Bound>) -> Result<Option<Pin<KBox<irq::Registration<'bound, Clock<'bound>>>>>> {
    let dev: &device::Device<device::Bound> = pdev.as_ref();
    let registers = match pdev.iomap_resource_sized::<REGISTERS>(0, c"kplat") {
        Err(error) if error == ENOENT => {
            dev_info!(dev, "kplat: no registers\n");
            return Ok(None);
        }
        other => other?,
    };
    let handler = Clock { registers, interrupts: AtomicU32::new(0) };
    let (part, primecell) = (handler.id(0) & 0xfff, handler.id(4));
    dev_info!(dev, "kplat: PrimeCell {primecell:#010x}, part {part:#05x}\n");
    let clock = KBox::pin_init(irq::Registration::new(pdev.irq_by_index(0)?, irq::Flags::NONE, c"kplat", handler),
                               GFP_KERNEL)?;
    let registers = &clock.handler().registers;
    registers.write32(registers.read32(DATA) + 1, MATCH);
    registers.write32(1, MASK);
    for _ in 0..2500 {
        if clock.handler().interrupts.load(Ordering::SeqCst) > 0 {
            break;
        }
        fsleep(Delta::from_millis(1));
    }
    dev_info!(dev, "kplat: clock interrupts taken: {}\n", clock.handler().interrupts.load(Ordering::SeqCst));
    Ok(Some(clock))
}

impl platform::Driver for Kplat {
    type IdInfo = Info;
    type Data<'bound> = KplatData<'bound>;
    const OF_ID_TABLE: Option<of::IdTable<Info>> = Some(&OF_TABLE);
    const ACPI_ID_TABLE: Option<acpi::IdTable<Info>> = Some(&ACPI_TABLE);

    fn probe<'bound>(
        pdev: &'bound platform::Device<Core<'_>>,
        info: Option<&'bound Info>,
    ) -> impl PinInit<KplatData<'bound>, Error> + 'bound {
        let dev: &device::Device<device::Bound> = pdev.as_ref();
        dev_info!(dev, "kplat: probed from {}\n", info.map_or("no table entry", |info| info.firmware));
        let node = dev.fwnode().ok_or(ENOENT)?;
        let label: CString = node.property_read(c"label").required_by(dev)?;
        let count = node.property_count_elem::<u32>(c"rustkmod,channels")?;
        let channels = node.property_read_array_vec::<u32>(c"rustkmod,channels", count)?.required_by(dev)?;
        let missing = node.property_read::<u32>(c"rustkmod,absent").or(7);
        dev_info!(dev, "kplat: label {label:?}, channels {channels:?}, absent {missing}\n");
        let clock = clock(pdev)?;
        Ok(KplatData { dev, label, channels, _clock: clock })
    }

    fn unbind<'bound>(_pdev: &'bound platform::Device<Core<'_>>, this: Pin<&KplatData<'bound>>) {
        dev_info!(this.dev, "kplat: unbinding {:?} ({} channels)\n", this.label, this.channels.len());
    }
}

impl Drop for KplatData<'_> {
    fn drop(&mut self) {
        dev_info!(self.dev, "kplat: data dropped\n");
    }
}

kernel::module_platform_driver! {
    type: Kplat,
    name: "kplat",
    authors: ["rustkmod"],
    description: "A platform driver in safe Rust, from a device tree or ACPI",
    license: "GPL",
}
