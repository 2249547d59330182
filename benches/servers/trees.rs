//! Deterministic benchmark trees: the same preset and seed give the same paths, sizes and
//! bytes. Mtimes are whole minutes in the past hour, so a LIST that only shows minutes (vsftpd)
//! still matches them exactly and no tool re-sends a file because of listing precision.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A tree's shape: how many files, their size range, and directories as a fan-out per level.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    pub name: &'static str,
    pub files: usize,
    pub min_size: u64,
    pub max_size: u64,
    /// Sub-directories per directory at each level (an empty slice: everything in the root).
    pub fanout: &'static [usize],
}

pub const SITE: Preset = Preset {
    name: "site",
    files: 2_000,
    min_size: 1024,
    max_size: 32 * 1024,
    fanout: &[5, 5, 5], // 155 directories, 3 levels deep
};

pub const MIRROR: Preset = Preset {
    name: "mirror",
    files: 20_000,
    min_size: 512,
    max_size: 8 * 1024,
    fanout: &[10, 10, 9], // 1,010 directories
};

pub const BIG: Preset = Preset {
    name: "big",
    files: 4,
    min_size: 256 << 20,
    max_size: 256 << 20,
    fanout: &[],
};

pub fn preset(name: &str) -> Option<Preset> {
    [SITE, MIRROR, BIG].into_iter().find(|p| p.name == name)
}

/// What a generated or mutated tree holds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub files: usize,
    pub dirs: usize,
    pub bytes: u64,
}

/// xorshift64*: fast, deterministic, good enough to make incompressible bytes.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// The mtime every generated file gets: a whole minute, an hour ago.
pub fn base_mtime() -> SystemTime {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    UNIX_EPOCH + Duration::from_secs((now - 3600) / 60 * 60)
}

/// Writes `size` pseudo-random bytes from `seed` to `path`, dated `mtime`.
fn write_file(path: &Path, size: u64, seed: u64, mtime: SystemTime) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    let mut f = File::create(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        rng.fill(&mut buf[..n]);
        f.write_all(&buf[..n])?;
        left -= n as u64;
    }
    f.set_modified(mtime)
}

/// All directories of the preset, parents first, as relative paths ("" is the root).
fn dirs(p: &Preset) -> Vec<PathBuf> {
    let mut all = vec![PathBuf::new()];
    let mut level = vec![PathBuf::new()];
    for (depth, &n) in p.fanout.iter().enumerate() {
        let mut next = Vec::new();
        for parent in &level {
            for i in 0..n {
                next.push(parent.join(format!("d{depth}-{i:02}")));
            }
        }
        all.extend(next.iter().cloned());
        level = next;
    }
    all
}

const EXTENSIONS: [&str; 6] = ["html", "css", "js", "png", "json", "txt"];

/// Generates the preset under `root` (which must not exist yet).
pub fn generate(p: &Preset, root: &Path, seed: u64) -> io::Result<Stats> {
    let dirs = dirs(p);
    for d in &dirs {
        fs::create_dir_all(root.join(d))?;
    }
    let mtime = base_mtime();
    let mut rng = Rng::new(seed);
    let mut stats = Stats {
        dirs: dirs.len() - 1,
        ..Stats::default()
    };
    for i in 0..p.files {
        let dir = &dirs[rng.below(dirs.len() as u64) as usize];
        let size = p.min_size + rng.below(p.max_size - p.min_size + 1);
        let ext = EXTENSIONS[i % EXTENSIONS.len()];
        write_file(
            &root.join(dir).join(format!("f{i:06}.{ext}")),
            size,
            rng.next(),
            mtime,
        )?;
        stats.files += 1;
        stats.bytes += size;
    }
    Ok(stats)
}

/// What `mutate` did: files rewritten, added and deleted, and the bytes a push must send.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mutation {
    pub changed: usize,
    pub added: usize,
    pub deleted: usize,
    pub bytes: u64,
}

/// Changes about 1% of the files under `root`: rewrites most of them (new bytes, a new size,
/// an mtime two minutes later), adds a few files and deletes a few.
pub fn mutate(p: &Preset, root: &Path, seed: u64) -> io::Result<Mutation> {
    mutate_with(p, root, seed, false)
}

/// [`mutate`]; with `same_size_edits`, half the changed files keep their size (an edit a
/// size-only comparison misses).
pub fn mutate_with(
    p: &Preset,
    root: &Path,
    seed: u64,
    same_size_edits: bool,
) -> io::Result<Mutation> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    let mut rng = Rng::new(seed ^ 0x5eed);
    let touched = (files.len() / 100).max(1);
    let later = base_mtime() + Duration::from_secs(120);
    let mut m = Mutation::default();
    for k in 0..touched {
        let i = rng.below(files.len() as u64) as usize;
        let path = files.swap_remove(i);
        match k % 8 {
            // One in eight goes away, one in eight gets a new sibling, the rest change.
            0 => {
                fs::remove_file(&path)?;
                m.deleted += 1;
            }
            1 => {
                let size = p.min_size + rng.below(p.max_size - p.min_size + 1);
                write_file(&path.with_extension("new"), size, rng.next(), later)?;
                m.added += 1;
                m.bytes += size;
            }
            _ => {
                let mut size = p.min_size + rng.below(p.max_size - p.min_size + 1);
                if same_size_edits && k % 2 == 0 {
                    size = fs::metadata(&path)?.len();
                }
                write_file(&path, size, rng.next(), later)?;
                m.changed += 1;
                m.bytes += size;
            }
        }
    }
    Ok(m)
}

/// A flat or nested tree of empty files, for the memory measurements: `entries` files spread
/// over `dirs` directories (0: all in the root).
pub fn empty_files(root: &Path, entries: usize, dirs: usize) -> io::Result<()> {
    let mtime = base_mtime();
    for i in 0..entries {
        let dir = if dirs == 0 {
            root.to_path_buf()
        } else {
            root.join(format!("dir-{:04}", i % dirs))
        };
        if i < dirs.max(1) {
            fs::create_dir_all(&dir)?;
        }
        let f = File::create(dir.join(format!("entry-{i:06}.dat")))?;
        f.set_modified(mtime)?;
    }
    Ok(())
}
