//! One run, start to end: scan → plan → execute → report.

use std::sync::mpsc;
use std::thread;

use anyhow::anyhow;

use crate::checksum::{self, Checking, Method};
use crate::compare::CompareOpts;
use crate::config::{Config, FileOp, Job, SyncJob};
use crate::error::{Error, Exit};
use crate::exec::Executor;
use crate::manifest;
use crate::path::RelPath;
use crate::plan::Op;
use crate::plan::{Direction, Plan, PlanOpts, guard, plan_with};
use crate::remote::lock::{RemoteLock, Taken};
use crate::remote::{self, Pool, clock, walk::walk};
use crate::report::Report;
use crate::report::event::Event;
use crate::report::progress::Progress;
use crate::report::runlog::RunLog;
use crate::report::summary;
use crate::scan::filter::Filter;
use crate::scan::local;
use crate::tree::{Kind, Precision, Tree};
use std::collections::BTreeMap;

/// Runs the configured job and returns its exit code. Everything the user sees goes through
/// `Progress` (terminal and `--log-file`); `--summary-json` is written last.
pub fn run(cfg: &Config) -> Exit {
    let log = match RunLog::open(
        cfg.output.log_file.as_deref(),
        cfg.profile.as_deref(),
        cfg.output.log_format == crate::config::cli::LogFormat::Json,
    ) {
        Ok(log) => log,
        Err(e) => return crate::report::term::fail(Exit::Usage, &e),
    };
    let mut progress = Progress::new(&cfg.output, log);
    progress.log(&start_line(cfg));
    for w in &cfg.warnings {
        progress.warn(w);
    }
    let started = std::time::SystemTime::now();
    let result = match &cfg.job {
        Job::Ls { .. } => ls(cfg, &mut progress),
        Job::File(op) => file_op(cfg, op, &mut progress),
        Job::Sync(job) => sync(cfg, job, &mut progress),
    };
    progress.finish();
    if progress.verbose() {
        let epsv = cfg.endpoint.learned.epsv().then(|| {
            "EPSV works here, though FEAT did not say so: it went with its command from then on"
                .to_string()
        });
        let notes = cfg
            .endpoint
            .pasv_note
            .get()
            .cloned()
            .into_iter()
            .chain(epsv);
        for note in notes.chain(cfg.endpoint.proven.notes()) {
            progress.line(&format!("note: {note}"));
        }
    }
    let mut code = match &result {
        Ok(report) => report.exit_code(),
        Err(e) => {
            progress.error(&e.to_string());
            e.exit
        }
    };
    if let Some(signal_code) = crate::interrupt::exit_code() {
        progress.error("interrupted: stopped early; run again to finish");
        code = signal_code;
    }
    if let Some(path) = &cfg.output.summary_json
        && let Err(e) = summary::write(path, cfg, &result, code, started)
    {
        progress.error(&format!("{e:#}"));
        code = code.max(Exit::Partial);
    }
    progress.log(&format!("end: exit code {code}"));
    code
}

/// "start push /srv/site -> ftp://deploy@example.com:21/htdocs (dry run)": no password.
fn start_line(cfg: &Config) -> String {
    let ep = &cfg.endpoint;
    let remote = format!(
        "ftp://{}@{}/{}",
        ep.user,
        ep.label(),
        ep.path.trim_start_matches('/')
    );
    match &cfg.job {
        Job::Ls { .. } => format!("start ls {remote}"),
        Job::File(op) => format!("start {} {remote}", op.verb()),
        Job::Sync(job) => {
            let (verb, arrow) = match job.direction {
                Direction::Push => ("push", "->"),
                Direction::Pull => ("pull", "<-"),
            };
            let dry = if job.dry_run { " (dry run)" } else { "" };
            format!("start {verb} {} {arrow} {remote}{dry}", job.local.display())
        }
    }
}

