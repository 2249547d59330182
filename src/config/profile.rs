//! The YAML profile file: where it is, its schema, errors with file, line and column,
//! `${VAR}` interpolation, and a profile merged with the flags of `run` into a `Request`.
//! All YAML handling lives here.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use indexmap::IndexMap;
use serde::Deserialize;

use crate::config::cli::{ConnArgs, OutputArgs, SyncArgs};
use crate::config::options::{self, Keys, Resolve};
use crate::config::{Request, read_password_file};
use crate::plan::Direction;

/// Environment variable naming the profile file.
pub const CONFIG_ENV: &str = "FTPMIRROR_CONFIG";
pub const FILE_NAME: &str = "ftpmirror.yaml";

impl Keys {
    /// A password written into the file itself, not taken from `${VAR}`: in `password`, or in
    /// the `remote` URL.
    fn has_literal_password(&self) -> bool {
        let literal = |p: &str| !p.is_empty() && !p.contains("${");
        let in_url = self.remote.as_deref().is_some_and(|r| {
            let authority = r
                .split_once("://")
                .map_or("", |(_, rest)| rest.split('/').next().unwrap_or(""));
            authority
                .rsplit_once('@')
                .and_then(|(userinfo, _)| userinfo.split_once(':'))
                .is_some_and(|(_, pw)| literal(pw))
        });
        self.password.as_deref().is_some_and(literal) || in_url
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Schema {
    #[serde(default)]
    defaults: Keys,
    profiles: IndexMap<String, Keys>,
}

/// The flags given to `run`; they override the profile.
#[derive(Debug, Clone)]
pub struct Flags {
    pub sync: SyncArgs,
    pub conn: ConnArgs,
    pub out: OutputArgs,
}

/// A loaded profile file.
#[derive(Debug)]
pub struct ProfileFile {
    /// As found or given: messages name the file the way the user does.
    pub path: PathBuf,
    /// The file's directory, absolute: relative paths in profiles start here.
    dir: PathBuf,
    /// Said once when the file is loaded: a password in a file others can read.
    pub warnings: Vec<String>,
    text: String,
    schema: Schema,
}

/// Finds the profile file: `-f FILE`, else `$FTPMIRROR_CONFIG`, else `./ftpmirror.yaml`,
/// else `$XDG_CONFIG_HOME/ftpmirror/ftpmirror.yaml` (`~/.config/ftpmirror/ftpmirror.yaml`).
pub fn find(explicit: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = env(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let mut tried = vec![PathBuf::from(FILE_NAME)];
    let config_home = env("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".config")));
    if let Some(dir) = config_home {
        tried.push(dir.join("ftpmirror").join(FILE_NAME));
    }
    if let Some(found) = tried.iter().find(|p| p.is_file()) {
        return Ok(found.clone());
    }
    let list: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    bail!(
        "no profile file found (tried {}); name one with -f FILE or ${CONFIG_ENV}",
        list.join(", ")
    )
}

impl ProfileFile {
    pub fn load(path: &Path) -> Result<ProfileFile> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("cannot read profile file {}: {e}", path.display()))?;
        let schema: Schema = serde_yaml::from_str(&text).map_err(|e| yaml_error(path, &e))?;
        // Absolute, so paths relative to the file stay right whatever the working directory.
        let dir = std::path::absolute(path)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        let literal_password = std::iter::once(&schema.defaults)
            .chain(schema.profiles.values())
            .any(Keys::has_literal_password);
        let warnings = literal_password
            .then(|| crate::config::exposed(path, "a password"))
            .flatten()
            .into_iter()
            .collect();
        Ok(ProfileFile {
            path: path.to_path_buf(),
            dir,
            text,
            schema,
            warnings,
        })
    }

    pub fn names(&self) -> Vec<&str> {
        self.schema.profiles.keys().map(String::as_str).collect()
    }

    /// "FILE:LINE:COL" of the first `needle` in profile `name`'s block (or anywhere, failing
    /// that); of the profile's own line when `needle` is empty.
    fn locate(&self, name: &str, needle: &str) -> String {
        let lines: Vec<&str> = self.text.lines().collect();
        let header = lines.iter().position(|l| {
            let t = l.trim_start();
            l.len() > t.len()
                && [
                    format!("{name}:"),
                    format!("\"{name}\":"),
                    format!("'{name}':"),
                ]
                .iter()
                .any(|h| t.starts_with(h.as_str()))
        });
        let at = |i: usize, col: usize| format!("{}:{}:{}", self.path.display(), i + 1, col + 1);
        if needle.is_empty() {
            return match header {
                Some(i) => at(i, lines[i].len() - lines[i].trim_start().len()),
                None => self.path.display().to_string(),
            };
        }
        let start = header.unwrap_or(0);
        let search =
            |from: usize| (from..lines.len()).find_map(|i| lines[i].find(needle).map(|c| at(i, c)));
        search(start)
            .or_else(|| search(0))
            .unwrap_or_else(|| self.path.display().to_string())
    }

    /// Replaces each `${VAR}` in a value of profile `name` with the environment's value.
    fn interpolate(
        &self,
        name: &str,
        value: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String> {
        let mut out = String::new();
        let mut rest = value;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                bail!(
                    "unclosed '${{' at {} in profile '{name}'",
                    self.locate(name, "${")
                );
            };
            let var = &after[..end];
            let valid = !var.is_empty()
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !var.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                bail!(
                    "invalid variable name '${{{var}}}' at {} in profile '{name}'",
                    self.locate(name, "${")
                );
            }
            match env(var) {
                Some(v) => out.push_str(&v),
                None => bail!(
                    "environment variable {var} is not set, used by profile '{name}' at {}",
                    self.locate(name, &format!("${{{var}}}"))
                ),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The merged keys of profile `name`, or an error listing the profiles there are.
    fn keys(&self, name: &str) -> Result<Keys> {
        match self.schema.profiles.get(name) {
            Some(k) => Ok(k.clone().over(self.schema.defaults.clone())),
            None => bail!(
                "unknown profile '{name}' in {}; available: {}",
                self.path.display(),
                self.names().join(", ")
            ),
        }
    }

    /// Profile `name` merged with `flags` into a `Request`. Values may use `${VAR}`; relative
    /// paths are taken from the profile file's directory.
    pub fn request(
        &self,
        name: &str,
        flags: &Flags,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Request> {
        let k = self.keys(name)?;
        let missing = |key: &str| {
            anyhow!(
                "profile '{name}' at {} has no '{key}' key",
                self.locate(name, "")
            )
        };
        let text = |v: Option<String>| -> Result<Option<String>> {
            v.map(|v| self.interpolate(name, &v, env)).transpose()
        };
        let path = |v: Option<String>| -> Result<Option<PathBuf>> {
            Ok(text(v)?.map(|p| self.resolve_path(&p, env)))
        };
        let direction = match k.direction.ok_or_else(|| missing("direction"))? {
            options::Direction::Push => Direction::Push,
            options::Direction::Pull => Direction::Pull,
        };
        let local = path(k.local.clone())?.ok_or_else(|| missing("local"))?;
        let url = text(k.remote.clone())?.ok_or_else(|| missing("remote"))?;
        let given = [
            ("password", k.password.is_some()),
            ("password_file", k.password_file.is_some()),
            ("password_command", k.password_command.is_some()),
        ];
        let given: Vec<&str> = given.iter().filter(|(_, g)| *g).map(|(n, _)| *n).collect();
        if given.len() > 1 {
            bail!(
                "profile '{name}' at {} has both '{}' and '{}'",
                self.locate(name, ""),
                given[0],
                given[1]
            );
        }
        let password = match (text(k.password.clone())?, path(k.password_file.clone())?) {
            (Some(p), _) => Some(p),
            (None, Some(file)) => Some(read_password_file(&file)?),
            (None, None) => None,
        };
        let ctx = Values {
            file: self,
            name,
            env,
        };
        // Every option by its kind (see `options`); then the few merged by hand.
        let (f_sync, f_conn, f_out) = (&flags.sync, &flags.conn, &flags.out);
        let mut sync = f_sync.over_keys(&k, &ctx)?;
        // A flag given to `run` wins over the profile's `continue:` either way.
        sync.continue_ = f_sync.continue_ || (!f_sync.no_continue && k.continue_ == Some(true));
        sync.no_continue = f_sync.no_continue || (!f_sync.continue_ && k.continue_ == Some(false));
        let mut conn = f_conn.over_keys(&k, &ctx)?;
        conn.active = f_conn.active || k.mode == Some(options::Mode::Active);
        let mut pins = Vec::new();
        for p in k.pin_sha256.clone().unwrap_or_default() {
            let p = self.interpolate(name, &p, env)?;
            pins.push(crate::remote::tls::parse_pin(&p).map_err(|e| {
                anyhow!(
                    "invalid pin_sha256 at {} in profile '{name}': {e}",
                    self.locate(name, "pin_sha256")
                )
            })?);
        }
        pins.extend(f_conn.pin_sha256.iter().copied());
        conn.pin_sha256 = pins;
        let mut out = f_out.over_keys(&k, &ctx)?;
        let verbose = f_out.verbose.max(k.verbose.unwrap_or(0));
        // -v on the command line wins over a profile's `quiet: true`.
        out.quiet = f_out.quiet || (k.quiet.unwrap_or(false) && f_out.verbose == 0);
        out.verbose = if f_out.quiet { 0 } else { verbose };
        Ok(Request {
            sync: Some((direction, local)),
            url,
            sync_args: sync,
            conn,
            out,
            password,
            profile: Some(name.to_string()),
            ls_json: false,
            file_op: None,
        })
    }

    /// `~/x` is below the home directory; a relative path is below the profile file's directory.
    fn resolve_path(&self, p: &str, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
        if let (Some(rest), Some(home)) = (p.strip_prefix("~/"), env("HOME")) {
            return PathBuf::from(home).join(rest);
        }
        let p = PathBuf::from(p);
        if p.is_absolute() {
            return p;
        }
        self.dir.join(p)
    }

    /// (name, direction, local, remote) as written, the remote's password masked.
    pub fn rows(&self) -> Vec<[String; 4]> {
        self.schema
            .profiles
            .iter()
            .map(|(name, k)| {
                let k = k.clone().over(self.schema.defaults.clone());
                let direction = match k.direction {
                    Some(options::Direction::Push) => "push",
                    Some(options::Direction::Pull) => "pull",
                    None => "?",
                };
                [
                    name.clone(),
                    direction.to_string(),
                    k.local.unwrap_or_else(|| "?".into()),
                    k.remote
                        .map_or_else(|| "?".into(), |r| crate::config::url::redact(&r)),
                ]
            })
            .collect()
    }
}

/// Profile `name`'s values as flags need them: `${VAR}` from `env`, paths from the file.
struct Values<'a> {
    file: &'a ProfileFile,
    name: &'a str,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Resolve for Values<'_> {
    fn text(&self, value: &str) -> Result<String> {
        self.file.interpolate(self.name, value, self.env)
    }

    fn path(&self, value: &str) -> Result<PathBuf> {
        let v = self.text(value)?;
        Ok(self.file.resolve_path(&v, self.env))
    }
}

/// One line: "FILE:LINE:COL: what", with "did you mean" for a misspelt key.
fn yaml_error(path: &Path, e: &serde_yaml::Error) -> anyhow::Error {
    let file = path.display();
    let at = e
        .location()
        .map(|l| format!("{file}:{}:{}", l.line(), l.column()))
        .unwrap_or_else(|| file.to_string());
    let msg = e.to_string();
    let msg = match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    };
    // serde_yaml prefixes the key path: "profiles.site.mode: unknown variant ...".
    let (key_path, what) = match msg.split_once(": ") {
        Some((p, w)) if !p.contains(' ') => (Some(p), w.to_string()),
        _ => (None, msg.clone()),
    };
    let profile = key_path
        .and_then(|p| p.strip_prefix("profiles."))
        .and_then(|p| p.split('.').next())
        .map(|p| format!(" in profile '{p}'"))
        .unwrap_or_default();
    if let Some(rest) = what.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or("");
        // serde names every key it knows ("expected one of `direction`, `local`, ..."):
        // the hints come from the same struct the keys are read into, so they cannot drift.
        let known: Vec<&str> = rest
            .split_once("expected ")
            .map(|(_, list)| list.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        let candidates: &[&str] = &known;
        // Close by either measure: Jaro-Winkler for long keys, one edit (a transposition
        // counting as one) for short ones such as `tsl`.
        let hint = candidates
            .iter()
            .map(|k| {
                (
                    strsim::jaro_winkler(key, k),
                    strsim::damerau_levenshtein(key, k),
                    k,
                )
            })
            .filter(|(score, edits, _)| *score > 0.8 || *edits <= 1)
            .max_by(|a, b| b.1.cmp(&a.1).then(a.0.total_cmp(&b.0)))
            .map(|(_, _, k)| format!(" — did you mean '{k}'?"))
            .unwrap_or_default();
        return anyhow!("unknown key '{key}' at {at}{profile}{hint}");
    }
    match key_path {
        Some(p) => {
            let key = p.rsplit('.').next().unwrap_or(p);
            anyhow!("invalid value for '{key}' at {at}{profile}: {what}")
        }
        None => anyhow!("{at}: {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::MaxDelete;
    use std::collections::HashMap;
    use std::time::Duration;

    fn flags(args: &[&str]) -> Flags {
        use clap::Parser;
        let argv = ["ftpmirror", "run", "x"].iter().chain(args).copied();
        match crate::config::cli::Cli::try_parse_from(argv)
            .unwrap()
            .command
        {
            crate::config::cli::Command::Run {
                sync, conn, out, ..
            } => Flags { sync, conn, out },
            _ => unreachable!(),
        }
    }

    fn load(text: &str) -> (tempfile::TempDir, Result<ProfileFile>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ftpmirror.yaml");
        std::fs::write(&path, text).unwrap();
        let f = ProfileFile::load(&path);
        (dir, f)
    }

    /// The error `run NAME` gets from this file, with no environment variables set.
    fn request_error(text: &str, name: &str) -> String {
        let (_d, f) = load(text);
        let e = f
            .unwrap()
            .request(name, &flags(&[]), &env(&[]))
            .unwrap_err();
        format!("{e:#}")
    }

    fn err(text: &str) -> String {
        let (_d, f) = load(text);
        let e = format!("{:#}", f.unwrap_err());
        e.replace(&*_d.path().join("ftpmirror.yaml").to_string_lossy(), "F")
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const GOOD: &str = "\
defaults:
  parallel: 2
  exclude: [.git]
  timeout: 10s
profiles:
  site:
    direction: push
    local: build
    remote: ftp://deploy@example.com/htdocs
    password: ${FTP_PASSWORD}
    exclude: ['*.map']
    mode: active
    max_delete: 10%
    checksum: true
    manifest: ../site.ftpmirror-manifest.json
  backup:
    direction: pull
    local: /srv/backup
    remote: ftp://example.com/pub
    parallel: 8
    min_age: 5m
    max_size: 4M
    password_command: pass show ftp/backup
";

    #[test]
    fn merges_defaults_profile_and_flags() {
        let (dir, f) = load(GOOD);
        let f = f.unwrap();
        assert_eq!(f.names(), ["site", "backup"], "file order");
        let r = f
            .request("site", &flags(&[]), &env(&[("FTP_PASSWORD", "pw")]))
            .unwrap();
        assert_eq!(r.sync, Some((Direction::Push, dir.path().join("build"))));
        assert_eq!(r.password.as_deref(), Some("pw"));
        assert_eq!(r.sync_args.exclude, [".git", "*.map"]);
        assert_eq!(r.conn.parallel, Some(2));
        assert!(r.conn.active);
        assert_eq!(r.conn.timeout, Some(Duration::from_secs(10)));
        assert_eq!(r.sync_args.max_delete, Some(MaxDelete::Percent(10)));
        assert!(!r.sync_args.dry_run);
        assert!(r.sync_args.checksum);
        assert_eq!(
            r.sync_args.manifest.as_deref(),
            Some("../site.ftpmirror-manifest.json")
        );

        let r = f
            .request(
                "site",
                &flags(&["--dry-run", "-j", "3", "--exclude", "x"]),
                &env(&[("FTP_PASSWORD", "pw")]),
            )
            .unwrap();
        assert!(r.sync_args.dry_run);
        assert_eq!(r.conn.parallel, Some(3));
        assert_eq!(r.sync_args.exclude, [".git", "*.map", "x"]);

        let b = f.request("backup", &flags(&[]), &env(&[])).unwrap();
        assert_eq!(b.conn.parallel, Some(8));
        assert_eq!(b.sync_args.min_age, Some(Duration::from_secs(300)));
        assert_eq!(b.sync_args.max_size, Some(4 << 20));
        assert_eq!(
            b.conn.password_command.as_deref(),
            Some("pass show ftp/backup")
        );
        assert_eq!(b.password, None);
    }

    #[test]
    fn unset_variable_names_variable_profile_and_place() {
        let e = request_error(GOOD, "site");
        assert!(
            e.starts_with(
                "environment variable FTP_PASSWORD is not set, used by profile 'site' at "
            ),
            "{e}"
        );
        assert!(e.ends_with("ftpmirror.yaml:10:15"), "{e}");
    }

    #[test]
    fn unknown_profile_lists_the_others() {
        let e = request_error(GOOD, "sit");
        assert!(
            e.contains("unknown profile 'sit'") && e.ends_with("available: site, backup"),
            "{e}"
        );
    }

    #[test]
    fn user_mistakes_are_one_line_with_place() {
        let cases = [
            (
                "profiles:\n  site:\n    direction: push\n    paralel: 3\n",
                "unknown key 'paralel' at F:4:5 in profile 'site' — did you mean 'parallel'?",
            ),
            (
                "profiles:\n  site:\n    mode: passiv\n",
                "invalid value for 'mode' at F:3:11 in profile 'site': unknown variant `passiv`, expected `passive` or `active`",
            ),
            (
                "profiles:\n  site:\n    parallel: 100\n",
                "invalid value for 'parallel' at F:3:15 in profile 'site': parallel must be from 1 to 64, not 100",
            ),
            (
                "profiles:\n  site:\n    timeout: soon\n",
                "invalid value for 'timeout' at F:3:14 in profile 'site': 'soon' is not a duration such as 30s or 2m",
            ),
            (
                "profiles:\n  site:\n    delete: maybe\n",
                "invalid value for 'delete' at F:3:13 in profile 'site': invalid type: string \"maybe\", expected a boolean",
            ),
            (
                "defaults:\n  exlude: [a]\nprofiles: {}\n",
                "unknown key 'exlude' at F:2:3 — did you mean 'exclude'?",
            ),
            (
                "profile:\n  site: {}\n",
                "unknown key 'profile' at F:1:1 — did you mean 'profiles'?",
            ),
            (
                "profiles:\n  site:\n\tdirection: push\n",
                "F:3:1: found character that cannot start any token",
            ),
        ];
        for (text, want) in cases {
            let got = err(text);
            assert!(got.starts_with(want), "\n got: {got}\nwant: {want}");
            assert_eq!(got.lines().count(), 1, "{got}");
        }
    }

    /// Every key gets its "did you mean", not only the ones a hand-kept list remembered.
    #[test]
    fn every_misspelt_key_gets_a_suggestion() {
        for (typo, key) in [
            ("insecre", "insecure"),
            ("retires", "retries"),
            ("pin_sha265", "pin_sha256"),
            ("time_ofset", "time_offset"),
            ("allow_empty_sorce", "allow_empty_source"),
            ("no_temp_uplod", "no_temp_upload"),
            ("ca_fil", "ca_file"),
            ("retry_dely", "retry_delay"),
            ("continu", "continue"),
            ("checksun", "checksum"),
            ("manifets", "manifest"),
            ("tsl", "tls"),
        ] {
            let text = format!("profiles:\n  site:\n    {typo}: 1\n");
            let (_dir, f) = load(&text);
            let e = format!("{:#}", f.unwrap_err());
            assert!(e.contains(&format!("did you mean '{key}'?")), "{typo}: {e}");
        }
        // And every key of the option table, with its last letter but one left out.
        for key in crate::config::options::key_names() {
            let mut typo: Vec<char> = key.chars().collect();
            typo.remove(typo.len() - 2);
            let typo: String = typo.into_iter().collect();
            let text = format!("profiles:\n  site:\n    {typo}: 1\n");
            let (_dir, f) = load(&text);
            let e = format!("{:#}", f.unwrap_err());
            assert!(e.contains(&format!("did you mean '{key}'?")), "{typo}: {e}");
        }
    }

    /// A flag without a key of its name gets pointed at the key that says it.
    #[test]
    fn flags_written_as_keys_name_the_key_to_use() {
        for (key, says) in [
            ("active", "mode: active"),
            ("no_continue", "continue: false"),
        ] {
            let text = format!("profiles:\n  site:\n    {key}: true\n");
            let (_dir, f) = load(&text);
            let e = format!("{:#}", f.unwrap_err());
            assert!(e.contains(says), "{key}: {e}");
        }
    }

    #[test]
    fn missing_required_key_points_at_the_profile() {
        let e = request_error(
            "profiles:\n  site:\n    direction: push\n    local: x\n",
            "site",
        );
        assert!(
            e.starts_with("profile 'site' at ")
                && e.ends_with("ftpmirror.yaml:2:3 has no 'remote' key"),
            "{e}"
        );
    }

    #[test]
    fn finds_the_file_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let xdg = dir.path().join("xdg");
        std::fs::create_dir_all(xdg.join("ftpmirror")).unwrap();
        std::fs::write(xdg.join("ftpmirror/ftpmirror.yaml"), "profiles: {}\n").unwrap();
        let xdg_s = xdg.to_string_lossy().into_owned();
        let e = env(&[("XDG_CONFIG_HOME", xdg_s.as_str())]);
        assert_eq!(
            find(Some(Path::new("/x.yaml")), &e).unwrap(),
            PathBuf::from("/x.yaml")
        );
        let with_env = env(&[(CONFIG_ENV, "/from/env.yaml")]);
        assert_eq!(
            find(None, &with_env).unwrap(),
            PathBuf::from("/from/env.yaml")
        );
        // ./ftpmirror.yaml is absent in the test's working directory, so XDG is next.
        assert_eq!(
            find(None, &e).unwrap(),
            xdg.join("ftpmirror/ftpmirror.yaml")
        );
        let none = env(&[("HOME", "/nonexistent")]);
        let msg = format!("{:#}", find(None, &none).unwrap_err());
        assert!(
            msg.contains("no profile file found")
                && msg.contains("/nonexistent/.config/ftpmirror/ftpmirror.yaml"),
            "{msg}"
        );
    }

    #[test]
    fn rows_mask_passwords() {
        let (_d, f) = load(
            "profiles:\n  a:\n    direction: pull\n    local: l\n    remote: ftp://u:secret@h/p\n",
        );
        let rows = f.unwrap().rows();
        assert_eq!(
            rows[0],
            ["a", "pull", "l", "ftp://u:***@h/p"].map(String::from)
        );
    }
}
