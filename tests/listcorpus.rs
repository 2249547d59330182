//! Conformance with the listing-line corpus of other FTP clients' parser tests
//! (`../shared/listcorpus`, see its SOURCES.md). Every vector is served to ftpmirror's
//! listing parser as one listing of its own, and each field its source checks is compared.
//! Skipped, with a note, where the corpus is not there.
//!
//! Where ftpmirror disagrees with a `source_specific` vector (one library's own policy or
//! a known mis-parse), the vector's id must be in the table of `tests/README.md` with the
//! reason; a disagreement missing from the table, or a row for a vector ftpmirror now
//! agrees with, fails this test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use ftpmirror::listing::{Listed, ListedKind, Listing, ParsedLine, Size, Source};
use serde_json::Value;

fn corpus() -> Option<Vec<Value>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/listcorpus/corpus.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "listing corpus not found at {}: conformance test skipped",
            path.display()
        );
        return None;
    };
    Some(serde_json::from_str(&text).expect("corpus.json is JSON"))
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The vector's raw bytes, as one listing: a two-line VMS entry is two lines.
fn parse(v: &Value) -> Vec<ParsedLine> {
    let bytes = match v["line_hex"].as_str() {
        Some(h) => hex(h),
        None => v["line"].as_str().unwrap().as_bytes().to_vec(),
    };
    let source = if v["format"] == "mlsd" {
        Source::Mlsd
    } else {
        Source::List
    };
    let now = v["year_ref_now"]
        .as_str()
        .map(|t| t.parse::<DateTime<Utc>>().expect("year_ref_now"))
        .unwrap_or_else(Utc::now);
    let mut listing = Listing::new(source, now);
    // What the source was told about the server, as SYST would tell ftpmirror.
    let told_mvs = v["notes"]
        .as_str()
        .unwrap_or("")
        .contains("server type MVS")
        || v["parser_config"]
            .as_str()
            .unwrap_or("")
            .contains("MEMBER_LIST_TYPE");
    if told_mvs {
        listing = listing.mvs();
    }
    let mut out = Vec::new();
    for line in bytes.split(|b| *b == b'\n') {
        listing.push(line, &mut out);
    }
    listing.finish(&mut out);
    out
}

fn type_matches(want: &str, l: &Listed, source: &str) -> bool {
    match (want, &l.kind) {
        ("file", ListedKind::File) => true,
        // commons-net's FTPFile has no device type: it calls `b` and `c` entries files
        // (SOURCES.md, "Types"); ftpmirror keeps them apart and never mirrors them.
        ("file", ListedKind::Other(_)) => source.contains("commons-net"),
        ("dir", ListedKind::Dir | ListedKind::SelfOrParent) => true,
        ("link", ListedKind::Symlink) => true,
        ("unknown", ListedKind::Other(_)) => true,
        _ => false,
    }
}

/// `want` at its own precision: `YYYY-MM-DD`, `...THH:MM`, `...THH:MM:SS[.fff]`, with a
/// `Z` where the format defines UTC (ftpmirror keeps naive LIST times as UTC too).
fn time_matches(want: &str, l: &Listed) -> bool {
    let Some(m) = l.mtime else {
        return false;
    };
    let want = want.trim_end_matches('Z');
    let ours = DateTime::<Utc>::from(m.time)
        .format("%Y-%m-%dT%H:%M:%S%.9f")
        .to_string();
    ours.starts_with(want)
}