fn connect(cfg: &Config, progress: &mut Progress) -> Result<Pool, Error> {
    if cfg.endpoint.tls.as_ref().is_some_and(|t| t.insecure) {
        progress.warn_always(
            "--insecure: the server's certificate is not checked, so anyone on the network path \
             can read and change this session, password included",
        );
    }
    let cell = std::cell::RefCell::new(&mut *progress);
    let on_retry = |m: String| cell.borrow_mut().warn(&m);
    let pool = Pool::open(cfg.endpoint.clone(), cfg.parallel, cfg.retry, &on_retry)
        .map_err(Error::connect)?;
    if progress.verbose() {
        let caps = pool.caps().names();
        // What FEAT itself said; what probes found is listed apart.
        let found: Vec<&str> = pool
            .probed()
            .iter()
            .filter_map(|(what, has)| has.then_some(*what))
            .collect();
        let caps: Vec<&str> = caps.into_iter().filter(|c| !found.contains(c)).collect();
        let feat = match (pool.caps().feat, caps.is_empty()) {
            (false, _) => "none (refused)".to_string(),
            (true, true) => "none".to_string(),
            (true, false) => caps.join(" "),
        };
        let probed: Vec<String> = pool
            .probed()
            .iter()
            .map(|(what, has)| format!("{what} {}", if *has { "yes" } else { "no" }))
            .collect();
        let probed = match probed.is_empty() {
            true => String::new(),
            false => format!("; probed: {}", probed.join(", ")),
        };
        progress.line(&format!(
            "connected to {} as {}; remote root {}; FEAT: {feat}{probed}; listing with {}",
            cfg.endpoint.label(),
            cfg.endpoint.user,
            pool.root(),
            if pool.caps().mlsd { "MLSD" } else { "LIST" }
        ));
    }
    Ok(pool)
}

/// Lists the remote tree with a spinner, in parallel over the pool.
fn list_remote(pool: &Pool, filter: &Filter, progress: &mut Progress) -> Tree {
    progress.start_listing();
    let (tx, rx) = mpsc::channel();
    let tree = thread::scope(|s| {
        let h = s.spawn(move || {
            walk(pool, filter, &|ev| {
                let _ = tx.send(ev);
            })
        });
        for ev in rx {
            progress.on_event(&ev);
        }
        h.join().expect("listing thread panicked")
    });
    progress.finish();
    if let Some(n) = pool.take_shrink_notice() {
        progress.warn(&n);
    }
    tree
}

/// Moves a tree's problems into the report: unreadable directories and unusable names are
/// failures; skipped links and special files are notices.
fn collect_problems(tree: &Tree, report: &mut Report, progress: &mut Progress) {
    for (_, msg) in &tree.unreadable {
        report.problems.push(msg.clone());
    }
    for p in &tree.errors {
        report.problems.push(format!("{}: {}", p.path, p.message));
    }
    for p in &tree.skipped {
        let msg = format!("{}: {}", p.path, p.message);
        progress.warn(&msg);
        report.notices.push(msg);
    }
}

/// `get`, `put`, `mv`, `rm`, `mkdir`, `rmdir`: one operation; a refusal is exit 1.
fn file_op(cfg: &Config, op: &FileOp, progress: &mut Progress) -> Result<Report, Error> {
    if let FileOp::Put(local) = op
        && !local.is_file()
    {
        return Err(Error::usage(anyhow!(
            "local file {} does not exist or is not a file",
            local.display()
        )));
    }
    let pool = connect(cfg, progress)?;
    let result = crate::exec::fileop::run(cfg, &pool, op);
    pool.close();
    let line = result.map_err(Error::partial)?;
    progress.log(&line);
    if progress.verbose() {
        progress.line(&line);
    }
    Ok(Report::new())
}

