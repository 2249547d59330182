//! Every option, once: the table below defines each flag (its clap attributes and help), the
//! profile key of the same name (its YAML type and reader), and how the two merge. From it
//! come the `SyncArgs`, `ConnArgs` and `OutputArgs` flag sets, the profile's `Keys` (whose
//! field list is also the "did you mean" list), `Keys::over` (a profile over `defaults:`) and
//! `over_keys` (the flags of `run` over a profile). A test checks the README's flag and key
//! tables against it.
//!
//! How a flag and its key merge, by kind:
//!
//! | kind | flag | key | profile over defaults | flag over key |
//! |---|---|---|---|---|
//! | `switch` | `--x` | `x: true` | the profile's | either turns it on |
//! | `value` | `--x V` | `x: V` | the profile's | the flag's |
//! | `text` | `--x S` | `x: S`, with `${VAR}` | the profile's | the flag's |
//! | `path` | `--x P` | `x: P`, `${VAR}`, relative to the file, `~/` | the profile's | the flag's |
//! | `list` | `--x A --x B` | `x: [A, B]` or `x: A` | defaults first, then the profile's | keys first, then flags |
//! | `paths` | as `list`, of paths | as `list`, paths as `path` | as `list` | as `list` |
//! | `replace` | as `list` | as `list` | the profile's | the flags', if any |
//! | `custom` | | | the profile's | written out in `profile::ProfileFile::request` |

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use serde::de::{self, Deserializer, Visitor};

use crate::config::cli::{LogFormat, TlsMode, parse_duration};
use crate::exec::bwlimit::Schedule;
use crate::exec::chmod::Chmod;
use crate::plan::MaxDelete;

/// What a profile's values need to become flag values: `${VAR}` replaced, paths resolved.
pub trait Resolve {
    fn text(&self, value: &str) -> Result<String>;
    fn path(&self, value: &str) -> Result<PathBuf>;
}

