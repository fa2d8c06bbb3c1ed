// SPDX-License-Identifier: GPL-2.0
//! kpci: a PCI driver in safe Rust for QEMU's `pci-testdev` (`-device pci-testdev`), in the
//! in-tree crate's shape: an id table (its MODULE_ALIAS read back by modinfo), the device enabled
//! and BAR 0 mapped in `probe`, the test device's data-match counter driven through the BAR's
//! build-checked and run-time-checked accessors, and the data (with its mapping) dropped at
//! unbind, which the boot does through sysfs and by unloading the module.
#![forbid(unsafe_code)]

use kernel::{device::Core, io::Io, pci, prelude::*};

// pci-testdev's BAR 0: select a test, then write DATA's byte at OFFSET to count a match.
const TEST: usize = 0x0;
const OFFSET: usize = 0x4;
const DATA: usize = 0x8;
const COUNT: usize = 0xC;
const END: usize = 0x10;

type Bar0<'bound> = pci::Bar<'bound, END>;

#[derive(Clone, Copy, Debug)]
struct TestIndex(u8);

impl TestIndex {
    const NO_EVENTFD: Self = Self(0);
}

struct KpciData<'bound> {
    pdev: &'bound pci::Device,
    bar: Bar0<'bound>,
    index: TestIndex,
}

struct KpciDriver;

kernel::pci_device_table!(
    PCI_TABLE,
    <KpciDriver as pci::Driver>::IdInfo,
    [(pci::DeviceId::from_id(pci::Vendor::REDHAT, 0x5), TestIndex::NO_EVENTFD)]
);

impl KpciData<'_> {
    fn testdev(index: TestIndex, bar: &Bar0<'_>) -> Result<u32> {
        bar.write8(index.0, TEST);
        let offset = bar.read32(OFFSET) as usize;
        let data = bar.read8(DATA);
        // the offset is the device's: checked when it runs
        bar.try_write8(data, offset)?;
        Ok(bar.read32(COUNT))
    }
}

impl pci::Driver for KpciDriver {
    type IdInfo = TestIndex;
    type Data<'bound> = KpciData<'bound>;

    const ID_TABLE: pci::IdTable<Self::IdInfo> = &PCI_TABLE;

    fn probe<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        dev_info!(pdev, "kpci: probing {} 0x{:x} rev {}\n", pdev.vendor_id(), pdev.device_id(), pdev.revision_id());
        let info = info.ok_or(ENODEV)?;
        pdev.enable_device_mem()?;
        pdev.set_master();
        let bar = pdev.iomap_region_sized::<END>(0, c"kpci")?;
        dev_info!(pdev, "kpci: BAR 0 is {} bytes\n", bar.maxsize());
        dev_info!(pdev, "kpci: data-match count: {}\n", KpciData::testdev(*info, &bar)?);
        let beyond = bar.maxsize();
        dev_info!(pdev, "kpci: read past the BAR refused: {}\n", bar.try_read32(beyond).is_err());
        Ok(KpciData { pdev, bar, index: *info })
    }

    fn unbind<'bound>(pdev: &'bound pci::Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        this.bar.write8(this.index.0, TEST);
        dev_info!(pdev, "kpci: unbinding, count now {}\n", this.bar.read32(COUNT));
    }
}

impl Drop for KpciData<'_> {
    fn drop(&mut self) {
        dev_info!(self.pdev, "kpci: data dropped\n");
    }
}

kernel::module_pci_driver! {
    type: KpciDriver,
    name: "kpci",
    authors: ["rustkmod"],
    description: "a PCI driver in safe Rust for QEMU's pci-testdev",
    license: "GPL",
}
