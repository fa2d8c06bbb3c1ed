//! Misc devices: a character device under `/dev/<name>` with a dynamic minor. A type implementing
//! [`MiscDevice`] is the state of one open file: `open` makes it, `read`, `write` and `ioctl` get
//! it pinned, and dropping it is `release`. [`MiscDeviceRegistration`] registers the device when
//! made (`KBox::pin_init(MiscDeviceRegistration::register(options), GFP_KERNEL)?`) and removes it
//! when dropped.
//!
//! The `file_operations` table is built for each kernel from its own bindings, one `'static`
//! table per device type, with this module as its `owner`: an open file keeps a pointer to the
//! table and a reference to the module, so the table must outlive any registration (a device
//! removed while a file of it is open keeps working for that file), and the module outlives the
//! file. What crosses back into C is checked: an errno is an errno, a count at most what was
//! asked. A device opens only once the module's `init` returned `Ok` (`ENODEV` before), and one
//! its code forgot (`mem::forget`) is removed at unload.
//!
//! On the host (tests) a registration registers nothing and keeps its data, and a test calls the
//! device's `open`, `read`, `write` and `ioctl` itself, with `File::default()` and user slices
//! over its own buffers.

use core::cell::UnsafeCell;
#[cfg(target_os = "none")]
use core::ffi::{c_int, c_uint, c_ulong, c_void};
use core::ffi::CStr;
use core::marker::{PhantomData, PhantomPinned};
use core::pin::Pin;

use crate::alloc::KBox;
#[cfg(target_os = "none")]
use crate::bindings;
use crate::error::{code, Error, Result};
use crate::init::{pin_init_from_closure, PinInit};
use crate::iov::{IovIterDest, IovIterSource};
use crate::registrations;
use crate::seq_file::SeqFile;
use crate::types::ForeignOwnable;
#[cfg(target_os = "none")]
use crate::uaccess::{UserPtr, UserSlice};
use crate::uaccess::{UserSliceReader, UserSliceWriter};

#[cfg(target_os = "none")]
unsafe extern "C" {
    // This module's `struct module`, defined by Kbuild's <module>.mod.c.
    static mut __this_module: u8;
}

pub use crate::fs::{File, Kiocb};

/// What the device is called: `/dev/<name>`.
#[derive(Clone, Copy)]
pub struct MiscDeviceOptions {
    pub name: &'static CStr,
}

