//! Listings that give no exact size, end to end against the scripted server: an MLSD
//! server that leaves out `size`, and an OpenVMS server (sizes in blocks, old file
//! versions, long names wrapped onto a second line). What was received, the bytes that
//! arrived, and what the second run does are asserted.

mod support;

use std::fs;
use std::time::{Duration, SystemTime};

use support::scripted::{Behaviour, Scripted};
use support::{Outcome, run_in};

fn pull(srv: &Scripted, home: &std::path::Path, extra: &[&str]) -> Outcome {
    let local = home.join("l");
    let (l, url) = (local.to_str().unwrap(), srv.url());
    let mut args = vec!["pull", "-v", "-j", "1", "--retries", "0"];
    args.extend_from_slice(extra);
    args.extend([url.as_str(), l]);
    run_in(home, &args, &[])
}

const FILES: [(&str, usize); 3] = [
    ("/a.txt", 700),
    ("/sub/b.bin", 1500),
    ("/sub/a_rather_long_name.data", 3),
];

fn serve(b: Behaviour) -> Scripted {
    let srv = Scripted::start(b);
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for (path, len) in FILES {
        srv.put_file(path, &support::noise(len, len as u64), when);
    }
    srv
}

fn assert_pulled(home: &std::path::Path, srv: &Scripted) {
    for (path, _) in FILES {
        let got = fs::read(home.join("l").join(path.trim_start_matches('/'))).unwrap();
        assert_eq!(got, srv.file(path).unwrap().0, "{path}");
    }
}

/// MLSD without `size`: each such file gets one SIZE, the first ones in one write once
/// the trial batch came back in order; the pull is exact, and the next one sends nothing.
#[test]
fn mlsd_without_sizes_asks_size_in_batches() {
    let srv = serve(Behaviour {
        mlsd: true,
        mlsd_without_size: true,
        ..Behaviour::default()
    });
    let home = tempfile::tempdir().unwrap();
    let out = pull(&srv, home.path(), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_pulled(home.path(), &srv);
    let log = srv.log();
    let sizes: Vec<usize> = (0..log.len())
        .filter(|&i| log[i].starts_with("SIZE "))
        .collect();
    assert_eq!(sizes.len(), FILES.len(), "{log:?}");
    // All three in one write: the two after the first arrived with the one before them.
    let along = srv.pipelined();
    assert!(
        sizes[1..].iter().all(|i| along.contains(i)),
        "{log:?} {along:?}"
    );

    let again = pull(&srv, home.path(), &[]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(again.actions("download").is_empty(), "{}", again.all());
}

/// A server that refuses SIZE sent in one write with another command turns the batching
/// off for the run (one `-v` line) and is asked again one at a time: never a failure.
#[test]
fn size_refused_in_a_batch_is_asked_again_one_at_a_time() {
    let srv = serve(Behaviour {
        mlsd: true,
        mlsd_without_size: true,
        size_one_at_a_time: true,
        ..Behaviour::default()
    });
    let home = tempfile::tempdir().unwrap();
    let out = pull(&srv, home.path(), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_pulled(home.path(), &srv);
    assert!(
        out.all().contains("batching off for queries in one write"),
        "{}",
        out.all()
    );
    // The trial batch of three, then the three again one at a time.
    let sizes = srv.log().iter().filter(|c| c.starts_with("SIZE")).count();
    assert_eq!(sizes, 2 * FILES.len(), "{:?}", srv.log());
}

/// Without SIZE, a file the listing gives no size for is compared by mtime only, which
/// `-v` says once; the pull is exact and the next one sends nothing.
#[test]
fn no_size_anywhere_compares_by_mtime() {
    let srv = serve(Behaviour {
        mlsd: true,
        mlsd_without_size: true,
        feat: vec!["MDTM", "MFMT", "UTF8", "REST STREAM"],
        ..Behaviour::default()
    });
    let home = tempfile::tempdir().unwrap();
    let out = pull(&srv, home.path(), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_pulled(home.path(), &srv);
    assert!(!srv.log().iter().any(|c| c.starts_with("SIZE")));
    let note = "no exact size for 3 file(s), and SIZE does not; they are compared by mtime only";
    assert!(out.all().contains(note), "{}", out.all());
    let again = pull(&srv, home.path(), &[]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(again.actions("download").is_empty(), "{}", again.all());
}

/// OpenVMS: sizes in blocks are never taken as bytes (the download is not refused as
/// short), only the highest version of each file counts, a long name's columns on the
/// next line are joined to it, and `NAME.DIR;1` is the directory `NAME`.
#[test]
fn vms_listings_pull_exactly_and_converge() {
    for with_size in [true, false] {
        let mut feat = vec!["MDTM", "UTF8", "REST STREAM"];
        if with_size {
            feat.push("SIZE");
        }
        let srv = serve(Behaviour {
            vms: true,
            feat,
            ..Behaviour::default()
        });
        let home = tempfile::tempdir().unwrap();
        let out = pull(&srv, home.path(), &[]);
        assert_eq!(out.code, 0, "size {with_size}: {}", out.all());
        assert_pulled(home.path(), &srv);
        assert!(!out.all().contains("listed twice"), "{}", out.all());
        let asked = srv.log().iter().filter(|c| c.starts_with("SIZE")).count();
        assert_eq!(asked, if with_size { FILES.len() } else { 0 });
        // The mtime is the current version's, to the second.
        let t = fs::metadata(home.path().join("l/sub/b.bin"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(
            t,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        );

        let again = pull(&srv, home.path(), &[]);
        assert_eq!(again.code, 0, "{}", again.all());
        assert!(again.actions("download").is_empty(), "{}", again.all());
    }
}