macro_rules! options {
    (
        profile_only {
            $( $(#[doc = $pdoc:literal])* $pfield:ident : $pty:ty, )*
        }
        $(
            $set:ident {
                $(
                    $(#[doc = $doc:literal])*
                    #[arg($($arg:tt)*)]
                    $(#[key($($key:tt)*)])?
                    $field:ident : $cty:ty => $kind:ident($kty:ty),
                )*
            }
        )*
    ) => {
        $(
            #[derive(Debug, Clone, Default, clap::Args)]
            pub struct $set {
                $( $(#[doc = $doc])* #[arg($($arg)*)] pub $field: $cty, )*
            }

            impl $set {
                /// These flags over profile keys `k`, kind by kind (see the module doc).
                pub fn over_keys(&self, k: &Keys, ctx: &dyn Resolve) -> Result<$set> {
                    Ok($set {
                        $( $field: merge::$kind::apply(&self.$field, k.$field.clone(), ctx)?, )*
                    })
                }
            }
        )*

        /// One profile's keys, or the `defaults:` block. All optional here; required keys are
        /// checked once defaults are merged in.
        #[derive(Debug, Clone, Default, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Keys {
            $( $(#[doc = $pdoc])* pub $pfield: Option<$pty>, )*
            $( $( $(#[serde($($key)*)])? pub $field: Option<$kty>, )* )*
        }

        impl Keys {
            /// This profile's keys over the `defaults:` block's.
            pub fn over(self, d: Keys) -> Keys {
                Keys {
                    $( $pfield: self.$pfield.or(d.$pfield), )*
                    $( $( $field: merge::$kind::over(self.$field, d.$field), )* )*
                }
            }
        }
    };
}

options! {
    profile_only {
        /// `push` or `pull`.
        direction: Direction,
        local: String,
        remote: String,
        password: String,
        password_file: String,
        /// `passive` (the default) or `active`, for `--active`.
        mode: Mode,
    }
    SyncArgs {
    /// Only files of at least SIZE: 512, 100k, 4M, 1G (base 1024).
    #[arg(help_heading = "What to sync", long, value_name = "SIZE", value_parser = crate::scan::limits::parse_size)]
    #[key(default, deserialize_with = "de_size")]
    min_size: Option<u64> => value(u64),
    /// Only files of at most SIZE.
    #[arg(help_heading = "What to sync", long, value_name = "SIZE", value_parser = crate::scan::limits::parse_size)]
    #[key(default, deserialize_with = "de_size")]
    max_size: Option<u64> => value(u64),
    /// Only files modified at least AGE ago: 5m (skip files still being written), 2h, 7d.
    #[arg(help_heading = "What to sync", long, value_name = "AGE", value_parser = crate::scan::limits::parse_age)]
    #[key(default, deserialize_with = "de_age")]
    min_age: Option<Duration> => value(Duration),
    /// Only files modified at most AGE ago: 30d, 1w, 6M, 1y.
    #[arg(help_heading = "What to sync", long, value_name = "AGE", value_parser = crate::scan::limits::parse_age)]
    #[key(default, deserialize_with = "de_age")]
    max_age: Option<Duration> => value(Duration),
    /// Print the plan and change nothing.
    #[arg(help_heading = "What to sync", long, short = 'n')]
    dry_run: bool => switch(bool),
    /// push: follow local symbolic links to files and directories and send what they point
    /// to (loops and links to nothing are skipped with a warning) [default: links skipped].
    #[arg(help_heading = "What to sync", short = 'L', long)]
    copy_links: bool => switch(bool),
    /// Match names whatever their letter case (for case-insensitive servers: IIS, FileZilla
    /// Server, most Windows hosts): `a.JPG` on one side is `a.jpg` on the other.
    #[arg(help_heading = "What to sync", long)]
    ignore_case: bool => switch(bool),
    /// Leave out paths matching GLOB, on both sides (repeatable). See "Filters" in the README.
    #[arg(help_heading = "What to sync", long, value_name = "GLOB")]
    #[key(default, deserialize_with = "de_list")]
    exclude: Vec<String> => list(Vec<String>),
    /// Keep paths matching GLOB even if excluded; once given, only matching files are mirrored (repeatable).
    #[arg(help_heading = "What to sync", long, value_name = "GLOB")]
    #[key(default, deserialize_with = "de_list")]
    include: Vec<String> => list(Vec<String>),
    /// Read exclude patterns from FILE, one per line; '#' starts a comment (repeatable).
    #[arg(help_heading = "What to sync", long, value_name = "FILE")]
    #[key(default, deserialize_with = "de_list")]
    exclude_from: Vec<PathBuf> => paths(Vec<String>),
    /// Also delete excluded paths on the destination (implies --delete).
    #[arg(help_heading = "What to sync", long)]
    delete_excluded: bool => switch(bool),
    /// Compare sizes only, never modification times.
    #[arg(help_heading = "How files are compared", long)]
    size_only: bool => switch(bool),
    /// Compare content, not mtimes, for files of the same size: the server's HASH (or
    /// XSHA256, ...) where it has one, else a deploy manifest on the server (see README).
    #[arg(
        help_heading = "How files are compared",
        long,
        conflicts_with = "size_only"
    )]
    checksum: bool => switch(bool),
    /// Where --checksum keeps its manifest on a server without a hash command: a remote path,
    /// relative to the remote root [default: .ftpmirror-manifest.json].
    #[arg(
        help_heading = "How files are compared",
        long,
        value_name = "PATH",
        requires = "checksum"
    )]
    manifest: Option<String> => text(String),
    /// Delete what the destination has and the source lacks.
    #[arg(help_heading = "Deletes and backups", long)]
    delete: bool => switch(bool),
    /// Move what the run would overwrite or delete into DIR first, under its relative path:
    /// on the server for a push (relative to the remote root), local for a pull.
    #[arg(help_heading = "Deletes and backups", long, value_name = "DIR")]
    backup_dir: Option<String> => text(String),
    /// Add SUFFIX to each backed-up name; alone, back up in place (page.html.SUFFIX).
    #[arg(help_heading = "Deletes and backups", long, value_name = "SUFFIX")]
    suffix: Option<String> => text(String),
    /// Delete nothing if the plan deletes more than N entries, or more than N% of the destination.
    #[arg(help_heading = "Deletes and backups", long, value_name = "N|N%")]
    #[key(default, deserialize_with = "de_max_delete")]
    max_delete: Option<MaxDelete> => value(MaxDelete),
    /// Let --delete run when the source is empty (otherwise refused: an unmounted disk or a
    /// failed build must not wipe the destination).
    #[arg(help_heading = "Deletes and backups", long)]
    allow_empty_source: bool => switch(bool),
    /// Bytes per second for all transfers together: 512k, 4M (base 1024), off, or a
    /// timetable of local times, "08:00,512k 19:00,off".
    #[arg(help_heading = "Transfers", long, value_name = "RATE", value_parser = crate::exec::bwlimit::Schedule::parse)]
    #[key(default, deserialize_with = "de_bwlimit")]
    bwlimit: Option<crate::exec::bwlimit::Schedule> => value(Schedule),
    /// push: upload (and rename into place) files matching GLOB after all others, so that no
    /// page goes live before its assets (repeatable) [default: *.html, *.htm].
    #[arg(help_heading = "Transfers", long, value_name = "GLOB")]
    #[key(default, deserialize_with = "de_list")]
    upload_last: Vec<String> => replace(Vec<String>),
    /// Modes for what this run creates or replaces, as rsync: D755,F644 (octal). Sent with
    /// SITE CHMOD on a push, on the temporary name before the rename (a server without it
    /// gets one warning), set locally on a pull.
    #[arg(help_heading = "Transfers", long, value_name = "SPEC", value_parser = crate::exec::chmod::Chmod::parse)]
    #[key(default, deserialize_with = "de_chmod")]
    chmod: Option<crate::exec::chmod::Chmod> => value(Chmod),
    /// Take a lock on the server (the directory .ftpmirror-lock at the remote root) for the
    /// run, so that two runs on other machines never overlap; a held lock exits 4.
    #[arg(help_heading = "Transfers", long)]
    remote_lock: bool => switch(bool),
    /// Take over a remote lock older than AGE (its run died) [default: 1h].
    #[arg(help_heading = "Transfers", long, value_name = "AGE", value_parser = crate::scan::limits::parse_age, requires = "remote_lock")]
    #[key(default, deserialize_with = "de_age")]
    remote_lock_ttl: Option<Duration> => value(Duration),
    /// Upload straight to the final name instead of a temporary name renamed into place.
    #[arg(help_heading = "Transfers", long)]
    no_temp_upload: bool => switch(bool),
    /// Continue partial transfers whatever the file size [default: files of 1 MiB and more].
    #[arg(
        help_heading = "Transfers",
        long = "continue",
        conflicts_with = "no_continue"
    )]
    #[key(rename = "continue")]
    continue_: bool => custom(bool),
    /// Never continue partial transfers: start every transfer from the beginning.
    #[arg(help_heading = "Transfers", long)]
    #[key(default, deserialize_with = "de_use_continue")]
    no_continue: bool => custom(NotAKey),
    }

    ConnArgs {
    /// FTP sessions to run in parallel (listing and transfers), 1-64 [default: 4].
    #[arg(help_heading = "Connection", short = 'j', long = "parallel", value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=64))]
    #[key(default, deserialize_with = "de_parallel")]
    parallel: Option<u16> => value(u16),
    /// Active mode: the server connects back (PORT on IPv4, EPRT on IPv6) instead of passive EPSV/PASV.
    #[arg(help_heading = "Connection", long)]
    #[key(default, deserialize_with = "de_use_mode")]
    active: bool => custom(NotAKey),
    /// User name (overrides the one in the URL).
    #[arg(help_heading = "Connection", long, value_name = "NAME")]
    user: Option<String> => text(String),
    /// netrc file to read the password from [default: ~/.netrc].
    #[arg(help_heading = "Connection", long, value_name = "PATH")]
    netrc_file: Option<PathBuf> => path(String),
    /// Run CMD (split like a shell) and take the first line it prints as the password, e.g.
    /// "pass show ftp/deploy" or "secret-tool lookup host ftp.example.com".
    #[arg(help_heading = "Connection", long, value_name = "CMD")]
    password_command: Option<String> => text(String),
    /// Time limit for connecting and for each reply or data stall, e.g. 30, 30s, 2m [default: 30s].
    #[arg(help_heading = "Connection", long, value_name = "DURATION", value_parser = parse_duration)]
    #[key(default, deserialize_with = "de_timeout")]
    timeout: Option<Duration> => value(Duration),
    /// Retries of a step that failed transiently (reset, timeout, 421/425/426/450/451) [default: 3].
    #[arg(help_heading = "Connection", long, value_name = "N")]
    retries: Option<u32> => value(u32),
    /// Wait before the first retry, doubled for each next one [default: 1s].
    #[arg(help_heading = "Connection", long, value_name = "DURATION", value_parser = parse_duration)]
    #[key(default, deserialize_with = "de_timeout")]
    retry_delay: Option<Duration> => value(Duration),
    /// FTPS: explicit (AUTH TLS, port 21; what ftps:// means) or implicit (TLS from the start, port 990).
    #[arg(help_heading = "TLS", long, value_name = "MODE")]
    tls: Option<TlsMode> => value(TlsMode),
    /// Trust the CA certificates in this PEM file too, besides the system's (repeatable).
    #[arg(help_heading = "TLS", long, value_name = "PATH")]
    #[key(default, deserialize_with = "de_list")]
    ca_file: Vec<PathBuf> => paths(Vec<String>),
    /// Accept exactly the server certificate with this SHA-256 fingerprint, self-signed or not (repeatable).
    #[arg(help_heading = "TLS", long, value_name = "HASH", value_parser = crate::remote::tls::parse_pin)]
    #[key(default, deserialize_with = "de_list")]
    pin_sha256: Vec<[u8; 32]> => custom(Vec<String>),
    /// Do not check the server certificate at all (a warning is printed on every run).
    #[arg(help_heading = "TLS", long)]
    insecure: bool => switch(bool),
    /// The server's LIST time zone, e.g. +02:00 [default: detected from MDTM where LIST is all there is].
    #[arg(help_heading = "Connection", long, value_name = "±HH:MM", allow_hyphen_values = true,
          value_parser = crate::remote::clock::parse_offset)]
    #[key(default, deserialize_with = "de_time_offset")]
    time_offset: Option<i64> => value(i64),
    }

    OutputArgs {
    /// Print nothing but errors.
    #[arg(help_heading = "Output", short, long, conflicts_with = "verbose")]
    quiet: bool => custom(bool),
    /// Print each planned action with its reason, and connection details.
    #[arg(help_heading = "Output", short, long, action = clap::ArgAction::Count)]
    verbose: u8 => custom(u8),
    /// Append timestamped lines (start, each action, summary, errors) to FILE.
    #[arg(help_heading = "Output", long, value_name = "FILE")]
    log_file: Option<PathBuf> => path(String),
    /// Write a machine-readable JSON summary of the run to FILE.
    #[arg(help_heading = "Output", long, value_name = "FILE")]
    summary_json: Option<PathBuf> => path(String),
    /// --log-file lines as text, or as one JSON object each (time, profile, event, path,
    /// bytes, and for a failure error, step and code).
    #[arg(help_heading = "Output", long, value_name = "FORMAT", value_enum)]
    log_format: Option<LogFormat> => value(LogFormat),
    /// Without a terminal, one line per DURATION with files and bytes done, rate and ETA
    /// (also in --log-file), e.g. 1m.
    #[arg(help_heading = "Output", long, value_name = "DURATION", value_parser = parse_duration)]
    #[key(default, deserialize_with = "de_timeout")]
    stats: Option<Duration> => value(Duration),
    }
}

/// A profile's `direction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Push,
    Pull,
}

/// A profile's `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Passive,
    Active,
}

