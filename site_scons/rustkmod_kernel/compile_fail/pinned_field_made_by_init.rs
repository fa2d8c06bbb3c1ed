// init! makes a value that may move: a lock (pinned from birth) cannot be one of its fields.
// expect: the trait bound
use kernel::prelude::*;

pub struct Plain {
    value: Mutex<u32>,
}

pub fn make() -> impl Init<Plain> {
    init!(Plain { value <- new_mutex!(0) })
}
