//! `#[pin_data]` and `#[pinned_drop]`: the struct's fields sorted into pinned (`#[pin]`, made in
//! place by a `PinInit`) and not, handed to the kernel crate's `__pin_data!`, which writes the
//! per-field initialisers, the `Unpin` and `Drop` rules and their `unsafe`.

use proc_macro::{Delimiter, Group, Span, TokenStream, TokenTree};

use crate::tokens::{angle_list, braced, error, is_ident, is_punct, split_commas, stream, take_generics};

pub fn expand(attribute: TokenStream, item: TokenStream) -> TokenStream {
    let drop = match attribute.to_string().trim() {
        "" => "none",
        "PinnedDrop" => "PinnedDrop",
        other => return error(Span::call_site(), &format!("#[pin_data({other})]: the only option is PinnedDrop")),
    };
    match read(item, drop) {
        Ok(output) => output,
        Err((span, message)) => error(span, &message),
    }
}

fn read(item: TokenStream, drop: &str) -> Result<TokenStream, (Span, String)> {
    let tokens: Vec<TokenTree> = item.into_iter().collect();
    let Some(at) = tokens.iter().position(|t| is_ident(t, "struct")) else {
        return Err((Span::call_site(), "#[pin_data] goes on a struct with named fields".into()));
    };
    let name = match tokens.get(at + 1) {
        Some(TokenTree::Ident(name)) => name.clone(),
        _ => return Err((tokens[at].span(), "#[pin_data]: a struct's name expected".into())),
    };
    let (generics, rest) = take_generics(&tokens[at + 2..]);
    let Some(TokenTree::Group(body)) = rest.last().filter(|t| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)) else {
        return Err((name.span(), "#[pin_data] needs a struct with named fields (`struct S { a: T }`)".into()));
    };
    // `where A: B, C: D` (without the keyword), with a trailing comma
    let mut predicates: Vec<TokenTree> = rest[..rest.len() - 1].iter().skip(1).cloned().collect();
    if !predicates.is_empty() && !is_punct(predicates.last().unwrap(), ',') {
        predicates.extend(",".parse::<TokenStream>().unwrap());
    }

    let mut fields_out: Vec<TokenTree> = Vec::new();
    let (mut pinned, mut unpinned) = (Vec::new(), Vec::new());
    for field in split_commas(body.stream().into_iter().collect()) {
        let mut is_pinned = false;
        let mut index = 0;
        let mut kept: Vec<TokenTree> = Vec::new();
        while index + 1 < field.len() && is_punct(&field[index], '#') {
            let attribute = &field[index + 1];
            if attribute.to_string().replace(' ', "") == "[pin]" {
                is_pinned = true;
            } else {
                kept.extend(field[index..index + 2].iter().cloned());
            }
            index += 2;
        }
        let Some(colon) = field.iter().position(|t| is_punct(t, ':')) else {
            return Err((field[0].span(), "#[pin_data]: a field `name: Type` expected".into()));
        };
        let field_name = field[colon - 1].clone();
        let field_type = stream(&field[colon + 1..]);
        kept.extend(field[index..].iter().cloned());
        kept.extend(",".parse::<TokenStream>().unwrap());
        fields_out.extend(kept);
        let mut entry = TokenStream::from(field_name);
        entry.extend(":".parse::<TokenStream>().unwrap());
        entry.extend(field_type);
        entry.extend(",".parse::<TokenStream>().unwrap());
        if is_pinned { pinned.push(entry) } else { unpinned.push(entry) }
    }

    // the struct as written, less its #[pin] attributes
    let mut output: TokenStream = tokens[..tokens.len() - 1].iter().cloned().collect();
    let mut new_body = Group::new(Delimiter::Brace, fields_out.into_iter().collect());
    new_body.set_span(body.span());
    output.extend([TokenTree::from(new_body)]);

    let mut pin_names = vec!["'__pin".parse::<TokenStream>().unwrap()];
    pin_names.extend(generics.names.iter().cloned());
    let mut pin_declared = vec!["'__pin".parse::<TokenStream>().unwrap()];
    pin_declared.extend(split_commas(strip_angles(generics.declared.clone())).into_iter().map(|p| stream(&p)));

    let mut call = TokenStream::new();
    call.extend(format!("name: {name}, declared: ").parse::<TokenStream>().unwrap());
    call.extend([braced(generics.declared)]);
    call.extend(", used: ".parse::<TokenStream>().unwrap());
    call.extend([braced(generics.used)]);
    call.extend(", pin_declared: ".parse::<TokenStream>().unwrap());
    call.extend([braced(angle_list(pin_declared))]);
    call.extend(", pin_used: ".parse::<TokenStream>().unwrap());
    call.extend([braced(angle_list(pin_names))]);
    call.extend(", where: ".parse::<TokenStream>().unwrap());
    call.extend([braced(predicates.into_iter().collect())]);
    call.extend(", pinned: ".parse::<TokenStream>().unwrap());
    call.extend([braced(pinned.into_iter().collect())]);
    call.extend(", unpinned: ".parse::<TokenStream>().unwrap());
    call.extend([braced(unpinned.into_iter().collect())]);
    call.extend(format!(", drop: {drop}").parse::<TokenStream>().unwrap());
    output.extend("::kernel::__pin_data!".parse::<TokenStream>().unwrap());
    output.extend([braced(call)]);
    Ok(output)
}

