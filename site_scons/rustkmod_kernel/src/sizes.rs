//! Sizes by name, as the in-tree `kernel::sizes` (C's `SZ_4K` and the others).

/// 1 byte
pub const SZ_1: usize = 0x1;
/// 2 bytes
pub const SZ_2: usize = 0x2;
/// 4 bytes
pub const SZ_4: usize = 0x4;
/// 8 bytes
pub const SZ_8: usize = 0x8;
/// 16 bytes
pub const SZ_16: usize = 0x10;
/// 32 bytes
pub const SZ_32: usize = 0x20;
/// 64 bytes
pub const SZ_64: usize = 0x40;
/// 128 bytes
pub const SZ_128: usize = 0x80;
/// 256 bytes
pub const SZ_256: usize = 0x100;
/// 512 bytes
pub const SZ_512: usize = 0x200;
/// 1 KiB
pub const SZ_1K: usize = 0x400;
/// 2 KiB
pub const SZ_2K: usize = 0x800;
/// 4 KiB
pub const SZ_4K: usize = 0x1000;
/// 8 KiB
pub const SZ_8K: usize = 0x2000;
/// 16 KiB
pub const SZ_16K: usize = 0x4000;
/// 32 KiB
pub const SZ_32K: usize = 0x8000;
/// 64 KiB
pub const SZ_64K: usize = 0x10000;
/// 128 KiB
pub const SZ_128K: usize = 0x20000;
/// 256 KiB
pub const SZ_256K: usize = 0x40000;
/// 512 KiB
pub const SZ_512K: usize = 0x80000;
/// 1 MiB
pub const SZ_1M: usize = 0x100000;
/// 2 MiB
pub const SZ_2M: usize = 0x200000;
/// 4 MiB
pub const SZ_4M: usize = 0x400000;
/// 8 MiB
pub const SZ_8M: usize = 0x800000;
/// 16 MiB
pub const SZ_16M: usize = 0x1000000;
/// 32 MiB
pub const SZ_32M: usize = 0x2000000;
/// 64 MiB
pub const SZ_64M: usize = 0x4000000;
/// 128 MiB
pub const SZ_128M: usize = 0x8000000;
/// 256 MiB
pub const SZ_256M: usize = 0x10000000;
/// 512 MiB
pub const SZ_512M: usize = 0x20000000;
/// 1 GiB
pub const SZ_1G: usize = 0x40000000;
/// 2 GiB
pub const SZ_2G: usize = 0x80000000;
