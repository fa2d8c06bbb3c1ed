//! debugfs on the host (tests): no files; the data lives in its `File` or `Scope` all the same,
//! and a test reads it there.

use core::ffi::{c_void, CStr};
use core::ptr::NonNull;
use core::marker::PhantomData;

use super::{BinaryReader, BinaryWriter, Reader, Writer};
use crate::error::Result;

/// A kind of file: its mode.
pub(super) struct Operations {
    pub(super) mode: u16,
}

/// # Safety
/// None needed on the host: nothing is made.
pub(super) unsafe fn create_dir(_name: &CStr, _parent: *mut c_void) -> Option<NonNull<c_void>> {
    None
}

/// # Safety
/// None needed on the host: nothing is made.
pub(super) unsafe fn create_file(_name: &CStr, _mode: u16, _parent: *mut c_void, _data: *mut c_void,
                                 _operations: &'static Operations) -> Option<NonNull<c_void>> {
    None
}

/// # Safety
/// None needed on the host.
pub(super) unsafe fn remove(_dentry: *mut c_void) {}

pub(super) struct Text<R, W>(PhantomData<(R, W)>);

impl<T: Writer + Sync> Text<T, ()> {
    pub(super) const READ_ONLY: &'static Operations = &Operations { mode: 0o400 };
}

impl<T: Writer + Reader + Sync> Text<T, T> {
    pub(super) const READ_WRITE: &'static Operations = &Operations { mode: 0o600 };
}

impl<T: Reader + Sync> Text<(), T> {
    pub(super) const WRITE_ONLY: &'static Operations = &Operations { mode: 0o200 };
}

pub(super) struct Binary<R, W>(PhantomData<(R, W)>);

impl<T: BinaryWriter + Sync> Binary<T, ()> {
    pub(super) const READ_ONLY: &'static Operations = &Operations { mode: 0o400 };
}

impl<T: BinaryWriter + BinaryReader + Sync> Binary<T, T> {
    pub(super) const READ_WRITE: &'static Operations = &Operations { mode: 0o600 };
}

pub(super) struct Callback<T, F>(PhantomData<(T, F)>);

impl<T: Sync, F: Fn(&T, &mut crate::uaccess::UserSliceReader) -> Result + Sync + 'static> Callback<T, F> {
    pub(super) const WRITE_ONLY: &'static Operations = &Operations { mode: 0o200 };
}
