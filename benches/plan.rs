//! The pure parts without a server: scanning a 100,000-entry local tree, and planning it
//! against a remote tree that differs in about 1% (`cargo bench --bench plan`).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use ftpmirror::compare::CompareOpts;
use ftpmirror::filter::Filter;
use ftpmirror::local;
use ftpmirror::path::RelPath;
use ftpmirror::plan::{Direction, PlanOpts, plan};
use ftpmirror::tree::{Entry, Mtime, Precision, Tree};

const DIRS: usize = 1_000;
const FILES_PER_DIR: usize = 99; // 1,000 directories + 99,000 files = 100,000 entries

/// Writes the tree once: empty files, so the bench measures walking, not the disk.
fn make_local(root: &Path) {
    for d in 0..DIRS {
        let dir = root.join(format!("section-{}/dir-{d:04}", d % 10));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..FILES_PER_DIR {
            std::fs::File::create(dir.join(format!("file-{f:03}.html"))).unwrap();
        }
    }
}

/// The remote side: the local tree as MLSD would list it, with every 100th file changed.
fn remote_from(local: &Tree) -> Tree {
    let mut remote = Tree::new();
    for (i, (path, e)) in local.entries.iter().enumerate() {
        let mut e: Entry = e.clone();
        if let Some(m) = e.mtime.as_mut() {
            m.precision = Precision::Second;
        }
        if !e.is_dir() && i % 100 == 0 {
            e.size += 1;
        }
        remote.insert(path.clone(), e);
    }
    // A few remote-only files for --delete.
    for i in 0..100 {
        let p = RelPath::parse(&format!("stale/old-{i}.html")).unwrap();
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        remote.insert(
            p,
            Entry::file(
                10,
                Some(Mtime {
                    time: t,
                    precision: Precision::Second,
                }),
            ),
        );
    }
    remote
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    make_local(dir.path());
    let local = local::scan(dir.path(), &Filter::default()).unwrap();
    assert_eq!(local.entries.len(), 100_000 + 10);
    let remote = remote_from(&local);
    let opts = PlanOpts {
        explain: false,
        direction: Direction::Push,
        delete: true,
        compare: CompareOpts {
            size_only: false,
            dest_times_settable: true,
        },
        resume_min: Some(1 << 20),
    };

    let mut g = c.benchmark_group("100k entries");
    g.sample_size(10);
    g.bench_function("scan", |b| {
        b.iter(|| local::scan(black_box(dir.path()), &Filter::default()).unwrap())
    });
    g.bench_function("plan", |b| {
        b.iter(|| plan(black_box(&local), black_box(&remote), opts))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