fn ls(cfg: &Config, progress: &mut Progress) -> Result<Report, Error> {
    let pool = connect(cfg, progress)?;
    let mut tree = list_remote(&pool, &Filter::default(), progress);
    list_times_to_utc(cfg, &pool, &mut tree, progress);
    pool.close();
    if !tree.root_exists {
        return Err(Error::partial(anyhow!("{}", root_error(&tree))));
    }
    let mut report = Report::new();
    if let Job::Ls { json: true } = cfg.job {
        print_json(&tree);
        collect_problems(&tree, &mut report, progress);
        print_failures(&report, progress);
        return Ok(report);
    }
    for (path, e) in &tree.entries {
        let (kind, size) = match e.kind {
            Kind::Dir => ("dir", "-".to_string()),
            Kind::File => ("file", e.size.to_string()),
        };
        let (mtime, precision) = match e.mtime {
            Some(m) => (m.to_string(), m.precision.label()),
            None => ("-".to_string(), "-"),
        };
        // `ls` output is the point of the command: printed even with --quiet.
        println!("{kind:<4} {size:>12}  {mtime:<19}  {precision:<3}  {path}");
    }
    collect_problems(&tree, &mut report, progress);
    print_failures(&report, progress);
    Ok(report)
}

/// `ls --json`: one array, one object per entry, written as it goes (a tree of a million
/// entries is not built twice in memory). Sizes a listing gave only roughly say so.
fn print_json(tree: &Tree) {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut first = true;
    let _ = out.write_all(b"[");
    for (path, e) in &tree.entries {
        let mtime = e.mtime.map(|m| {
            chrono::DateTime::<chrono::Utc>::from(m.time)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        });
        let v = serde_json::json!({
            "path": path.as_str(),
            "type": if e.kind == Kind::Dir { "dir" } else { "file" },
            "size": (e.kind == Kind::File).then_some(e.size),
            "size_exact": e.kind == Kind::File && !e.rough_size,
            "mtime": mtime,
            "precision": e.mtime.map(|m| m.precision.label()),
        });
        let sep = if first { "\n" } else { ",\n" };
        first = false;
        let _ = write!(out, "{sep}{v}");
    }
    let _ = out.write_all(b"\n]\n");
    let _ = out.flush();
}

/// LIST shows the server's local time: shift it to UTC by `--time-offset`, or by the offset
/// one file's MDTM reveals. MLSD times are UTC already.
fn list_times_to_utc(cfg: &Config, pool: &Pool, tree: &mut Tree, progress: &mut Progress) {
    if pool.caps().mlsd {
        return;
    }
    let (offset, how) = match cfg.time_offset {
        Some(o) => (o, "--time-offset".to_string()),
        None if pool.caps().mdtm => match clock::detect_offset(pool, tree) {
            Some((o, path)) => (o, format!("detected from the MDTM of {path}")),
            None => return,
        },
        None => return,
    };
    if progress.verbose() {
        progress.line(&format!(
            "LIST times are UTC{} ({how})",
            clock::format_offset(offset)
        ));
    }
    clock::apply_offset(tree, offset);
}

/// A LIST time to the minute or a LIST date hides a same-size edit that moved the mtime by
/// less than that: where the server has MDTM, the files whose comparison such a time settles
/// get their exact time first, a batch of MDTMs per session.
fn refine_coarse_times(
    pool: &Pool,
    local: &Tree,
    remote: &mut Tree,
    opts: PlanOpts,
    vouched: &[RelPath],
    progress: &mut Progress,
) {
    if !pool.caps().mdtm {
        return;
    }
    let mut ties = match opts.direction {
        Direction::Push => crate::plan::coarse_ties(local, remote, opts),
        Direction::Pull => crate::plan::coarse_ties(remote, local, opts),
    };
    // A manifest record is checked against the listed time at its precision; a date alone
    // (or no time) cannot tell one upload from another that day, so MDTM tells instead.
    let coarse = |p: &RelPath| {
        remote
            .get(p)
            .is_some_and(|e| e.mtime.is_none_or(|m| m.precision == Precision::Day))
    };
    ties.extend(vouched.iter().filter(|p| coarse(p)).cloned());
    ties.sort();
    ties.dedup();
    if ties.is_empty() {
        return;
    }
    let notices = std::sync::Mutex::new(Vec::new());
    let on_notice = |m: String| notices.lock().unwrap_or_else(|p| p.into_inner()).push(m);
    let answered = clock::exact_times(pool, remote, &ties, &on_notice);
    for n in notices.into_inner().unwrap_or_else(|p| p.into_inner()) {
        progress.warn(&n);
    }
    if progress.verbose() {
        progress.line(&format!(
            "asked MDTM for {} file(s) whose listed time was too coarse to compare; {answered} answered",
            ties.len()
        ));
    }
}

