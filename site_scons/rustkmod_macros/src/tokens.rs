//! Reading and writing token trees without a parser library.

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// `compile_error!("message")` at `span`: the one-line error a user sees.
pub fn error(span: Span, message: &str) -> TokenStream {
    let mut literal = Literal::string(message);
    literal.set_span(span);
    let mut bang = Punct::new('!', Spacing::Alone);
    bang.set_span(span);
    let mut body = Group::new(Delimiter::Parenthesis, TokenTree::Literal(literal).into());
    body.set_span(span);
    let mut semicolon = Punct::new(';', Spacing::Alone);
    semicolon.set_span(span);
    [TokenTree::Ident(Ident::new("compile_error", span)), bang.into(), body.into(), semicolon.into()]
        .into_iter()
        .collect()
}

pub fn is_punct(tree: &TokenTree, ch: char) -> bool {
    matches!(tree, TokenTree::Punct(p) if p.as_char() == ch)
}

pub fn is_ident(tree: &TokenTree, name: &str) -> bool {
    matches!(tree, TokenTree::Ident(i) if i.to_string() == name)
}

/// `tokens` split at the commas outside any `<...>` (a type's generic arguments) or group.
pub fn split_commas(tokens: Vec<TokenTree>) -> Vec<Vec<TokenTree>> {
    let mut parts = vec![Vec::new()];
    let mut depth = 0i32;
    let mut previous_dash = false;
    for tree in tokens {
        let dash = is_punct(&tree, '-');
        if is_punct(&tree, '<') {
            depth += 1;
        } else if is_punct(&tree, '>') && !previous_dash {
            depth -= 1;     // not the '>' of '->'
        }
        previous_dash = dash;
        if depth == 0 && is_punct(&tree, ',') {
            parts.push(Vec::new());
            continue;
        }
        parts.last_mut().unwrap().push(tree);
    }
    parts.retain(|part| !part.is_empty());
    parts
}

pub fn stream(tokens: &[TokenTree]) -> TokenStream {
    tokens.iter().cloned().collect()
}

/// The generics of an item, as the impls about it need them.
#[derive(Default)]
pub struct Generics {
    /// `<T: Bound, const N: usize>` without defaults: after `impl`.
    pub declared: TokenStream,
    /// `<T, N>`: after the type's name.
    pub used: TokenStream,
    /// The parameters' names as used (`T`, `'a`, `N`).
    pub names: Vec<TokenStream>,
}

/// Reads `<...>` at the front of `tokens` (if any), returning the generics and the rest.
pub fn take_generics(tokens: &[TokenTree]) -> (Generics, &[TokenTree]) {
    if tokens.first().is_none_or(|t| !is_punct(t, '<')) {
        return (Generics::default(), tokens);
    }
    let mut depth = 0i32;
    let mut end = 0;
    let mut previous_dash = false;
    for (index, tree) in tokens.iter().enumerate() {
        if is_punct(tree, '<') {
            depth += 1;
        } else if is_punct(tree, '>') && !previous_dash {
            depth -= 1;
            if depth == 0 {
                end = index;
                break;
            }
        }
        previous_dash = is_punct(tree, '-');
    }
    let inner: Vec<TokenTree> = tokens[1..end].to_vec();
    let mut declared = Vec::new();
    let mut names = Vec::new();
    for param in split_commas(inner) {
        // drop a default (`T = u32`, `const N: usize = 4`)
        let cut = param.iter().position(|t| is_punct(t, '=')).unwrap_or(param.len());
        let param = &param[..cut];
        let name: TokenStream = if is_punct(&param[0], '\'') {
            stream(&param[..2])
        } else if is_ident(&param[0], "const") {
            stream(&param[1..2])
        } else {
            stream(&param[..1])
        };
        names.push(name);
        declared.push(stream(param));
    }
    let generics = Generics {
        declared: angle_list(declared),
        used: angle_list(names.clone()),
        names,
    };
    (generics, &tokens[end + 1..])
}

/// `<a, b, c>` of the streams given.
pub fn angle_list(items: Vec<TokenStream>) -> TokenStream {
    let mut out: Vec<TokenTree> = vec![Punct::new('<', Spacing::Alone).into()];
    for item in items {
        out.extend(item);
        out.push(Punct::new(',', Spacing::Alone).into());
    }
    out.push(Punct::new('>', Spacing::Alone).into());
    out.into_iter().collect()
}

/// `{ tokens }` as one tree.
pub fn braced(tokens: TokenStream) -> TokenTree {
    Group::new(Delimiter::Brace, tokens).into()
}

/// The tokens with every invisible group (a `$name:literal` or `$t:ty` of a declarative macro that
/// calls this one: `module_pci_driver!`'s `name`) replaced by what it holds.
pub fn without_invisible_groups(tokens: TokenStream) -> Vec<TokenTree> {
    let mut out = Vec::new();
    for tree in tokens {
        match tree {
            TokenTree::Group(group) if group.delimiter() == proc_macro::Delimiter::None => {
                out.extend(without_invisible_groups(group.stream()))
            }
            other => out.push(other),
        }
    }
    out
}
