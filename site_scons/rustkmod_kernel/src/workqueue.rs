//! Work items run later in process context, with the in-tree names (`kernel::workqueue`): a struct
//! holding a `#[pin] work: Work<Self>` field (`new_work!()`), `impl_has_work!` naming it,
//! `impl WorkItem for T { type Pointer = Arc<T>; fn run(this: Arc<T>) }`, then
//! `workqueue::system().enqueue(arc)`.
//!
//! Safe by construction across unload: the queues are the module's own (`system()` and its
//! siblings name one queue the module made at load), and the module's exit destroys it after
//! dropping the module's state, which runs every pending item first; so no work of the module
//! runs once its code is gone. (The in-tree crate queues on the kernel's shared queues and
//! leaves the flush to the module.)

use core::marker::PhantomData;
use core::pin::Pin;

use crate::alloc::{AllocError, Flags, KBox};
use crate::init::{pin_init_from_closure, PinInit};
use crate::sync::{Arc, LockClassKey};
use crate::types::Opaque;

#[cfg(target_os = "none")]
type RawWork = crate::bindings::work_struct;
#[cfg(not(target_os = "none"))]
type RawWork = usize;

/// A work item's link into a queue: a field of the struct it runs (`#[pin] work: Work<Self>`).
#[repr(transparent)]
pub struct Work<T: ?Sized, const ID: u64 = 0> {
    work: Opaque<RawWork>,
    _item: PhantomData<T>,
}

// SAFETY: the kernel's work_struct is queued and run from any thread, under the workqueue's own
// synchronisation.
unsafe impl<T: ?Sized, const ID: u64> Send for Work<T, ID> {}
// SAFETY: as for Send; Rust never touches its fields.
unsafe impl<T: ?Sized, const ID: u64> Sync for Work<T, ID> {}

/// `new_work!()` or `new_work!("name")`: a [`Work`] initialiser with a lock class of this site.
#[macro_export]
macro_rules! new_work {
    ($($name:literal)?) => {
        $crate::workqueue::Work::new($crate::__lock_name!($($name)?), $crate::static_lock_class!())
    };
}

impl<T: ?Sized, const ID: u64> Work<T, ID> {
    /// A work link that runs `T`'s `WorkItem::run` when queued.
    pub fn new(name: &'static core::ffi::CStr, key: &'static LockClassKey) -> impl PinInit<Self>
    where
        T: WorkItem<ID>,
    {
        let init = move |slot: *mut Self| {
            #[cfg(target_os = "none")]
            // SAFETY: the slot is valid and pinned (the work_struct is made at its final place);
            // name and key are static; the function is this item type's trampoline.
            unsafe {
                crate::bindings::rkk_init_work(Opaque::raw_get(core::ptr::addr_of!((*slot).work)),
                                               Some(<T::Pointer as WorkItemPointer<ID>>::run), name.as_ptr(),
                                               key.as_ptr() as *mut _)
            };
            #[cfg(not(target_os = "none"))]
            {
                let _ = (name, key);
                // on the host the link holds the trampoline, which Queue::queue calls at once
                let run: unsafe extern "C" fn(*mut RawWork) = <T::Pointer as WorkItemPointer<ID>>::run;
                // SAFETY: the slot is valid for writes.
                unsafe { core::ptr::addr_of_mut!((*slot).work).write(Opaque::new(run as usize)) };
            }
            Ok::<(), core::convert::Infallible>(())
        };
        // SAFETY: the closure initialises the one field and cannot fail.
        unsafe { pin_init_from_closure(init) }
    }

    fn raw(work: *const Self) -> *mut RawWork {
        Opaque::raw_get(work as *const Opaque<RawWork>)
    }
}

/// Says which field of `Self` is its [`Work<T, ID>`]; written by [`impl_has_work!`].
///
/// # Safety
/// `raw_get_work` gives the address of a `Work<T, ID>` field inside `*this`, and
/// `work_container_of` is its inverse.
pub unsafe trait HasWork<T, const ID: u64 = 0> {
    /// The field's address.
    ///
    /// # Safety
    /// `this` points to a valid `Self`.
    unsafe fn raw_get_work(this: *mut Self) -> *mut Work<T, ID>;

    /// The struct holding the field at `work`.
    ///
    /// # Safety
    /// `work` is the field of a valid `Self`.
    unsafe fn work_container_of(work: *mut Work<T, ID>) -> *mut Self;
}

/// `impl_has_work! { impl HasWork<Self> for MyStruct { self.work } }` (or with `<Self, 1>` for a
/// second work field): the field that links the struct into a queue.
#[macro_export]
#[allow_internal_unsafe]
macro_rules! impl_has_work {
    ($(impl$({$($generics:tt)*})? HasWork<$work_type:ty $(, $id:tt)?> for $self:ty { self.$field:ident })*) => {$(
        // SAFETY: the field is named by the macro (its type checked by the return type), and
        // container_of is its offset subtracted.
        unsafe impl$(<$($generics)*>)? $crate::workqueue::HasWork<$work_type $(, $id)?> for $self {
            unsafe fn raw_get_work(this: *mut Self) -> *mut $crate::workqueue::Work<$work_type $(, $id)?> {
                // SAFETY: the caller gives a valid Self.
                unsafe { ::core::ptr::addr_of_mut!((*this).$field) }
            }

            unsafe fn work_container_of(work: *mut $crate::workqueue::Work<$work_type $(, $id)?>) -> *mut Self {
                // SAFETY: the caller gives the field of a valid Self.
                unsafe { (work as *mut u8).sub(::core::mem::offset_of!(Self, $field)) as *mut Self }
            }
        }
    )*};
}