fn root_error(tree: &Tree) -> String {
    tree.unreadable
        .iter()
        .find(|(p, _)| p.is_root())
        .map(|(_, m)| m.clone())
        .unwrap_or_else(|| "the remote directory does not exist".to_string())
}

fn sync(cfg: &Config, job: &SyncJob, progress: &mut Progress) -> Result<Report, Error> {
    if job.direction == Direction::Push && !job.local.is_dir() {
        return Err(Error::usage(anyhow!(
            "local directory {} does not exist or is not a directory",
            job.local.display()
        )));
    }
    let pool = connect(cfg, progress)?;
    // A dry run changes nothing, so it needs no lock and does not wait for one.
    let lock = match job.remote_lock.filter(|_| !job.dry_run) {
        Some(ttl) => Some(take_remote_lock(&pool, ttl, progress)?),
        None => None,
    };
    let result = sync_on(cfg, job, &pool, progress);
    if let Some(l) = lock
        && let Err(e) = l.release(&pool)
    {
        progress.warn(&format!("{e:#}"));
    }
    pool.close();
    result
}

/// `--remote-lock`: held, taken over with a warning, or exit 4 naming who holds it.
fn take_remote_lock(
    pool: &Pool,
    ttl: std::time::Duration,
    progress: &mut Progress,
) -> Result<RemoteLock, Error> {
    match remote::lock::acquire(pool, ttl).map_err(Error::partial)? {
        Taken::Held(l) => Ok(l),
        Taken::FromStale(l, old) => {
            progress.warn(&format!(
                "took over the remote lock {}/{} older than --remote-lock-ttl ({})",
                pool.root().trim_end_matches('/'),
                remote::lock::NAME,
                remote::escape(&old)
            ));
            Ok(l)
        }
        Taken::Busy(who) => Err(Error::locked(anyhow!(
            "the remote tree {} is locked by another run ({}); it ends with that run, or is \
             taken over after --remote-lock-ttl",
            pool.root(),
            remote::escape(&who)
        ))),
    }
}

