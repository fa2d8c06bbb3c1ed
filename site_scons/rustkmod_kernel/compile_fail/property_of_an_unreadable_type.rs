// Properties are read as what firmware holds (strings, integers, arrays of them): a type whose
// bytes could be invalid (bool, a reference) is not readable.
// expect: the trait bound `bool: Property` is not satisfied
use kernel::{device::property::FwNode, prelude::*};

fn read(node: &FwNode) -> Result<bool> {
    node.property_read::<bool>(c"flag").optional().ok_or(EINVAL)
}
