//! Content hashes of local files, for `--checksum`, and a cache of them so that a run over an
//! unchanged tree reads no file.
//!
//! The cache is one file in the XDG cache directory (`$XDG_CACHE_HOME/ftpmirror/hashes`, else
//! `~/.cache/ftpmirror/hashes`), one line per file: device, inode, size, mtime in nanoseconds,
//! algorithm, hex digest. A file whose device, inode, size or mtime changed is hashed again;
//! a line that does not parse is dropped. A cache that cannot be read or written costs only
//! the rereading: it is never an error.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use md5::Digest as _;

/// The hash algorithms FTP servers offer (HASH, draft-bryan-ftpext-hash; XSHA256 and kin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algo {
    Sha256,
    Sha1,
    Md5,
    Crc32,
}

impl Algo {
    /// Strongest first: the order in which a server's offer is taken.
    pub const PREFERRED: [Algo; 4] = [Algo::Sha256, Algo::Sha1, Algo::Md5, Algo::Crc32];

    /// The name HASH and FEAT use (`SHA-256`).
    pub fn name(self) -> &'static str {
        match self {
            Algo::Sha256 => "SHA-256",
            Algo::Sha1 => "SHA-1",
            Algo::Md5 => "MD5",
            Algo::Crc32 => "CRC32",
        }
    }

    pub fn from_name(name: &str) -> Option<Algo> {
        Algo::PREFERRED
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// The older one-algorithm command (`XSHA256`).
    pub fn x_command(self) -> &'static str {
        match self {
            Algo::Sha256 => "XSHA256",
            Algo::Sha1 => "XSHA1",
            Algo::Md5 => "XMD5",
            Algo::Crc32 => "XCRC",
        }
    }

    /// Hex digits in a digest.
    pub fn hex_len(self) -> usize {
        match self {
            Algo::Sha256 => 64,
            Algo::Sha1 => 40,
            Algo::Md5 => 32,
            Algo::Crc32 => 8,
        }
    }

    /// The digest as the cache, the manifest and `-v` write it: lower-case hex.
    pub fn label(self) -> &'static str {
        match self {
            Algo::Sha256 => "sha256",
            Algo::Sha1 => "sha1",
            Algo::Md5 => "md5",
            Algo::Crc32 => "crc32",
        }
    }

    fn from_label(label: &str) -> Option<Algo> {
        Algo::PREFERRED.into_iter().find(|a| a.label() == label)
    }
}

/// One running hash.
enum Hasher {
    Ring(ring::digest::Context),
    Md5(md5::Md5),
    Crc32(crc32fast::Hasher),
}

