//! What a server can do: FEAT's list (RFC 2389), what probes found beyond it, and what the
//! run learnt on the way. Capabilities come from the server's answers, never from its name.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use suppaftp::FtpResult;
use suppaftp::types::Response;

use super::control::code;
use crate::hash::Algo;

/// How this server hashes a file for `--checksum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashCommand {
    /// `HASH path` (draft-bryan-ftpext-hash). `current`: FEAT marked this algorithm as the
    /// session's choice (`SHA-256*`); otherwise `OPTS HASH` selects it first.
    Hash { algo: Algo, current: bool },
    /// `XSHA256 path` and kin, one algorithm each.
    X(Algo),
}

impl HashCommand {
    pub fn algo(self) -> Algo {
        match self {
            HashCommand::Hash { algo, .. } | HashCommand::X(algo) => algo,
        }
    }

    /// The verb, for `-v` and errors.
    pub fn verb(self) -> &'static str {
        match self {
            HashCommand::Hash { .. } => "HASH",
            HashCommand::X(a) => a.x_command(),
        }
    }

    /// From FEAT: HASH with SHA-256, else SHA-1, else MD5; then XSHA256, XSHA1, XMD5, XCRC;
    /// HASH's CRC32 last of all.
    fn choose(features: &[(String, String)]) -> Option<HashCommand> {
        let has = |k: &str| features.iter().any(|(f, _)| f == k);
        let offered: Vec<(Algo, bool)> = features
            .iter()
            .filter(|(k, _)| k == "HASH")
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|name| {
                let current = name.ends_with('*');
                Algo::from_name(name.trim_end_matches('*').trim()).map(|a| (a, current))
            })
            .collect();
        let hash = |algo: Algo| {
            offered
                .iter()
                .find(|(a, _)| *a == algo)
                .map(|&(algo, current)| HashCommand::Hash { algo, current })
        };
        [Algo::Sha256, Algo::Sha1, Algo::Md5]
            .into_iter()
            .find_map(hash)
            .or_else(|| {
                Algo::PREFERRED
                    .into_iter()
                    .find(|a| has(a.x_command()))
                    .map(HashCommand::X)
            })
            .or_else(|| hash(Algo::Crc32))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caps {
    /// MLSD/MLST (RFC 3659: MLST in FEAT implies MLSD).
    pub mlsd: bool,
    pub mdtm: bool,
    pub size: bool,
    /// Setting a file's mtime with `MFMT`.
    pub mfmt: bool,
    pub utf8: bool,
    pub epsv: bool,
    pub rest_stream: bool,
    /// A command that hashes a file on the server, if FEAT lists one.
    pub hash: Option<HashCommand>,
    /// FEAT answered with a list. Without one, what matters is probed.
    pub feat: bool,
}

impl Caps {
    /// From a FEAT reply: `211-` line, one feature per line after a space, `211 End`.
    pub fn from_feat(reply: &Response) -> Caps {
        let text = String::from_utf8_lossy(&reply.body);
        let features: Vec<(String, String)> = text
            .lines()
            .skip(1)
            .filter(|l| l.starts_with(' '))
            .map(|l| {
                let l = l.trim();
                let (k, v) = l.split_once(' ').unwrap_or((l, ""));
                (k.to_ascii_uppercase(), v.trim().to_ascii_uppercase())
            })
            .collect();
        let has = |k: &str| features.iter().any(|(f, _)| f == k);
        Caps {
            mlsd: has("MLST") || has("MLSD"),
            mdtm: has("MDTM"),
            size: has("SIZE"),
            mfmt: has("MFMT"),
            utf8: has("UTF8"),
            epsv: has("EPSV"),
            rest_stream: features.iter().any(|(k, v)| k == "REST" && v == "STREAM"),
            hash: HashCommand::choose(&features),
            feat: true,
        }
    }

