// impl_has_work! names the field that links the item into a queue: a field of another type
// would have the queue write its links into it.
// expect: mismatched types
use kernel::prelude::*;
use kernel::workqueue::Work;

#[pin_data]
pub struct Job {
    counter: u64,
    #[pin]
    work: Work<Job>,
}

kernel::impl_has_work! { impl HasWork<Self> for Job { self.counter } }
