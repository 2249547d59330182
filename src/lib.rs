//! ftpmirror: keep a local directory tree and an FTP server's tree in sync.
//!
//! Data flows one way, folder by folder: `config` (flags and profiles into one `Config`) →
//! scan (`scan`, `remote::walk`) → plan (`plan`, `compare`) → execute (`exec` on a
//! `remote::Pool`) → report (`report`: events, progress, summary, log).
//!
//! The library is the binary's: modules are private, and what is public is what the binary,
//! the demo, the benches and the tests reach (the entry point, and the pure scan → plan
//! steps with the listing parsers, which benches and corpus tests drive directly).

mod app;
mod checksum;
pub mod compare;
mod config;
mod error;
mod exec;
pub mod hash;
mod interrupt;
mod lock;
mod manifest;
pub mod path;
pub mod plan;
mod remote;
mod report;
mod run;
mod scan;
pub mod tree;

pub use app::main_with_args;
pub use error::Exit;
pub use remote::listing;
pub use remote::tls::fingerprint as certificate_fingerprint;
pub use scan::{filter, local};

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every source file under `dir`, as a path relative to `src/` ("remote/pool.rs").
    fn sources(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                sources(root, &p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push(rel);
            }
        }
    }

    /// The README's module table names every source file (a directory row covers what is in
    /// it), and names nothing that is not there.
    #[test]
    fn the_readme_module_table_is_true() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&root, &root, &mut files);
        let readme = include_str!("../README.md");
        let table = &readme[readme.find("| module | job |").expect("a module table")..];
        let named: Vec<&str> = table
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .filter_map(|row| row.split(" | ").next())
            .flat_map(|cell| cell.split('`').skip(1).step_by(2))
            .collect();
        for n in &named {
            assert!(
                root.join(n).exists(),
                "the README names src/{n}, which is not there"
            );
        }
        let covered = |f: &str| {
            f == "lib.rs"
                || named
                    .iter()
                    .any(|n| *n == f || (n.ends_with('/') && f.starts_with(n)))
        };
        let missing: Vec<&String> = files.iter().filter(|f| !covered(f)).collect();
        assert!(
            missing.is_empty(),
            "not in the README's module table: {missing:?}"
        );
    }
}
