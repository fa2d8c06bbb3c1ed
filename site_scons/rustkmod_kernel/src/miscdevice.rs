//! Misc devices: a character device under `/dev/<name>` with a dynamic minor. A type implementing
//! [`MiscDevice`] is the state of one open file: `open` makes it, `read`, `write` and `ioctl` get
//! it pinned, and dropping it is `release`. [`MiscDeviceRegistration`] registers the device when
//! made (`KBox::pin_init(MiscDeviceRegistration::register(options), GFP_KERNEL)?`) and removes it
//! when dropped.
//!
//! The `file_operations` table is built for each kernel from its own bindings, inside the
//! registration (so its `owner` is this module: an open file holds the module).
//!
//! On the host (tests) a registration registers nothing and keeps its data, and a test calls the
//! device's `open`, `read`, `write` and `ioctl` itself, with `File::default()` and user slices
//! over its own buffers.

#[cfg(target_os = "none")]
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
    #[cfg(target_os = "none")]
    operations: UnsafeCell<bindings::file_operations>,
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
            // SAFETY: PinInit's caller gives a valid slot that does not move; both tables are
            // complete before misc_register sees them, and stay until Drop deregisters.
            unsafe {
                let operations = core::ptr::addr_of_mut!((*slot).operations) as *mut bindings::file_operations;
                operations.write(Self::operations());
                let device = core::ptr::addr_of_mut!((*slot).device) as *mut bindings::miscdevice;
                let mut raw: bindings::miscdevice = core::mem::zeroed();
                raw.minor = bindings::MISC_DYNAMIC_MINOR as _;
                raw.name = options.name.as_ptr();
                raw.fops = operations;
                device.write(raw);
                core::ptr::addr_of_mut!((*slot).data).write(data);
                let status = bindings::misc_register(device);
                if status != 0 {
                    core::ptr::drop_in_place(core::ptr::addr_of_mut!((*slot).data));
                    return Err(Error::from_errno(status));
                }
            }
            Ok(())
        };
        // SAFETY: the closure initialises every field, or returns the error with nothing to drop.
        unsafe { InitClosure::new(init) }
    }

    /// On the host: keeps `data`, registers nothing.
    #[cfg(not(target_os = "none"))]
    pub fn register_with_data(_options: MiscDeviceOptions, data: T::RegistrationData) -> impl PinInit<Self> {
        let init = move |slot: *mut Self| {
            // SAFETY: PinInit's caller gives a valid slot.
            unsafe { core::ptr::addr_of_mut!((*slot).data).write(data) };
            Ok(())
        };
        // SAFETY: the closure initialises the one field.
        unsafe { InitClosure::new(init) }
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

    fn operations() -> bindings::file_operations {
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
    }

    /// # Safety
    /// Called by the kernel with an open file whose private_data is the file's state.
    unsafe fn state<'a>(file: *mut bindings::file) -> Pin<&'a T> {
        // SAFETY: open stored a pinned KBox<T>'s pointer there; release frees it after the
        // last operation.
        unsafe { Pin::new_unchecked(&*((*file).private_data as *const T)) }
    }

    unsafe extern "C" fn open_callback(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: misc_open sets private_data to our miscdevice, the registration's first field
        // (repr(C)), and the registration outlives every open file (it deregisters on drop).
        unsafe {
            let registration = &*((*file).private_data as *const MiscDeviceRegistration<T>);
            match T::open(&File(file), registration) {
                Ok(state) => {
                    (*file).private_data = KBox::into_raw(Pin::into_inner_unchecked(state)) as *mut c_void;
                    0
                }
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
    unsafe fn transfer(file: *mut bindings::file, offset: *mut bindings::loff_t,
                       operation: impl FnOnce(Pin<&T>, &File, &mut i64) -> Result<usize>) -> isize {
        // SAFETY: the caller's promise.
        let (state, offset) = unsafe { (Self::state(file), &mut *offset) };
        let mut position = *offset as i64;
        let result = operation(state, &File(file), &mut position);
        *offset = position as _;
        match result {
            Ok(count) => count as _,
            Err(error) => error.to_errno() as _,
        }
    }

    unsafe extern "C" fn read_callback(file: *mut bindings::file, buffer: *mut core::ffi::c_char, length: usize,
                                       offset: *mut bindings::loff_t) -> isize {
        let mut writer = UserSlice::new(UserPtr::from_ptr(buffer as *mut c_void), length).writer();
        // SAFETY: the kernel's read, on an open file with a valid offset.
        unsafe { Self::transfer(file, offset, |state, file, position| T::read(state, file, &mut writer, position)) }
    }

    unsafe extern "C" fn write_callback(file: *mut bindings::file, buffer: *const core::ffi::c_char, length: usize,
                                        offset: *mut bindings::loff_t) -> isize {
        let mut reader = UserSlice::new(UserPtr::from_ptr(buffer as *mut c_void), length).reader();
        // SAFETY: the kernel's write, on an open file with a valid offset.
        unsafe { Self::transfer(file, offset, |state, file, position| T::write(state, file, &mut reader, position)) }
    }

    unsafe extern "C" fn ioctl_callback(file: *mut bindings::file, command: c_uint, arg: c_ulong) -> core::ffi::c_long {
        // SAFETY: the kernel calls this on an open file.
        let state = unsafe { Self::state(file) };
        match T::ioctl(state, &File(file), command, arg as usize) {
            Ok(value) => value as _,
            Err(error) => error.to_errno() as _,
        }
    }
}

#[cfg(target_os = "none")]
impl<T: MiscDevice> Drop for MiscDeviceRegistration<T> {
    fn drop(&mut self) {
        // SAFETY: registered when made; an open file holds this module, so none is left.
        unsafe { bindings::misc_deregister(self.device.get()) };
    }
}