/// What a queued item does when it runs (process context; it may sleep).
pub trait WorkItem<const ID: u64 = 0> {
    /// What owns the item while it is queued: `Arc<Self>` or `Pin<KBox<Self>>`.
    type Pointer: WorkItemPointer<ID>;

    /// Runs the item, which the queue hands back.
    fn run(this: Self::Pointer);
}

/// An owning pointer a work item can be queued by.
///
/// # Safety
/// `enqueue` gives the queue one owner, which `run` takes back exactly once.
pub unsafe trait WorkItemPointer<const ID: u64>: Sized {
    /// What `enqueue` returns: `Ok(())`, or for an `Arc` already queued, the `Arc` back.
    type EnqueueOutput;

    #[doc(hidden)]
    fn enqueue(self, queue: &Queue) -> Self::EnqueueOutput;

    /// The kernel's call of a queued item.
    ///
    /// # Safety
    /// `work` is the work_struct `enqueue` queued.
    #[doc(hidden)]
    unsafe extern "C" fn run(work: *mut RawWork);
}

// SAFETY: the queue holds the Arc's owner (into_raw) from a successful queue_work until run takes
// it back; when the work was already queued, the owner is given back at once.
unsafe impl<T, const ID: u64> WorkItemPointer<ID> for Arc<T>
where
    T: WorkItem<ID, Pointer = Arc<T>> + HasWork<T, ID> + Send + Sync + 'static,
{
    type EnqueueOutput = Result<(), Arc<T>>;

    fn enqueue(self, queue: &Queue) -> Result<(), Arc<T>> {
        let raw = Arc::into_raw(self) as *mut T;
        // SAFETY: `raw` is a live T (owned through the Arc given up just now).
        let work = unsafe { T::raw_get_work(raw) };
        // SAFETY: the work link was made with this type's trampoline (Work::new for T).
        if unsafe { queue.queue(Work::raw(work)) } {
            Ok(())
        } else {
            // SAFETY: not queued: the owner given up above is taken back.
            Err(unsafe { Arc::from_raw(raw) })
        }
    }

    unsafe extern "C" fn run(work: *mut RawWork) {
        // SAFETY: `work` is the link of a T queued by `enqueue`, which gave the queue one owner.
        let this = unsafe { Arc::from_raw(T::work_container_of(work as *mut Work<T, ID>)) };
        T::run(this);
    }
}

// SAFETY: a box is queued at most once (it is unique) and owned by the queue until run.
unsafe impl<T, const ID: u64> WorkItemPointer<ID> for Pin<KBox<T>>
where
    T: WorkItem<ID, Pointer = Pin<KBox<T>>> + HasWork<T, ID> + Send + 'static,
{
    type EnqueueOutput = ();

    fn enqueue(self, queue: &Queue) {
        // SAFETY: the box stays where it is: only taken back as a Pin<KBox<T>> in run.
        let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(self) });
        // SAFETY: a live T, owned through the box given up just now; a unique box's link is not
        // queued already, so queue_work takes it.
        unsafe { queue.queue(Work::raw(T::raw_get_work(raw))) };
    }

    unsafe extern "C" fn run(work: *mut RawWork) {
        // SAFETY: the link of a T queued by `enqueue`, which gave the queue the box.
        let this = unsafe { Pin::new_unchecked(KBox::from_raw(T::work_container_of(work as *mut Work<T, ID>))) };
        T::run(this);
    }
}

/// A work queue: the module's own (see the module's docs).
pub struct Queue(());

static MODULE_QUEUE: Queue = Queue(());

impl Queue {
    /// Queues `item` (owned by the queue until it runs).
    pub fn enqueue<W: WorkItemPointer<ID>, const ID: u64>(&self, item: W) -> W::EnqueueOutput {
        item.enqueue(self)
    }

    /// Runs `f` once, later, in process context; `ENOMEM` when no memory is left for it.
    pub fn try_spawn<F: FnOnce() + Send + 'static>(&self, flags: Flags, f: F) -> Result<(), AllocError> {
        let item = KBox::pin_init(
            crate::pin_init!(ClosureWork::<F> { work <- crate::new_work!("ClosureWork::work"), f: Some(f) }),
            flags,
        )
        .map_err(|_| AllocError)?;
        self.enqueue(item);
        Ok(())
    }

    /// # Safety
    /// `work` is an initialised work_struct whose owner was given to the queue.
    unsafe fn queue(&self, work: *mut RawWork) -> bool {
        #[cfg(target_os = "none")]
        // SAFETY: the module's queue lives from before init to after the module's state is
        // dropped (module.rs); the caller's promise for the work.
        return unsafe { crate::bindings::rkk_queue_work(module_queue(), work) };
        #[cfg(not(target_os = "none"))]
        {
            // on the host (tests): the item runs at once, as if a worker took it
            // SAFETY: the caller's promise: an initialised link whose trampoline is stored there.
            unsafe { host::run(work) };
            true
        }
    }
}

