//! `module!`: the in-tree keys, in any order, checked one by one; the expansion itself is the
//! kernel crate's `__module_items!` (a declarative macro, where its `unsafe` is allowed).

use proc_macro::{Delimiter, Span, TokenStream, TokenTree};

use crate::tokens::{braced, error, is_punct, split_commas, stream, without_invisible_groups};

const KEYS: &str = "type, name, authors, description, license, alias, firmware, imports_ns, params";

/// What each key takes.
enum Kind {
    Type,
    Text,
    TextList,
    Params,
}

fn kind(key: &str) -> Option<Kind> {
    Some(match key {
        "type" => Kind::Type,
        "name" | "description" | "license" | "author" => Kind::Text,
        "authors" | "alias" | "firmware" | "imports_ns" => Kind::TextList,
        "params" => Kind::Params,
        _ => return None,
    })
}

/// The `.modinfo` tag a text key becomes (`authors` -> `author=` for each).
fn modinfo_tag(key: &str) -> Option<&'static str> {
    Some(match key {
        "author" | "authors" => "author=",
        "description" => "description=",
        "alias" => "alias=",
        "firmware" => "firmware=",
        "imports_ns" => "import_ns=",
        _ => return None,
    })
}

fn is_text(tree: &TokenTree) -> bool {
    matches!(tree, TokenTree::Literal(l) if { let s = l.to_string(); s.starts_with('"') || s.starts_with("r\"") || s.starts_with("r#") })
}

pub fn expand(input: TokenStream) -> TokenStream {
    match read(input) {
        Ok(output) => output,
        Err((span, message)) => error(span, &message),
    }
}

fn read(input: TokenStream) -> Result<TokenStream, (Span, String)> {
    let mut module_type = None;
    let mut license = None;
    let mut name = None;
    let mut params = TokenStream::new();
    let mut modinfo: Vec<TokenTree> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for entry in split_commas(without_invisible_groups(input)) {
        let key_span = entry[0].span();
        let TokenTree::Ident(key) = &entry[0] else {
            return Err((key_span, format!("module!: expected a key ({KEYS}), found `{}`", entry[0])));
        };
        let key = key.to_string();
        let Some(kind) = kind(&key) else {
            return Err((key_span, format!("module!: unknown key `{key}`; the keys are {KEYS}")));
        };
        if seen.contains(&key) {
            return Err((key_span, format!("module!: `{key}` given twice")));
        }
        seen.push(key.clone());
        if entry.len() < 3 || !is_punct(&entry[1], ':') {
            return Err((key_span, format!("module!: `{key}` needs a value: `{key}: ...,`")));
        }
        let value = &entry[2..];
        match kind {
            Kind::Type => module_type = Some(stream(value)),
            Kind::Text => {
                if value.len() != 1 || !is_text(&value[0]) {
                    return Err((value[0].span(), format!("module!: `{key}` takes a string literal: `{key}: \"...\",`")));
                }
                match key.as_str() {
                    "license" => license = Some(value[0].clone()),
                    "name" => name = Some(value[0].clone()),
                    _ => push_modinfo(&mut modinfo, &key, &value[0]),
                }
            }
            Kind::TextList => {
                let items = match value {
                    [TokenTree::Group(group)] if group.delimiter() == Delimiter::Bracket => {
                        split_commas(without_invisible_groups(group.stream()))
                    }
                    _ => return Err((value[0].span(), format!("module!: `{key}` takes a list of strings: `{key}: [\"...\"],`"))),
                };
                for item in items {
                    if item.len() != 1 || !is_text(&item[0]) {
                        return Err((item[0].span(), format!("module!: `{key}` holds string literals only")));
                    }
                    push_modinfo(&mut modinfo, &key, &item[0]);
                }
            }
            Kind::Params => match value {
                [TokenTree::Group(group)] if group.delimiter() == Delimiter::Brace => params = group.stream(),
                _ => return Err((value[0].span(), "module!: `params` takes `{ name: type { default: ..., description: \"...\" }, ... }`".into())),
            },
        }
    }
    let Some(module_type) = module_type else {
        return Err((Span::call_site(), "module!: `type` missing (`type: MyModule,`: the type implementing kernel::Module)".into()));
    };
    let Some(name) = name else {
        return Err((Span::call_site(), "module!: `name` missing (`name: \"my_module\",`)".into()));
    };
    let Some(license) = license else {
        return Err((Span::call_site(), "module!: `license` missing (`license: \"GPL\",`; a module without one taints the kernel)".into()));
    };
    // The type's and the parameters' own tokens (their spans: an error in them points there).
    let mut body = TokenStream::new();
    body.extend(code("type:"));
    body.extend(module_type.clone());
    body.extend(code(&format!(", license: {license}, modinfo: [{}], params: ", stream(&modinfo))));
    body.extend([braced(params)]);
    // The module's type and name where the in-tree crate has them: `LocalModule`, and
    // `<LocalModule as kernel::ModuleMetadata>::NAME`.
    let mut output = code("type LocalModule = ");
    output.extend(module_type.clone());
    output.extend(code(";\nimpl ::kernel::ModuleMetadata for "));
    output.extend(module_type.clone());
    output.extend(code(&format!(" {{ const NAME: &'static ::kernel::str::CStr = ::kernel::c_str!({name}); }}\n")));
    output.extend(code("::kernel::__module_items!"));
    output.extend([braced(body)]);
    Ok(output)
}

fn push_modinfo(modinfo: &mut Vec<TokenTree>, key: &str, value: &TokenTree) {
    let tag = modinfo_tag(key).expect("a text key has a tag");
    let entry: TokenStream = format!("(\"{tag}\", {value}),").parse().expect("a modinfo entry parses");
    modinfo.extend(entry);
}

fn code(text: &str) -> TokenStream {
    text.parse().expect("rustkmod's own tokens parse")
}