/// The sync itself, on a pool that is connected (and locked, with `--remote-lock`).
fn sync_on(
    cfg: &Config,
    job: &SyncJob,
    pool: &Pool,
    progress: &mut Progress,
) -> Result<Report, Error> {
    let mut report = Report::new();

    // The source is always filtered; the destination too, unless excluded paths are to be
    // deleted there. The local scan runs while the remote tree is listed.
    let everything = Filter::default();
    let dest_filter = if job.delete_excluded {
        &everything
    } else {
        &job.filter
    };
    let (local_filter, remote_filter) = match job.direction {
        Direction::Push => (&job.filter, dest_filter),
        Direction::Pull => (dest_filter, &job.filter),
    };
    let (local, mut remote) = thread::scope(|s| {
        let follow = job.copy_links && job.direction == Direction::Push;
        let h = s.spawn(move || local::scan_with(&job.local, local_filter, follow));
        let remote = list_remote(pool, remote_filter, progress);
        (h.join().expect("scan thread panicked"), remote)
    });
    let mut local = local.map_err(Error::usage)?;
    // ftpmirror's own state on the server (the manifest) is never mirrored or deleted.
    let manifest_rel = RelPath::parse(&job.manifest).ok();
    for t in [&mut local, &mut remote] {
        t.entries
            .retain(|p, _| !manifest::is_own(p, manifest_rel.as_ref()));
    }
    // The backup directory inside the tree, and in-place backups (NAME.SUFFIX), are not
    // the tree's: never sent, compared or deleted.
    if let Some(b) = &job.backup {
        let inside = b.inside();
        let in_place = b.dir.is_none().then_some(b.suffix.as_str());
        for t in [&mut local, &mut remote] {
            t.entries.retain(|p, _| {
                !inside.as_ref().is_some_and(|d| p.starts_with(d))
                    && !in_place.is_some_and(|s| p.name().ends_with(s))
            });
        }
    }
    // A directory that holds the manifest and nothing of the source's is not an extra.
    if let Some(m) = &manifest_rel {
        let ancestors: Vec<RelPath> = std::iter::successors(m.parent(), RelPath::parent)
            .filter(|p| !p.is_root())
            .collect();
        let (source_side, dest_side) = match job.direction {
            Direction::Push => (&local, &mut remote),
            Direction::Pull => (&remote, &mut local),
        };
        for a in ancestors {
            if source_side.get(&a).is_none() {
                dest_side.entries.remove(&a);
            }
        }
    }
    list_times_to_utc(cfg, pool, &mut remote, progress);
    let (source_tree, dest_tree) = match job.direction {
        Direction::Push => (&mut local, &mut remote),
        Direction::Pull => (&mut remote, &mut local),
    };
    let held = job
        .limits
        .apply(source_tree, dest_tree, std::time::SystemTime::now());
    if job.ignore_case {
        let n = guard::match_case_insensitively(source_tree, dest_tree);
        if n > 0 && progress.verbose() {
            progress.line(&format!(
                "--ignore-case: {n} name(s) matched whatever their letter case"
            ));
        }
    }
    if held > 0 && progress.verbose() {
        progress.line(&format!(
            "{held} file(s) outside --min-size/--max-size/--min-age/--max-age: left alone on both sides"
        ));
    }
    if !remote.root_exists {
        if job.direction == Direction::Pull {
            return Err(Error::partial(anyhow!("{}", root_error(&remote))));
        }
        // A push creates the remote root; not having it is not a listing failure.
        remote.unreadable.retain(|(p, _)| !p.is_root());
    }
    // Without MFMT, whether `MDTM time path` sets times decides how remote mtimes compare.
    let mdtm_write = if job.direction == Direction::Push && !pool.caps().mfmt && pool.caps().mdtm {
        clock::probe_mdtm_write(pool, &remote)
    } else {
        None
    };
    if progress.verbose()
        && let Some(w) = mdtm_write
    {
        progress.line(&format!(
            "setting mtimes with MDTM: {}",
            if w { "yes" } else { "no" }
        ));
    }
    let opts = PlanOpts {
        direction: job.direction,
        delete: job.delete,
        compare: CompareOpts {
            size_only: job.size_only,
            dest_times_settable: job.direction == Direction::Pull
                || pool.caps().mfmt
                || mdtm_write == Some(true),
        },
        resume_min: job.resume_min.filter(|_| pool.caps().rest_stream),
        explain: progress.verbose() && job.dry_run || cfg.output.verbose > 1,
    };
    let checking = job.checksum.then(|| Checking::start(pool, job, progress));
    let vouched: Vec<RelPath> = match checking.as_ref().map(|c| &c.method) {
        Some(Method::Manifest { old: Some(m), .. }) => checksum::candidates(&local, &remote)
            .into_iter()
            .filter(|p| m.get(p).is_some())
            .collect(),
        _ => Vec::new(),
    };
    refine_coarse_times(pool, &local, &mut remote, opts, &vouched, progress);
    let content = match &checking {
        Some(c) => c.content(pool, job, &local, &remote, progress),
        None => BTreeMap::new(),
    };
    let (source, dest) = match job.direction {
        Direction::Push => (&local, &remote),
        Direction::Pull => (&remote, &local),
    };
    collect_problems(&local, &mut report, progress);
    collect_problems(&remote, &mut report, progress);

    let mut plan = plan_with(source, dest, opts, &content);
    let rules = guard::Rules {
        delete: job.delete,
        allow_empty_source: job.allow_empty_source,
        max_delete: job.max_delete,
    };
    let guarded = match guard::guard(&mut plan, source, dest, rules) {
        Ok(g) => g,
        Err(guard::Refusal::EmptySource) => {
            return Err(Error::partial(anyhow!(
                "the source {} is empty: refusing --delete, which would empty the destination \
                 (an unmounted disk or a failed build?); use --allow-empty-source if this is \
                 intended",
                match job.direction {
                    Direction::Push => job.local.display().to_string(),
                    Direction::Pull => format!(
                        "{}/{}",
                        cfg.endpoint.label(),
                        cfg.endpoint.path.trim_start_matches('/')
                    ),
                }
            )));
        }
    };
    let twins = &guarded.twins;
    if let Some(first) = twins.first()
        && job.direction == Direction::Push
        && progress.verbose()
    {
        progress.line(&case_probe(pool, dest, first));
    }
    report.problems.extend(twins.iter().map(|t| t.to_string()));
    for c in &plan.conflicts {
        report.problems.push(format!("conflict: {c}"));
    }
    report.unchanged = source.file_count().saturating_sub(plan.transfers.len());
    for h in &guarded.holds {
        if let over @ guard::Hold::OverLimit { .. } = h {
            report
                .problems
                .push(format!("{over}: nothing will be deleted"));
        }
    }
    if progress.verbose() || job.dry_run {
        for a in plan.actions() {
            progress.line(&a.to_string());
        }
        for (path, why) in &plan.unchanged {
            progress.line(&format!("unchanged {path}  ({why})"));
        }
    }
    if job.dry_run {
        let summary = dry_run_summary(&plan);
        progress.line(&summary);
        progress.log(&summary);
        print_failures(&report, progress);
        return Ok(report);
    }

    let hold_deletes = guarded.hold().cloned();
    progress.start_transfers(plan.transfers.len(), plan.transfer_bytes());
    let (tx, rx) = mpsc::channel();
    let mut transferred = Vec::new();
    let mut created = Vec::new();
    let planned = &plan;
    let chmodded = thread::scope(|s| {
        let executor = Executor::new(pool, job, mdtm_write, tx);
        let worker = s.spawn(move || executor.execute(planned, hold_deletes));
        for ev in rx {
            report.record(&ev);
            progress.on_event(&ev);
            if let Event::Done {
                op,
                path,
                result: Ok(()),
                ..
            } = &ev
            {
                match op {
                    Op::Upload | Op::Download => transferred.push(path.clone()),
                    Op::Mkdir => created.push(path.clone()),
                    _ => {}
                }
            }
        }
        worker.join().expect("the executor thread panicked")
    });
    progress.finish();
    if let Some(modes) = job.chmod {
        apply_chmod(pool, job, modes, &transferred, &created, chmodded, progress);
    }
    if let Some(c) = &checking {
        let uploaded = match job.direction {
            Direction::Push => transferred.as_slice(),
            Direction::Pull => &[],
        };
        c.finish(pool, job, &plan, &content, uploaded, opts, progress);
    }
    print_failures(&report, progress);
    let summary = report.summary();
    progress.line(&summary);
    progress.log(&summary);
    Ok(report)
}

