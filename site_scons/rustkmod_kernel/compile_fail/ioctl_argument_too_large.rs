// An ioctl's size field is 14 bits on x86 and arm: C refuses a larger argument, and so do we.
// expect: larger than the command's size field holds
pub const TOO_LARGE: u32 = kernel::ioctl::_IOR::<[u8; 20000]>(b'x' as u32, 1);
