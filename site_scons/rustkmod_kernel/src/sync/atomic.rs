//! Atomics with the in-tree names (`kernel::sync::atomic::{Atomic, Relaxed, ...}`): `Atomic<T>`
//! over the core library's atomics, its memory ordering given as a value (`counter.load(Relaxed)`).

use core::fmt;
use core::sync::atomic::Ordering as CoreOrdering;

/// The orderings, as values: `Relaxed`, `Acquire`, `Release`, `Full` (sequentially consistent).
pub mod ordering {
    use core::sync::atomic::Ordering as CoreOrdering;

    /// No ordering beyond the atomicity of the access.
    #[derive(Clone, Copy)]
    pub struct Relaxed;
    /// A load that later accesses cannot move before.
    #[derive(Clone, Copy)]
    pub struct Acquire;
    /// A store that earlier accesses cannot move after.
    #[derive(Clone, Copy)]
    pub struct Release;
    /// Fully ordered (C's smp_mb() on both sides).
    #[derive(Clone, Copy)]
    pub struct Full;

    /// An ordering a load may have.
    pub trait AcquireOrRelaxed {
        #[doc(hidden)]
        const CORE: CoreOrdering;
    }
    /// An ordering a store may have.
    pub trait ReleaseOrRelaxed {
        #[doc(hidden)]
        const CORE: CoreOrdering;
    }
    /// An ordering a read-modify-write may have.
    pub trait Any {
        #[doc(hidden)]
        const CORE: CoreOrdering;
    }

    impl AcquireOrRelaxed for Relaxed { const CORE: CoreOrdering = CoreOrdering::Relaxed; }
    impl AcquireOrRelaxed for Acquire { const CORE: CoreOrdering = CoreOrdering::Acquire; }
    impl AcquireOrRelaxed for Full { const CORE: CoreOrdering = CoreOrdering::SeqCst; }
    impl ReleaseOrRelaxed for Relaxed { const CORE: CoreOrdering = CoreOrdering::Relaxed; }
    impl ReleaseOrRelaxed for Release { const CORE: CoreOrdering = CoreOrdering::Release; }
    impl ReleaseOrRelaxed for Full { const CORE: CoreOrdering = CoreOrdering::SeqCst; }
    impl Any for Relaxed { const CORE: CoreOrdering = CoreOrdering::Relaxed; }
    impl Any for Acquire { const CORE: CoreOrdering = CoreOrdering::Acquire; }
    impl Any for Release { const CORE: CoreOrdering = CoreOrdering::Release; }
    impl Any for Full { const CORE: CoreOrdering = CoreOrdering::SeqCst; }
}

pub use ordering::{Acquire, Full, Relaxed, Release};

/// A type an [`Atomic`] holds: one of the core library's atomics stands behind it.
pub trait AtomicType: Copy {
    #[doc(hidden)]
    type Core: Send + Sync;
    #[doc(hidden)]
    fn new(value: Self) -> Self::Core;
    #[doc(hidden)]
    fn load(core: &Self::Core, order: CoreOrdering) -> Self;
    #[doc(hidden)]
    fn store(core: &Self::Core, value: Self, order: CoreOrdering);
    #[doc(hidden)]
    fn xchg(core: &Self::Core, value: Self, order: CoreOrdering) -> Self;
    #[doc(hidden)]
    fn cmpxchg(core: &Self::Core, old: Self, new: Self, order: CoreOrdering) -> Result<Self, Self>;
}

/// Integers an [`Atomic`] also adds to.
pub trait AtomicAdd: AtomicType {
    #[doc(hidden)]
    fn fetch_add(core: &Self::Core, value: Self, order: CoreOrdering) -> Self;
}

macro_rules! atomic_types {
    ($($type:ty => $core:ty, $add:tt;)*) => { $(
        impl AtomicType for $type {
            type Core = $core;
            fn new(value: Self) -> $core { <$core>::new(value) }
            fn load(core: &$core, order: CoreOrdering) -> Self { core.load(order) }
            fn store(core: &$core, value: Self, order: CoreOrdering) { core.store(value, order) }
            fn xchg(core: &$core, value: Self, order: CoreOrdering) -> Self { core.swap(value, order) }
            fn cmpxchg(core: &$core, old: Self, new: Self, order: CoreOrdering) -> Result<Self, Self> {
                let failure = match order {
                    CoreOrdering::Release | CoreOrdering::Relaxed => CoreOrdering::Relaxed,
                    CoreOrdering::AcqRel => CoreOrdering::Acquire,
                    other => other,
                };
                core.compare_exchange(old, new, order, failure)
            }
        }
        atomic_types!(@add $add $type => $core);
    )* };
    (@add yes $type:ty => $core:ty) => {
        impl AtomicAdd for $type {
            fn fetch_add(core: &$core, value: Self, order: CoreOrdering) -> Self { core.fetch_add(value, order) }
        }
    };
    (@add no $type:ty => $core:ty) => {};
}

atomic_types! {
    i32 => core::sync::atomic::AtomicI32, yes;
    u32 => core::sync::atomic::AtomicU32, yes;
    i64 => core::sync::atomic::AtomicI64, yes;
    u64 => core::sync::atomic::AtomicU64, yes;
    isize => core::sync::atomic::AtomicIsize, yes;
    usize => core::sync::atomic::AtomicUsize, yes;
    bool => core::sync::atomic::AtomicBool, no;
}

/// A `T` read and written atomically.
pub struct Atomic<T: AtomicType>(T::Core);

impl<T: AtomicType> Atomic<T> {
    /// An atomic holding `value`.
    pub fn new(value: T) -> Self {
        Atomic(T::new(value))
    }

    /// The value.
    pub fn load<O: ordering::AcquireOrRelaxed>(&self, _: O) -> T {
        T::load(&self.0, O::CORE)
    }

    /// Sets the value.
    pub fn store<O: ordering::ReleaseOrRelaxed>(&self, value: T, _: O) {
        T::store(&self.0, value, O::CORE)
    }

    /// Sets the value, returning the one before.
    pub fn xchg<O: ordering::Any>(&self, value: T, _: O) -> T {
        T::xchg(&self.0, value, O::CORE)
    }

    /// Sets `new` if the value is `old`: `Ok(old)`, or `Err(the value)`.
    pub fn cmpxchg<O: ordering::Any>(&self, old: T, new: T, _: O) -> Result<T, T> {
        T::cmpxchg(&self.0, old, new, O::CORE)
    }
}

impl<T: AtomicAdd> Atomic<T> {
    /// Adds `value` (wrapping), returning the value before.
    pub fn fetch_add<O: ordering::Any>(&self, value: T, _: O) -> T {
        T::fetch_add(&self.0, value, O::CORE)
    }

    /// Adds `value` (wrapping).
    pub fn add(&self, value: T, _: Relaxed) {
        T::fetch_add(&self.0, value, CoreOrdering::Relaxed);
    }
}

impl<T: AtomicType + fmt::Debug> fmt::Debug for Atomic<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.load(Relaxed), formatter)
    }
}

impl<T: AtomicType + Default> Default for Atomic<T> {
    fn default() -> Self {
        Atomic::new(T::default())
    }
}
