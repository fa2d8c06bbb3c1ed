//! debugfs with the in-tree shape (`kernel::debugfs`): a [`Dir`] removed when dropped, files that
//! own their data ([`File<T>`], made in place: `dir.read_write_file(c"counter", Atomic::new(0))`)
//! and [`Scope`]s whose files borrow data the scope owns.
//!
//! What a file shows is its data's [`Writer`] (`{:?}`, a line) or [`BinaryWriter`] (its bytes);
//! what a user writes goes to its [`Reader`] (text parsed with `FromStr`) or [`BinaryReader`].
//! debugfs failing (not built in, or no memory) is no error: the file is then absent, as in C.
//!
//! Removal is what makes the borrowed data safe: a file or a scope removes its dentries before
//! its data is dropped, and `debugfs_remove` returns only once no file operation runs on them.

use core::ffi::CStr;
use core::fmt;
use core::marker::{PhantomData, PhantomPinned};
use core::ops::Deref;
use core::ptr::NonNull;
use core::str::FromStr;

use crate::alloc::{Allocator, KBox, Vec};
use crate::error::{code, Result};
use crate::init::{pin_init_from_closure, PinInit};
use crate::sync::atomic::{Atomic, AtomicType, Relaxed};
use crate::sync::{Arc, Mutex};
use crate::uaccess::{UserSliceReader, UserSliceWriter};

/// What a text file shows: one line (`{:?}` of the value, for any `Debug` type).
pub trait Writer {
    /// Writes the file's text.
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl<T: fmt::Debug> Writer for T {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{self:?}")
    }
}

impl<T: Writer> Writer for Mutex<T> {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.lock().write(f)
    }
}

/// What takes a text file's writes: the text, parsed.
pub trait Reader {
    /// Takes what the user wrote.
    fn read_from_slice(&self, reader: &mut UserSliceReader) -> Result;
}

/// The user's text (at most 128 bytes, as the in-tree files take), parsed as a `T`.
fn parse<T: FromStr>(reader: &mut UserSliceReader) -> Result<T> {
    let mut buffer = [0u8; 128];
    let length = reader.len();
    if length > buffer.len() {
        return Err(code::EINVAL);
    }
    reader.read_slice(&mut buffer[..length])?;
    let text = core::str::from_utf8(&buffer[..length]).map_err(|_| code::EINVAL)?;
    text.trim().parse().map_err(|_| code::EINVAL)
}

impl<T: FromStr + Unpin> Reader for Mutex<T> {
    fn read_from_slice(&self, reader: &mut UserSliceReader) -> Result {
        let value = parse(reader)?;
        *self.lock() = value;
        Ok(())
    }
}

impl<T: AtomicType + FromStr> Reader for Atomic<T> {
    fn read_from_slice(&self, reader: &mut UserSliceReader) -> Result {
        self.store(parse(reader)?, Relaxed);
        Ok(())
    }
}

/// What a binary file shows: bytes, read from `*offset` on.
pub trait BinaryWriter {
    /// Copies to `writer` from `*offset` and moves it; the bytes copied.
    fn write_to_slice(&self, writer: &mut UserSliceWriter, offset: &mut i64) -> Result<usize>;
}

/// A read of `bytes` at `*offset`, as `simple_read_from_buffer`.
fn read_bytes(bytes: &[u8], writer: &mut UserSliceWriter, offset: &mut i64) -> Result<usize> {
    let start = usize::try_from(*offset).map_err(|_| code::EINVAL)?;
    if start >= bytes.len() {
        return Ok(0);
    }
    let count = (bytes.len() - start).min(writer.len());
    writer.write_slice(&bytes[start..start + count])?;
    *offset += count as i64;
    Ok(count)
}

/// A write into `bytes` at `*offset` (never past their end), as `simple_write_to_buffer`.
fn write_bytes(bytes: &mut [u8], reader: &mut UserSliceReader, offset: &mut i64) -> Result<usize> {
    let start = usize::try_from(*offset).map_err(|_| code::EINVAL)?;
    if start >= bytes.len() {
        return Err(code::ENOSPC);
    }
    let count = (bytes.len() - start).min(reader.len());
    reader.read_slice(&mut bytes[start..start + count])?;
    *offset += count as i64;
    Ok(count)
}

impl<const N: usize> BinaryWriter for [u8; N] {
    fn write_to_slice(&self, writer: &mut UserSliceWriter, offset: &mut i64) -> Result<usize> {
        read_bytes(self, writer, offset)
    }
}

