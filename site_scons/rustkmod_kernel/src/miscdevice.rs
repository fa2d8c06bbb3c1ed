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
#[cfg(target_os = "none")]
use crate::error::Error;
use crate::error::{code, Result};
use crate::init::{InitClosure, PinInit};
use crate::registrations;
#[cfg(target_os = "none")]
use crate::uaccess::{UserPtr, UserSlice};
use crate::uaccess::{UserSliceReader, UserSliceWriter};

#[cfg(target_os = "none")]
unsafe extern "C" {
    // This module's `struct module`, defined by Kbuild's <module>.mod.c.
    static mut __this_module: u8;
}

/// An open file, as a file operation sees it.
#[cfg(target_os = "none")]
pub struct File(*mut bindings::file);

#[cfg(target_os = "none")]
impl File {
    /// The `struct file *` to hand to C.
    pub fn as_ptr(&self) -> *mut bindings::file {
        self.0
    }
}

/// An open file, as a test on the host makes one: `File::default()`.
#[cfg(not(target_os = "none"))]
#[derive(Default)]
pub struct File(());

/// What the device is called: `/dev/<name>`.
#[derive(Clone, Copy)]
pub struct MiscDeviceOptions {
    pub name: &'static CStr,
}

/// The state of one open file of a misc device.
pub trait MiscDevice: Sized + Send + Sync + 'static {
    /// What every open file shares, kept by the registration (`misc.data()` in `open`): a
    /// `Pin<KBox<Mutex<T>>>`, say. `()` unless given.
    type RegistrationData: Send + Sync = ();

    /// A file was opened: its state (dropped when the file is released).
    fn open(file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>>;

    /// `read(2)`: fill `writer` (its length is the caller's count), return the bytes written and
    /// move `offset` as the device means it. EINVAL unless implemented.
    fn read(_device: Pin<&Self>, _file: &File, _writer: &mut UserSliceWriter, _offset: &mut i64) -> Result<usize> {
        Err(code::EINVAL)
    }

    /// `write(2)`: take what `reader` holds, return the bytes taken. EINVAL unless implemented.
    fn write(_device: Pin<&Self>, _file: &File, _reader: &mut UserSliceReader, _offset: &mut i64) -> Result<usize> {
        Err(code::EINVAL)
    }

    /// `ioctl(2)`: `arg` is the caller's argument (a user address for commands that carry
    /// data: `UserSlice::new(UserPtr::from_addr(arg), _IOC_SIZE(command))`). ENOTTY unless
    /// implemented, as for an unknown command.
    fn ioctl(_device: Pin<&Self>, _file: &File, _command: u32, _arg: usize) -> Result<isize> {
        Err(code::ENOTTY)
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
    pub fn register(options: MiscDeviceOptions) -> impl PinInit<Self>
    where
        T::RegistrationData: Default,
    {
        Self::register_with_data(options, T::RegistrationData::default())
    }

    /// Registers `/dev/<name>` with `data` for every open file to share.
    #[cfg(target_os = "none")]
    pub fn register_with_data(options: MiscDeviceOptions, data: T::RegistrationData) -> impl PinInit<Self> {
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
        unsafe { InitClosure::new(init) }
    }

    /// On the host: keeps `data`, registers nothing.
    #[cfg(not(target_os = "none"))]
    pub fn register_with_data(options: MiscDeviceOptions, data: T::RegistrationData) -> impl PinInit<Self> {
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
        unsafe { InitClosure::new(init) }
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
        operations.read = Some(Self::read_callback);
        operations.write = Some(Self::write_callback);
        operations.unlocked_ioctl = Some(Self::ioctl_callback);
        operations.llseek = Some(bindings::noop_llseek);
        operations
    };

    /// # Safety
    /// Called by the kernel with an open file whose private_data is the file's state.
    unsafe fn state<'a>(file: *mut bindings::file) -> Pin<&'a T> {
        // SAFETY: open stored a pinned KBox<T>'s pointer there; release frees it after the
        // last operation.
        unsafe { Pin::new_unchecked(&*((*file).private_data as *const T)) }
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
            match T::open(&File(file), registration) {
                Ok(state) => {
                    (*file).private_data = KBox::into_raw(Pin::into_inner_unchecked(state)) as *mut c_void;
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
        drop(unsafe { KBox::from_raw((*file).private_data as *mut T) });
        0
    }

    /// A read or a write: the file's state and offset handed to `operation`, the offset it moved
    /// written back, its result as C returns it (the count, or -errno).
    ///
    /// # Safety
    /// Called by the kernel's read or write with an open file and its valid offset.
    unsafe fn transfer(file: *mut bindings::file, offset: *mut bindings::loff_t, length: usize,
                       operation: impl FnOnce(Pin<&T>, &File, &mut i64) -> Result<usize>) -> isize {
        // SAFETY: the caller's promise.
        let (state, offset) = unsafe { (Self::state(file), &mut *offset) };
        let mut position = *offset as i64;
        let result = operation(state, &File(file), &mut position);
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

    unsafe extern "C" fn ioctl_callback(file: *mut bindings::file, command: c_uint, arg: c_ulong) -> core::ffi::c_long {
        // SAFETY: the kernel calls this on an open file.
        let state = unsafe { Self::state(file) };
        match T::ioctl(state, &File(file), command, arg as usize) {
            Ok(value) if value >= 0 => value as _,
            Ok(value) => {
                crate::pr_warn_once!("ioctl {command:#x} returned Ok({value}): EINVAL instead (a negative value reads as an error)");
                code::EINVAL.to_errno() as _
            }
            Err(error) => error.to_errno() as _,
        }
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
        crate::pr_warn_once!("a read or write returned {count} bytes of {length} asked: cut to {length}");
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
