//! The procedural macros of rustkmod's `kernel` crate, re-exported there under the in-tree names:
//! `module!`, `#[vtable]`, `#[pin_data]` and `#[pinned_drop]`.
//!
//! They read tokens with `proc_macro` alone (no `syn`: nothing to fetch, nothing to vendor) and
//! leave every `unsafe` to declarative macros of the kernel crate (marked
//! `allow_internal_unsafe`), so a module crate with `#![forbid(unsafe_code)]` can use them. A
//! mistake is a `compile_error!` at the offending token naming the key or the form expected.

use proc_macro::TokenStream;

mod fmt;
mod for_lt;
mod module;
mod pin_data;
mod tokens;
mod vtable;

/// Declares a kernel module: `module! { type: T, name: "n", authors: [...], description: "...",
/// license: "GPL", alias: [...], firmware: [...], imports_ns: [...], params: { ... } }`, as the
/// in-tree macro takes it (any order; `type`, `name` and `license` required).
#[proc_macro]
pub fn module(input: TokenStream) -> TokenStream {
    module::expand(input)
}

/// On a trait: a `HAS_<NAME>: bool` constant (false) for each method; on an impl of one: the
/// constant true for each method the impl defines. The kernel crate fills a C table from them.
#[proc_macro_attribute]
pub fn vtable(_attribute: TokenStream, item: TokenStream) -> TokenStream {
    vtable::expand(item)
}

/// A struct whose `#[pin]` fields are initialised in place (`pin_init!`, `try_pin_init!`) and
/// never move; `#[pin_data(PinnedDrop)]` when it has a `#[pinned_drop]` impl.
#[proc_macro_attribute]
pub fn pin_data(attribute: TokenStream, item: TokenStream) -> TokenStream {
    pin_data::expand(attribute, item)
}

/// `declare_trace! { unsafe fn name(args); }`: a Rust entry point of the tracepoint `name`
/// that a C file of the module defines (`CREATE_RUST_TRACE_POINTS`), as the in-tree macro.
#[proc_macro]
pub fn declare_trace(input: TokenStream) -> TokenStream {
    let tokens: Vec<proc_macro::TokenTree> = input.clone().into_iter().collect();
    let Some(name) = tokens.windows(2).find(|w| tokens::is_ident(&w[0], "fn")).map(|w| w[1].to_string()) else {
        return tokens::error(proc_macro::Span::call_site(), "declare_trace!: `unsafe fn name(arguments);` expected");
    };
    let mut output: TokenStream = "::kernel::__declare_trace!".parse().unwrap();
    let mut body = input;
    body.extend(format!("hook: rust_do_trace_{name}").parse::<TokenStream>().unwrap());
    output.extend([tokens::braced(body)]);
    output
}

/// `#[pinned_drop] impl PinnedDrop for T { fn drop(self: Pin<&mut Self>) { ... } }`: the drop of
/// a `#[pin_data(PinnedDrop)]` struct, which only the struct's `Drop` can call.
#[proc_macro_attribute]
pub fn pinned_drop(_attribute: TokenStream, item: TokenStream) -> TokenStream {
    pin_data::pinned_drop(item)
}

/// `ForLt!(Data<'_>)`: the type family `Data<'a>` (`kernel::types::ForLt`).
#[allow(non_snake_case)]
#[proc_macro]
pub fn ForLt(input: TokenStream) -> TokenStream {
    for_lt::for_lt(input, false)
}

/// `CovariantForLt!(Data<'_>)`: as `ForLt!`, checked covariant when the module is built.
#[allow(non_snake_case)]
#[proc_macro]
pub fn CovariantForLt(input: TokenStream) -> TokenStream {
    for_lt::for_lt(input, true)
}

/// `format_args!` through `kernel::fmt`'s wrapper (what `kernel::fmt!` expands to).
#[doc(hidden)]
#[proc_macro]
pub fn __fmt(input: TokenStream) -> TokenStream {
    fmt::fmt(input)
}

/// `register!`'s field setter (`with_<field>`): a declarative macro cannot make the name. Takes
/// `[vis] [storage] [hi] [lo] [field]`.
#[doc(hidden)]
#[proc_macro]
pub fn __register_setter(input: TokenStream) -> TokenStream {
    let parts: Vec<String> = input
        .into_iter()
        .map(|tree| match tree {
            proc_macro::TokenTree::Group(group) => group.stream().to_string(),
            other => other.to_string(),
        })
        .collect();
    let [vis, storage, hi, lo, field] = &parts[..] else {
        return tokens::error(proc_macro::Span::call_site(), "register!: a field is `hi:lo name;`");
    };
    let width = format!("{{ {hi} - {lo} + 1 }}");
    format!(
        "/// The register with the field set to `value` (the other bits as they were).
        #[allow(dead_code)]
        {vis} fn with_{field}(self, value: impl ::core::convert::Into<::kernel::num::Bounded<{storage}, {width}>>) -> Self {{
            let bits: ::kernel::num::Bounded<{storage}, {width}> = value.into();
            let width: u32 = {hi} - {lo} + 1;
            let mask: {storage} = if width == <{storage}>::BITS {{ !0 }} else {{ (((1 as {storage}) << width) - 1) << {lo} }};
            Self::from_raw((self.into_raw() & !mask) | ((bits.get() << {lo}) & mask))
        }}"
    )
    .parse()
    .expect("register!'s setter parses")
}