impl<A: Allocator> BinaryWriter for Vec<u8, A> {
    fn write_to_slice(&self, writer: &mut UserSliceWriter, offset: &mut i64) -> Result<usize> {
        read_bytes(self, writer, offset)
    }
}

impl<T: BinaryWriter> BinaryWriter for Mutex<T> {
    fn write_to_slice(&self, writer: &mut UserSliceWriter, offset: &mut i64) -> Result<usize> {
        self.lock().write_to_slice(writer, offset)
    }
}

/// A binary file's data behind a pointer (`KBox`, `Pin<KBox>`, `Arc`) reads and writes as the data.
macro_rules! forward_binary {
    ($($pointer:ty),*) => { $(
        impl<T: BinaryWriter> BinaryWriter for $pointer {
            fn write_to_slice(&self, writer: &mut UserSliceWriter, offset: &mut i64) -> Result<usize> {
                (**self).write_to_slice(writer, offset)
            }
        }

        impl<T: BinaryReader> BinaryReader for $pointer {
            fn read_from_slice(&self, reader: &mut UserSliceReader, offset: &mut i64) -> Result<usize> {
                (**self).read_from_slice(reader, offset)
            }
        }
    )* };
}

/// Bytes a binary file's writes change in place (never growing them).
pub trait BinaryReaderMut {
    /// Copies from `reader` into the bytes at `*offset` and moves it; the bytes copied.
    fn read_from_slice_mut(&mut self, reader: &mut UserSliceReader, offset: &mut i64) -> Result<usize>;
}

impl<const N: usize> BinaryReaderMut for [u8; N] {
    fn read_from_slice_mut(&mut self, reader: &mut UserSliceReader, offset: &mut i64) -> Result<usize> {
        write_bytes(self, reader, offset)
    }
}

impl<A: Allocator> BinaryReaderMut for Vec<u8, A> {
    fn read_from_slice_mut(&mut self, reader: &mut UserSliceReader, offset: &mut i64) -> Result<usize> {
        write_bytes(self, reader, offset)
    }
}

/// What takes a binary file's writes, through a shared reference (a lock around the bytes).
pub trait BinaryReader {
    /// Copies from `reader` at `*offset`; the bytes copied.
    fn read_from_slice(&self, reader: &mut UserSliceReader, offset: &mut i64) -> Result<usize>;
}

impl<T: BinaryReaderMut + Unpin> BinaryReader for Mutex<T> {
    fn read_from_slice(&self, reader: &mut UserSliceReader, offset: &mut i64) -> Result<usize> {
        self.lock().read_from_slice_mut(reader, offset)
    }
}

forward_binary!(KBox<T>, core::pin::Pin<KBox<T>>, Arc<T>);

/// A debugfs dentry, removed (with everything under it) when the last reference to it goes: a
/// directory lives while anything made in it does (each holds its parent), as in the in-tree crate.
struct Entry {
    dentry: NonNull<core::ffi::c_void>,
    _parent: Option<Arc<Entry>>,        // dropped after the dentry is removed
}

// SAFETY: a dentry may be removed from any thread; the entry only holds it.
unsafe impl Send for Entry {}
// SAFETY: shared, the entry is only read (its pointer handed to C).
unsafe impl Sync for Entry {}

impl Entry {
    /// A made dentry (or none) as a shared entry holding its parent; when no memory is left for
    /// the reference count, the dentry is removed again and there is none (debugfs failing is
    /// no error).
    fn new(dentry: Option<NonNull<core::ffi::c_void>>, parent: Option<&Arc<Entry>>) -> Option<Arc<Entry>> {
        let dentry = dentry?;
        let entry = Entry { dentry, _parent: parent.cloned() };
        Arc::new(entry, crate::alloc::flags::GFP_KERNEL).ok()
    }

    fn as_ptr(entry: &Option<Arc<Entry>>) -> *mut core::ffi::c_void {
        entry.as_ref().map_or(core::ptr::null_mut(), |e| e.dentry.as_ptr())
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        // SAFETY: the entry's own dentry, removed once (the last reference); debugfs_remove
        // waits for the file operations running on it (and under it) to finish, and no new one
        // starts; its parent, held until after this, is still there.
        unsafe { backend::remove(self.dentry.as_ptr()) };
    }
}

/// A debugfs directory; removed, with all it holds, when dropped.
/// Dropping it while something made in it lives keeps the directory until that goes.
pub struct Dir(Option<Arc<Entry>>);

