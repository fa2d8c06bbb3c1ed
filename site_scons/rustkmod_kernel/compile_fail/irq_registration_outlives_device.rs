// An interrupt line is the bound device's: a registration cannot outlive the device reference
// its request came from (the device may be unbound, and its line given to another).
// expect: lifetime may not live long enough
use kernel::{device::Bound, irq, pci, prelude::*};

pub struct Quiet;

impl irq::Handler for Quiet {
    fn handle(&self) -> irq::IrqReturn {
        irq::IrqReturn::None
    }
}

pub fn kept<'a>(pdev: &'a pci::Device<Bound>) -> Result<Pin<KBox<irq::Registration<'static, Quiet>>>> {
    KBox::pin_init(irq::Registration::new(pdev.irq_vector(0)?, irq::Flags::SHARED, c"kept", Quiet), GFP_KERNEL)
}
