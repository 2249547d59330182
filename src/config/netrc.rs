//! `~/.netrc` lookup (the format ftp(1), curl and lftp read).

use std::path::Path;

use anyhow::{Context, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub login: Option<String>,
    pub password: Option<String>,
}

/// Finds the credentials for `host` (and `user`, when one is already known) in the netrc file
/// at `path`. The first matching `machine` wins; `default` applies when no machine matches.
pub fn lookup(path: &Path, host: &str, user: Option<&str>) -> Result<Option<Credentials>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read netrc file {}", path.display()))?;
    Ok(find(&text, host, user))
}

pub fn find(text: &str, host: &str, user: Option<&str>) -> Option<Credentials> {
    let mut tokens = Tokens::new(text);
    let mut default = None;
    while let Some(tok) = tokens.next() {
        let machine = match tok {
            "machine" => tokens.next().map(|m| m.eq_ignore_ascii_case(host)),
            "default" => None,
            "macdef" => {
                tokens.skip_macro();
                continue;
            }
            _ => continue,
        };
        let creds = tokens.read_entry();
        let user_ok = |c: &Credentials| user.is_none() || c.login.as_deref() == user;
        match machine {
            Some(true) if user_ok(&creds) => return Some(creds),
            Some(_) => {}
            None if default.is_none() && user_ok(&creds) => default = Some(creds),
            None => {}
        }
    }
    default
}

struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
        Tokens { rest: text }
    }

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest.trim_start();
        if s.is_empty() {
            self.rest = s;
            return None;
        }
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        self.rest = &s[end..];
        Some(&s[..end])
    }

    fn peek(&self) -> Option<&'a str> {
        Tokens { rest: self.rest }.next()
    }

    /// Reads `login`/`password`/`account` pairs up to the next entry.
    fn read_entry(&mut self) -> Credentials {
        let mut creds = Credentials {
            login: None,
            password: None,
        };
        while let Some(key) = self.peek() {
            match key {
                "machine" | "default" | "macdef" => break,
                _ => {}
            }
            self.next();
            let value = self.next().map(str::to_string);
            match key {
                "login" => creds.login = value,
                "password" => creds.password = value,
                _ => {}
            }
        }
        creds
    }

    /// A macro definition runs to the next blank line.
    fn skip_macro(&mut self) {
        match self.rest.find("\n\n") {
            Some(i) => self.rest = &self.rest[i + 2..],
            None => self.rest = "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NETRC: &str = "machine other.example login x password y\n\
        machine ftp.example.com\n  login alice\n  password s3cret\n\
        machine ftp.example.com login bob password hunter2\n\
        macdef init\ncd /tmp\n\n\
        default login anonymous password me@example.com\n";

    #[test]
    fn finds_machine_then_user_then_default() {
        let c = find(NETRC, "FTP.example.com", None).unwrap();
        assert_eq!(c.login.as_deref(), Some("alice"));
        assert_eq!(c.password.as_deref(), Some("s3cret"));
        let c = find(NETRC, "ftp.example.com", Some("bob")).unwrap();
        assert_eq!(c.password.as_deref(), Some("hunter2"));
        let c = find(NETRC, "unknown.example", None).unwrap();
        assert_eq!(c.login.as_deref(), Some("anonymous"));
        assert_eq!(find(NETRC, "unknown.example", Some("carol")), None);
        assert_eq!(find("", "h", None), None);
    }
}
