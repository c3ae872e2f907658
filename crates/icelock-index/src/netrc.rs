//! `.netrc` credentials (`$NETRC`, else `~/.netrc`), as pip and uv use them: a login for a
//! host is sent to that host only.
//!
//! Written here rather than taken from a crate: the two on the registry are unmaintained, and
//! the one uv uses reads `#` comment lines as entries. The format is small: whitespace-separated
//! tokens (double quotes allowed), `machine NAME` / `default` starting an entry, `login`,
//! `password`, `account` inside it, `macdef NAME` swallowing lines up to a blank one.

use std::path::PathBuf;

/// `host → (login, password)`. A missing or unreadable file gives nothing: `.netrc` is optional,
/// and a broken one must not stop a lock that needs no credentials.
pub fn from_default_location() -> Vec<(String, (String, Option<String>))> {
    let path = std::env::var_os("NETRC")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".netrc")));
    match path.and_then(|p| std::fs::read_to_string(p).ok()) {
        Some(text) => parse(&text),
        None => Vec::new(),
    }
}

fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let mut chars = line.chars().peekable();
        let mut line_tokens = Vec::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
                continue;
            }
            let mut token = String::new();
            if c == '"' {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => token.extend(chars.next()),
                        c => token.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    token.push(c);
                    chars.next();
                }
            }
            line_tokens.push(token);
        }
        // A macro definition runs to the next blank line and holds no credentials.
        if line_tokens.first().is_some_and(|t| t == "macdef") {
            for rest in lines.by_ref() {
                if rest.trim().is_empty() {
                    break;
                }
            }
            continue;
        }
        out.extend(line_tokens);
    }
    out
}

pub(crate) fn parse(text: &str) -> Vec<(String, (String, Option<String>))> {
    let mut entries = Vec::new();
    let mut current: Option<(String, String, Option<String>)> = None;
    let mut tokens = tokens(text).into_iter();
    while let Some(token) = tokens.next() {
        match token.as_str() {
            "machine" | "default" => {
                if let Some((host, login, password)) = current.take() {
                    entries.push((host, (login, password)));
                }
                // `default` applies to hosts without an entry; pip's netrc use ignores it too.
                let host = if token == "machine" {
                    tokens.next().unwrap_or_default()
                } else {
                    String::new()
                };
                current = Some((host, String::new(), None));
            }
            "login" | "password" | "account" => {
                let value = tokens.next().unwrap_or_default();
                if let Some(entry) = current.as_mut() {
                    match token.as_str() {
                        "login" => entry.1 = value,
                        "password" => entry.2 = Some(value),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if let Some((host, login, password)) = current.take() {
        entries.push((host, (login, password)));
    }
    entries.retain(|(host, _)| !host.is_empty());
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machines_comments_quotes_and_macros() {
        let text = "# machine commented.test login x password y\nmachine a.test login alice password \"p w\"\n\nmacdef init\nmachine evil.test login m password m\n\nmachine b.test\n  login bob\n  password s3cret\ndefault login anon password anon\n";
        let entries = parse(text);
        assert_eq!(
            entries,
            vec![
                (
                    "a.test".to_string(),
                    ("alice".to_string(), Some("p w".to_string()))
                ),
                (
                    "b.test".to_string(),
                    ("bob".to_string(), Some("s3cret".to_string()))
                ),
            ]
        );
    }
}
