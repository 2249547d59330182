//! `ftp://` and `ftps://[user[:password]@]host[:port]/path` parsing.
//!
//! As in RFC 1738, curl and lftp, the path is relative to the login directory; a path that
//! starts with `%2F` is absolute (`ftp://host/%2Fvar/www`).

use anyhow::{Context, Result, bail};
use percent_encoding::percent_decode_str;

#[derive(Clone, PartialEq, Eq)]
pub struct FtpUrl {
    /// `ftps://`: FTP over TLS.
    pub tls: bool,
    pub host: String,
    /// `None` when the URL names none: 21, or 990 for implicit TLS.
    pub port: Option<u16>,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Decoded path: relative to the login directory, or absolute when it starts with '/'.
    pub path: String,
}

impl std::fmt::Debug for FtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FtpUrl")
            .field("tls", &self.tls)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("path", &self.path)
            .finish()
    }
}

fn decode(part: &str, what: &str) -> Result<String> {
    let s = percent_decode_str(part)
        .decode_utf8()
        .with_context(|| format!("the {what} is not valid UTF-8 after percent-decoding"))?
        .into_owned();
    if s.chars().any(|c| c == '\r' || c == '\n' || c == '\0') {
        bail!("the {what} contains CR, LF or NUL, which cannot be sent to an FTP server");
    }
    Ok(s)
}

impl FtpUrl {
    pub fn parse(input: &str) -> Result<FtpUrl> {
        let parsed = Self::parse_inner(input);
        // Never echo the input: it may carry a password.
        parsed.with_context(|| format!("invalid URL '{}'", redact(input)))
    }

    fn parse_inner(input: &str) -> Result<FtpUrl> {
        let (scheme, rest) = input
            .split_once("://")
            .context("expected ftp://[user[:password]@]host[:port]/path")?;
        let tls = match scheme.to_ascii_lowercase().as_str() {
            "ftp" => false,
            "ftps" => true,
            other => bail!("unsupported scheme '{other}': expected ftp:// or ftps://"),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(ui) => match ui.split_once(':') {
                Some((u, p)) => (Some(decode(u, "user name")?), Some(decode(p, "password")?)),
                None => (Some(decode(ui, "user name")?), None),
            },
        };
        let (host, port) = split_host_port(hostport)?;
        if host.is_empty() {
            bail!("no host name");
        }
        let path = decode(path, "path")?;
        Ok(FtpUrl {
            tls,
            host,
            port,
            user: user.filter(|u| !u.is_empty()),
            password,
            path,
        })
    }
}

fn split_host_port(hostport: &str) -> Result<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .context("unclosed '[' in IPv6 address")?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').context("junk after IPv6 address")?),
        };
        (h.to_string(), port)
    } else {
        // An IPv6 address goes in brackets; a second colon is a mistake, such as a
        // password written without its '@' ("user:pw:host").
        if hostport.matches(':').count() > 1 {
            bail!("more than one ':' after the host name; an IPv6 address goes in [brackets]");
        }
        match hostport.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (hostport.to_string(), None),
        }
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .with_context(|| format!("invalid port '{p}'"))?,
        ),
    };
    Ok((host, port))
}

/// The URL with any password replaced by `***`, for messages.
pub fn redact(input: &str) -> String {
    let Some((scheme, rest)) = input.split_once("://") else {
        return input.to_string();
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!("{scheme}://{masked}{}", &rest[at..])
        }
        // "user:password:host" (the '@' forgotten): everything before the last ':' might
        // be a password.
        None if authority.matches(':').count() > 1 && !authority.starts_with('[') => {
            let port = authority.rsplit_once(':').map_or("", |(_, p)| p);
            format!("{scheme}://***:{port}{}", &rest[end..])
        }
        None => input.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_url() {
        let u = FtpUrl::parse("ftp://bob:p%40ss%3Aword@example.com:2121/www/my%20site").unwrap();
        assert_eq!(u.host, "example.com");
        assert_eq!(u.port, Some(2121));
        assert!(!u.tls);
        assert_eq!(u.user.as_deref(), Some("bob"));
        assert_eq!(u.password.as_deref(), Some("p@ss:word"));
        assert_eq!(u.path, "www/my site");
        assert!(!format!("{u:?}").contains("p@ss"));
    }

    #[test]
    fn defaults_and_absolute_paths() {
        let u = FtpUrl::parse("FTP://host").unwrap();
        assert_eq!((u.port, u.path.as_str(), u.user.clone()), (None, "", None));
        assert!(FtpUrl::parse("ftps://h/").unwrap().tls);
        assert_eq!(
            FtpUrl::parse("ftp://h/%2Fvar/www").unwrap().path,
            "/var/www"
        );
        let v6 = FtpUrl::parse("ftp://[::1]:2100/x").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", Some(2100)));
    }

    #[test]
    fn bad_urls_say_why_without_the_password() {
        let err = format!("{:#}", FtpUrl::parse("sftp://u:secret@h/").unwrap_err());
        assert!(err.contains("unsupported scheme 'sftp'"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        for bad in [
            "http://h/",
            "h/path",
            "ftp://h:99999/",
            "ftp:///x",
            "ftp://h/a%0d%0aDELE%20x",
            "ftp://user:127.0.0.1:2121/",
            "ftp://::1/",
        ] {
            assert!(FtpUrl::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(redact("ftp://bob:s3cret:host:21/x"), "ftp://***:21/x");
        assert_eq!(redact("ftp://[::1]:21/x"), "ftp://[::1]:21/x");
    }

    #[test]
    fn redact_masks_only_the_password() {
        assert_eq!(redact("ftp://u:pw@h/p"), "ftp://u:***@h/p");
        assert_eq!(redact("ftp://u@h/p"), "ftp://u@h/p");
        assert_eq!(redact("ftp://h/p@x"), "ftp://h/p@x");
    }
}
