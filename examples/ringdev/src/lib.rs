//! ringdev: a misc character device, /dev/ringdev, with no C. What is written is kept in a ring
//! of `ring_size` bytes (the oldest dropped) and read back in order; `!stats` makes the next read
//! the device's counters, `!clear` empties the ring; two ioctls get and set a value, and any
//! other command is ENOTTY. The device is shared by every open file behind a mutex.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod command;
mod device;
mod ring;

use core::pin::Pin;

use kernel::ioctl::{_IOC_SIZE, _IOR, _IOW};
use kernel::miscdevice::{File, MiscDevice, MiscDeviceOptions, MiscDeviceRegistration};
use kernel::prelude::*;
use kernel::uaccess::{UserPtr, UserSlice, UserSliceReader, UserSliceWriter};

use device::Device;

module! {
    type: RingdevModule,
    name: "ringdev",
    authors: ["rustkmod"],
    description: "A ring buffer character device in Rust, with no C",
    license: "GPL",
    params: {
        ring_size: u32 {
            default: 64,
            description: "How many bytes the ring keeps",
        },
    },
}

/// Gets the device's value (a u32).
pub const RINGDEV_GET_VALUE: u32 = _IOR::<u32>(b'r' as u32, 1);
/// Sets it.
pub const RINGDEV_SET_VALUE: u32 = _IOW::<u32>(b'r' as u32, 2);

/// The most one read or write moves.
const CHUNK: usize = 256;

struct RingdevModule {
    registration: Pin<KBox<MiscDeviceRegistration<RingFile>>>,
}

impl kernel::Module for RingdevModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let device = Device::new(*module_parameters::ring_size.value() as usize)?;
        let capacity = device.capacity();
        let device = Arc::pin_init(new_mutex!(device, "ringdev"), GFP_KERNEL)?;
        let registration = KBox::pin_init(
            MiscDeviceRegistration::register_with_data(MiscDeviceOptions { name: c_str!("ringdev") }, device),
            GFP_KERNEL)?;
        dev_info!(registration.device(), "ready, {} bytes", capacity);   // "misc ringdev: ready, ..."
        Ok(RingdevModule { registration })
    }
}

impl Drop for RingdevModule {
    fn drop(&mut self) {
        let mut text = KVec::new();
        if self.registration.data().lock().describe(&mut text).is_ok() {
            pr_info!("done: {}", core::str::from_utf8(&text).unwrap_or("?"));
        }
    }
}

/// One open file of /dev/ringdev.
struct RingFile {
    device: Arc<Mutex<Device>>,
}

impl MiscDevice for RingFile {
    type RegistrationData = Arc<Mutex<Device>>;

    fn open(_file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        let device = misc.data().clone();
        device.lock().stats.opens += 1;
        Ok(KBox::pin(RingFile { device }, GFP_KERNEL)?)
    }

    fn write(me: Pin<&Self>, _file: &File, reader: &mut UserSliceReader, _offset: &mut i64) -> Result<usize> {
        let mut data = [0u8; CHUNK];
        let count = reader.len().min(CHUNK);
        reader.read_slice(&mut data[..count])?;
        me.device.lock().write(&data[..count])
    }

    fn read(me: Pin<&Self>, _file: &File, writer: &mut UserSliceWriter, _offset: &mut i64) -> Result<usize> {
        let mut data = [0u8; CHUNK];
        let count = me.device.lock().read(&mut data[..writer.len().min(CHUNK)]);
        writer.write_slice(&data[..count])?;
        Ok(count)
    }

    fn ioctl(me: Pin<&Self>, _file: &File, command: u32, arg: usize) -> Result<isize> {
        let argument = UserSlice::new(UserPtr::from_addr(arg), _IOC_SIZE(command));
        match command {
            RINGDEV_GET_VALUE => {
                let value = me.device.lock().value;
                argument.writer().write(&value)?;
            }
            RINGDEV_SET_VALUE => {
                let value: u32 = argument.reader().read()?;
                me.device.lock().value = value;
            }
            _ => return Err(ENOTTY),
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    //! The file operations on the host, as the kernel would call them.
    use super::*;
    use kernel::uaccess::UserBuffer;

    fn registration() -> Pin<KBox<MiscDeviceRegistration<RingFile>>> {
        let device = Arc::pin_init(new_mutex!(Device::new(64).unwrap()), GFP_KERNEL).unwrap();
        KBox::pin_init(MiscDeviceRegistration::register_with_data(MiscDeviceOptions { name: c_str!("ringdev") }, device),
                       GFP_KERNEL).unwrap()
    }

    #[test]
    fn written_then_read_through_the_file_operations() {
        let registration = registration();
        let file = RingFile::open(&File::default(), &registration).unwrap();
        let text = UserBuffer::from_bytes(b"hello, ring");
        assert_eq!(RingFile::write(file.as_ref(), &File::default(), &mut text.slice().reader(), &mut 0), Ok(11));
        let out = UserBuffer::new(64);
        assert_eq!(RingFile::read(file.as_ref(), &File::default(), &mut out.slice().writer(), &mut 0), Ok(11));
        assert_eq!(&out.to_vec()[..11], b"hello, ring");
    }

    #[test]
    fn ioctls_get_and_set_the_value_and_refuse_the_rest() {
        let registration = registration();
        let file = RingFile::open(&File::default(), &registration).unwrap();
        let new_value = UserBuffer::of(&7u32);
        let set = new_value.ptr().addr();
        assert_eq!(RingFile::ioctl(file.as_ref(), &File::default(), RINGDEV_SET_VALUE, set), Ok(0));
        let value = UserBuffer::of(&0u32);
        let get = value.ptr().addr();
        assert_eq!(RingFile::ioctl(file.as_ref(), &File::default(), RINGDEV_GET_VALUE, get), Ok(0));
        assert_eq!(value.value::<u32>(), 7);
        assert_eq!(RingFile::ioctl(file.as_ref(), &File::default(), 0, get), Err(ENOTTY));
        assert_eq!(RingFile::ioctl(file.as_ref(), &File::default(), RINGDEV_GET_VALUE, 0), Err(EFAULT));
    }
}
