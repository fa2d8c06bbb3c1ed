// A Devres outlives the borrow it was made under (an open file keeps it): what it holds must not
// borrow anything (a reference to a local, or to a device, would dangle).
// expect: does not live long enough
use kernel::{device, devres::Devres, prelude::*};

pub fn wrap(dev: &device::Device<device::Bound>) -> Result {
    let value = 5u32;
    let devres: Devres<&u32> = Devres::new::<Error>(dev, Ok(&value))?;
    drop(devres);
    Ok(())
}
