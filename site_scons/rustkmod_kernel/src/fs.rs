//! Files as file operations see them: [`File`] (an open file) and [`Kiocb`] (one read or write
//! on it, with its position), as the in-tree `kernel::fs`.

#[cfg(target_os = "none")]
use core::ffi::c_void;
use core::marker::PhantomData;

#[cfg(target_os = "none")]
use crate::bindings;
use crate::types::ForeignOwnable;

/// An open file, as a file operation sees it.
#[cfg(target_os = "none")]
pub struct File(*mut bindings::file);

#[cfg(target_os = "none")]
impl File {
    /// # Safety
    /// `file` is an open file that outlives the `File`.
    pub(crate) unsafe fn from_raw(file: *mut bindings::file) -> File {
        File(file)
    }

    /// The `struct file *` to hand to C.
    pub fn as_ptr(&self) -> *mut bindings::file {
        self.0
    }
}

/// An open file, as a test on the host makes one: `File::default()`.
#[cfg(not(target_os = "none"))]
#[derive(Default)]
pub struct File(());

/// One read or write (`read_iter`/`write_iter`) on an open file whose state is a `T`: the
/// state (`file()`) and the position (`ki_pos_mut()`), which the operation moves as it means.
pub struct Kiocb<'a, T: ForeignOwnable> {
    #[cfg(target_os = "none")]
    state: *mut c_void,
    #[cfg(not(target_os = "none"))]
    state: T::Borrowed<'a>,
    position: &'a mut i64,
    _state_type: PhantomData<T>,
}

#[cfg(target_os = "none")]
impl<'a, T: ForeignOwnable> Kiocb<'a, T> {
    /// # Safety
    /// `kiocb` is the kernel's, for an open file whose `private_data` is a `T` given by
    /// `into_foreign`, and lives for `'a`.
    pub(crate) unsafe fn from_raw(kiocb: *mut bindings::kiocb) -> Self {
        // SAFETY: the caller's promise.
        unsafe {
            Kiocb { state: (*(*kiocb).ki_filp).private_data, position: &mut *(&raw mut (*kiocb).ki_pos as *mut i64),
                    _state_type: PhantomData }
        }
    }

    /// The file's state, as `open` made it (it lives as long as the operation: the file is open).
    pub fn file(&self) -> T::Borrowed<'a> {
        // SAFETY: from_raw's promise: the file's state, alive while the file is open, for 'a.
        unsafe { T::borrow(self.state) }
    }
}

#[cfg(not(target_os = "none"))]
impl<'a, T: ForeignOwnable> Kiocb<'a, T>
where
    T::Borrowed<'a>: Copy,
{
    /// On the host (tests): an operation on a file whose state is borrowed as `state`
    /// (`state.as_ref()` of a `Pin<KBox<_>>`), at `position`.
    pub fn host(state: T::Borrowed<'a>, position: &'a mut i64) -> Self {
        Kiocb { state, position, _state_type: PhantomData }
    }

    /// The file's state.
    pub fn file(&self) -> T::Borrowed<'a> {
        self.state
    }
}

impl<T: ForeignOwnable> Kiocb<'_, T> {
    /// The position the operation starts at.
    pub fn ki_pos(&self) -> i64 {
        *self.position
    }

    /// The position, for the operation to move.
    pub fn ki_pos_mut(&mut self) -> &mut i64 {
        self.position
    }
}
