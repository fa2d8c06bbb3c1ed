// SPDX-License-Identifier: GPL-2.0

//! kintree: the in-tree crate's shapes on every kernel, as one file written the in-tree way (no
//! `#![no_std]`, `pr_info!("...\n")`): `module!` with `alias`/`firmware`, an `InPlaceModule` of
//! `#[pin]` fields, a misc device (`#[vtable]`, `type Ptr = Arc<_>`, `read_iter` that sleeps on a
//! `CondVar` until `write_iter` fills the buffer, `show_fdinfo`), a `Completion`, `LockedBy`,
//! `try_lock`, `global_lock!`, `current!()`, `Instant`, debugfs files, `pr_cont!`, work items (one queued during
//! unload, which runs to its end before the module goes), and no `unsafe`.
#![forbid(unsafe_code)]

use kernel::debugfs::{Dir, File as DebugFile};
use kernel::fs::{File, Kiocb};
use kernel::iov::{IovIterDest, IovIterSource};
use kernel::miscdevice::{MiscDevice, MiscDeviceOptions, MiscDeviceRegistration};
use kernel::pr_cont;
use kernel::prelude::*;
use kernel::seq_file::SeqFile;
use kernel::seq_print;
use kernel::sync::atomic::{Atomic, Relaxed};
use kernel::sync::{CondVar, Completion, LockedBy};
use kernel::time::{delay::fsleep, Delta, Instant, Monotonic};
use kernel::workqueue::{self, Work, WorkItem};

module! {
    type: KInTree,
    name: "kintree",
    authors: ["rustkmod"],
    description: "The in-tree crate's shapes on every kernel",
    license: "GPL",
    alias: ["kintree-alias"],
    firmware: ["kintree/none.bin"],
}

kernel::sync::global_lock! {
    // (the in-tree form; this crate makes the lock at its first use, no init call needed)
    unsafe(uninit) static OPENS: Mutex<u32> = 0;
}

/// What every open file of /dev/kintree shares.
#[pin_data]
struct Pipe {
    #[pin]
    buffer: Mutex<KVec<u8>>,
    #[pin]
    filled: CondVar,
}

#[pin_data(PinnedDrop)]
struct KInTree {
    #[pin]
    _device: MiscDeviceRegistration<Reader>,
    #[pin]
    started: Completion,
    _debugfs: Dir,
    #[pin]
    loads: DebugFile<Atomic<usize>>,
}

impl kernel::InPlaceModule for KInTree {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pr_info!("ready");
        pr_cont!(", by pid {}\n", current!().pid() > 0);
        let debugfs = Dir::new(c"kintree");
        try_pin_init!(KInTree {
            _device <- MiscDeviceRegistration::register(MiscDeviceOptions { name: c"kintree" }),
            started <- Completion::new(),
            loads <- debugfs.read_only_file(c"loads", Atomic::<usize>::new(1)),
            _debugfs: debugfs,
        })
        .pin_chain(|this| {
            this.started.complete_all();
            this.started.wait_for_completion();       // done already: returns at once
            pr_info!("loads: {}\n", this.loads.load(Relaxed));
            // a count guarded by another value's lock
            let owner = KBox::pin_init(new_mutex!(0u32), GFP_KERNEL)?;
            let counted = LockedBy::new(&owner, 5usize);
            let mut guard = owner.lock();
            *counted.access_mut(&mut guard) += 1;
            *guard += 1;
            pr_info!("locked by: {} and {}\n", counted.access(&guard), *guard);
            drop(guard);
            // work: an Arc item queued twice (the second is given back while the first is pending;
            // a worker on another CPU may have taken the first already, and then both run), and a
            // closure
            let job = Job::new(50)?;
            let first = workqueue::system().enqueue(job.clone()).is_ok();
            match workqueue::system().enqueue(job) {
                Err(_) => pr_info!("queued: {first}, again while pending: given back\n"),
                Ok(()) => pr_info!("queued: {first}, again after a worker took it: queued\n"),
            }
            workqueue::system().try_spawn(GFP_KERNEL, || pr_info!("spawned ran\n"))?;
            Ok(())
        })
    }
}

#[pinned_drop]
impl PinnedDrop for KInTree {
    fn drop(self: Pin<&mut Self>) {
        pr_info!("down\n");
        // queued while the module unloads: it runs (200 ms of sleep included) before the module's
        // code goes
        if let Ok(job) = Job::new(200) {
            let _ = workqueue::system().enqueue(job);
        }
    }
}

/// A work item: sleeps `millis`, then says so.
#[pin_data]
struct Job {
    millis: i64,
    #[pin]
    work: Work<Job>,
}

kernel::impl_has_work! { impl HasWork<Self> for Job { self.work } }

impl Job {
    fn new(millis: i64) -> Result<Arc<Job>> {
        Arc::pin_init(pin_init!(Job { millis, work <- kernel::new_work!("Job::work") }), GFP_KERNEL)
    }
}

impl WorkItem for Job {
    type Pointer = Arc<Job>;

    fn run(this: Arc<Job>) {
        fsleep(Delta::from_millis(this.millis));
        pr_info!("work ran after {} ms\n", this.millis);
    }
}

/// One open file: the pipe it reads, and when it opened.
struct Reader {
    pipe: Pin<KBox<Pipe>>,
    opened: Instant<Monotonic>,
}

#[vtable]
impl MiscDevice for Reader {
    type Ptr = Arc<Reader>;

    fn open(_file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Arc<Reader>> {
        let pipe = KBox::pin_init(pin_init!(Pipe { buffer <- new_mutex!(KVec::new()), filled <- kernel::new_condvar!() }),
                                  GFP_KERNEL)?;
        *OPENS.lock() += 1;
        let guard = pipe.buffer.lock();
        let busy = pipe.buffer.try_lock().is_none();
        drop(guard);
        dev_info!(misc.device(), "open: try_lock while held: {}, after: {}\n", busy, pipe.buffer.try_lock().is_some());
        Ok(Arc::new(Reader { pipe, opened: Instant::now() }, GFP_KERNEL)?)
    }

    fn write_iter(kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterSource<'_>) -> Result<usize> {
        let me = kiocb.file();
        let mut buffer = me.pipe.buffer.lock();
        let taken = iov.copy_from_iter_vec(&mut buffer, GFP_KERNEL)?;
        me.pipe.filled.notify_all();
        Ok(taken)
    }

    fn read_iter(mut kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterDest<'_>) -> Result<usize> {
        let me = kiocb.file();
        let mut buffer = me.pipe.buffer.lock();
        while buffer.is_empty() {
            if me.pipe.filled.wait_interruptible(&mut buffer) {
                return Err(ERESTARTSYS);
            }
        }
        iov.simple_read_from_buffer(kiocb.ki_pos_mut(), &buffer)
    }

    fn show_fdinfo(device: &Reader, m: &SeqFile, _file: &File) {
        let guard = device.pipe.buffer.lock();
        seq_print!(m, "kintree-bytes:\t{}\nkintree-opens:\t{}\n", guard.len(), *OPENS.lock());
    }

    fn release(device: Arc<Reader>, _file: &File) {
        pr_info!("released after {} ms\n", device.opened.elapsed().as_millis());
    }
}
