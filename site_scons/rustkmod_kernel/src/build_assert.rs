//! Assertions the compiler checks, as the in-tree `kernel::build_assert`: `static_assert!` (a
//! constant condition) and `build_assert!` (a condition on constants of the caller, checked where
//! the compiler can evaluate it: here always at compile time, as a `const` block).

/// `static_assert!(condition)` or `static_assert!(condition, "message")`: a compile error when
/// the constant condition is false.
#[macro_export]
macro_rules! static_assert {
    ($condition:expr $(,$message:literal)? $(,)?) => {
        const _: () = ::core::assert!($condition $(,$message)?);
    };
}

/// `const_assert!(condition)`: as [`static_assert!`], inside a function.
#[macro_export]
macro_rules! const_assert {
    ($condition:expr $(,$message:literal)? $(,)?) => {
        const { ::core::assert!($condition $(,$message)?) }
    };
}

/// `build_assert!(condition)`: a compile error when the condition, evaluated at compile time, is
/// false. The condition must be a constant expression (the in-tree form also takes conditions the
/// optimiser proves; those are refused here, at compile time, rather than left to the linker).
#[macro_export]
macro_rules! build_assert {
    ($condition:expr $(,$message:literal)? $(,)?) => {
        const { ::core::assert!($condition $(,$message)?) }
    };
}

/// `build_error!("message")`: a compile error if reached in a constant evaluation.
#[macro_export]
macro_rules! build_error {
    ($($message:literal)?) => {
        const { ::core::panic!($($message)?) }
    };
}
