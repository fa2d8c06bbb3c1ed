//! debugfs's C side: dentries and the `file_operations` of each kind of file, one `'static`
//! table per data type (as for misc devices), owned by this module.

use core::ffi::{c_char, c_int, c_void, CStr};
use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;

use super::{BinaryReader, BinaryWriter, Reader, Writer};
use crate::bindings;
use crate::error::Result;
use crate::seq_file::SeqFile;
use crate::uaccess::{UserPtr, UserSlice};

unsafe extern "C" {
    // This module's `struct module`, defined by Kbuild's <module>.mod.c.
    static mut __this_module: u8;
}

/// A kind of file: its mode and its operations.
pub(super) struct Operations {
    pub(super) mode: u16,
    fops: bindings::file_operations,
}

/// A directory under `parent` (null: the top), or None when debugfs made none.
///
/// # Safety
/// `parent` is null or a live debugfs directory.
pub(super) unsafe fn create_dir(name: &CStr, parent: *mut c_void) -> Option<NonNull<c_void>> {
    // SAFETY: the caller's promise; the name is copied by debugfs.
    let dentry = unsafe { bindings::rkk_debugfs_create_dir(name.as_ptr(), parent as *mut bindings::dentry) };
    NonNull::new(dentry as *mut c_void)
}

/// A file under `parent` whose operations see `data` (the inode's private pointer).
///
/// # Safety
/// `parent` is null or a live debugfs directory; `data` is what `operations` expect, and lives
/// until the file is removed.
pub(super) unsafe fn create_file(name: &CStr, mode: u16, parent: *mut c_void, data: *mut c_void,
                                 operations: &'static Operations) -> Option<NonNull<c_void>> {
    // SAFETY: the caller's promise; the table is 'static.
    let dentry = unsafe {
        bindings::rkk_debugfs_create_file(name.as_ptr(), mode as _, parent as *mut bindings::dentry, data, &operations.fops)
    };
    NonNull::new(dentry as *mut c_void)
}

/// # Safety
/// `dentry` is a live debugfs dentry, removed once.
pub(super) unsafe fn remove(dentry: *mut c_void) {
    // SAFETY: the caller's promise.
    unsafe { bindings::debugfs_remove(dentry as *mut bindings::dentry) }
}

/// The data a debugfs file was made with.
///
/// # Safety
/// `file` is an open debugfs file made with a `T` as its data.
unsafe fn data<'a, T>(file: *mut bindings::file) -> &'a T {
    // SAFETY: the caller's promise; the data lives until the file is removed, which waits for
    // this operation.
    unsafe { &*(bindings::rkk_inode_private(file) as *const T) }
}

/// A read or write's result as C returns it (the count, or -errno).
fn to_ssize(result: Result<usize>) -> isize {
    rustkmod_rt::error::to_ssize(result)
}

const fn no_operations() -> bindings::file_operations {
    // SAFETY: an all-zero file_operations is C's `{}`.
    let mut operations: bindings::file_operations = unsafe { core::mem::zeroed() };
    operations.owner = (&raw mut __this_module) as *mut _;
    operations
}

/// Text files: `R` shows (seq_file, one `show`), `W` takes writes.
pub(super) struct Text<R, W>(PhantomData<(R, W)>);

struct Shown<'a, T>(&'a T);

impl<T: Writer> fmt::Display for Shown<'_, T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(formatter)
    }
}

impl<R: Writer + Sync, W> Text<R, W> {
    unsafe extern "C" fn show(seq: *mut bindings::seq_file, _: *mut c_void) -> c_int {
        // SAFETY: single_open set the seq_file's private to the file's data, an R.
        let (seq, value) = unsafe { (SeqFile::from_raw(seq), &*((*seq).private as *const R)) };
        crate::seq_print!(seq, "{}", Shown(value));
        0
    }

    unsafe extern "C" fn open(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: an open debugfs file of this kind: its data is an R.
        unsafe { bindings::single_open(file, Some(Self::show), bindings::rkk_inode_private(file)) }
    }

    const fn readable(mode: u16, write: bool) -> Operations {
        let mut fops = no_operations();
        fops.open = Some(Self::open);
        fops.read = Some(bindings::seq_read);
        fops.llseek = Some(bindings::seq_lseek);
        fops.release = Some(bindings::single_release);
        let _ = write;
        Operations { mode, fops }
    }
}

