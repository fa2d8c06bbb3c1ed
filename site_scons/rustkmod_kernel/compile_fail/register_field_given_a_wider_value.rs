// A register field of 8 bits takes a Bounded of 8 bits: a plain u16 might spill into the
// neighbouring field, so it is refused (Bounded::try_new or from_masked say what to do with it).
// expect: the trait bound `Bounded<u16, 8>: From<u16>` is not satisfied
kernel::register! {
    pub CONTROL(u16) @ 0x0 {
        7:0 low;
        15:8 high;
    }
}

pub fn set(value: u16) -> CONTROL {
    CONTROL::zeroed().with_low(value)
}