/// A flag that has no key of its name: the key's reader says which key to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAKey {}

mod merge {
    use std::path::PathBuf;

    use anyhow::Result;

    use super::Resolve;

    fn concat<T>(defaults: Option<Vec<T>>, mine: Option<Vec<T>>) -> Option<Vec<T>> {
        match (defaults, mine) {
            (None, None) => None,
            (d, m) => Some(
                d.into_iter()
                    .flatten()
                    .chain(m.into_iter().flatten())
                    .collect(),
            ),
        }
    }

    pub mod switch {
        use super::*;
        pub fn over(mine: Option<bool>, d: Option<bool>) -> Option<bool> {
            mine.or(d)
        }
        pub fn apply(flag: &bool, key: Option<bool>, _: &dyn Resolve) -> Result<bool> {
            Ok(*flag || key.unwrap_or(false))
        }
    }

    pub mod value {
        use super::*;
        pub fn over<T>(mine: Option<T>, d: Option<T>) -> Option<T> {
            mine.or(d)
        }
        pub fn apply<T: Clone>(
            flag: &Option<T>,
            key: Option<T>,
            _: &dyn Resolve,
        ) -> Result<Option<T>> {
            Ok(flag.clone().or(key))
        }
    }

    pub mod text {
        pub use super::value::over;
        use super::*;
        pub fn apply(
            flag: &Option<String>,
            key: Option<String>,
            ctx: &dyn Resolve,
        ) -> Result<Option<String>> {
            match flag {
                Some(f) => Ok(Some(f.clone())),
                None => key.map(|k| ctx.text(&k)).transpose(),
            }
        }
    }