impl Hasher {
    fn new(algo: Algo) -> Hasher {
        match algo {
            Algo::Sha256 => Hasher::Ring(ring::digest::Context::new(&ring::digest::SHA256)),
            Algo::Sha1 => Hasher::Ring(ring::digest::Context::new(
                &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            )),
            Algo::Md5 => Hasher::Md5(md5::Md5::new()),
            Algo::Crc32 => Hasher::Crc32(crc32fast::Hasher::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Ring(c) => c.update(data),
            Hasher::Md5(h) => h.update(data),
            Hasher::Crc32(h) => h.update(data),
        }
    }

    fn hex(self) -> String {
        let bytes: Vec<u8> = match self {
            Hasher::Ring(c) => c.finish().as_ref().to_vec(),
            Hasher::Md5(h) => h.finalize().to_vec(),
            Hasher::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The lower-case hex digest of everything `r` yields.
pub fn hash_reader(algo: Algo, mut r: impl Read) -> io::Result<String> {
    let mut h = Hasher::new(algo);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(h.hex()),
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

pub fn hash_bytes(algo: Algo, data: &[u8]) -> String {
    let mut h = Hasher::new(algo);
    h.update(data);
    h.hex()
}

/// The most digests the cache keeps across runs (about 100 bytes each).
const MAX_ENTRIES: usize = 500_000;

/// What identifies one version of a local file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    algo: Algo,
}

impl Key {
    fn of(meta: &fs::Metadata, algo: Algo) -> Key {
        Key {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            algo,
        }
    }
}

/// Local hashes, remembered across runs.
pub struct Cache {
    path: Option<PathBuf>,
    /// Each digest, and whether this run used it.
    known: Mutex<HashMap<Key, (String, bool)>>,
    /// Files actually read this run (for `-v`, and for the tests: a no-change run reads none).
    read: std::sync::atomic::AtomicUsize,
    changed: std::sync::atomic::AtomicBool,
}

impl Cache {
    /// The cache at its XDG place (`None`: no home to put it in; hashes are then not kept).
    pub fn open(path: Option<PathBuf>) -> Cache {
        let known = path
            .as_deref()
            .and_then(|p| fs::read_to_string(p).ok())
            .map(|text| {
                text.lines()
                    .filter_map(parse_line)
                    .map(|(k, hex)| (k, (hex, false)))
                    .collect()
            })
            .unwrap_or_default();
        Cache {
            path,
            known: Mutex::new(known),
            read: Default::default(),
            changed: Default::default(),
        }
    }

    /// `$XDG_CACHE_HOME/ftpmirror/hashes`, else `$HOME/.cache/ftpmirror/hashes`.
    pub fn default_path(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
        let base = env("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| env("HOME").map(|h| Path::new(&h).join(".cache")))?;
        Some(base.join("ftpmirror").join("hashes"))
    }

    /// The digest of the file at `path`, from the cache where the file has not changed.
    pub fn hash(&self, path: &Path, algo: Algo) -> io::Result<String> {
        let before = fs::metadata(path)?;
        let key = Key::of(&before, algo);
        if let Some((hex, used)) = self.lock().get_mut(&key) {
            *used = true;
            return Ok(hex.clone());
        }
        let hex = hash_reader(algo, File::open(path)?)?;
        self.read.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Written to while being read: the digest belongs to no version; do not keep it.
        if Key::of(&fs::metadata(path)?, algo) == key {
            self.lock().insert(key, (hex.clone(), true));
            self.changed
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(hex)
    }

    /// How many files were read (not found in the cache) so far.
    pub fn files_read(&self) -> usize {
        self.read.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Writes the cache back where something was added: a temporary file renamed over it.
    pub fn save(&self) -> io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if !self.changed.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let known = self.lock();
        // Bounded: past this many, only what this run used is kept (deleted files and old
        // versions go; another tree's files are hashed again once).
        let keep_all = known.len() <= MAX_ENTRIES;
        let mut text = String::new();
        for (k, (hex, used)) in known.iter() {
            if !keep_all && !used {
                continue;
            }
            text.push_str(&format!(
                "{} {} {} {} {} {hex}\n",
                k.dev,
                k.ino,
                k.size,
                k.mtime_ns,
                k.algo.label()
            ));
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        fs::write(&tmp, text)?;
        fs::rename(&tmp, path)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (String, bool)>> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn parse_line(line: &str) -> Option<(Key, String)> {
    let mut f = line.split(' ');
    let key = Key {
        dev: f.next()?.parse().ok()?,
        ino: f.next()?.parse().ok()?,
        size: f.next()?.parse().ok()?,
        mtime_ns: f.next()?.parse().ok()?,
        algo: Algo::from_label(f.next()?)?,
    };
    let hex = f.next()?;
    (hex.len() == key.algo.hex_len()
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && f.next().is_none())
    .then(|| (key, hex.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_the_usual_tools() {
        let data = b"hello world\n";
        assert_eq!(
            hash_bytes(Algo::Sha256, data),
            "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"
        );
        assert_eq!(
            hash_bytes(Algo::Sha1, data),
            "22596363b3de40b06f981fb85d82312e8c0ed511"
        );
        assert_eq!(
            hash_bytes(Algo::Md5, data),
            "6f5902ac237024bdd0c176cb93063dc4"
        );
        assert_eq!(hash_bytes(Algo::Crc32, data), "af083b2d");
        for a in Algo::PREFERRED {
            assert_eq!(hash_bytes(a, data).len(), a.hex_len());
            assert_eq!(Algo::from_name(&a.name().to_lowercase()), Some(a));
        }
    }

    #[test]
    fn the_cache_rereads_only_changed_files_and_survives_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        let cache_path = dir.path().join("cache/ftpmirror/hashes");
        fs::write(&file, b"hello world\n").unwrap();
        let c = Cache::open(Some(cache_path.clone()));
        let h = c.hash(&file, Algo::Sha256).unwrap();
        assert_eq!(h, hash_bytes(Algo::Sha256, b"hello world\n"));
        c.save().unwrap();

        let c = Cache::open(Some(cache_path.clone()));
        assert_eq!(c.hash(&file, Algo::Sha256).unwrap(), h);
        assert_eq!(c.files_read(), 0, "unchanged: from the cache");
        fs::write(&file, b"hello World\n").unwrap();
        let t = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(t)
            .unwrap();
        assert_eq!(
            c.hash(&file, Algo::Sha256).unwrap(),
            hash_bytes(Algo::Sha256, b"hello World\n")
        );
        assert_eq!(c.files_read(), 1);

        fs::write(&cache_path, "garbage\n1 2 3\n").unwrap();
        let c = Cache::open(Some(cache_path));
        assert_eq!(c.hash(&file, Algo::Md5).unwrap().len(), 32);
        assert_eq!(c.files_read(), 1);
    }
}
