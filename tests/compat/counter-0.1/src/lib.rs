#![no_std]
#![forbid(unsafe_code)]
use core::pin::Pin;
use kernel::miscdevice::{File, MiscDevice, MiscDeviceOptions, MiscDeviceRegistration};
use kernel::prelude::*;
use kernel::uaccess::{UserSliceReader, UserSliceWriter};

module! {
    type: Counter,
    name: "counter",
    authors: ["A. Author"],
    description: "Counts what is written to /dev/counter",
    license: "GPL",
    params: {
        start: u32 { default: 0, description: "The first count" },
    },
}

struct Counter { _device: Pin<KBox<MiscDeviceRegistration<CounterFile>>> }

impl kernel::Module for Counter {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let count = Arc::pin_init(new_mutex!(*module_parameters::start.value() as usize), GFP_KERNEL)?;
        let device = KBox::pin_init(MiscDeviceRegistration::register_with_data(
            MiscDeviceOptions { name: c_str!("counter") }, count), GFP_KERNEL)?;
        dev_info!(device.device(), "ready");          // "misc counter: ready"
        Ok(Counter { _device: device })
    }
}

struct CounterFile { count: Arc<Mutex<usize>> }

impl MiscDevice for CounterFile {
    type RegistrationData = Arc<Mutex<usize>>;

    fn open(_file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        Ok(KBox::pin(CounterFile { count: misc.data().clone() }, GFP_KERNEL)?)
    }

    fn write(me: Pin<&Self>, _file: &File, reader: &mut UserSliceReader, _offset: &mut i64) -> Result<usize> {
        let mut bytes = KVec::new();
        reader.read_all(&mut bytes, GFP_KERNEL)?;       // EFAULT for a bad address, ENOMEM
        *me.count.lock() += bytes.len();
        Ok(bytes.len())
    }

    fn read(me: Pin<&Self>, _file: &File, writer: &mut UserSliceWriter, offset: &mut i64) -> Result<usize> {
        if *offset > 0 { return Ok(0); }
        let count = *me.count.lock() as u64;
        writer.write(&count)?;
        *offset = 8;
        Ok(8)
    }
}