    /// The names of the capabilities found, for `-v` output.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.mlsd, "MLSD"),
            (self.mdtm, "MDTM"),
            (self.size, "SIZE"),
            (self.mfmt, "MFMT"),
            (self.utf8, "UTF8"),
            (self.epsv, "EPSV"),
            (self.rest_stream, "REST STREAM"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .chain(self.hash.map(HashCommand::verb))
        .collect()
    }
}

/// What this run learnt about the server beyond FEAT, shared by every session: the probes
/// of the first session, and EPSV once a transfer used it.
#[derive(Debug, Default)]
pub struct Learned {
    pub(super) probed: OnceLock<Caps>,
    pub(super) epsv: AtomicBool,
    /// OPTS UTF8 ON was refused though FEAT lists UTF8 (pure-ftpd: 504): not asked again.
    pub(super) utf8_refused: AtomicBool,
}

impl Learned {
    /// Whether EPSV was seen working where FEAT did not list it.
    pub fn epsv(&self) -> bool {
        self.epsv.load(Ordering::SeqCst)
    }

    pub(super) fn saw_epsv(&self) {
        self.epsv.store(true, Ordering::SeqCst);
    }

    /// `caps` with what the run learnt added.
    pub(super) fn apply(&self, mut caps: Caps) -> Caps {
        if let Some(p) = self.probed.get() {
            caps.mlsd |= p.mlsd;
            caps.mdtm |= p.mdtm;
        }
        caps.epsv |= self.epsv();
        caps
    }
}

/// Whether a reply shows the server knows the command, whatever it made of the argument:
/// 500, 502 and 504 say it does not (RFC 959); 550 "not a plain file" says it does.
pub fn knows<T>(r: &FtpResult<T>) -> bool {
    match r {
        Ok(_) => true,
        Err(suppaftp::FtpError::UnexpectedResponse(r)) => !matches!(code(r), 500 | 502 | 504),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use suppaftp::Status;

    #[test]
    fn feat_lists_parse_case_blind_with_parameters() {
        let body = "211-Features:\r\n MLST type*;size*;modify*;\r\n mdtm\r\n REST STREAM\r\n \
                    EPSV\r\n UTF8\r\n211 End\r\n";
        let caps = Caps::from_feat(&Response::new(Status::from(211), body.as_bytes().to_vec()));
        assert!(caps.mlsd && caps.mdtm && caps.rest_stream && caps.epsv && caps.utf8);
        assert!(!caps.mfmt && !caps.size);
        assert_eq!(
            caps.names(),
            ["MLSD", "MDTM", "UTF8", "EPSV", "REST STREAM"]
        );
        let bare = Caps::from_feat(&Response::new(
            Status::from(211),
            b"211 no features\r\n".to_vec(),
        ));
        assert_eq!(bare.names(), Vec::<&str>::new());
        assert!(bare.feat);
    }

    #[test]
    fn the_strongest_hash_command_is_chosen() {
        let feat = |lines: &str| {
            let body = format!("211-Features:\r\n{lines}211 End\r\n");
            Caps::from_feat(&Response::new(Status::from(211), body.into_bytes())).hash
        };
        // proftpd 1.3.8 with mod_digest.
        assert_eq!(
            feat(" HASH CRC32;MD5;SHA-1*;SHA-256;SHA-512;\r\n XCRC\r\n XMD5\r\n XSHA256\r\n"),
            Some(HashCommand::Hash {
                algo: Algo::Sha256,
                current: false
            })
        );
        assert_eq!(
            feat(" HASH SHA-256*;MD5\r\n"),
            Some(HashCommand::Hash {
                algo: Algo::Sha256,
                current: true
            })
        );
        assert_eq!(
            feat(" XMD5\r\n XSHA1\r\n"),
            Some(HashCommand::X(Algo::Sha1))
        );
        assert_eq!(
            feat(" HASH CRC32*\r\n XCRC\r\n"),
            Some(HashCommand::X(Algo::Crc32))
        );
        assert_eq!(
            feat(" HASH CRC32*\r\n"),
            Some(HashCommand::Hash {
                algo: Algo::Crc32,
                current: true
            })
        );
        assert_eq!(feat(" MDTM\r\n"), None);
    }
}
