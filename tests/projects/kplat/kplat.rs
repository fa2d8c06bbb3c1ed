//! kplat: a platform driver in safe Rust. It takes the device a device tree names
//! `compatible = "rustkmod,kplat"` (arm64, arm, riscv64) or ACPI names `RKMD0001` (x86), reads
//! the same two properties from either firmware (`label`, a string, and `rustkmod,channels`, an
//! array of u32), and keeps them for as long as the device is bound.
#![forbid(unsafe_code)]

use kernel::{acpi, device, device::Core, of, platform, prelude::*, str::CString};

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
        Ok(KplatData { dev, label, channels })
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
