//! `#[vtable]`: which optional methods an impl defines, as `HAS_<NAME>` constants, so that the
//! kernel crate leaves a C table's entry empty (the kernel's own default) for the others.

use proc_macro::{Delimiter, Group, Span, TokenStream, TokenTree};

use crate::tokens::{error, is_ident};

pub fn expand(item: TokenStream) -> TokenStream {
    let mut tokens: Vec<TokenTree> = item.into_iter().collect();
    let is_trait = tokens.iter().any(|t| is_ident(t, "trait"));
    let is_impl = tokens.iter().any(|t| is_ident(t, "impl"));
    let body = match tokens.last() {
        Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace && (is_trait || is_impl) => group.clone(),
        _ => return error(Span::call_site(), "#[vtable] goes on a trait or on an impl of one"),
    };
    let inner: Vec<TokenTree> = body.stream().into_iter().collect();
    let mut methods = Vec::new();
    let mut constants = Vec::new();
    for pair in inner.windows(2) {
        if let TokenTree::Ident(name) = &pair[1] {
            if is_ident(&pair[0], "fn") {
                methods.push(name.to_string());
            } else if is_ident(&pair[0], "const") {
                constants.push(name.to_string());
            }
        }
    }
    let value = if is_trait { "false" } else { "true" };
    let mut added = String::new();
    for method in methods {
        let constant = format!("HAS_{}", method.to_uppercase());
        if !constants.contains(&constant) {
            added += &format!("#[doc(hidden)] const {constant}: bool = {value};\n");
        }
    }
    let mut stream = body.stream();
    stream.extend(added.parse::<TokenStream>().expect("the constants parse"));
    let mut group = Group::new(Delimiter::Brace, stream);
    group.set_span(body.span());
    *tokens.last_mut().unwrap() = group.into();
    tokens.into_iter().collect()
}
