//! Tasks, as the in-tree `kernel::task`: the calling one (`current!()`) and counted references to
//! others (`ARef<Task>`).

use core::marker::PhantomData;
use core::ops::Deref;
use core::ptr::NonNull;

use crate::types::{AlwaysRefCounted, Opaque};

/// A process id.
pub type Pid = i32;

/// The kernel's `struct task_struct`, only ever behind a reference.
#[repr(transparent)]
pub struct Task(Opaque<TaskStruct>);

#[cfg(target_os = "none")]
type TaskStruct = crate::bindings::task_struct;
#[cfg(not(target_os = "none"))]
type TaskStruct = u8;

// SAFETY: a task may be referred to from any thread; its fields read here are the kernel's to
// synchronise (pid is fixed, signals and wake-ups are atomic operations of its own).
unsafe impl Send for Task {}
// SAFETY: as for Send.
unsafe impl Sync for Task {}

/// The calling task, for as long as the caller runs (not `Send`: another thread's current task
/// is another one).
pub struct CurrentTask<'a>(&'a Task, PhantomData<*mut ()>);

impl Deref for CurrentTask<'_> {
    type Target = Task;

    fn deref(&self) -> &Task {
        self.0
    }
}

/// `current!()`: the calling task.
#[macro_export]
macro_rules! current {
    () => {
        $crate::task::Task::current()
    };
}

impl Task {
    /// The calling task (see [`current!`]).
    pub fn current() -> CurrentTask<'static> {
        #[cfg(target_os = "none")]
        // SAFETY: `current` is the running task, alive while it runs; CurrentTask is not Send,
        // so the reference stays on this task.
        return CurrentTask(unsafe { &*(crate::bindings::rkk_current() as *const Task) }, PhantomData);
        #[cfg(not(target_os = "none"))]
        {
            static HOST: Task = Task(Opaque::zeroed());
            CurrentTask(&HOST, PhantomData)
        }
    }

    fn as_ptr(&self) -> *mut TaskStruct {
        self.0.get()
    }

    /// Its process id (thread id, as C's `task->pid`).
    pub fn pid(&self) -> Pid {
        #[cfg(target_os = "none")]
        // SAFETY: the task is alive while referred to.
        return unsafe { crate::bindings::rkk_task_pid(self.as_ptr()) };
        #[cfg(not(target_os = "none"))]
        {
            let _ = self.as_ptr();
            std::process::id() as Pid
        }
    }

    /// Whether a signal is pending for it.
    pub fn signal_pending(&self) -> bool {
        #[cfg(target_os = "none")]
        // SAFETY: the task is alive while referred to.
        return unsafe { crate::bindings::rkk_signal_pending(self.as_ptr()) };
        #[cfg(not(target_os = "none"))]
        false
    }

    /// Wakes it if it sleeps.
    pub fn wake_up(&self) {
        #[cfg(target_os = "none")]
        // SAFETY: the task is alive while referred to.
        unsafe { crate::bindings::wake_up_process(self.as_ptr()) };
    }
}

// SAFETY: get_task_struct keeps the task_struct alive until put_task_struct, from any thread.
unsafe impl AlwaysRefCounted for Task {
    fn inc_ref(&self) {
        #[cfg(target_os = "none")]
        // SAFETY: the task is alive (borrowed).
        unsafe { crate::bindings::rkk_get_task_struct(self.as_ptr()) };
    }

    unsafe fn dec_ref(task: NonNull<Task>) {
        #[cfg(target_os = "none")]
        // SAFETY: the caller holds a count and gives it up.
        unsafe { crate::bindings::rkk_put_task_struct(task.as_ptr() as *mut TaskStruct) };
        #[cfg(not(target_os = "none"))]
        let _ = task;
    }
}