    pub mod path {
        pub use super::value::over;
        use super::*;
        pub fn apply(
            flag: &Option<PathBuf>,
            key: Option<String>,
            ctx: &dyn Resolve,
        ) -> Result<Option<PathBuf>> {
            match flag {
                Some(f) => Ok(Some(f.clone())),
                None => key.map(|k| ctx.path(&k)).transpose(),
            }
        }
    }

    /// The key's values made flag values by `f`, then the flags'.
    fn resolved<T: Clone>(
        key: Option<Vec<String>>,
        flag: &[T],
        f: impl Fn(&str) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = key
            .unwrap_or_default()
            .iter()
            .map(|k| f(k))
            .collect::<Result<Vec<T>>>()?;
        out.extend(flag.iter().cloned());
        Ok(out)
    }

    pub mod list {
        use super::*;
        pub fn over(mine: Option<Vec<String>>, d: Option<Vec<String>>) -> Option<Vec<String>> {
            concat(d, mine)
        }
        pub fn apply(
            flag: &[String],
            key: Option<Vec<String>>,
            ctx: &dyn Resolve,
        ) -> Result<Vec<String>> {
            resolved(key, flag, |k| ctx.text(k))
        }
    }

    pub mod paths {
        pub use super::list::over;
        use super::*;
        pub fn apply(
            flag: &[PathBuf],
            key: Option<Vec<String>>,
            ctx: &dyn Resolve,
        ) -> Result<Vec<PathBuf>> {
            resolved(key, flag, |k| ctx.path(k))
        }
    }

