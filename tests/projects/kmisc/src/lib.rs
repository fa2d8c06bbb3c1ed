//! /dev/kmisc, a misc device with no C: what is written is kept (up to `ring_size` bytes, the
//! oldest dropped) and read back in order by any open file; an ioctl gets and sets a value, and
//! an unknown command is ENOTTY. The bytes are shared by every open file behind a mutex the
//! registration keeps; each open file counts its own reads.
#![no_std]
#![forbid(unsafe_code)]

use core::pin::Pin;

use kernel::ioctl::{_IOC_SIZE, _IOR, _IOW};
use kernel::miscdevice::{File, MiscDevice, MiscDeviceOptions, MiscDeviceRegistration};
use kernel::prelude::*;
use kernel::uaccess::{UserPtr, UserSlice, UserSliceReader, UserSliceWriter};

module! {
    type: KmiscModule,
    name: "kmisc",
    authors: ["rustkmod"],
    description: "A misc device with no C",
    license: "GPL",
    params: {
        ring_size: u32 {
            default: 64,
            description: "How many bytes the device keeps",
        },
    },
}

/// Gets the device's value (a u32).
pub const KMISC_GET_VALUE: u32 = _IOR::<u32>(b'k' as u32, 1);
/// Sets it.
pub const KMISC_SET_VALUE: u32 = _IOW::<u32>(b'k' as u32, 2);

struct Shared {
    bytes: KVec<u8>,
    value: u32,
    opens: u32,
}

struct KmiscModule {
    _device: Pin<KBox<MiscDeviceRegistration<Kmisc>>>,
}

impl kernel::Module for KmiscModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let size = *module_parameters::ring_size.value() as usize;
        let shared = Shared { bytes: KVec::with_capacity(size, GFP_KERNEL)?, value: 0, opens: 0 };
        let shared = Arc::pin_init(new_mutex!(shared, "kmisc_shared"), GFP_KERNEL)?;
        let device = KBox::pin_init(MiscDeviceRegistration::register_with_data(
            MiscDeviceOptions { name: c_str!("kmisc") }, shared), GFP_KERNEL)?;
        pr_info!("ready, {} bytes", size);
        Ok(KmiscModule { _device: device })
    }
}

impl Drop for KmiscModule {
    fn drop(&mut self) {
        pr_info!("gone");
    }
}

/// One open file: the device's shared bytes, and its own count of reads.
struct Kmisc {
    shared: Arc<Mutex<Shared>>,
    reads: Pin<KBox<SpinLock<u32>>>,
}

impl MiscDevice for Kmisc {
    type RegistrationData = Arc<Mutex<Shared>>;

    fn open(_file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        let shared = misc.data().clone();
        shared.lock().opens += 1;
        let reads = KBox::pin_init(new_spinlock!(0u32), GFP_KERNEL)?;
        Ok(KBox::pin(Kmisc { shared, reads }, GFP_KERNEL)?)
    }

    fn write(me: Pin<&Self>, _file: &File, reader: &mut UserSliceReader, _offset: &mut i64) -> Result<usize> {
        let mut incoming = KVec::new();
        let count = reader.len();
        reader.read_all(&mut incoming, GFP_KERNEL)?;
        let size = *module_parameters::ring_size.value() as usize;
        let mut shared = me.shared.lock();
        shared.bytes.extend_from_slice(&incoming, GFP_KERNEL)?;
        let excess = shared.bytes.len().saturating_sub(size);
        drop_front(&mut shared.bytes, excess);
        Ok(count)
    }

    fn read(me: Pin<&Self>, _file: &File, writer: &mut UserSliceWriter, _offset: &mut i64) -> Result<usize> {
        *me.reads.lock() += 1;
        let mut shared = me.shared.lock();
        let count = writer.len().min(shared.bytes.len());
        writer.write_slice(&shared.bytes[..count])?;
        drop_front(&mut shared.bytes, count);
        Ok(count)
    }

