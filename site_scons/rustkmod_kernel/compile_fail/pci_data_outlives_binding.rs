// A PCI driver's data lives for the binding ('bound): data claiming a `'static` device reference
// would keep the device after it is unbound (and its memory after hot removal).
// expect: lifetime may not live long enough
use kernel::{device::Core, pci, prelude::*};

struct Kept;

kernel::pci_device_table!(TABLE, <Kept as pci::Driver>::IdInfo, [(pci::DeviceId::from_id(pci::Vendor::REDHAT, 5), ())]);

impl pci::Driver for Kept {
    type IdInfo = ();
    type Data<'bound> = &'static pci::Device;
    const ID_TABLE: pci::IdTable<()> = &TABLE;

    fn probe<'bound>(pdev: &'bound pci::Device<Core<'_>>, _info: Option<&'bound ()>)
        -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        let device: &pci::Device = pdev;
        Ok::<_, Error>(device)
    }
}
