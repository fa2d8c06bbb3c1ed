//! The Rust core of the README's own-SConstruct example (its SConstruct is taken from docs/building.md).
#![no_std]

unsafe extern "C" {
    fn mydrv_log(msg: *const u8, len: usize);
    fn mydrv_bug(msg: *const u8, len: usize) -> !;
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    let msg = "mydrv: Rust panic";
    unsafe { mydrv_bug(msg.as_ptr(), msg.len()) }
}

#[unsafe(no_mangle)]
pub extern "C" fn mydrv_init() -> i32 {
    let msg = "mydrv: ready";
    unsafe { mydrv_log(msg.as_ptr(), msg.len()) };
    0
}

/// A .modinfo entry declared in Rust the natural way: rustc keeps a `#[used]` static in a section
/// flagged SHF_GNU_RETAIN, which rustkmod's partial link clears so that it joins Kbuild's .modinfo.
#[used]
#[unsafe(link_section = ".modinfo")]
static MYDRV_AUTHOR: [u8; 20] = *b"author=A Module Dev\0";