/// Where a case twin stopped a delete, one question tells whether the server folds case:
/// SYST, where a Windows server names itself, else SIZE (or MDTM) asked by the source's
/// spelling, a name the listing shows only in the other case. For `-v`.
fn case_probe(pool: &Pool, remote_tree: &Tree, t: &guard::CaseTwin) -> String {
    if remote_tree.get(&t.twin).is_some() {
        return format!(
            "the server is case-sensitive: it lists both {} and {}",
            t.twin, t.kept
        );
    }
    let Ok(mut s) = pool.take() else {
        return "whether the server folds letter case is not known (no session)".to_string();
    };
    let syst = s.syst().unwrap_or_default();
    let asked = t.twin.to_remote(pool.root());
    let caps = pool.caps();
    let answer = if syst.starts_with("Windows_NT") {
        None
    } else if caps.size {
        Some((
            "SIZE",
            s.sizes(std::slice::from_ref(&asked))
                .map(|a| a[0].is_some()),
        ))
    } else if caps.mdtm {
        Some((
            "MDTM",
            s.mtimes(std::slice::from_ref(&asked))
                .map(|a| a[0].is_some()),
        ))
    } else {
        Some(("", Err(anyhow::anyhow!("neither SIZE nor MDTM"))))
    };
    pool.give(s);
    let escaped = remote::escape(&asked);
    match answer {
        None => format!(
            "the server is case-insensitive: SYST says {syst}; {} is {} there, and --ignore-case fits it",
            t.twin, t.kept
        ),
        Some((verb, Ok(true))) => format!(
            "the server is case-insensitive: {verb} {escaped} answered for {}, listed as {}; --ignore-case fits it",
            t.twin, t.kept
        ),
        Some((verb, Ok(false))) => format!(
            "the server is case-sensitive: {verb} {escaped} found nothing; {} and {} are two files there",
            t.twin, t.kept
        ),
        Some((_, Err(e))) => format!("whether the server folds letter case is not known ({e:#})"),
    }
}

