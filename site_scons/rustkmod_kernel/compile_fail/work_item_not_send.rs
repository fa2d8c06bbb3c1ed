// A queued item runs on a worker thread: one that may not be sent there cannot be queued.
// expect: cannot be sent between threads safely
use kernel::prelude::*;
use kernel::workqueue::{self, Work, WorkItem};

#[pin_data]
pub struct Job {
    here_only: *mut u8,
    #[pin]
    work: Work<Job>,
}

kernel::impl_has_work! { impl HasWork<Self> for Job { self.work } }

impl WorkItem for Job {
    type Pointer = Arc<Job>;

    fn run(_this: Arc<Job>) {}
}

pub fn queue(job: Arc<Job>) {
    let _ = workqueue::system().enqueue(job);
}
