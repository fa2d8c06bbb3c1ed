//! `ForLt!(Data<'_>)` and `CovariantForLt!(Data<'_>)`: a type naming the family `Data<'a>` for
//! every `'a` (see `kernel::types::ForLt`). Each `'_`, and each `&` without a lifetime, is the
//! open lifetime; `for<'x> Data<'x>` names it explicitly. The covariant form also compiles a
//! function that turns a `Data<'long>` into a `Data<'short>` as it is, which only a covariant
//! type allows: an invariant one (a `Mutex<&'a T>`) is refused when the module is built.

use proc_macro::{Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

use crate::tokens::error;

const OPEN: &str = "__for_lt";

pub fn for_lt(input: TokenStream, covariant: bool) -> TokenStream {
    let trees: Vec<TokenTree> = input.into_iter().collect();
    let (lifetime, body) = match explicit(&trees) {
        Some((name, rest)) => (name, rest.to_vec()),
        None => (OPEN.to_owned(), trees),
    };
    if body.is_empty() {
        return error(Span::call_site(), "ForLt!: a type expected: `ForLt!(Data<'_>)`");
    }
    let of = |name: &str| substitute(&body, &lifetime, name);
    let family = format!("dyn for<'{OPEN}> ::kernel::types::WithLt<'{OPEN}, Of = {}>", of(OPEN));
    let proof = if covariant {
        format!("{{ fn __covariant<'__short, '__long: '__short>(long: {}) -> {} {{ long }} 1 }}",
                of("__long"), of("__short"))
    } else {
        "0".to_owned()
    };
    format!("::kernel::types::__ForLtImpl<{family}, {proof}>").parse().unwrap_or_else(|_| {
        error(Span::call_site(), "ForLt!: the type does not parse")
    })
}

/// `for<'x> Type`: ("x", Type).
fn explicit(trees: &[TokenTree]) -> Option<(String, &[TokenTree])> {
    match trees {
        [TokenTree::Ident(f), TokenTree::Punct(lt), TokenTree::Punct(quote), TokenTree::Ident(name), TokenTree::Punct(gt), rest @ ..]
            if f.to_string() == "for" && lt.as_char() == '<' && quote.as_char() == '\'' && gt.as_char() == '>' =>
        {
            Some((name.to_string(), rest))
        }
        _ => None,
    }
}

/// The type's source with its open lifetime (`'_`, or `'from`, and elided `&`) named `'to`.
fn substitute(trees: &[TokenTree], from: &str, to: &str) -> String {
    let mut out: Vec<TokenTree> = Vec::new();
    let mut index = 0;
    while index < trees.len() {
        let tree = &trees[index];
        match tree {
            TokenTree::Punct(quote) if quote.as_char() == '\'' => {
                if let Some(TokenTree::Ident(name)) = trees.get(index + 1) {
                    let name = name.to_string();
                    let open = if from == OPEN { name == "_" } else { name == from };
                    out.push(tree.clone());
                    out.push(TokenTree::Ident(Ident::new(if open { to } else { &name }, Span::call_site())));
                    index += 2;
                    continue;
                }
                out.push(tree.clone());
            }
            TokenTree::Punct(amp) if amp.as_char() == '&' && from == OPEN => {
                out.push(tree.clone());
                let named = matches!(trees.get(index + 1), Some(TokenTree::Punct(p)) if p.as_char() == '\'');
                if !named {
                    out.push(Punct::new('\'', Spacing::Joint).into());
                    out.push(TokenTree::Ident(Ident::new(to, Span::call_site())));
                }
            }
            TokenTree::Group(group) => {
                let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                let text = substitute(&inner, from, to);
                let stream: TokenStream = text.parse().unwrap_or_default();
                out.push(Group::new(group.delimiter(), stream).into());
            }
            _ => out.push(tree.clone()),
        }
        index += 1;
    }
    out.into_iter().collect::<TokenStream>().to_string()
}