    pub mod replace {
        pub use super::value::over;
        use super::*;
        pub fn apply(
            flag: &[String],
            key: Option<Vec<String>>,
            ctx: &dyn Resolve,
        ) -> Result<Vec<String>> {
            match flag.is_empty() {
                true => super::list::apply(&[], key, ctx),
                false => Ok(flag.to_vec()),
            }
        }
    }

    pub mod custom {
        pub use super::value::over;
        use super::*;
        /// The flag alone: the key is merged by hand.
        pub fn apply<F: Clone, K>(flag: &F, _: Option<K>, _: &dyn Resolve) -> Result<F> {
            Ok(flag.clone())
        }
    }
}

/// A value written as a string or an integer, parsed by `parse` (integers arrive as text).
struct Parsed<T> {
    expecting: &'static str,
    parse: fn(&str) -> Result<T, String>,
}

impl<'de, T> Visitor<'de> for Parsed<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.parse)(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
}

fn parsed<'de, D: Deserializer<'de>, T>(
    d: D,
    expecting: &'static str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>, D::Error> {
    d.deserialize_any(Parsed { expecting, parse }).map(Some)
}

fn de_timeout<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    parsed(d, "a duration such as 30s or 2m", parse_duration)
}

fn de_bwlimit<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Schedule>, D::Error> {
    parsed(
        d,
        "a rate such as 512k or 4M, off, or a timetable \"08:00,512k 19:00,off\"",
        Schedule::parse,
    )
}

fn de_chmod<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Chmod>, D::Error> {
    parsed(d, "modes such as D755,F644", Chmod::parse)
}