impl Dir {
    /// `/sys/kernel/debug/<name>`.
    pub fn new(name: &CStr) -> Dir {
        // SAFETY: a top-level directory (no parent).
        Dir(Entry::new(unsafe { backend::create_dir(name, core::ptr::null_mut()) }, None))
    }

    /// A directory inside this one (which it keeps).
    pub fn subdir(&self, name: &CStr) -> Dir {
        // SAFETY: this directory's dentry (or none) as the parent, live while self is.
        Dir(Entry::new(unsafe { backend::create_dir(name, Entry::as_ptr(&self.0)) }, self.0.as_ref()))
    }

    fn file<'a, T: Sync + 'a, E: 'a>(&'a self, name: &'a CStr, data: impl PinInit<T, E> + 'a,
                                     operations: &'static backend::Operations) -> impl PinInit<File<T>, E> + 'a {
        let init = move |slot: *mut File<T>| {
            // SAFETY: the slot is valid and pinned (PinInit's caller): the data is made at its
            // place and stays there; the file, made after it, is removed (entry dropped first)
            // before the data goes.
            unsafe {
                let place = core::ptr::addr_of_mut!((*slot).data);
                data.__pinned_init(place)?;
                let dentry = backend::create_file(name, operations.mode, Entry::as_ptr(&self.0), place as *mut _, operations);
                core::ptr::addr_of_mut!((*slot).entry).write(Entry::new(dentry, self.0.as_ref()));
            }
            Ok(())
        };
        // SAFETY: every field is made (the entry may be None), or the data's error returned
        // with nothing made.
        unsafe { pin_init_from_closure(init) }
    }

    /// A file showing `data` (its `Writer` text).
    pub fn read_only_file<'a, T: Writer + Send + Sync + 'a, E: 'a>(&'a self, name: &'a CStr, data: impl PinInit<T, E> + 'a)
        -> impl PinInit<File<T>, E> + 'a {
        self.file(name, data, backend::Text::<T, ()>::READ_ONLY)
    }

    /// A file showing `data` and setting it from what is written (`Reader`).
    pub fn read_write_file<'a, T: Writer + Reader + Send + Sync + 'a, E: 'a>(&'a self, name: &'a CStr,
                                                                            data: impl PinInit<T, E> + 'a)
        -> impl PinInit<File<T>, E> + 'a {
        self.file(name, data, backend::Text::<T, T>::READ_WRITE)
    }

    /// A file only written to.
    pub fn write_only_file<'a, T: Reader + Send + Sync + 'a, E: 'a>(&'a self, name: &'a CStr, data: impl PinInit<T, E> + 'a)
        -> impl PinInit<File<T>, E> + 'a {
        self.file(name, data, backend::Text::<(), T>::WRITE_ONLY)
    }

    /// A file showing `data`'s bytes.
    pub fn read_binary_file<'a, T: BinaryWriter + Send + Sync + 'a, E: 'a>(&'a self, name: &'a CStr,
                                                                          data: impl PinInit<T, E> + 'a)
        -> impl PinInit<File<T>, E> + 'a {
        self.file(name, data, backend::Binary::<T, ()>::READ_ONLY)
    }

    /// A file showing `data`'s bytes and changing them in place when written.
    pub fn read_write_binary_file<'a, T: BinaryWriter + BinaryReader + Send + Sync + 'a, E: 'a>(
        &'a self, name: &'a CStr, data: impl PinInit<T, E> + 'a) -> impl PinInit<File<T>, E> + 'a {
        self.file(name, data, backend::Binary::<T, T>::READ_WRITE)
    }

    /// A directory `name` holding `data` (made in place), whose files `init` makes over the
    /// data; dropping the [`Scope`] removes the directory, then the data.
    pub fn scope<'a, T: Send + Sync + 'a, E: 'a, F>(&'a self, data: impl PinInit<T, E> + 'a, name: &'a CStr, init: F)
        -> impl PinInit<Scope<T>, E> + 'a
    where
        F: for<'data, 'dir> FnOnce(&'data T, &'dir ScopedDir<'data, 'dir>) + 'a,
    {
        let make = move |slot: *mut Scope<T>| {
            // SAFETY: as for `file`: the data is made at its pinned place; the directory, made
            // after it, is removed first when the scope drops.
            unsafe {
                let place = core::ptr::addr_of_mut!((*slot).data);
                data.__pinned_init(place)?;
                let entry = Entry::new(backend::create_dir(name, Entry::as_ptr(&self.0)), self.0.as_ref());
                let directory = ScopedDir { parent: Entry::as_ptr(&entry), _lifetimes: PhantomData };
                init(&*place, &directory);
                core::ptr::addr_of_mut!((*slot).entry).write(entry);
            }
            Ok(())
        };
        // SAFETY: every field made, or the data's error with nothing made.
        unsafe { pin_init_from_closure(make) }
    }
}

