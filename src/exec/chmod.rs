//! `--chmod D755,F644` (rsync's syntax, octal): the modes given to what a run created or
//! replaced, and only that. On a push they go out as `SITE CHMOD`: a file's with its
//! upload's finish, on the temporary name before the rename (`exec`); directories' in
//! batches once the transfers are done. On a pull they are set on the local files.

use std::path::Path;

/// Modes for directories and for files; either may be left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Chmod {
    pub dir: Option<u32>,
    pub file: Option<u32>,
}

impl Chmod {
    /// `D755,F644`, `F644`, or `644` (both kinds).
    pub fn parse(s: &str) -> Result<Chmod, String> {
        let mut c = Chmod::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kinds, mode) = match part.as_bytes()[0] {
                b'D' | b'd' => ("d", &part[1..]),
                b'F' | b'f' => ("f", &part[1..]),
                _ => ("df", part),
            };
            let m = u32::from_str_radix(mode, 8)
                .ok()
                .filter(|m| *m <= 0o7777 && !mode.is_empty())
                .ok_or_else(|| {
                    format!("'{part}' in '{s}' is not an octal mode such as D755 or F644")
                })?;
            if kinds.contains('d') {
                c.dir = Some(m);
            }
            if kinds.contains('f') {
                c.file = Some(m);
            }
        }
        if c == Chmod::default() {
            return Err(format!("'{s}' gives no mode: use D755,F644"));
        }
        Ok(c)
    }
}

/// Sets `mode` on a local file or directory.
pub fn set_local(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsync_style_modes_parse() {
        assert_eq!(
            Chmod::parse("D755,F644"),
            Ok(Chmod {
                dir: Some(0o755),
                file: Some(0o644)
            })
        );
        assert_eq!(
            Chmod::parse("F600"),
            Ok(Chmod {
                dir: None,
                file: Some(0o600)
            })
        );
        assert_eq!(Chmod::parse("750").unwrap().dir, Some(0o750));
        for bad in ["", "D9", "F+x", "Dabc", "D77777"] {
            assert!(Chmod::parse(bad).is_err(), "{bad}");
        }
    }
}