/// A misc device's file operations, with the in-tree trait's shape: `open` makes the state of
/// one open file (a [`Self::Ptr`], `Pin<KBox<Self>>` unless given), the other operations borrow
/// it, `release` gets it back. Put `#[vtable]` on the impl: the operations it defines are the
/// ones the device has (`compat_ioctl` and `show_fdinfo` only then).
///
/// rustkmod's older forms still work: `type RegistrationData` (what every open file shares,
/// `misc.data()`), and `read`/`write` on user slices (for an impl without `read_iter` and
/// `write_iter`).
#[macros::vtable]
pub trait MiscDevice: Sized + Send + Sync + 'static {
    /// What keeps an open file's state: `Pin<KBox<Self>>`, `KBox<Self>`, `Arc<Self>`.
    type Ptr: ForeignOwnable + Send + Sync = Pin<KBox<Self>>;

    /// What every open file shares, kept by the registration (`misc.data()` in `open`): a
    /// `Pin<KBox<Mutex<T>>>`, say. `()` unless given. (rustkmod's; the in-tree trait has none.)
    type RegistrationData: Send + Sync = ();

    /// A file was opened: its state (given back to `release`).
    fn open(file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Self::Ptr>;

    /// The file was closed: its state, dropped unless kept.
    fn release(device: Self::Ptr, _file: &File) {
        drop(device);
    }

    /// `read(2)`: copy to `iov` from `*kiocb.ki_pos_mut()` on and move it; the bytes copied.
    fn read_iter(_kiocb: Kiocb<'_, Self::Ptr>, _iov: &mut IovIterDest<'_>) -> Result<usize> {
        Err(code::EINVAL)
    }

    /// `write(2)`: take what `iov` gives; the bytes taken.
    fn write_iter(_kiocb: Kiocb<'_, Self::Ptr>, _iov: &mut IovIterSource<'_>) -> Result<usize> {
        Err(code::EINVAL)
    }

    /// `ioctl(2)`: `arg` is the caller's argument (a user address for commands that carry
    /// data: `UserSlice::new(UserPtr::from_addr(arg), _IOC_SIZE(cmd))`). ENOTTY unless
    /// implemented, as for an unknown command.
    fn ioctl(_device: <Self::Ptr as ForeignOwnable>::Borrowed<'_>, _file: &File, _cmd: u32, _arg: usize) -> Result<isize> {
        Err(code::ENOTTY)
    }

    /// `ioctl(2)` from a 32-bit program on a 64-bit kernel; without it (and with `ioctl`), the
    /// argument is converted as a pointer and `ioctl` called (C's `compat_ptr_ioctl`).
    fn compat_ioctl(_device: <Self::Ptr as ForeignOwnable>::Borrowed<'_>, _file: &File, _cmd: u32, _arg: usize) -> Result<isize> {
        Err(code::ENOTTY)
    }

    /// What `/proc/<pid>/fdinfo/<fd>` shows of the file, after the kernel's own lines.
    fn show_fdinfo(_device: <Self::Ptr as ForeignOwnable>::Borrowed<'_>, _m: &SeqFile, _file: &File) {}

    /// rustkmod's older form of `read_iter` (used when `read_iter` is not defined): fill
    /// `writer` (its length is the caller's count), return the bytes written and move `offset`.
    fn read(_device: <Self::Ptr as ForeignOwnable>::Borrowed<'_>, _file: &File, _writer: &mut UserSliceWriter,
            _offset: &mut i64) -> Result<usize> {
        Err(code::EINVAL)
    }

    /// rustkmod's older form of `write_iter` (used when `write_iter` is not defined).
    fn write(_device: <Self::Ptr as ForeignOwnable>::Borrowed<'_>, _file: &File, _reader: &mut UserSliceReader,
             _offset: &mut i64) -> Result<usize> {
        Err(code::EINVAL)
    }
}

/// A registered misc device; deregistered when dropped. Made in place, never moved.
#[repr(C)]
pub struct MiscDeviceRegistration<T: MiscDevice> {
    #[cfg(target_os = "none")]
    device: UnsafeCell<bindings::miscdevice>,      // first: the open callback finds the registration by it
    entry: UnsafeCell<registrations::Entry>,       // listed while registered: removed at unload if forgotten
    data: T::RegistrationData,
    _pinned: PhantomPinned,
    _device_type: PhantomData<T>,
}

// SAFETY: the kernel serialises registration and removal; the tables are read-only once
// registered, and the data is Send + Sync.
unsafe impl<T: MiscDevice> Send for MiscDeviceRegistration<T> {}
// SAFETY: as for Send.
unsafe impl<T: MiscDevice> Sync for MiscDeviceRegistration<T> {}

impl<T: MiscDevice> MiscDeviceRegistration<T> {
    /// Registers `/dev/<name>`; an Err is misc_register's (EBUSY for a taken name, say).
    pub fn register(options: MiscDeviceOptions) -> impl PinInit<Self, Error>
    where
        T::RegistrationData: Default,
    {
        Self::register_with_data(options, T::RegistrationData::default())
    }

    /// Registers `/dev/<name>` with `data` for every open file to share.
    #[cfg(target_os = "none")]
    pub fn register_with_data(options: MiscDeviceOptions, data: T::RegistrationData) -> impl PinInit<Self, Error> {
        let init = move |slot: *mut Self| {
            // SAFETY: PinInit's caller gives a valid slot that does not move; the device is
            // complete and listed before misc_register sees it, and stays until Drop (or the
            // module's exit, when forgotten) deregisters it; the table is 'static.
            unsafe {
                let device = core::ptr::addr_of_mut!((*slot).device) as *mut bindings::miscdevice;
                let mut raw: bindings::miscdevice = core::mem::zeroed();
                raw.minor = bindings::MISC_DYNAMIC_MINOR as _;
                raw.name = options.name.as_ptr();
                raw.fops = Self::OPERATIONS_TABLE;
                device.write(raw);
                let entry = core::ptr::addr_of_mut!((*slot).entry) as *mut registrations::Entry;
                entry.write(registrations::Entry::new(slot as *const (), Self::remove_forgotten, options.name));
                registrations::track(entry)?;
                // before misc_register: a file may open the moment it returns
                let data_slot = core::ptr::addr_of_mut!((*slot).data);
                data_slot.write(data);
                let status = bindings::misc_register(device);
                if status != 0 {
                    core::ptr::drop_in_place(data_slot);
                    registrations::untrack(entry);
                    return Err(Error::from_errno(status));
                }
            }
            Ok(())
        };
        // SAFETY: the closure initialises every field, or returns the error with nothing left to
        // drop (`data` dropped in place, or with the closure when listing failed).
        unsafe { pin_init_from_closure(init) }
    }

    /// On the host: keeps `data`, registers nothing.
    #[cfg(not(target_os = "none"))]
    pub fn register_with_data(options: MiscDeviceOptions, data: T::RegistrationData) -> impl PinInit<Self, Error> {
        let init = move |slot: *mut Self| {
            // SAFETY: PinInit's caller gives a valid slot.
            unsafe {
                let entry = core::ptr::addr_of_mut!((*slot).entry) as *mut registrations::Entry;
                entry.write(registrations::Entry::new(slot as *const (), Self::remove_forgotten, options.name));
                registrations::track(entry)?;
                core::ptr::addr_of_mut!((*slot).data).write(data);
            }
            Ok(())
        };
        // SAFETY: the closure initialises every field.
        unsafe { pin_init_from_closure(init) }
    }

    /// The module's exit found this registration still listed (its owner forgot it): deregister.
    ///
    /// # Safety
    /// `registration` is a listed (so live, never dropped) registration of this type, unlisted now.
    unsafe fn remove_forgotten(registration: *const ()) {
        #[cfg(target_os = "none")]
        // SAFETY: the caller's promise: still registered, and its memory was never freed.
        unsafe { bindings::misc_deregister((*(registration as *const Self)).device.get()) };
        #[cfg(not(target_os = "none"))]
        let _ = registration;
    }

    /// What the open files share.
    pub fn data(&self) -> &T::RegistrationData {
        &self.data
    }

    /// The device, for `dev_info!` and the others (on the host: one that prints to stderr).
    pub fn device(&self) -> &crate::device::Device {
        #[cfg(target_os = "none")]
        // SAFETY: registered: this_device lives until misc_deregister, when the registration drops.
        return unsafe { crate::device::Device::from_raw((*self.device.get()).this_device) };
        #[cfg(not(target_os = "none"))]
        crate::device::Device::host()
    }
}

#[cfg(target_os = "none")]
impl<T: MiscDevice> MiscDeviceRegistration<T> {
    /// The `struct miscdevice` to hand to C (its `this_device` is the device, once registered).
    pub fn as_raw(&self) -> *mut bindings::miscdevice {
        self.device.get()
    }

    /// The device type's `file_operations`: one `'static` table (a promoted constant), which an
    /// open file may use after its registration is gone.
    const OPERATIONS_TABLE: &'static bindings::file_operations = &Self::OPERATIONS;

    const OPERATIONS: bindings::file_operations = {
        // SAFETY: an all-zero file_operations is C's `{}`: no operation.
        let mut operations: bindings::file_operations = unsafe { core::mem::zeroed() };
        operations.owner = (&raw mut __this_module) as *mut _;
        operations.open = Some(Self::open_callback);
        operations.release = Some(Self::release_callback);
        if T::HAS_READ_ITER {
            operations.read_iter = Some(Self::read_iter_callback);
        } else {
            operations.read = Some(Self::read_callback);
        }
        if T::HAS_WRITE_ITER {
            operations.write_iter = Some(Self::write_iter_callback);
        } else {
            operations.write = Some(Self::write_callback);
        }
        operations.unlocked_ioctl = Some(Self::ioctl_callback);
        // 32-bit programs on a 64-bit kernel (only a CONFIG_COMPAT kernel makes such calls)
        #[cfg(target_pointer_width = "64")]
        if T::HAS_COMPAT_IOCTL || T::HAS_IOCTL {
            operations.compat_ioctl = Some(Self::compat_ioctl_callback);
        }
        if T::HAS_SHOW_FDINFO {
            operations.show_fdinfo = Some(Self::show_fdinfo_callback);
        }
        operations.llseek = Some(bindings::noop_llseek);
        operations
    };

    /// # Safety
    /// Called by the kernel with an open file whose private_data is the file's state.
    unsafe fn state<'a>(file: *mut bindings::file) -> <T::Ptr as ForeignOwnable>::Borrowed<'a> {
        // SAFETY: open stored the state's into_foreign pointer there; release takes it back
        // after the last operation.
        unsafe { T::Ptr::borrow((*file).private_data) }
    }

    unsafe extern "C" fn open_callback(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        if !registrations::is_live() {
            return code::ENODEV.to_errno();     // the module is in its init (or failing it)
        }
        // SAFETY: misc_open sets private_data to our miscdevice, the registration's first field
        // (repr(C)), and holds misc_mtx while calling us, which misc_deregister (our Drop) takes:
        // the registration lives until we return.
        unsafe {
            let registration = &*((*file).private_data as *const MiscDeviceRegistration<T>);
            match T::open(&File::from_raw(file), registration) {
                Ok(state) => {
                    (*file).private_data = state.into_foreign();
                    0
                }
                // to_errno is always -MAX_ERRNO..=-1: never a success that would leave the
                // registration as the file's state
                Err(error) => error.to_errno(),
            }
        }
    }

    unsafe extern "C" fn release_callback(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: the pointer open stored; no operation runs on the file any more.
        let state = unsafe { T::Ptr::from_foreign((*file).private_data) };
        // SAFETY: the file is open until this returns.
        let file = unsafe { File::from_raw(file) };
        T::release(state, &file);
        0
    }

    /// A read or a write of the older form: the file's state and offset handed to `operation`,
    /// the offset it moved written back, its result as C returns it (the count, or -errno).
    ///
    /// # Safety
    /// Called by the kernel's read or write with an open file and its valid offset.
    unsafe fn transfer(file: *mut bindings::file, offset: *mut bindings::loff_t, length: usize,
                       operation: impl FnOnce(<T::Ptr as ForeignOwnable>::Borrowed<'_>, &File, &mut i64) -> Result<usize>) -> isize {
        // SAFETY: the caller's promise.
        let (state, offset, file) = unsafe { (Self::state(file), &mut *offset, File::from_raw(file)) };
        let mut position = *offset as i64;
        let result = operation(state, &file, &mut position);
        *offset = position as _;
        // never more than asked: the VFS would trust a larger count (cut to `length`, warned)
        rustkmod_rt::error::to_ssize(result.map(|count| at_most(count, length)))
    }

    unsafe extern "C" fn read_callback(file: *mut bindings::file, buffer: *mut core::ffi::c_char, length: usize,
                                       offset: *mut bindings::loff_t) -> isize {
        let mut writer = UserSlice::new(UserPtr::from_ptr(buffer as *mut c_void), length).writer();
        // SAFETY: the kernel's read, on an open file with a valid offset.
        unsafe { Self::transfer(file, offset, length, |state, file, position| T::read(state, file, &mut writer, position)) }
    }

    unsafe extern "C" fn write_callback(file: *mut bindings::file, buffer: *const core::ffi::c_char, length: usize,
                                        offset: *mut bindings::loff_t) -> isize {
        let mut reader = UserSlice::new(UserPtr::from_ptr(buffer as *mut c_void), length).reader();
        // SAFETY: the kernel's write, on an open file with a valid offset.
        unsafe { Self::transfer(file, offset, length, |state, file, position| T::write(state, file, &mut reader, position)) }
    }

    unsafe extern "C" fn read_iter_callback(kiocb: *mut bindings::kiocb, iter: *mut bindings::iov_iter) -> isize {
        // SAFETY: the kernel's read_iter: a live kiocb of an open file of this device, and its
        // destination iterator.
        let (kiocb, mut iov) = unsafe { (Kiocb::<T::Ptr>::from_raw(kiocb), IovIterDest::from_raw(iter)) };
        let length = iov.len();
        rustkmod_rt::error::to_ssize(T::read_iter(kiocb, &mut iov).map(|count| at_most(count, length)))
    }

    unsafe extern "C" fn write_iter_callback(kiocb: *mut bindings::kiocb, iter: *mut bindings::iov_iter) -> isize {
        // SAFETY: the kernel's write_iter, as for read_iter.
        let (kiocb, mut iov) = unsafe { (Kiocb::<T::Ptr>::from_raw(kiocb), IovIterSource::from_raw(iter)) };
        let length = iov.len();
        rustkmod_rt::error::to_ssize(T::write_iter(kiocb, &mut iov).map(|count| at_most(count, length)))
    }

    unsafe extern "C" fn ioctl_callback(file: *mut bindings::file, command: c_uint, arg: c_ulong) -> core::ffi::c_long {
        // SAFETY: the kernel calls this on an open file.
        let (state, file) = unsafe { (Self::state(file), File::from_raw(file)) };
        ioctl_result(command, T::ioctl(state, &file, command, arg as usize))
    }

    /// A 32-bit program's ioctl: `compat_ioctl` when the device has it, else `ioctl` with the
    /// argument widened as a 32-bit pointer (C's `compat_ptr_ioctl`).
    #[cfg(target_pointer_width = "64")]
    unsafe extern "C" fn compat_ioctl_callback(file: *mut bindings::file, command: c_uint, arg: c_ulong) -> core::ffi::c_long {
        // SAFETY: the kernel calls this on an open file.
        let (state, file) = unsafe { (Self::state(file), File::from_raw(file)) };
        if T::HAS_COMPAT_IOCTL {
            return ioctl_result(command, T::compat_ioctl(state, &file, command, arg as usize));
        }
        ioctl_result(command, T::ioctl(state, &file, command, arg as u32 as usize))
    }

    unsafe extern "C" fn show_fdinfo_callback(seq: *mut bindings::seq_file, file: *mut bindings::file) {
        // SAFETY: the kernel calls this on an open file, with its seq_file for the fdinfo text.
        let (state, file, seq) = unsafe { (Self::state(file), File::from_raw(file), SeqFile::from_raw(seq)) };
        T::show_fdinfo(state, seq, &file);
    }
}

/// An ioctl's result as C returns it: a negative `Ok` would read as an error, so it is `EINVAL`.
#[cfg(target_os = "none")]
fn ioctl_result(command: c_uint, result: Result<isize>) -> core::ffi::c_long {
    match result {
        Ok(value) if value >= 0 => value as _,
        Ok(value) => {
            crate::pr_warn_once!("ioctl {command:#x} returned Ok({value}): EINVAL instead (a negative value reads as an error)\n");
            code::EINVAL.to_errno() as _
        }
        Err(error) => error.to_errno() as _,
    }
}

impl<T: MiscDevice> Drop for MiscDeviceRegistration<T> {
    fn drop(&mut self) {
        // SAFETY: listed and registered when made, and dropped once: files still open keep the
        // 'static table and their own state, and misc_deregister waits for an open in progress.
        unsafe {
            registrations::untrack(self.entry.get());
            #[cfg(target_os = "none")]
            bindings::misc_deregister(self.device.get());
        }
    }
}

/// A read's or write's count as C may take it: at most `length`, the count asked for.
#[cfg_attr(not(target_os = "none"), allow(dead_code))]      // the host has no callbacks: tests call the operations
fn at_most(count: usize, length: usize) -> usize {
    if count > length {
        crate::pr_warn_once!("a read or write returned {count} bytes of {length} asked: cut to {length}\n");
        return length;
    }
    count
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_count_is_at_most_what_was_asked() {
        assert_eq!(super::at_most(5, 10), 5);
        assert_eq!(super::at_most(11, 10), 10);
        assert_eq!(super::at_most(usize::MAX, 0), 0);
    }
}