fn de_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    parsed(
        d,
        "a size such as 512k or 4M",
        crate::scan::limits::parse_size,
    )
}

fn de_age<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    parsed(
        d,
        "an age such as 5m, 12h or 30d",
        crate::scan::limits::parse_age,
    )
}

fn de_time_offset<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    parsed(
        d,
        "a time offset such as +02:00",
        crate::remote::clock::parse_offset,
    )
}

fn de_max_delete<'de, D: Deserializer<'de>>(d: D) -> Result<Option<MaxDelete>, D::Error> {
    parsed(d, "a count (50) or a percentage (10%)", |s| s.parse())
}

fn de_parallel<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    parsed(d, "a number of sessions from 1 to 64", |s| {
        match s.parse::<u16>() {
            Ok(n) if (1..=64).contains(&n) => Ok(n),
            _ => Err(format!("parallel must be from 1 to 64, not {s}")),
        }
    })
}

/// A list of strings, also accepted as a single string.
fn de_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(Some(
        match <OneOrMany as serde::Deserialize>::deserialize(d)? {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        },
    ))
}

fn de_use_mode<'de, D: Deserializer<'de>>(_: D) -> Result<Option<NotAKey>, D::Error> {
    Err(de::Error::custom(
        "in a profile, --active is written `mode: active`",
    ))
}

fn de_use_continue<'de, D: Deserializer<'de>>(_: D) -> Result<Option<NotAKey>, D::Error> {
    Err(de::Error::custom(
        "in a profile, --no-continue is written `continue: false`",
    ))
}

/// Every profile key, as serde reads them (the README test compares its table with it).
#[cfg(test)]
pub fn key_names() -> &'static [&'static str] {
    /// A deserializer that only notes the field names a struct asks for.
    struct Fields(Option<&'static [&'static str]>);
    impl<'de> Deserializer<'de> for &mut Fields {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("fields only"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = Some(fields);
            Err(de::Error::custom("fields only"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    static NAMES: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut f = Fields(None);
        let _ = <Keys as serde::Deserialize>::deserialize(&mut f);
        f.0.unwrap_or(&[])
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use clap::Args;

    use super::*;

    /// The long flags of the option sets, as clap defines them.
    fn flags() -> BTreeSet<String> {
        let cmd = clap::Command::new("x");
        let cmd = OutputArgs::augment_args(ConnArgs::augment_args(SyncArgs::augment_args(cmd)));
        cmd.get_arguments()
            .filter_map(|a| a.get_long())
            .map(|l| format!("--{l}"))
            .collect()
    }

    /// The README table under `heading`: the `--flag`s (or `` `key` ``s) of its first column,
    /// and of its `column`-th.
    fn table(heading: &str, column: usize, keys: bool) -> BTreeSet<String> {
        let readme = include_str!("../../README.md");
        let at = readme.find(heading).expect(heading);
        let rows = readme[at..]
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2);
        let mut out = BTreeSet::new();
        for row in rows {
            let cell = row.split(" | ").nth(column).unwrap_or("");
            for part in cell.split('`').skip(1).step_by(2) {
                let word = part.split(' ').next().unwrap_or("");
                if keys && !word.starts_with('-') && !word.is_empty() {
                    out.insert(word.to_string());
                }
                if !keys && word.starts_with("--") {
                    out.insert(word.to_string());
                }
            }
        }
        out
    }

    #[test]
    fn the_readme_flag_table_lists_every_flag() {
        let mut code = flags();
        // Not in the option sets: global, and `run`'s profile file.
        code.extend(["--color".to_string(), "--config".to_string()]);
        assert_eq!(table("| flag | meaning |", 0, false), code);
    }

    #[test]
    fn the_readme_key_table_lists_every_key_and_real_flags() {
        let code: BTreeSet<String> = key_names().iter().map(|k| k.to_string()).collect();
        let readme = table("| key | value | flag |", 0, true);
        assert_eq!(readme, code);
        let named = table("| key | value | flag |", 2, false);
        let flags = flags();
        assert!(named.is_subset(&flags), "{:?}", named.difference(&flags));
    }
}