/// A debugfs file that owns its data (made in place: C holds its address); dereferences to the
/// data. Dropping it removes the file first.
pub struct File<T> {
    entry: Option<Arc<Entry>>,  // first: removed before the data is dropped
    data: T,
    _pinned: PhantomPinned,
}

impl<T> Deref for File<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.data
    }
}

/// A directory and the data its files borrow (see [`Dir::scope`]); dereferences to the data.
pub struct Scope<T> {
    entry: Option<Arc<Entry>>,  // first: the directory and its files go before the data
    data: T,
    _pinned: PhantomPinned,
}

impl<T> Deref for Scope<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.data
    }
}

/// The directory of a [`Scope`], while its files are made: files here borrow data for `'data`
/// (the scope's) and are removed with the directory.
pub struct ScopedDir<'data, 'dir> {
    parent: *mut core::ffi::c_void,
    _lifetimes: PhantomData<(&'data (), &'dir ())>,
}

impl<'data, 'dir> ScopedDir<'data, 'dir> {
    fn file<T: Sync>(&self, name: &CStr, data: &'data T, operations: &'static backend::Operations) {
        // SAFETY: `data` lives for 'data, which outlasts the scope's directory (removed, and its
        // file operations finished, before the scope's data is dropped); the file is removed
        // with the directory, not on its own.
        unsafe { backend::create_file(name, operations.mode, self.parent, data as *const T as *mut _, operations) };
    }

    /// A directory inside this one.
    pub fn dir(&self, name: &CStr) -> ScopedDir<'data, 'dir> {
        // SAFETY: this directory's dentry as the parent; the new one goes with it.
        let dentry = unsafe { backend::create_dir(name, self.parent) };
        ScopedDir { parent: dentry.map_or(core::ptr::null_mut(), |d| d.as_ptr()), _lifetimes: PhantomData }
    }

    /// A file showing `data`.
    pub fn read_only_file<T: Writer + Send + Sync + 'data>(&self, name: &CStr, data: &'data T) {
        self.file(name, data, backend::Text::<T, ()>::READ_ONLY)
    }

    /// A file showing `data` and setting it when written.
    pub fn read_write_file<T: Writer + Reader + Send + Sync + 'data>(&self, name: &CStr, data: &'data T) {
        self.file(name, data, backend::Text::<T, T>::READ_WRITE)
    }

    /// A file only written to.
    pub fn write_only_file<T: Reader + Send + Sync + 'data>(&self, name: &CStr, data: &'data T) {
        self.file(name, data, backend::Text::<(), T>::WRITE_ONLY)
    }

    /// A file showing `data`'s bytes.
    pub fn read_binary_file<T: BinaryWriter + Send + Sync + 'data>(&self, name: &CStr, data: &'data T) {
        self.file(name, data, backend::Binary::<T, ()>::READ_ONLY)
    }

    /// A file showing `data`'s bytes and changing them when written.
    pub fn read_write_binary_file<T: BinaryWriter + BinaryReader + Send + Sync + 'data>(&self, name: &CStr, data: &'data T) {
        self.file(name, data, backend::Binary::<T, T>::READ_WRITE)
    }

    /// A file whose writes call `callback(data, reader)`: a function (or a closure that
    /// captures nothing).
    pub fn write_only_callback_file<T: Send + Sync + 'data, F>(&self, name: &CStr, data: &'data T, _callback: &'static F)
    where
        F: Fn(&T, &mut UserSliceReader) -> Result + Send + Sync + 'static,
    {
        const { assert!(core::mem::size_of::<F>() == 0, "a debugfs callback is a function, not a closure that captures") };
        self.file(name, data, backend::Callback::<T, F>::WRITE_ONLY)
    }
}

#[cfg(target_os = "none")]
#[path = "debugfs/kernel.rs"]
mod backend;
#[cfg(not(target_os = "none"))]
#[path = "debugfs/host.rs"]
mod backend;
