//! ksound: safe modules that once made the kernel touch freed memory, kept as they were written.
//! With `#![forbid(unsafe_code)]` nothing here may corrupt the kernel, however it is used.
//!
//! - `/dev/ksound_ctl` adds (`KSOUND_ADD`) and removes (`KSOUND_REMOVE`) the data device
//!   `/dev/ksound_data`, whose files read a message: a file of the data device stays readable
//!   after the device is removed under it.
//! - The data device's `write` claims 100 bytes more than it was given, and its ioctl answers
//!   `Ok(-5)`: what reaches C is cut to the count asked, and EINVAL.
//! - `/dev/ksound_zero`'s `open` fails with `Error::from_errno(0)`, a C-style "status" passed
//!   through: the open must fail (EINVAL), not succeed with the registration as the file's state.
//! - `forget=1`: `/dev/ksound_forgotten` is registered and `mem::forget`-ten: it must be gone
//!   after `rmmod`.
//! - `fail_init=1`: init registers `/dev/ksound_data`, waits a while (user space may try to open
//!   it meanwhile), then fails: no file may be left open on a device of a module that is freed.
#![no_std]
#![forbid(unsafe_code)]

use core::pin::Pin;

use kernel::ioctl::_IO;
use kernel::miscdevice::{File, MiscDevice, MiscDeviceOptions, MiscDeviceRegistration};
use kernel::prelude::*;
use kernel::time::{delay::fsleep, Delta};
use kernel::uaccess::{UserSliceReader, UserSliceWriter};

module! {
    type: Ksound,
    name: "ksound",
    authors: ["rustkmod"],
    description: "Safe modules that must not corrupt the kernel",
    license: "GPL",
    params: {
        forget: bool {
            default: false,
            description: "Register a device and forget it",
        },
        fail_init: bool {
            default: false,
            description: "Register the data device, wait, then fail init",
        },
    },
}

/// Adds the data device.
pub const KSOUND_ADD: u32 = _IO(b's' as u32, 1);
/// Removes it.
pub const KSOUND_REMOVE: u32 = _IO(b's' as u32, 2);

const MESSAGE: &[u8] = b"data outlives its device\n";

type DataDevice = Pin<KBox<MiscDeviceRegistration<DataFile>>>;
type Slot = Arc<Mutex<Option<DataDevice>>>;

fn data_device() -> Result<DataDevice> {
    KBox::pin_init(MiscDeviceRegistration::register_with_data(MiscDeviceOptions { name: c_str!("ksound_data") },
                                                              Arc::new(MESSAGE, GFP_KERNEL)?), GFP_KERNEL)
}

struct Ksound {
    _control: Pin<KBox<MiscDeviceRegistration<ControlFile>>>,
    _zero: Pin<KBox<MiscDeviceRegistration<ZeroFile>>>,
}

impl kernel::Module for Ksound {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        if *module_parameters::fail_init.value() {
            let _data = data_device()?;
            pr_info!("data device up, failing init in a while");
            fsleep(Delta::from_millis(3000));
            return Err(EBUSY);                  // drops the registration, then the module is freed
        }
        if *module_parameters::forget.value() {
            let forgotten = KBox::pin_init(MiscDeviceRegistration::<ZeroFile>::register(
                MiscDeviceOptions { name: c_str!("ksound_forgotten") }), GFP_KERNEL)?;
            core::mem::forget(forgotten);
            pr_info!("forgot /dev/ksound_forgotten");
        }
        // Sizes the allocators can never serve are ENOMEM, with no WARNING first (the boot fails
        // on one); a large one that can be served still is.
        let kmalloc_huge = KVec::<u8>::with_capacity(1 << 30, GFP_KERNEL).is_err();
        let kvmalloc_huge = KVVec::<u8>::with_capacity(usize::MAX / 4, GFP_KERNEL).is_err();
        let large = KVec::<u8>::with_capacity(256 << 10, GFP_KERNEL).is_ok();
        pr_info!("huge allocations refused: {} {}, 256 KiB served: {}", kmalloc_huge, kvmalloc_huge, large);
        let slot: Slot = Arc::pin_init(new_mutex!(None, "ksound_slot"), GFP_KERNEL)?;
        let control = KBox::pin_init(MiscDeviceRegistration::register_with_data(
            MiscDeviceOptions { name: c_str!("ksound_ctl") }, slot), GFP_KERNEL)?;
        let zero = KBox::pin_init(MiscDeviceRegistration::register(MiscDeviceOptions { name: c_str!("ksound_zero") }),
                                  GFP_KERNEL)?;
        pr_info!("ready");
        Ok(Ksound { _control: control, _zero: zero })
    }
}

/// A file of the control device: adds and removes the data device.
struct ControlFile {
    slot: Slot,
}

impl MiscDevice for ControlFile {
    type RegistrationData = Slot;

    fn open(_file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        Ok(KBox::pin(ControlFile { slot: misc.data().clone() }, GFP_KERNEL)?)
    }

    fn ioctl(me: Pin<&Self>, _file: &File, command: u32, _arg: usize) -> Result<isize> {
        let mut slot = me.slot.lock();
        match command {
            KSOUND_ADD if slot.is_none() => *slot = Some(data_device()?),
            KSOUND_ADD => return Err(EBUSY),
            KSOUND_REMOVE => drop(slot.take()),    // deregistered here, whatever files are open
            _ => return Err(ENOTTY),
        }
        Ok(0)
    }
}

/// A file of the data device: the message, read from its offset.
struct DataFile {
    message: Arc<&'static [u8]>,
}

impl MiscDevice for DataFile {
    type RegistrationData = Arc<&'static [u8]>;

    fn open(_file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        Ok(KBox::pin(DataFile { message: misc.data().clone() }, GFP_KERNEL)?)
    }

    fn read(me: Pin<&Self>, _file: &File, writer: &mut UserSliceWriter, offset: &mut i64) -> Result<usize> {
        let start = (*offset as usize).min(me.message.len());
        let count = writer.len().min(me.message.len() - start);
        writer.write_slice(&me.message[start..start + count])?;
        *offset += count as i64;
        Ok(count)
    }

    fn write(_me: Pin<&Self>, _file: &File, reader: &mut UserSliceReader, _offset: &mut i64) -> Result<usize> {
        Ok(reader.len() + 100)                  // more than given: C must see at most what it asked
    }

    fn ioctl(_me: Pin<&Self>, _file: &File, _command: u32, _arg: usize) -> Result<isize> {
        Ok(-5)                                  // a negative "success": C must see an error
    }
}

/// A device whose open fails with a C-style status of 0.
struct ZeroFile;

impl MiscDevice for ZeroFile {
    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        Err(Error::from_errno(0))
    }
}

impl Drop for Ksound {
    fn drop(&mut self) {
        pr_info!("down");
    }
}
