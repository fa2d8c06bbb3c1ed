// An OF id's compatible string fits C's 128 bytes, NUL included: a longer one does not compile.
// expect: a compatible string has at most 127 bytes
use kernel::{of, prelude::*};

struct Driver;

kernel::of_device_table!(TABLE, (), [(of::DeviceId::new(c"vendor,a-compatible-string-that-goes-on-and-on-and-on-well-past-the-one-hundred-and-twenty-seven-bytes-that-c-leaves-room-for-and-then-some-more-bytes-again"), ())]);