#[crate::pin_data]
struct ClosureWork<F> {
    #[pin]
    work: Work<ClosureWork<F>>,
    f: Option<F>,
}

crate::impl_has_work! { impl{F} HasWork<ClosureWork<F>> for ClosureWork<F> { self.work } }

impl<F: FnOnce() + Send + 'static> WorkItem for ClosureWork<F> {
    type Pointer = Pin<KBox<Self>>;

    fn run(mut this: Pin<KBox<Self>>) {
        // SAFETY (no unsafe): `f` is not pinned (only `work` is), so taking it out is fine
        if let Some(f) = this.as_mut().project_f().take() {
            f()
        }
    }
}

impl<F> ClosureWork<F> {
    fn project_f(self: Pin<&mut Self>) -> &mut Option<F> {
        // SAFETY: `f` is not a pinned field: moving it does not move the work link.
        unsafe { &mut self.get_unchecked_mut().f }
    }
}

/// The module's queue (every `system*()` name is it).
pub fn system() -> &'static Queue {
    &MODULE_QUEUE
}

/// As [`system`] (the module's one queue).
pub fn system_highpri() -> &'static Queue {
    &MODULE_QUEUE
}

/// As [`system`] (the module's one queue).
pub fn system_long() -> &'static Queue {
    &MODULE_QUEUE
}

/// As [`system`] (the module's one queue).
pub fn system_unbound() -> &'static Queue {
    &MODULE_QUEUE
}

#[cfg(target_os = "none")]
static QUEUE_POINTER: core::sync::atomic::AtomicPtr<crate::bindings::workqueue_struct> =
    core::sync::atomic::AtomicPtr::new(core::ptr::null_mut());

#[cfg(target_os = "none")]
fn module_queue() -> *mut crate::bindings::workqueue_struct {
    QUEUE_POINTER.load(core::sync::atomic::Ordering::Acquire)
}

/// Makes the module's queue (before its init).
///
/// # Safety
/// Called once, by the module's init, before any work is queued.
#[cfg(target_os = "none")]
pub(crate) unsafe fn start() -> bool {
    // SAFETY: process context (init_module); the name is the module's, static.
    let queue = unsafe { crate::bindings::rkk_alloc_module_workqueue() };
    QUEUE_POINTER.store(queue, core::sync::atomic::Ordering::Release);
    !queue.is_null()
}

/// Runs what is queued, then destroys the queue (after the module's state is dropped).
///
/// # Safety
/// Called once, by the module's exit (or failed init), when nothing but pending work can queue.
#[cfg(target_os = "none")]
pub(crate) unsafe fn finish() {
    let queue = QUEUE_POINTER.swap(core::ptr::null_mut(), core::sync::atomic::Ordering::AcqRel);
    if !queue.is_null() {
        // SAFETY: the queue start made; destroy_workqueue drains it (items queued by its own
        // items included) and returns once none runs.
        unsafe { crate::bindings::destroy_workqueue(queue) };
    }
}

#[cfg(not(target_os = "none"))]
mod host {
    /// Runs a work item on the host at once: its link holds its trampoline (Work::new).
    ///
    /// # Safety
    /// See Queue::queue.
    pub(super) unsafe fn run(work: *mut usize) {
        // SAFETY: Work::new stored this item type's trampoline in the link.
        let run: unsafe extern "C" fn(*mut usize) = unsafe { core::mem::transmute::<usize, _>(*work) };
        // SAFETY: the caller's promise: the link of an item given to the queue.
        unsafe { run(work) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc::flags::GFP_KERNEL;
    use core::sync::atomic::{AtomicU32, Ordering};

    #[crate::pin_data]
    struct Job {
        value: u32,
        #[pin]
        work: Work<Job>,
    }

    crate::impl_has_work! { impl HasWork<Self> for Job { self.work } }

    static RAN: AtomicU32 = AtomicU32::new(0);

    impl WorkItem for Job {
        type Pointer = Arc<Job>;

        fn run(this: Arc<Job>) {
            RAN.fetch_add(this.value, Ordering::Relaxed);
        }
    }

    #[test]
    fn an_arc_item_runs_with_its_owner_and_a_closure_runs_once() {
        let job = Arc::pin_init(crate::pin_init!(Job { value: 5, work <- crate::new_work!() }), GFP_KERNEL).unwrap();
        assert!(system().enqueue(job).is_ok());
        assert_eq!(RAN.load(Ordering::Relaxed), 5);
        system().try_spawn(GFP_KERNEL, || { RAN.fetch_add(100, Ordering::Relaxed); }).unwrap();
        assert_eq!(RAN.load(Ordering::Relaxed), 105);
    }
}
