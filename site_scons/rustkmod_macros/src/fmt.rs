//! `fmt!`: `format_args!` whose every formatted value goes through `kernel::fmt::__Wrap`, so a
//! `&CStr` prints with `{}` (`dev_info!(dev, "'{name}'")`), as the in-tree crate's `fmt!` allows,
//! while any other value prints as `format_args!` would print it.
//!
//! Values the string uses as a width or precision (`{:width$}`, `{:.1$}`) stay as they are: those
//! must be `usize`. A string with `.*` (which takes its precision from the arguments) is passed
//! through unchanged.

use proc_macro::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

use crate::tokens::is_punct;

/// What the format string refers to.
#[derive(Default)]
struct Uses {
    next_positional: usize,
    values: Vec<Reference>,     // formatted: {}, {0}, {name:?}
    counts: Vec<Reference>,     // widths and precisions: {:1$}, {:.width$}
    star: bool,                 // {:.*}
}

#[derive(PartialEq)]
enum Reference {
    Index(usize),
    Name(String),
}

pub fn fmt(input: TokenStream) -> TokenStream {
    let trees: Vec<TokenTree> = input.clone().into_iter().collect();
    let literal = match trees.first() {
        Some(TokenTree::Literal(literal)) => literal.clone(),
        _ => return passthrough(input),             // concat!(...) and the like: as format_args! takes it
    };
    let Some(text) = string_body(&literal.to_string()) else { return passthrough(input) };
    let uses = scan(&text);
    if uses.star {
        return passthrough(input);
    }
    let mut arguments = split_arguments(&trees[1..]);
    let mut named = Vec::new();
    let mut position = 0;
    for argument in arguments.iter_mut() {
        match argument_name(argument) {
            Some(name) => {
                let reference = Reference::Name(name.clone());
                if !uses.counts.contains(&reference) {
                    let expression = argument.split_off(2);
                    argument.extend(wrap(expression, literal.span()));
                }
                named.push(name);
            }
            None => {
                if !uses.counts.contains(&Reference::Index(position)) && !argument.is_empty() {
                    *argument = wrap(std::mem::take(argument), literal.span());
                }
                position += 1;
            }
        }
    }
    // Identifiers the string captures itself ({name}): passed explicitly, wrapped.
    let mut captured: Vec<String> = Vec::new();
    for reference in &uses.values {
        if let Reference::Name(name) = reference {
            let counted = uses.counts.contains(reference);
            if !counted && !named.contains(name) && !captured.contains(name) {
                captured.push(name.clone());
            }
        }
    }
    let mut body: Vec<TokenTree> = vec![TokenTree::Literal(literal.clone())];
    for argument in arguments.into_iter().filter(|a| !a.is_empty()) {
        body.push(Punct::new(',', Spacing::Alone).into());
        body.extend(argument);
    }
    for name in captured {
        let ident = Ident::new(&name, literal.span());
        body.push(Punct::new(',', Spacing::Alone).into());
        body.push(TokenTree::Ident(ident.clone()));
        body.push(Punct::new('=', Spacing::Alone).into());
        body.extend(wrap(vec![TokenTree::Ident(ident)], literal.span()));
    }
    let mut output: TokenStream = "::core::format_args!".parse().unwrap();
    output.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, body.into_iter().collect()))]);
    output
}

fn passthrough(input: TokenStream) -> TokenStream {
    let mut output: TokenStream = "::core::format_args!".parse().unwrap();
    output.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, input))]);
    output
}

/// `::kernel::fmt::__Wrap::new(&(expression)).__kfmt()`.
fn wrap(expression: Vec<TokenTree>, span: Span) -> Vec<TokenTree> {
    let mut tokens: Vec<TokenTree> = "::kernel::fmt::__Wrap::new".parse::<TokenStream>().unwrap().into_iter().collect();
    let mut inner = Group::new(Delimiter::Parenthesis, expression.into_iter().collect());
    inner.set_span(span);
    let reference: Vec<TokenTree> = vec![Punct::new('&', Spacing::Alone).into(), inner.into()];
    tokens.push(Group::new(Delimiter::Parenthesis, reference.into_iter().collect()).into());
    tokens.extend(".__kfmt()".parse::<TokenStream>().unwrap());
    tokens
}

/// The text between a string literal's quotes (`"..."` or `r#"..."#`), or None for another literal.
fn string_body(source: &str) -> Option<String> {
    if let Some(rest) = source.strip_prefix('"') {
        return rest.strip_suffix('"').map(str::to_owned);
    }
    let rest = source.strip_prefix('r')?;
    let hashes = rest.len() - rest.trim_start_matches('#').len();
    let rest = &rest[hashes..];
    let rest = rest.strip_prefix('"')?.strip_suffix(&"#".repeat(hashes))?;
    rest.strip_suffix('"').map(str::to_owned)
}

/// The references of every `{...}` in `text` (a string literal's source: `\u{..}` escapes skipped).
fn scan(text: &str) -> Uses {
    let mut uses = Uses::default();
    let chars: Vec<char> = text.chars().collect();
    let mut index = 0;
    while index < chars.len() {
        match chars[index] {
            '\\' => index += if chars.get(index + 1) == Some(&'u') { skip_unicode(&chars, index) } else { 2 },
            '{' if chars.get(index + 1) == Some(&'{') => index += 2,
            '{' => {
                let end = chars[index..].iter().position(|&c| c == '}').map_or(chars.len(), |p| index + p);
                placeholder(&chars[index + 1..end].iter().collect::<String>(), &mut uses);
                index = end + 1;
            }
            _ => index += 1,
        }
    }
    uses
}

fn skip_unicode(chars: &[char], start: usize) -> usize {
    chars[start..].iter().position(|&c| c == '}').map_or(chars.len() - start, |p| p + 1)
}

/// One placeholder's `argument:spec`.
fn placeholder(inside: &str, uses: &mut Uses) {
    let (argument, spec) = inside.split_once(':').unwrap_or((inside, ""));
    let argument = argument.trim();
    uses.values.push(reference(argument).unwrap_or_else(|| {
        uses.next_positional += 1;
        Reference::Index(uses.next_positional - 1)
    }));
    if spec.contains(".*") {
        uses.star = true;
    }
    // width$ and .precision$: the text before each '$' back to a fill, flag or '.'
    for (position, _) in spec.match_indices('$') {
        let before = &spec[..position];
        let start = before.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |p| p + 1);
        if let Some(count) = reference(&before[start..]) {
            uses.counts.push(count);
        }
    }
}

fn reference(text: &str) -> Option<Reference> {
    if text.is_empty() {
        None
    } else if let Ok(index) = text.parse() {
        Some(Reference::Index(index))
    } else {
        Some(Reference::Name(text.to_owned()))
    }
}

/// The arguments after the string, split at top-level commas (a trailing comma dropped).
fn split_arguments(trees: &[TokenTree]) -> Vec<Vec<TokenTree>> {
    let mut arguments = Vec::new();
    let mut current = Vec::new();
    let mut started = false;
    for tree in trees {
        if is_punct(tree, ',') {
            if started {
                arguments.push(std::mem::take(&mut current));
            }
            started = true;
            continue;
        }
        current.push(tree.clone());
    }
    if !current.is_empty() {
        arguments.push(current);
    }
    arguments
}

/// `name` of a `name = expression` argument (not `a == b`).
fn argument_name(argument: &[TokenTree]) -> Option<String> {
    match argument {
        [TokenTree::Ident(name), TokenTree::Punct(eq), ..] if eq.as_char() == '=' && eq.spacing() == Spacing::Alone => {
            Some(name.to_string())
        }
        _ => None,
    }
}