/// `<a, b>` -> `a, b`.
fn strip_angles(generics: TokenStream) -> Vec<TokenTree> {
    let tokens: Vec<TokenTree> = generics.into_iter().collect();
    if tokens.len() < 2 {
        return Vec::new();
    }
    tokens[1..tokens.len() - 1].to_vec()
}

/// `impl PinnedDrop for T { fn drop(self: Pin<&mut Self>) { ... } }`: `drop` gains the token
/// argument that only the struct's `Drop` can make, so nothing else calls it.
pub fn pinned_drop(item: TokenStream) -> TokenStream {
    let mut tokens: Vec<TokenTree> = Vec::new();
    for tree in item {
        // the trait by its full path: a module need not import it
        if crate::tokens::is_ident(&tree, "PinnedDrop") && tokens.last().is_some_and(|t| is_ident(t, "impl")) {
            tokens.extend("::kernel::init::PinnedDrop".parse::<TokenStream>().unwrap());
        } else {
            tokens.push(tree);
        }
    }
    let Some(TokenTree::Group(body)) = tokens.last().cloned() else {
        return error(Span::call_site(), "#[pinned_drop] goes on `impl PinnedDrop for T { fn drop(self: Pin<&mut Self>) { ... } }`");
    };
    let mut inner: Vec<TokenTree> = body.stream().into_iter().collect();
    let Some(at) = inner.windows(2).position(|w| is_ident(&w[0], "fn") && is_ident(&w[1], "drop")) else {
        return error(body.span(), "#[pinned_drop]: `fn drop(self: Pin<&mut Self>)` expected");
    };
    let Some(TokenTree::Group(parameters)) = inner.get(at + 2).cloned() else {
        return error(body.span(), "#[pinned_drop]: `fn drop(self: Pin<&mut Self>)` expected");
    };
    let mut list = parameters.stream();
    list.extend(", _: ::kernel::init::__internal::OnlyCallFromDrop".parse::<TokenStream>().unwrap());
    let mut parameters_out = Group::new(Delimiter::Parenthesis, list);
    parameters_out.set_span(parameters.span());
    inner[at + 2] = parameters_out.into();
    let mut body_out = Group::new(Delimiter::Brace, inner.into_iter().collect());
    body_out.set_span(body.span());
    *tokens.last_mut().unwrap() = body_out.into();
    tokens.into_iter().collect()
}
