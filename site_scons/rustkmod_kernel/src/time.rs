//! Time, as the in-tree `kernel::time`: spans (`Delta`), points of a clock
//! (`Instant::<Monotonic>::now()`, `elapsed()`) and sleeping (`fsleep(Delta::from_millis(20))`).

use core::marker::PhantomData;

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

    pub const fn from_nanos(nanos: i64) -> Delta {
        Delta { nanos }
    }

    pub const fn as_micros(self) -> i64 {
        self.nanos / 1_000
    }

    pub const fn as_secs(self) -> i64 {
        self.nanos / 1_000_000_000
    }
}

/// A clock an [`Instant`] is of.
pub trait ClockSource {
    #[doc(hidden)]
    const KIND: i32;
}

/// The monotonic clock (C's `ktime_get()`): never jumps, stops in suspend.
pub struct Monotonic;
/// The boot clock (`ktime_get_boottime()`): the monotonic one counting suspend too.
pub struct BootTime;
/// Wall-clock time (`ktime_get_real()`): may jump when set.
pub struct RealTime;

impl ClockSource for Monotonic { const KIND: i32 = 0; }
impl ClockSource for BootTime { const KIND: i32 = 1; }
impl ClockSource for RealTime { const KIND: i32 = 2; }

/// A point in time of clock `C`, in nanoseconds.
pub struct Instant<C: ClockSource> {
    nanos: i64,
    _clock: PhantomData<C>,
}

impl<C: ClockSource> Clone for Instant<C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C: ClockSource> Copy for Instant<C> {}

impl<C: ClockSource> Instant<C> {
    /// Now.
    pub fn now() -> Self {
        #[cfg(target_os = "none")]
        // SAFETY: reading a clock has no precondition.
        let nanos = unsafe { crate::bindings::rkk_ktime_get(C::KIND) };
        #[cfg(not(target_os = "none"))]
        let nanos = host_now();
        Instant { nanos, _clock: PhantomData }
    }

    /// The time since this instant.
    pub fn elapsed(&self) -> Delta {
        Self::now() - *self
    }

    /// Nanoseconds on the clock.
    pub fn as_nanos(&self) -> i64 {
        self.nanos
    }
}

impl<C: ClockSource> core::ops::Sub for Instant<C> {
    type Output = Delta;

    fn sub(self, earlier: Self) -> Delta {
        Delta { nanos: self.nanos.saturating_sub(earlier.nanos) }
    }
}

#[cfg(not(target_os = "none"))]
fn host_now() -> i64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_nanos() as i64
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
