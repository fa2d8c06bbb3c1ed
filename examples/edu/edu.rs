// SPDX-License-Identifier: GPL-2.0
//! edu: a driver in safe Rust for QEMU's `edu` PCI device (`-device edu`), the device QEMU
//! documents for teaching drivers (docs/specs/edu.rst): its identification and liveness
//! registers, its factorial unit, which raises an interrupt when done, and its DMA engine, which
//! copies between a coherent buffer of ours and the device's own memory and raises an interrupt
//! when done. `probe` computes a factorial by interrupt and makes a DMA round trip, printing them
//! with `dev_info!`, then registers `/dev/edu`, whose every read computes 12! by polling the
//! device. Unbinding (sysfs, or unloading) drops the data: the file's registration, the interrupt
//! line, the DMA buffer, in that order, after the device stops being a bus master; then the BAR
//! mapping is revoked, so a file still open reads ENODEV from then on instead of a device that
//! is gone. (An open file also keeps the module loaded: rmmod waits for it to be closed.)
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU32, Ordering};

use kernel::{
    device::{Bound, Core},
    dma::{CoherentAllocation, DmaMask},
    io::Io,
    iov::IovIterDest,
    irq,
    miscdevice::{File, Kiocb, MiscDevice, MiscDeviceOptions, MiscDeviceRegistration},
    pci,
    prelude::*,
    str::CString,
    sync::Arc,
    time::{delay::fsleep, Delta},
};

// BAR 0 of the edu device
const ID: usize = 0x00; // 0xRRrr00ed: version RR.rr
const LIVENESS: usize = 0x04; // reads back the inverse of what was written
const FACTORIAL: usize = 0x08; // write n, read n! when STATUS says done
const STATUS: usize = 0x20; // 0x01: computing; 0x80: raise an interrupt when done
const IRQ_STATUS: usize = 0x24; // what raised the interrupt: 0x1 factorial, 0x100 DMA
const IRQ_ACK: usize = 0x64;
const DMA_SOURCE: usize = 0x80;
const DMA_DESTINATION: usize = 0x88;
const DMA_COUNT: usize = 0x90;
const DMA_COMMAND: usize = 0x98; // 0x1 start, 0x2 device to RAM, 0x4 raise an interrupt when done
const REGISTERS: usize = 0x100;
const DEVICE_BUFFER: u32 = 0x40000; // the device's own 4 KiB, where its DMA engine reads and writes

const FACTORIAL_DONE: u32 = 0x1;
const DMA_DONE: u32 = 0x100;
const WORDS: usize = 512; // 2 KiB of u32 (QEMU refuses a transfer of the whole 4 KiB)

/// BAR 0, reached while the device is bound, by the interrupt handler, `probe` and open files.
type Registers = Arc<pci::DevresBar<REGISTERS>>;

/// The interrupt handler reads what raised the interrupt and acknowledges it.
struct Interrupts {
    bar: Registers,
    seen: AtomicU32,
    count: AtomicU32,
}

impl irq::Handler for Interrupts {
    fn handle(&self) -> irq::IrqReturn {
        let Some(bar) = self.bar.try_access() else {
            return irq::IrqReturn::None; // unbound: the device is not ours any more
        };
        let status = bar.read32(IRQ_STATUS);
        if status == 0 {
            return irq::IrqReturn::None; // a shared line: another device's
        }
        bar.write32(status, IRQ_ACK);
        self.seen.fetch_or(status, Ordering::SeqCst);
        self.count.fetch_add(1, Ordering::SeqCst);
        irq::IrqReturn::Handled
    }
}

impl Interrupts {
    /// Waits (up to a second) for an interrupt that says `what`, and takes it.
    fn wait_for(&self, what: u32) -> Result {
        for _ in 0..1000 {
            if self.seen.fetch_and(!what, Ordering::SeqCst) & what != 0 {
                return Ok(());
            }
            fsleep(Delta::from_millis(1));
        }
        Err(ETIMEDOUT)
    }
}

struct EduData<'bound> {
    pdev: &'bound pci::Device,
    _file: Pin<KBox<MiscDeviceRegistration<EduFile>>>,
    interrupts: Pin<KBox<irq::Registration<'bound, Interrupts>>>,
    _buffer: CoherentAllocation<'bound, u32>,
}

/// An open `/dev/edu`: it keeps the registers' handle, which may outlive the binding.
struct EduFile {
    bar: Registers,
}

#[vtable]
impl MiscDevice for EduFile {
    type Ptr = Pin<KBox<Self>>;
    type RegistrationData = Registers;

    fn open(_file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        Ok(KBox::pin(EduFile { bar: misc.data().clone() }, GFP_KERNEL)?)
    }

    /// Every read: 12! from the device, polled (no interrupt), or ENODEV once it is unbound.
    fn read_iter(kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterDest<'_>) -> Result<usize> {
        let file = kiocb.file();
        let bar = file.bar.try_access().ok_or(ENODEV)?;
        bar.write32(0, STATUS);
        bar.write32(12, FACTORIAL);
        for _ in 0..1000 {
            if bar.read32(STATUS) & 0x1 == 0 {
                break;
            }
            fsleep(Delta::from_millis(1)); // the guard may be held across a sleep: unbinding waits
        }
        let text = CString::try_from_fmt(fmt!("12! = {} (by polling)\n", bar.read32(FACTORIAL)))?;
        drop(bar);
        Ok(iov.copy_to_iter(text.to_bytes()))
    }
}