    fn ioctl(me: Pin<&Self>, _file: &File, command: u32, arg: usize) -> Result<isize> {
        let slice = UserSlice::new(UserPtr::from_addr(arg), _IOC_SIZE(command));
        match command {
            KMISC_GET_VALUE => {
                let value = me.shared.lock().value;
                slice.writer().write(&value)?;
            }
            KMISC_SET_VALUE => {
                let value: u32 = slice.reader().read()?;
                me.shared.lock().value = value;
                pr_info!("value set to {}", value);
            }
            _ => return Err(ENOTTY),
        }
        Ok(0)
    }
}

/// Removes the first `count` bytes.
fn drop_front(bytes: &mut KVec<u8>, count: usize) {
    let left = bytes.len() - count;
    bytes.copy_within(count.., 0);
    bytes.truncate(left);
}

impl Drop for Kmisc {
    fn drop(&mut self) {
        let shared = self.shared.lock();
        pr_info!("released after {} read(s); {} open(s) so far", *self.reads.lock(), shared.opens);
    }
}

#[cfg(test)]
mod tests {
    //! The device's logic on the host (`scons test-host`): the kernel crate's host half.
    use super::*;
    use kernel::uaccess::UserBuffer;

    fn device() -> Pin<KBox<MiscDeviceRegistration<Kmisc>>> {
        let shared = Shared { bytes: KVec::new(), value: 7, opens: 0 };
        let shared = Arc::pin_init(new_mutex!(shared), GFP_KERNEL).unwrap();
        KBox::pin_init(MiscDeviceRegistration::register_with_data(MiscDeviceOptions { name: c_str!("kmisc") }, shared),
                       GFP_KERNEL).unwrap()
    }

    #[test]
    fn written_bytes_come_back_to_any_open_file_and_the_ring_keeps_the_newest() {
        let registration = device();
        let writer_file = Kmisc::open(&File::default(), &registration).unwrap();
        let reader_file = Kmisc::open(&File::default(), &registration).unwrap();
        let data = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz";
        let written = UserBuffer::from_bytes(data);
        assert_eq!(Kmisc::write(writer_file.as_ref(), &File::default(), &mut written.slice().reader(), &mut 0), Ok(72));
        let out = UserBuffer::new(100);
        let count = Kmisc::read(reader_file.as_ref(), &File::default(), &mut out.slice().writer(), &mut 0).unwrap();
        assert_eq!(&out.to_vec()[..count], &data[72 - 64..]);          // ring_size's default: 64 bytes
        assert_eq!(registration.data().lock().opens, 2);
    }

    #[test]
    fn ioctls_get_and_set_the_value_and_refuse_the_rest() {
        let registration = device();
        let file = Kmisc::open(&File::default(), &registration).unwrap();
        let value = UserBuffer::of(&0u32);
        let arg = value.ptr().addr();
        assert_eq!(Kmisc::ioctl(file.as_ref(), &File::default(), KMISC_GET_VALUE, arg), Ok(0));
        assert_eq!(value.value::<u32>(), 7);
        let new_value = UserBuffer::of(&42u32);
        let new_arg = new_value.ptr().addr();
        assert_eq!(Kmisc::ioctl(file.as_ref(), &File::default(), KMISC_SET_VALUE, new_arg), Ok(0));
        assert_eq!(registration.data().lock().value, 42);
        assert_eq!(Kmisc::ioctl(file.as_ref(), &File::default(), 0x6b09, arg), Err(ENOTTY));
        assert_eq!(Kmisc::ioctl(file.as_ref(), &File::default(), KMISC_GET_VALUE, 0), Err(EFAULT));
    }

    #[test]
    fn the_command_numbers_are_cs() {
        // _IOR('k', 1, uint32_t) and _IOW('k', 2, uint32_t) as <linux/ioctl.h> computes them
        assert_eq!((KMISC_GET_VALUE, KMISC_SET_VALUE), (0x8004_6b01, 0x4004_6b02));
        assert_eq!(kernel::ioctl::_IOC_SIZE(KMISC_GET_VALUE), 4);
    }
}
