// The in-tree shapes a safe module uses compile under forbid(unsafe_code): module! with its
// in-tree keys, #[pin_data] with PinnedDrop, try_pin_init!, InPlaceModule, #[vtable], a misc
// device with read_iter/write_iter, ARef<Device>, pr_cont!.
#![forbid(unsafe_code)]
use kernel::device::Device;
use kernel::fs::{File, Kiocb};
use kernel::iov::{IovIterDest, IovIterSource};
use kernel::miscdevice::{MiscDevice, MiscDeviceOptions, MiscDeviceRegistration};
use kernel::prelude::*;
use kernel::sync::aref::ARef;

module! {
    type: Sample,
    name: "sample",
    authors: ["A. Author"],
    description: "in-tree shapes",
    license: "GPL",
    alias: ["sample-alias"],
    firmware: ["sample.bin"],
}

#[pin_data]
struct Sample {
    #[pin]
    _device: MiscDeviceRegistration<Open>,
}

impl kernel::InPlaceModule for Sample {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pr_info!("a line that");
        kernel::pr_cont!(" goes on\n");
        try_pin_init!(Self { _device <- MiscDeviceRegistration::register(MiscDeviceOptions { name: c"sample" }) })
    }
}

#[pin_data(PinnedDrop)]
struct Open {
    #[pin]
    text: Mutex<KVVec<u8>>,
    device: ARef<Device>,
}

#[vtable]
impl MiscDevice for Open {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        let device = ARef::from(misc.device());
        KBox::try_pin_init(try_pin_init!(Open { text <- new_mutex!(KVVec::new()), device }), GFP_KERNEL)
    }

    fn read_iter(mut kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterDest<'_>) -> Result<usize> {
        let me = kiocb.file();
        let text = me.text.lock();
        iov.simple_read_from_buffer(kiocb.ki_pos_mut(), &text)
    }

    fn write_iter(kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterSource<'_>) -> Result<usize> {
        let me = kiocb.file();
        let mut text = me.text.lock();
        text.clear();
        iov.copy_from_iter_vec(&mut text, GFP_KERNEL)
    }
}

#[pinned_drop]
impl PinnedDrop for Open {
    fn drop(self: Pin<&mut Self>) {
        dev_info!(self.device, "closed\n");
    }
}
