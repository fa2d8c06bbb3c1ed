//! Time spans and sleeping, as the in-tree `kernel::time`: `fsleep(Delta::from_millis(20))`.

/// A span of time, in nanoseconds (negative spans exist, as differences do).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Delta {
    nanos: i64,
}

impl Delta {
    pub const ZERO: Delta = Delta { nanos: 0 };

    pub const fn from_micros(micros: i64) -> Delta {
        Delta { nanos: micros.saturating_mul(1_000) }
    }

    pub const fn from_millis(millis: i64) -> Delta {
        Delta { nanos: millis.saturating_mul(1_000_000) }
    }

    pub const fn from_secs(secs: i64) -> Delta {
        Delta { nanos: secs.saturating_mul(1_000_000_000) }
    }

    pub const fn as_nanos(self) -> i64 {
        self.nanos
    }

    /// Whole microseconds, rounded up.
    pub const fn as_micros_ceil(self) -> i64 {
        self.nanos.saturating_add(999) / 1_000
    }

    pub const fn as_millis(self) -> i64 {
        self.nanos / 1_000_000
    }
}

/// Waiting.
pub mod delay {
    use super::Delta;

    /// The longest sleep: about 49 days in microseconds fits a 32-bit `unsigned long`.
    const MAX_MICROS: i64 = u32::MAX as i64;

    /// Sleeps for `delta` at least (process context only: it may sleep). A negative span sleeps
    /// not at all; one past 2^32 microseconds sleeps that long.
    pub fn fsleep(delta: Delta) {
        let micros = delta.as_micros_ceil().clamp(0, MAX_MICROS);
        #[cfg(target_os = "none")]
        // SAFETY: fsleep takes any count; the caller is in process context (this function's rule).
        unsafe { crate::bindings::rkk_fsleep(micros as _) };
        #[cfg(not(target_os = "none"))]
        std::thread::sleep(std::time::Duration::from_micros(micros as u64));
    }
}