impl<R, W: Reader + Sync> Text<R, W> {
    unsafe extern "C" fn write(file: *mut bindings::file, buffer: *const c_char, length: usize,
                               _offset: *mut bindings::loff_t) -> isize {
        let mut reader = UserSlice::new(UserPtr::from_ptr(buffer as *mut c_void), length).reader();
        // SAFETY: an open debugfs file of this kind: its data is a W.
        let value = unsafe { data::<W>(file) };
        to_ssize(value.read_from_slice(&mut reader).map(|()| length))
    }
}

impl<T: Writer + Sync> Text<T, ()> {
    pub(super) const READ_ONLY: &'static Operations = &Self::readable(0o400, false);
}

impl<T: Writer + Reader + Sync> Text<T, T> {
    pub(super) const READ_WRITE: &'static Operations = &{
        let mut operations = Self::readable(0o600, true);
        operations.fops.write = Some(Self::write);
        operations
    };
}

impl<T: Reader + Sync> Text<(), T> {
    pub(super) const WRITE_ONLY: &'static Operations = &{
        let mut fops = no_operations();
        fops.write = Some(Self::write);
        fops.llseek = Some(bindings::noop_llseek);
        Operations { mode: 0o200, fops }
    };
}

/// Binary files: `R`'s bytes are read, `W`'s changed in place.
pub(super) struct Binary<R, W>(PhantomData<(R, W)>);

impl<R: BinaryWriter + Sync, W> Binary<R, W> {
    unsafe extern "C" fn read(file: *mut bindings::file, buffer: *mut c_char, length: usize,
                              offset: *mut bindings::loff_t) -> isize {
        let mut writer = UserSlice::new(UserPtr::from_ptr(buffer as *mut c_void), length).writer();
        // SAFETY: an open debugfs file of this kind (its data an R), with its valid offset.
        let (value, offset) = unsafe { (data::<R>(file), &mut *(offset as *mut i64)) };
        to_ssize(value.write_to_slice(&mut writer, offset))
    }
}

impl<R, W: BinaryReader + Sync> Binary<R, W> {
    unsafe extern "C" fn write(file: *mut bindings::file, buffer: *const c_char, length: usize,
                               offset: *mut bindings::loff_t) -> isize {
        let mut reader = UserSlice::new(UserPtr::from_ptr(buffer as *mut c_void), length).reader();
        // SAFETY: as read, its data a W.
        let (value, offset) = unsafe { (data::<W>(file), &mut *(offset as *mut i64)) };
        to_ssize(value.read_from_slice(&mut reader, offset))
    }
}

impl<T: BinaryWriter + Sync> Binary<T, ()> {
    pub(super) const READ_ONLY: &'static Operations = &{
        let mut fops = no_operations();
        fops.read = Some(Self::read);
        fops.llseek = Some(bindings::default_llseek);
        Operations { mode: 0o400, fops }
    };
}

impl<T: BinaryWriter + BinaryReader + Sync> Binary<T, T> {
    pub(super) const READ_WRITE: &'static Operations = &{
        let mut fops = no_operations();
        fops.read = Some(Self::read);
        fops.write = Some(Self::write);
        fops.llseek = Some(bindings::default_llseek);
        Operations { mode: 0o600, fops }
    };
}

/// Files whose writes call a function `F` with their data `T`.
pub(super) struct Callback<T, F>(PhantomData<(T, F)>);

impl<T: Sync, F: Fn(&T, &mut crate::uaccess::UserSliceReader) -> Result + Sync + 'static> Callback<T, F> {
    unsafe extern "C" fn write(file: *mut bindings::file, buffer: *const c_char, length: usize,
                               _offset: *mut bindings::loff_t) -> isize {
        let mut reader = UserSlice::new(UserPtr::from_ptr(buffer as *mut c_void), length).reader();
        // SAFETY: an open debugfs file of this kind: its data is a T.
        let value = unsafe { data::<T>(file) };
        // SAFETY: F has no size (write_only_callback_file checked), so any aligned, non-null
        // address holds one; the file was made from a `&'static F`, so one exists.
        let callback: &F = unsafe { NonNull::<F>::dangling().as_ref() };
        to_ssize(callback(value, &mut reader).map(|()| length))
    }

    pub(super) const WRITE_ONLY: &'static Operations = &{
        let mut fops = no_operations();
        fops.write = Some(Self::write);
        fops.llseek = Some(bindings::noop_llseek);
        Operations { mode: 0o200, fops }
    };
}
