//! ringdev: a misc character device, /dev/ringdev, with no C. What is written is kept in a ring
//! of `ring_size` bytes (the oldest dropped) and read back in order; `!stats` makes the next read
//! the device's counters, `!clear` empties the ring; two ioctls get and set a value, and any
//! other command is ENOTTY. The device is shared by every open file behind a mutex.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod command;
mod device;
mod ring;

use kernel::fs::{File, Kiocb};
use kernel::ioctl::{_IOC_SIZE, _IOR, _IOW};
use kernel::iov::{IovIterDest, IovIterSource};
use kernel::miscdevice::{MiscDevice, MiscDeviceOptions, MiscDeviceRegistration};
use kernel::prelude::*;
use kernel::uaccess::UserSlice;

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

#[pin_data(PinnedDrop)]
struct RingdevModule {
    #[pin]
    registration: MiscDeviceRegistration<RingFile>,
}

impl kernel::InPlaceModule for RingdevModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(RingdevModule {
            registration <- {
                let device = Device::new(*module_parameters::ring_size.value() as usize)?;
                let device = Arc::pin_init(new_mutex!(device, "ringdev"), GFP_KERNEL)?;
                MiscDeviceRegistration::register_with_data(MiscDeviceOptions { name: c"ringdev" }, device)
            },
        })
        .pin_chain(|this| {
            let capacity = this.registration.data().lock().capacity();
            dev_info!(this.registration.device(), "ready, {} bytes\n", capacity);   // "misc ringdev: ready, ..."
            Ok(())
        })
    }
}

#[pinned_drop]
impl PinnedDrop for RingdevModule {
    fn drop(self: Pin<&mut Self>) {
        let mut text = KVec::new();
        if self.registration.data().lock().describe(&mut text).is_ok() {
            pr_info!("done: {}\n", core::str::from_utf8(&text).unwrap_or("?"));
        }
    }
}

/// One open file of /dev/ringdev.
struct RingFile {
    device: Arc<Mutex<Device>>,
}

#[vtable]
impl MiscDevice for RingFile {
    type Ptr = Pin<KBox<Self>>;
    // what every open file shares (rustkmod's; the in-tree trait has no such type)
    type RegistrationData = Arc<Mutex<Device>>;

    fn open(_file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        let device = misc.data().clone();
        device.lock().stats.opens += 1;
        Ok(KBox::pin(RingFile { device }, GFP_KERNEL)?)
    }

    fn write_iter(kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterSource<'_>) -> Result<usize> {
        let mut data = [0u8; CHUNK];
        let wanted = iov.len().min(CHUNK);
        let count = iov.copy_from_iter(&mut data[..wanted]);
        if count < wanted {
            return Err(EFAULT);
        }
        kiocb.file().device.lock().write(&data[..count])
    }

    fn read_iter(kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterDest<'_>) -> Result<usize> {
        let mut data = [0u8; CHUNK];
        let count = kiocb.file().device.lock().read(&mut data[..iov.len().min(CHUNK)]);
        if iov.copy_to_iter(&data[..count]) < count {
            return Err(EFAULT);
        }
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
        KBox::pin_init(MiscDeviceRegistration::register_with_data(MiscDeviceOptions { name: c"ringdev" }, device),
                       GFP_KERNEL).unwrap()
    }

    #[test]
    fn written_then_read_through_the_file_operations() {
        let registration = registration();
        let file = RingFile::open(&File::default(), &registration).unwrap();
        let (mut written, mut read) = (0, 0);
        let mut text = IovIterSource::host(b"hello, ring");
        assert_eq!(RingFile::write_iter(Kiocb::host(file.as_ref(), &mut written), &mut text), Ok(11));
        let mut out = [0u8; 64];
        assert_eq!(RingFile::read_iter(Kiocb::host(file.as_ref(), &mut read), &mut IovIterDest::host(&mut out)), Ok(11));
        assert_eq!(&out[..11], b"hello, ring");
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