struct EduDriver;

kernel::pci_device_table!(
    PCI_TABLE,
    <EduDriver as pci::Driver>::IdInfo,
    [(pci::DeviceId::from_id(pci::Vendor::from_raw(0x1234), 0x11e8), ())]
);

fn factorial(pdev: &pci::Device<Bound>, interrupts: &Interrupts, n: u32) -> Result<u32> {
    let bar = interrupts.bar.access(pdev)?;
    bar.write32(0x80, STATUS); // an interrupt when done
    bar.write32(n, FACTORIAL);
    interrupts.wait_for(FACTORIAL_DONE)?;
    Ok(bar.read32(FACTORIAL))
}

fn dma(pdev: &pci::Device<Bound>, interrupts: &Interrupts, source: u32, destination: u32, to_ram: bool) -> Result {
    let bar = interrupts.bar.access(pdev)?;
    bar.write32(source, DMA_SOURCE);
    bar.write32(destination, DMA_DESTINATION);
    bar.write32((WORDS * 4) as u32, DMA_COUNT);
    bar.write32(0x1 | 0x4 | if to_ram { 0x2 } else { 0 }, DMA_COMMAND);
    interrupts.wait_for(DMA_DONE)
}

impl pci::Driver for EduDriver {
    type IdInfo = ();
    type Data<'bound> = EduData<'bound>;

    const ID_TABLE: pci::IdTable<Self::IdInfo> = &PCI_TABLE;

    fn probe<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        pdev.enable_device_mem()?;
        pdev.set_master();
        // the edu device drives 28 address bits unless QEMU says otherwise (its dma_mask
        // property); the boot gives it 32, since on `virt` machines no RAM lies below 256 MiB
        pdev.dma_set_mask_and_coherent(DmaMask::new::<32>())?;
        let bar = pdev.iomap_region_sized::<REGISTERS>(0, c"edu")?;
        let id = bar.read32(ID);
        bar.write32(0x1234_5678, LIVENESS);
        let alive = bar.read32(LIVENESS) == !0x1234_5678;
        dev_info!(pdev, "edu: version {}.{}, alive: {}\n", id >> 24, (id >> 16) & 0xff, alive);

        let bar = Arc::new(bar.into_devres()?, GFP_KERNEL)?;
        let vectors = pdev.alloc_irq_vectors(1, 1, pci::IrqTypes::all())?;
        let handler = Interrupts { bar: bar.clone(), seen: AtomicU32::new(0), count: AtomicU32::new(0) };
        let interrupts = KBox::pin_init(
            irq::Registration::new(pdev.irq_vector(0)?, irq::Flags::SHARED, c"edu", handler),
            GFP_KERNEL,
        )?;
        let handler = interrupts.handler();
        dev_info!(pdev, "edu: {} interrupt vector(s)\n", vectors);
        dev_info!(pdev, "edu: 10! = {} (by interrupt)\n", factorial(pdev, handler, 10)?);

        // a round trip through the device's memory: ours to its, a blank, its back to ours
        let buffer = CoherentAllocation::<u32>::alloc_coherent(pdev.as_ref(), WORDS)?;
        let address = buffer.dma_handle() as u32;
        for index in 0..WORDS {
            buffer.write(index, (index as u32).wrapping_mul(0x9e37_79b9))?;
        }
        dma(pdev, handler, address, DEVICE_BUFFER, false)?;
        for index in 0..WORDS {
            buffer.write(index, 0)?;
        }
        dma(pdev, handler, DEVICE_BUFFER, address, true)?;
        let mut same = 0;
        for index in 0..WORDS {
            same += (buffer.read(index)? == (index as u32).wrapping_mul(0x9e37_79b9)) as usize;
        }
        dev_info!(pdev, "edu: DMA round trip: {} of {} words back, {} interrupts\n", same, WORDS,
                  handler.count.load(Ordering::SeqCst));
        let file = KBox::pin_init(
            MiscDeviceRegistration::register_with_data(MiscDeviceOptions { name: c"edu" }, bar),
            GFP_KERNEL,
        )?;
        Ok(EduData { pdev, _file: file, interrupts, _buffer: buffer })
    }

    fn unbind<'bound>(pdev: &'bound pci::Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        let interrupts = this.interrupts.handler();
        dev_info!(pdev, "edu: unbinding after {} interrupts\n", interrupts.count.load(Ordering::SeqCst));
    }
}

impl Drop for EduData<'_> {
    fn drop(&mut self) {
        dev_info!(self.pdev, "edu: released\n");
    }
}

kernel::module_pci_driver! {
    type: EduDriver,
    name: "edu",
    authors: ["rustkmod"],
    description: "A driver in safe Rust for QEMU's edu device: interrupts and DMA",
    license: "GPL",
}
