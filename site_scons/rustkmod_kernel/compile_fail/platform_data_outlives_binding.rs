// A platform driver's data lives for the binding ('bound): data claiming a `'static` device
// reference would keep the device after it is unbound.
// expect: lifetime may not live long enough
use kernel::{device::Core, platform, prelude::*};

struct Kept;

impl platform::Driver for Kept {
    type IdInfo = ();
    type Data<'bound> = &'static platform::Device;

    fn probe<'bound>(pdev: &'bound platform::Device<Core<'_>>, _info: Option<&'bound ()>)
        -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        let device: &platform::Device = pdev;
        Ok::<_, Error>(device)
    }
}