/// The first checked field that does not match, or None when all do.
fn mismatch(v: &Value, l: &Listed) -> Option<String> {
    let expect = &v["expect"];
    let source = v["source"].as_str().unwrap_or("");
    for field in v["checked"].as_array().unwrap() {
        let field = field.as_str().unwrap();
        let want = &expect[field];
        let ok = match field {
            "name" => want.as_str() == Some(l.name.as_str()),
            "type" => type_matches(want.as_str().unwrap(), l, source),
            "size" => match want.as_u64() {
                Some(n) => l.size.shown() == Some(n),
                None => l.size == Size::Unknown,
            },
            "mtime" => match want.as_str() {
                Some(t) => time_matches(t, l),
                None => l.mtime.is_none(),
            },
            "mtime_noyear" => {
                let want = v["mtime_noyear"].as_str().unwrap();
                l.mtime.is_some_and(|m| {
                    DateTime::<Utc>::from(m.time)
                        .format("--%m-%dT%H:%M")
                        .to_string()
                        == want
                })
            }
            "mtime_present" => l.mtime.is_some(),
            "link_target" => want.as_str() == l.target.as_deref(),
            other => panic!("unknown checked field {other}"),
        };
        if !ok {
            return Some(format!("{field}: want {want}, got {l:?}"));
        }
    }
    None
}

/// Why ftpmirror's reading of `v` is not what its source asserts, or None when it is.
fn verdict(v: &Value) -> Option<String> {
    let out = parse(v);
    let entries: Vec<&Listed> = out.iter().filter_map(|p| p.as_ref().ok()).collect();
    if v["invalid"] == true || v["skip"] == true {
        // `.` and `..` are read, and ignored as the walker ignores them.
        let kept: Vec<_> = entries
            .iter()
            .filter(|l| l.kind != ListedKind::SelfOrParent)
            .collect();
        return (!kept.is_empty()).then(|| format!("should give no entry, got {kept:?}"));
    }
    match (entries.as_slice(), out.len()) {
        ([l], 1) => mismatch(v, l),
        _ => Some(format!("want one entry, got {out:?}")),
    }
}

/// The ids in the disagreement table of tests/README.md: the backticked ids in the first
/// cell of each row.
fn listed_disagreements() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/README.md"))
        .expect("tests/README.md");
    let mut ids = BTreeSet::new();
    for row in readme.lines().filter_map(|l| l.strip_prefix("| `")) {
        let cell = format!("`{}", row.split(" |").next().unwrap_or(""));
        ids.extend(cell.split('`').skip(1).step_by(2).map(str::to_string));
    }
    ids
}

#[test]
fn listing_corpus_conformance() {
    let Some(corpus) = corpus() else {
        return;
    };
    // format -> (right, total) over vectors without `source_specific`.
    let mut score: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut wrong = Vec::new();
    let mut disagree = BTreeSet::new();
    for v in &corpus {
        let id = v["id"].as_str().unwrap().to_string();
        let verdict = verdict(v);
        if v["source_specific"].is_string() {
            if let Some(why) = verdict {
                eprintln!("source-specific disagreement {id}: {why}");
                disagree.insert(id);
            }
            continue;
        }
        let format = v["format"].as_str().unwrap().to_string();
        let s = score.entry(format).or_default();
        s.1 += 1;
        match verdict {
            None => s.0 += 1,
            Some(why) => wrong.push(format!("{id} {:?}: {why}", v["line"].as_str().unwrap())),
        }
    }
    for w in &wrong {
        eprintln!("wrong: {w}");
    }
    for (format, (right, total)) in &score {
        eprintln!("{format}: {right} / {total} right");
    }
    for (format, (right, total)) in &score {
        let goal = if ["unix", "dos", "mlsd"].contains(&format.as_str()) {
            0.98
        } else {
            0.85
        };
        assert!(
            *right as f64 >= goal * *total as f64,
            "{format}: {right} / {total} right, below {goal}"
        );
    }
    let listed = listed_disagreements();
    let unlisted: Vec<_> = disagree.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&disagree).collect();
    assert!(
        unlisted.is_empty(),
        "source-specific vectors ftpmirror disagrees with, missing from tests/README.md: {unlisted:?}"
    );
    assert!(
        stale.is_empty(),
        "tests/README.md lists disagreements that are now agreements: {stale:?}"
    );
}