/// `--chmod`: the modes for the files this run sent and the directories it made, and only
/// those. On a push, SITE CHMOD in batches, except for the files whose mode went out with
/// their rename into place (`done`); a server without it is one warning.
fn apply_chmod(
    pool: &Pool,
    job: &SyncJob,
    modes: crate::exec::chmod::Chmod,
    files: &[RelPath],
    dirs: &[RelPath],
    done: crate::exec::Chmodded,
    progress: &mut Progress,
) {
    let unsupported = || {
        format!(
            "{}: the server does not do SITE CHMOD; --chmod left the modes as the server made them",
            pool.endpoint().label()
        )
    };
    if done.unsupported {
        progress.warn(&unsupported());
        return;
    }
    let mut refused = done.refused;
    let done: std::collections::HashSet<&RelPath> = done.paths.iter().collect();
    let files: Vec<RelPath> = files
        .iter()
        .filter(|p| !done.contains(p))
        .cloned()
        .collect();
    for (mode, paths) in [(modes.dir, dirs), (modes.file, files.as_slice())] {
        let Some(mode) = mode.filter(|_| !paths.is_empty()) else {
            continue;
        };
        if job.direction == Direction::Pull {
            for p in paths {
                let local = p.to_local(&job.local);
                if let Err(e) = crate::exec::chmod::set_local(&local, mode) {
                    progress.warn(&format!("cannot chmod {}: {e}", local.display()));
                }
            }
            continue;
        }
        let remote: Vec<String> = paths.iter().map(|p| p.to_remote(pool.root())).collect();
        let notices = std::sync::Mutex::new(Vec::new());
        let on_notice = |m: String| notices.lock().unwrap_or_else(|p| p.into_inner()).push(m);
        let answers = pool.ask_spread(&remote, &on_notice, |s, chunk| s.chmods(mode, chunk));
        for n in notices.into_inner().unwrap_or_else(|p| p.into_inner()) {
            progress.warn(&n);
        }
        if answers.contains(&Some(false)) {
            progress.warn(&unsupported());
            return;
        }
        refused += answers.iter().filter(|a| a.is_none()).count();
    }
    if refused > 0 {
        progress.warn(&format!(
            "SITE CHMOD was refused for {refused} file(s) or directories"
        ));
    }
}

fn dry_run_summary(plan: &Plan) -> String {
    let count = |op| plan.actions().filter(|a| a.op == op).count();
    use crate::plan::Op::*;
    format!(
        "dry run: {} to upload, {} to download ({}), {} to delete, {} dir(s) to create, {} to remove; nothing changed",
        count(Upload),
        count(Download),
        indicatif::HumanBytes(plan.transfer_bytes()),
        count(Delete),
        count(Mkdir) + usize::from(plan.create_root),
        count(Rmdir),
    )
}

/// Every failure and problem, one line each, on stderr.
fn print_failures(report: &Report, progress: &mut Progress) {
    for p in &report.problems {
        progress.error(p);
    }
    for f in &report.failures {
        progress.error(&f.to_string());
    }
}
