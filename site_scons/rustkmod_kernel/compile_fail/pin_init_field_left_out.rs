// Every field of a struct made in place is named: one left out would be uninitialised memory.
// expect: missing field `name`
use kernel::prelude::*;

#[pin_data]
pub struct Counter {
    #[pin]
    value: Mutex<u32>,
    name: &'static str,
}

pub fn make() -> impl PinInit<Counter> {
    pin_init!(Counter { value <- new_mutex!(0) })
}
