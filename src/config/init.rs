//! `ftpmirror init`: a commented starter profile file.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, Result};

const PUSH: &str = r#"# ftpmirror profile file. Check it with `ftpmirror check`, preview a run with
# `ftpmirror run site --dry-run`, then run it with `ftpmirror run site`.
#
# Every key means what the command-line flag of the same name means (`ftpmirror push --help`),
# and a flag given to `ftpmirror run` overrides the profile. Relative paths are taken from this
# file's directory. Secrets come from the environment: ${VAR} is replaced by its value.

profiles:
  site:
    direction: push                          # upload: make the server a copy of `local`
    local: public                            # your site's build output
    remote: ftps://deploy@ftp.example.com/htdocs
    password: ${FTP_PASSWORD}                # export FTP_PASSWORD=... (never written here)
    delete: true                             # remove pages the build no longer has
    max_delete: 50                           # ...but never more than 50 in one run
    parallel: 4
    exclude:
      - .git
      - node_modules
      - "*.tmp"
      - .DS_Store
    # log_file: ftpmirror.log
    # pin_sha256: AB:CD:...                  # for a self-signed FTPS certificate
"#;

const PULL: &str = r#"# ftpmirror profile file. Check it with `ftpmirror check`, preview a run with
# `ftpmirror run mirror --dry-run`, then run it with `ftpmirror run mirror`, e.g. from cron.
#
# Every key means what the command-line flag of the same name means (`ftpmirror pull --help`),
# and a flag given to `ftpmirror run` overrides the profile. Relative paths are taken from this
# file's directory. Secrets come from the environment: ${VAR} is replaced by its value.

profiles:
  mirror:
    direction: pull                          # download: make `local` a copy of the server
    local: mirror
    remote: ftp://files.example.com/pub
    user: ${FTP_USER}
    password: ${FTP_PASSWORD}                # export FTP_PASSWORD=... (never written here)
    delete: true                             # remove what the server no longer has
    max_delete: 10%                          # ...but never more than 10% in one night
    exclude:
      - "*.tmp"
    log_file: ftpmirror.log
    # summary_json: last-run.json
"#;

/// Writes the starter file; an existing file is left alone. Returns the profile name.
pub fn write(file: &Path, pull: bool) -> Result<&'static str> {
    let (text, name) = if pull {
        (PULL, "mirror")
    } else {
        (PUSH, "site")
    };
    // Profile files may come to hold a password: readable by the owner only.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                anyhow::anyhow!("{} exists already; not overwriting it", file.display())
            }
            _ => anyhow::anyhow!("cannot create {}: {e}", file.display()),
        })?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(name)
}
