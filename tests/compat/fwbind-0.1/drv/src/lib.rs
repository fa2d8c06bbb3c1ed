#![no_std]

#[unsafe(no_mangle)]
pub extern "C" fn drv_init() -> i32 {
    match fw::parse(b"4096\0") {
        Ok(value) => {
            fw::pr_info!("drv: parsed {}", value);
            0
        }
        Err(errno) => errno,
    }
}
