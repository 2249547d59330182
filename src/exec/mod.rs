//! Runs a `Plan` on the session pool, phase by phase: create the root, clear conflicts,
//! mkdirs (parents first), transfers in parallel (pages after the rest), each round ending
//! with the burst of renames that puts its replaced files in place, then deletes — files
//! before directories, deepest first, and none at all if anything failed or any listing was
//! incomplete.

pub mod backup;
pub mod bwlimit;
pub mod chmod;
pub mod fileop;

use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;

use anyhow::{Context, Result};

use crate::config::SyncJob;
use crate::interrupt;
use crate::path::RelPath;
use crate::plan::guard::{self, Hold};
use crate::plan::{Action, Direction, Op, Plan};
use crate::remote::proven::{Batching, Engaged};
use crate::remote::{
    Carried, CarryState, Failure, Move, Moved, Pool, Renamed, Session, Step, TimeCommand, escape,
};
use crate::report::event::{Event, Fault};
use crate::tree::part_name;

/// A worker's uploads in flight between two of its steps: the finish (mtime and rename) of
/// its last upload waits to go out with its next upload's STOR (see `Session::store_carrying`).
#[derive(Default)]
struct Carry {
    waiting: Option<Waiting>,
    /// Uploads whose carried finish came back as successes: done, to report.
    finished: Vec<Action>,
    /// Uploads whose carried finish was lost or refused: to be done again, one at a time,
    /// with the temporary file the first attempt left.
    again: Vec<(Action, Option<String>)>,
}

/// An upload stored under its temporary name whose finish has not been sent.
struct Waiting {
    action: Action,
    remote: String,
    target: String,
    rename_to: Option<String>,
    time: Option<(TimeCommand, std::time::SystemTime)>,
    /// Whether this finish is the run's trial of carrying.
    trial: bool,
    /// `--chmod`'s file mode, set before the rename.
    chmod: Option<u32>,
    /// Stored under `target` to be renamed to `remote` in the run's burst of renames
    /// (the finish carries only the mtime).
    deferred: bool,
}

impl Waiting {
    /// To be done again: the action, and its temporary file, if it was stored under one.
    fn stale(self) -> (Action, Option<String>) {
        let temp = (self.rename_to.is_some() || self.deferred).then_some(self.target);
        (self.action, temp)
    }

    fn finish(&self) -> Carried {
        Carried::finish(
            self.time,
            self.chmod,
            &self.target,
            self.rename_to.as_deref(),
        )
    }
}

pub struct Executor<'a> {
    pool: &'a Pool,
    local_root: &'a Path,
    direction: Direction,
    /// Keep and continue partial transfers of files this large; `None`: never.
    resume_min: Option<u64>,
    events: Sender<Event>,
    failures: AtomicUsize,
    temp_upload: bool,
    /// The server refused RNFR/RNTO once: upload directly for the rest of the run.
    rename_refused: AtomicBool,
    /// Without MFMT: whether `MDTM time path` sets mtimes (0 unknown, 1 yes, 2 no).
    mdtm_write: AtomicU8,
    /// `--bwlimit`, shared by every worker.
    limiter: Option<crate::exec::bwlimit::Limiter>,
    /// `--upload-last`.
    last: &'a globset::GlobSet,
    /// `--backup-dir`, `--suffix`.
    backup: Option<&'a crate::exec::backup::Backup>,
    /// A rename into place worked in this run: later uploads wait under their temporary
    /// names for the burst of renames at the end of their round.
    renamed_once: AtomicBool,
    /// Uploads stored under their temporary names, waiting for that burst.
    waiting_rename: Mutex<Vec<Placing>>,
    /// `--chmod`'s file mode, sent in the burst before each rename.
    chmod_file: Option<u32>,
    /// What the burst's SITE CHMODs did, for the caller.
    chmodded: Mutex<Chmodded>,
}

/// A finished upload under its temporary name, to be renamed into place.
struct Placing {
    action: Action,
    temp: String,
    target: String,
}

/// The files whose `--chmod` mode went out with their rename into place, and how the server
/// took it; the rest is the caller's to set.
#[derive(Debug, Default)]
pub struct Chmodded {
    pub paths: Vec<RelPath>,
    /// The server does not do SITE CHMOD (500, 502, 504).
    pub unsupported: bool,
    /// Refused for this many files (550).
    pub refused: usize,
}

impl<'a> Executor<'a> {
    pub fn new(
        pool: &'a Pool,
        job: &'a SyncJob,
        mdtm_write: Option<bool>,
        events: Sender<Event>,
    ) -> Self {
        let mdtm_write = match mdtm_write {
            Some(true) => 1,
            Some(false) => 2,
            None if pool.caps().mdtm => 0,
            None => 2,
        };
        Executor {
            pool,
            local_root: &job.local,
            direction: job.direction,
            resume_min: job.resume_min.filter(|_| pool.caps().rest_stream),
            events,
            failures: AtomicUsize::new(0),
            temp_upload: job.temp_upload,
            rename_refused: AtomicBool::new(false),
            mdtm_write: AtomicU8::new(mdtm_write),
            limiter: job.bwlimit.clone().map(crate::exec::bwlimit::Limiter::new),
            last: &job.upload_last,
            backup: job.backup.as_ref(),
            renamed_once: AtomicBool::new(false),
            waiting_rename: Mutex::new(Vec::new()),
            chmod_file: job.chmod.and_then(|c| c.file),
            chmodded: Mutex::new(Chmodded::default()),
        }
    }

    /// Bytes a transfer moved: counted for progress, then held to `--bwlimit`.
    fn moved(&self, n: u64) {
        self.send(Event::Bytes(n));
        if let Some(l) = &self.limiter {
            l.take(n);
        }
    }

    /// `hold_deletes` says why nothing may be deleted in this run, if anything does (see
    /// `plan::guard`, which also holds deletes once any action has failed).
    ///
    /// Returns what the burst of renames did about `--chmod`.
    pub fn execute(&self, plan: &Plan, hold_deletes: Option<Hold>) -> Chmodded {
        self.phases(plan, hold_deletes);
        std::mem::take(&mut *self.chmodded.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn phases(&self, plan: &Plan, hold_deletes: Option<Hold>) {
        if plan.create_root && !self.create_root() {
            return;
        }
        if !plan.clear.is_empty() {
            match &hold_deletes {
                None => self.remove(&plan.clear),
                Some(why) => self.notice(format!(
                    "{} file/directory conflict(s) not replaced because {why}",
                    plan.clear.len()
                )),
            }
        }
        let mkdirs: Vec<&Action> = plan.mkdirs.iter().collect();
        for level in by_depth(&mkdirs, false) {
            self.run(&level);
        }
        // Pages after their assets: what `--upload-last` matches goes once the rest is in
        // place (each round ends with its uploads renamed into place, in one burst).
        let (last, first): (Vec<&Action>, Vec<&Action>) =
            largest_first(&plan.transfers).into_iter().partition(|a| {
                self.direction == Direction::Push && self.last.is_match(a.path.as_str())
            });
        self.run(&first);
        self.place();
        if !last.is_empty() {
            self.run(&last);
            self.place();
        }
        if plan.deletes.is_empty() {
            return;
        }
        let failed = self.failures.load(Ordering::SeqCst);
        let why = hold_deletes.or_else(|| guard::after_failures(failed));
        if let Some(why) = why {
            self.notice(format!(
                "{} deletion(s) skipped because {why}",
                plan.deletes.len()
            ));
            return;
        }
        self.remove(&plan.deletes);
    }

    fn send(&self, ev: Event) {
        // The receiver only goes away when the run is over; nothing to do then.
        let _ = self.events.send(ev);
    }

    fn notice(&self, msg: String) {
        self.send(Event::Notice(msg));
    }

    fn create_root(&self) -> bool {
        self.send(Event::Start {
            op: Op::Mkdir,
            path: RelPath::root(),
        });
        let result = match self.direction {
            Direction::Pull => fs::create_dir_all(self.local_root)
                .with_context(|| format!("cannot create {}", self.local_root.display())),
            Direction::Push => self.pool.take().and_then(|mut s| {
                let r = s.mkdir_all(self.pool.root());
                self.pool.give(s);
                r
            }),
        };
        let ok = result.is_ok();
        self.done(Op::Mkdir, &RelPath::root(), 0, result.map(|_| ()));
        ok
    }

    fn done(&self, op: Op, path: &RelPath, bytes: u64, result: Result<()>) {
        if result.is_err() {
            self.failures.fetch_add(1, Ordering::SeqCst);
        }
        self.send(Event::Done {
            op,
            path: path.clone(),
            bytes,
            result: result.map_err(|e| Fault::of(&e)),
        });
    }

    /// Files in parallel, then directories one depth level at a time, deepest first.
    fn remove(&self, actions: &[Action]) {
        let files: Vec<&Action> = actions.iter().filter(|a| a.op == Op::Delete).collect();
        self.run(&files);
        let dirs: Vec<&Action> = actions.iter().filter(|a| a.op == Op::Rmdir).collect();
        for level in by_depth(&dirs, true) {
            self.run(&level);
        }
    }

    /// Runs independent actions: local ones on this thread, remote ones across the pool.
    fn run(&self, actions: &[&Action]) {
        if actions.is_empty() {
            return;
        }
        let local_only =
            self.direction == Direction::Pull && actions.iter().all(|a| !a.op.is_transfer());
        if local_only {
            for a in actions.iter().take_while(|_| !interrupt::requested()) {
                self.send(start(a));
                let r = self.local_op(a);
                self.done(a.op, &a.path, 0, r);
            }
            return;
        }
        let outcome = self.pool.run_with(
            actions,
            |session, carry: &mut Carry, a| {
                self.send(start(a));
                let (bytes, r) = self.remote_op(session, carry, a);
                // The previous upload first: its finish went with this one.
                self.settle(session, carry);
                // None: an upload whose finish rides with this worker's next upload.
                if let Some(r) = r {
                    self.done(a.op, &a.path, bytes, r);
                }
            },
            |session, carry| self.flush(session, carry),
        );
        if let Some(n) = self.pool.take_shrink_notice() {
            self.notice(n);
        }
        if interrupt::requested() {
            if !outcome.unattempted.is_empty() {
                self.notice(format!(
                    "interrupted: {} action(s) not started",
                    outcome.unattempted.len()
                ));
            }
            return;
        }
        let why = outcome.session_errors.join("; ");
        for i in outcome.unattempted {
            let a = &actions[i];
            self.done(
                a.op,
                &a.path,
                0,
                Err(Failure::io(
                    Step::Connect,
                    format!("not attempted: no FTP session ({why})"),
                    true,
                )),
            );
        }
    }

    fn local_path(&self, p: &RelPath) -> PathBuf {
        p.to_local(self.local_root)
    }

    fn local_op(&self, a: &Action) -> Result<()> {
        let path = self.local_path(&a.path);
        let r = match a.op {
            Op::Mkdir => match fs::create_dir(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
                other => other,
            },
            Op::Delete if self.backup.is_some() => return self.back_up_local(a),
            Op::Delete => fs::remove_file(&path),
            Op::Rmdir => fs::remove_dir(&path),
            Op::Upload | Op::Download => unreachable!("transfers need a session"),
        };
        r.with_context(|| format!("{} {}", a.op.label(), path.display()))
    }

    /// One remote action, retried on transient failures over a reconnected session. `None`
    /// for an upload whose finish waits in `carry`.
    fn remote_op(
        &self,
        s: &mut Session,
        carry: &mut Carry,
        a: &Action,
    ) -> (u64, Option<Result<()>>) {
        let on_retry = |m: String| self.notice(format!("{} {}: {m}", a.op.label(), a.path));
        // The planner's resume offset holds for the first attempt; a retry continues from what
        // the failed attempt kept, if anything.
        let mut first = true;
        let r = self.pool.with_retries(s, &on_retry, |s| {
            let r = self.remote_once(s, carry, a, first);
            first = false;
            r
        });
        match r {
            Ok(Some(n)) => (n, Some(Ok(()))),
            Ok(None) => (0, None),
            Err(e) => (0, Some(Err(e))),
        }
    }

    fn remote_once(
        &self,
        s: &mut Session,
        carry: &mut Carry,
        a: &Action,
        first: bool,
    ) -> Result<Option<u64>> {
        let remote = a.path.to_remote(self.pool.root());
        let done = match (self.direction, a.op) {
            (Direction::Push, Op::Upload) => return self.upload(s, carry, a, &remote, first),
            (Direction::Pull, Op::Download) => self.download(s, a, &remote, first),
            (Direction::Push, Op::Mkdir) => s.mkdir(&remote).map(|()| 0),
            (Direction::Push, Op::Delete) => match self.backup {
                Some(_) => self.back_up_remote(s, a).map(|()| 0),
                None => s.remove_file(&remote).map(|()| 0),
            },
            (Direction::Push, Op::Rmdir) => s.remove_dir(&remote).map(|()| 0),
            (Direction::Pull, _) => self.local_op(a).map(|()| 0),
            (Direction::Push, Op::Download) => unreachable!("push never downloads"),
        };
        done.map(Some)
    }

    /// Reports the uploads whose carried finish came back, and does again, one at a time,
    /// those whose finish was lost.
    fn settle(&self, s: &mut Session, carry: &mut Carry) {
        for a in std::mem::take(&mut carry.finished) {
            self.done(a.op, &a.path, a.size, Ok(()));
        }
        while let Some((a, temp)) = carry.again.pop() {
            let (bytes, r) = self.remote_op(s, carry, &a);
            // Done again straight to its name: the first attempt's temporary file goes.
            if let Some(temp) = temp.filter(|_| self.rename_refused.load(Ordering::SeqCst))
                && !s.broken
            {
                let _ = s.remove_file(&temp);
            }
            if let Some(r) = r {
                self.done(a.op, &a.path, bytes, r);
            }
        }
    }

    /// At a worker's end: the finish still waiting goes out on its own, and what is to be
    /// done again is (a redone upload may leave a finish waiting in turn: a few rounds).
    fn flush(&self, mut s: Option<&mut Session>, carry: &mut Carry) {
        if interrupt::requested() {
            // Nothing is put in place after a stop: the temporary files go.
            let left = carry.waiting.take().map(Waiting::stale);
            let again = std::mem::take(&mut carry.again);
            for (a, temp) in left.into_iter().chain(again) {
                if let (Some(s), Some(temp)) = (s.as_deref_mut(), temp.as_deref())
                    && !s.broken
                {
                    let _ = s.remove_file(temp);
                }
                self.done(a.op, &a.path, 0, Err(stopped_before_rename()));
            }
            return;
        }
        if let Some(s) = s {
            for _ in 0..3 {
                if let Some(w) = carry.waiting.take() {
                    if w.trial {
                        s.untried_carry();
                    }
                    let on_retry =
                        |m: String| self.notice(format!("upload {}: {m}", w.action.path));
                    match self
                        .pool
                        .with_retries(s, &on_retry, |s| self.finish_waiting(s, &w))
                    {
                        Ok(()) => self.finished(carry, w),
                        // Refused (a server that cannot rename) or lost: the whole upload
                        // again, which knows what to do about a refused rename.
                        Err(_) => carry.again.push(w.stale()),
                    }
                }
                self.settle(s, carry);
                if carry.waiting.is_none() && carry.again.is_empty() {
                    return;
                }
            }
        }
        let left = carry.waiting.take().map(|w| w.action);
        let again = std::mem::take(&mut carry.again).into_iter().map(|(a, _)| a);
        for a in left.into_iter().chain(again) {
            let msg = "upload not finished: no FTP session left for it".to_string();
            let e = Failure::io(Step::Connect, msg, true);
            self.done(a.op, &a.path, 0, Err(e));
        }
    }

    /// An upload whose finish came back as successes: done, or waiting for the burst.
    fn finished(&self, carry: &mut Carry, w: Waiting) {
        if w.deferred {
            self.wait_rename(&w.action, &w.target, &w.remote);
            return;
        }
        if w.rename_to.is_some() {
            self.renamed_once.store(true, Ordering::SeqCst);
        }
        carry.finished.push(w.action);
    }

    fn wait_rename(&self, a: &Action, temp: &str, target: &str) {
        lock(&self.waiting_rename).push(Placing {
            action: a.clone(),
            temp: temp.to_string(),
            target: target.to_string(),
        });
    }

    /// Renames the uploads waiting under their temporary names into place: one burst,
    /// spread over the sessions, each rename's RNFR and RNTO in one write (see
    /// `Session::renames`), with `--chmod`'s SITE CHMOD before it so that no file is in
    /// place with the wrong mode.
    fn place(&self) {
        let waiting = std::mem::take(&mut *lock(&self.waiting_rename));
        if waiting.is_empty() {
            return;
        }
        if interrupt::requested() {
            // A stop leaves every final name as it was; the temporary files go.
            self.remove_temps(waiting.iter().map(|p| p.temp.as_str()));
            for p in waiting {
                self.done(Op::Upload, &p.action.path, 0, Err(stopped_before_rename()));
            }
            return;
        }
        let chmod = self.chmod();
        let moves: Vec<Move> = waiting
            .iter()
            .map(|p| Move {
                from: p.temp.clone(),
                to: p.target.clone(),
                chmod,
            })
            .collect();
        let on_notice = |m: String| self.notice(m);
        let answers = self.pool.spread(
            Batching::AfterTransfer,
            1,
            &moves,
            &on_notice,
            |s, chunk| Ok(s.renames(chunk)?.into_iter().map(Some).collect()),
        );
        let label = self.pool.endpoint().label();
        let mut gone = Vec::new();
        let mut refused = Vec::new();
        for (p, answer) in waiting.into_iter().zip(answers) {
            let (path, size) = (&p.action.path, p.action.size);
            let stays = |what: String, code: Option<u32>| {
                anyhow::Error::new(Failure {
                    message: format!("{what}; the upload stays as {}", escape(&p.temp)),
                    step: Step::Rename,
                    code,
                    transient: true,
                })
            };
            match answer {
                Some(Moved {
                    renamed: Renamed::Done,
                    chmod,
                }) => {
                    self.note_chmod(path, chmod);
                    self.done(Op::Upload, path, size, Ok(()));
                }
                Some(Moved {
                    renamed: Renamed::FromRefused(why),
                    ..
                }) => gone.push((p, why)),
                Some(Moved {
                    renamed: Renamed::ToRefused((code, text)),
                    ..
                }) if code >= 500 => refused.push((p, text)),
                Some(Moved {
                    renamed: Renamed::ToRefused((code, text)),
                    ..
                }) => {
                    let what = format!("RNTO {} on {label}: {text}", escape(&p.target));
                    self.done(Op::Upload, path, 0, Err(stays(what, Some(code))));
                }
                None => {
                    let what = "not renamed into place: no FTP session for it".to_string();
                    self.done(Op::Upload, path, 0, Err(stays(what, None)));
                }
            }
        }
        self.settle_gone(gone);
        self.redo_refused(refused);
    }

    fn note_chmod(&self, path: &RelPath, answer: Option<Option<bool>>) {
        let mut c = lock(&self.chmodded);
        match answer {
            Some(Some(true)) => c.paths.push(path.clone()),
            Some(Some(false)) => c.unsupported = true,
            Some(None) => c.refused += 1,
            None => {}
        }
    }

    /// Renames whose RNFR was refused: done already where the final name has the upload's
    /// size and the temporary name is gone (a first sending whose replies were lost, then
    /// redone); a failure otherwise.
    fn settle_gone(&self, gone: Vec<(Placing, (u32, String))>) {
        if gone.is_empty() {
            return;
        }
        let paths: Vec<String> = gone
            .iter()
            .flat_map(|(p, _)| [p.target.clone(), p.temp.clone()])
            .collect();
        let sizes = match self.pool.caps().size {
            true => self
                .pool
                .ask_spread(&paths, &|m| self.notice(m), |s, c| s.sizes(c)),
            false => Vec::new(),
        };
        let label = self.pool.endpoint().label();
        for (i, (p, (code, why))) in gone.into_iter().enumerate() {
            let a = &p.action;
            let placed =
                sizes.get(2 * i) == Some(&Some(a.size)) && sizes.get(2 * i + 1) == Some(&None);
            let r = match placed {
                true => Ok(()),
                false => Err(anyhow::Error::new(Failure {
                    message: format!("RNFR {} on {label}: {why}", escape(&p.temp)),
                    step: Step::Rename,
                    code: Some(code),
                    transient: false,
                })),
            };
            self.done(Op::Upload, &a.path, if placed { a.size } else { 0 }, r);
        }
    }

    /// Renames the server refused outright: as when the first rename is refused, the rest of
    /// the run uploads straight to the final names, and these uploads are done again that
    /// way, their temporary files removed.
    fn redo_refused(&self, refused: Vec<(Placing, String)>) {
        let Some((first, why)) = refused.first() else {
            return;
        };
        if !self.rename_refused.swap(true, Ordering::SeqCst) {
            self.notice(format!(
                "the server refused to rename an upload into place (RNTO {}: {why}); \
                 uploading directly to the final names for the rest of this run",
                escape(&first.target)
            ));
        }
        self.remove_temps(refused.iter().map(|(p, _)| p.temp.as_str()));
        let again: Vec<Action> = refused.into_iter().map(|(p, _)| p.action).collect();
        self.run(&again.iter().collect::<Vec<_>>());
    }

    /// Removes temporary uploads on one session, as far as it lasts: best effort, since what
    /// is left is set aside by name from every tree and taken again by the next run.
    fn remove_temps<'t>(&self, temps: impl IntoIterator<Item = &'t str>) {
        let Ok(mut s) = self.pool.take() else { return };
        for t in temps {
            if s.broken {
                break;
            }
            let _ = s.remove_file(t);
        }
        self.pool.give(s);
    }

    /// Sends a waiting upload's finish on its own, as `Session::finish_upload` does.
    fn finish_waiting(&self, s: &mut Session, w: &Waiting) -> Result<()> {
        let f = s.finish_upload(w.time, w.chmod, &w.target, w.rename_to.as_deref());
        self.note_finish(&w.action.path, &w.remote, f)
    }

    /// Takes what a finish said about the mtime and mode; its rename's result is the caller's.
    fn note_finish(&self, path: &RelPath, remote: &str, f: crate::remote::Finished) -> Result<()> {
        self.note_time(remote, f.time);
        self.note_chmod(path, f.chmod);
        f.renamed
    }

    /// `--chmod`'s file mode where it goes with an upload's finish: not known refused.
    fn chmod(&self) -> Option<u32> {
        self.chmod_file
            .filter(|_| !lock(&self.chmodded).unsupported)
    }

    /// What became of the previous upload's finish, carried (or not) with this upload.
    fn settled(&self, s: &mut Session, carry: &mut Carry, w: Waiting, carried: &Carried) {
        match carried.state() {
            CarryState::Answered => {
                self.note_time(&w.remote, w.time.map(|_| Ok(())));
                self.note_chmod(&w.action.path, carried.chmod());
                self.finished(carry, w);
            }
            CarryState::Lost => carry.again.push(w.stale()),
            CarryState::Unsent => {
                if w.trial {
                    s.untried_carry();
                }
                match self.finish_waiting(s, &w) {
                    Ok(()) => self.finished(carry, w),
                    Err(_) => carry.again.push(w.stale()),
                }
            }
        }
    }

    /// Uploads to `.NAME.ftpmirror-part` in the same directory and renames it over `NAME`
    /// (RNFR/RNTO), so nobody ever sees a half-written file under the real name. If the server
    /// refuses the rename, says so once and uploads directly from then on. The bytes sent must
    /// add up to the planned size and the server must confirm the transfer (226); no SIZE
    /// round trip per file. The mtime and the rename go out in one write where the server
    /// keeps that in step (see `Session::finish_upload`).
    ///
    /// Where the server has shown it takes that, the finish waits to go out with this worker's
    /// next upload (`Ok(None)`), and the previous upload's finish goes with this one's STOR.
    fn upload(
        &self,
        s: &mut Session,
        carry: &mut Carry,
        a: &Action,
        remote: &str,
        first: bool,
    ) -> Result<Option<u64>> {
        let via_temp = self.temp_upload && !self.rename_refused.load(Ordering::SeqCst);
        let temp = || -> Result<String> {
            let parent = a.path.parent().unwrap_or_default();
            let temp = parent
                .join(&part_name(a.path.name()))
                .map_err(|e| anyhow::anyhow!("{}: {e}", a.path))?;
            Ok(temp.to_remote(self.pool.root()))
        };
        let target = if via_temp {
            temp()?
        } else {
            remote.to_string()
        };
        if self.temp_upload && !via_temp && !first {
            // An earlier attempt went to the temporary name before renames were found
            // refused (a STOR abandoned with its session, say): nothing may stay there.
            let _ = s.remove_file(&temp()?);
        }
        let offset = if first && via_temp { a.resume_from } else { 0 };
        let time = self.time_command().zip(a.mtime);
        if self.backup.is_some() && replaces(a) && !via_temp && first {
            // Straight to the final name: the old copy has to go aside before the STOR.
            self.back_up_remote(s, a)?;
        }
        let waiting = carry.waiting.take();
        let mut carried = waiting.as_ref().map(Waiting::finish).unwrap_or_default();
        let stored = self.store_file(s, a, &target, offset, &mut carried);
        if let Some(w) = waiting {
            self.settled(s, carry, w, &carried);
        }
        // A file replaced with --backup-dir/--suffix: its old copy is moved aside right
        // before the new one is renamed over it, so the finish does not wait to be carried.
        let backs_up = self.backup.is_some() && replaces(a);
        // Once a rename into place has worked, a file that replaces one waits for the
        // round's burst, so the old versions all give way at once. A new file goes in place
        // at once: nothing links to it before the pages that do, which come last.
        let deferred =
            via_temp && !backs_up && replaces(a) && self.renamed_once.load(Ordering::SeqCst);
        let rename_to = (via_temp && !deferred).then(|| remote.to_string());
        // A deferred file's mode goes with its rename, in the burst.
        let chmod = self.chmod().filter(|_| !deferred);
        let stored = stored.and_then(|n| {
            // A stop leaves the final name as it was: no finish goes after it.
            if interrupt::requested() {
                return Err(Failure::io(Step::Store, "interrupted".into(), false));
            }
            if backs_up && via_temp {
                self.back_up_remote(s, a)?;
            }
            let engaged =
                match (time.is_some() || chmod.is_some() || rename_to.is_some()) && !backs_up {
                    true => s.may_carry(),
                    false => Engaged::Off,
                };
            if engaged.yes() {
                carry.waiting = Some(Waiting {
                    action: a.clone(),
                    remote: remote.to_string(),
                    target: target.clone(),
                    rename_to: rename_to.clone(),
                    time,
                    trial: engaged == Engaged::Trial,
                    chmod,
                    deferred,
                });
                return Ok(None);
            }
            let f = s.finish_upload(time, chmod, &target, rename_to.as_deref());
            self.note_finish(&a.path, remote, f)?;
            if deferred {
                self.wait_rename(a, &target, remote);
                return Ok(None);
            }
            if rename_to.is_some() {
                self.renamed_once.store(true, Ordering::SeqCst);
            }
            Ok(Some(n))
        });
        let e = match stored {
            Ok(n) => return Ok(n.map(|_| a.size)),
            Err(e) => e,
        };
        let refused = via_temp
            && Failure::code_of(&e).is_some_and(|c| c >= 500)
            && Failure::step_of(&e) == Some(Step::Rename);
        // Keep a large partial upload for the next attempt or run; remove anything else.
        let keep = !refused && self.keeps_partial(a, &e);
        if via_temp && !keep && !s.broken {
            let _ = s.remove_file(&target);
        }
        if !refused {
            return Err(e);
        }
        if !self.rename_refused.swap(true, Ordering::SeqCst) {
            self.notice(format!(
                "the server refused to rename an upload into place ({e:#}); \
                 uploading directly to the final names for the rest of this run"
            ));
        }
        self.store_file(s, a, remote, 0, &mut Carried::default())?;
        let f = s.finish_upload(time, chmod, remote, None);
        let _ = self.note_finish(&a.path, remote, f);
        Ok(Some(a.size))
    }

    /// Moves the server's copy of `a.path` to its backup name (RNFR/RNTO), making the
    /// backup's directories first. A redo that finds it moved already goes on.
    fn back_up_remote(&self, s: &mut Session, a: &Action) -> Result<()> {
        let b = self.backup.expect("called with a backup");
        let from = a.path.to_remote(self.pool.root());
        let to = b.remote(self.pool.root(), &a.path);
        if let Some((dir, _)) = to.rsplit_once('/')
            && !dir.is_empty()
            && !s.dir_exists(dir).unwrap_or(false)
        {
            s.ensure_dir(dir)?;
        }
        match s.rename(&from, &to) {
            Ok(()) => Ok(()),
            // Redone after a lost reply: moved already, the first time.
            Err(_) if !s.broken && s.sizes(std::slice::from_ref(&from))?.first() == Some(&None) => {
                Ok(())
            }
            Err(e) => {
                let what = format!("backing up {} to {}", a.path, escape(&to));
                Err(Failure::at(Step::Backup, what, e))
            }
        }
    }

    /// Moves the local `a.path` to its backup name.
    fn back_up_local(&self, a: &Action) -> Result<()> {
        let b = self.backup.expect("called with a backup");
        let from = self.local_path(&a.path);
        let to = b.local(self.local_root, &a.path);
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        fs::rename(&from, &to)
            .with_context(|| format!("backing up {} to {}", from.display(), to.display()))
    }

    /// How uploads get their mtime here: MFMT, else vsftpd's `MDTM time path` until the
    /// server refuses it; `None` when neither works.
    fn time_command(&self) -> Option<TimeCommand> {
        if self.pool.caps().mfmt {
            Some(TimeCommand::Mfmt)
        } else if self.mdtm_write.load(Ordering::SeqCst) != 2 {
            Some(TimeCommand::MdtmWrite)
        } else {
            None
        }
    }

    /// Warns about an mtime that could not be set, except where `MDTM time path` was not yet
    /// known to work: that refusal is the probe's answer, one `-v` line that turns the
    /// attempts off for the run, and the sessions that tried it at the same time say nothing.
    fn note_time(&self, remote: &str, r: Option<Result<()>>) {
        let Some(r) = r else { return };
        if !self.pool.caps().mfmt {
            let known = if r.is_ok() { 1 } else { 2 };
            let was = self.mdtm_write.swap(known, Ordering::SeqCst);
            if was != 1 && r.is_err() {
                if let (0, Err(e)) = (was, &r) {
                    self.send(Event::Detail(format!(
                        "setting mtimes with MDTM: no ({e:#}); uploads keep the server's time"
                    )));
                }
                return;
            }
        }
        if let Err(e) = r {
            self.notice(format!("cannot set the mtime of {}: {e:#}", escape(remote)));
        }
    }

    /// STOR of the local file for `a` to `target`, from `offset` on (REST); the bytes sent
    /// must add up to the listed size.
    fn store_file(
        &self,
        s: &mut Session,
        a: &Action,
        target: &str,
        offset: u64,
        carried: &mut Carried,
    ) -> Result<u64> {
        let local = self.local_path(&a.path);
        let mut file =
            File::open(&local).with_context(|| format!("cannot open {}", local.display()))?;
        file.seek(SeekFrom::Start(offset))
            .with_context(|| format!("cannot seek in {}", local.display()))?;
        let sent = s.store_carrying(target, offset, &mut file, &mut |n| self.moved(n), carried)?;
        if offset + sent != a.size {
            let msg = format!(
                "{} changed during the upload: sent {} bytes, expected {}",
                local.display(),
                offset + sent,
                a.size
            );
            return Err(Failure::io(Step::Verify, msg, false));
        }
        Ok(sent)
    }

    /// Whether a transfer that failed with `e` keeps its partial file for a later attempt:
    /// large enough, continuing allowed (`--continue` and REST STREAM), and a failure of the
    /// connection or a stop, not a refusal.
    fn keeps_partial(&self, a: &Action, e: &anyhow::Error) -> bool {
        self.resume_min.is_some_and(|m| a.size >= m)
            && (Failure::is_transient(e) || interrupt::requested())
    }

    /// Downloads into `.NAME.ftpmirror-part` beside the target, checks the size, sets the
    /// mtime, then renames over the target: the old file stays intact until the new one is whole.
    fn download(&self, s: &mut Session, a: &Action, remote: &str, first: bool) -> Result<u64> {
        let target = self.local_path(&a.path);
        let part = target.with_file_name(part_name(a.path.name()));
        let kept = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        let wanted = if first {
            a.resume_from
        } else if self.resume_min.is_some() {
            kept
        } else {
            0
        };
        // Continue only from a part that is exactly as long as expected and shorter than the file.
        let offset = if wanted > 0 && wanted == kept && kept < a.size && !a.rough_size {
            kept
        } else {
            0
        };
        let mut file = if offset > 0 {
            OpenOptions::new().append(true).open(&part)
        } else {
            File::create(&part)
        }
        .with_context(|| format!("cannot create {}", part.display()))?;
        let result = (|| {
            // LIST gives minutes at best: where MDTM exists, ask for the second.
            let exact = !self.pool.caps().mlsd && self.pool.caps().mdtm;
            let (got, exact) =
                s.retrieve(remote, offset, &mut file, &mut |n| self.moved(n), exact)?;
            if offset + got != a.size && !a.rough_size {
                // A data connection that ended early, whatever the server replied after it.
                return Err(Failure::io(
                    Step::Verify,
                    format!(
                        "RETR {} returned {} bytes but the listing said {}",
                        escape(remote),
                        offset + got,
                        a.size
                    ),
                    true,
                ));
            }
            if let Some(t) = exact.or(a.mtime) {
                file.set_modified(t)
                    .with_context(|| format!("cannot set the mtime of {}", part.display()))?;
            }
            if self.backup.is_some() && replaces(a) && target.exists() {
                self.back_up_local(a)?;
            }
            fs::rename(&part, &target).with_context(|| {
                format!("cannot rename {} to {}", part.display(), target.display())
            })?;
            Ok(got)
        })();
        if let Err(e) = &result {
            let has_data = file.metadata().map(|m| m.len() > 0).unwrap_or(false);
            if self.keeps_partial(a, e) && has_data {
                // Dated like the remote file, so the next run sees it as a part of this version.
                if let Some(t) = a.mtime {
                    let _ = file.set_modified(t);
                }
            } else {
                let _ = fs::remove_file(&part);
            }
        }
        result
    }
}

/// An upload stored whole but not put in place, because a stop came first.
fn stopped_before_rename() -> anyhow::Error {
    let msg = "interrupted before its rename into place".to_string();
    Failure::io(Step::Rename, msg, false)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn start(a: &Action) -> Event {
    Event::Start {
        op: a.op,
        path: a.path.clone(),
    }
}

/// Whether a transfer overwrites a file the destination has (what `--backup-dir` keeps).
fn replaces(a: &Action) -> bool {
    !matches!(
        a.reason,
        crate::compare::Reason::Missing | crate::compare::Reason::TypeDiffers
    )
}

/// The transfers, largest first (ties in plan order): the sessions start on the long ones
/// while the small ones fill in around them, so the run does not end on one big file
/// that started last.
fn largest_first(actions: &[Action]) -> Vec<&Action> {
    let mut sorted: Vec<&Action> = actions.iter().collect();
    sorted.sort_by_key(|a| std::cmp::Reverse(a.size));
    sorted
}

/// Groups actions by path depth: shallowest first, or deepest first when `deepest_first`.
fn by_depth<'a>(actions: &[&'a Action], deepest_first: bool) -> Vec<Vec<&'a Action>> {
    let mut levels: Vec<Vec<&Action>> = Vec::new();
    let mut sorted = actions.to_vec();
    sorted.sort_by_key(|a| a.path.depth());
    if deepest_first {
        sorted.reverse();
    }
    for a in sorted {
        match levels.last_mut() {
            Some(l) if l[0].path.depth() == a.path.depth() => l.push(a),
            _ => levels.push(vec![a]),
        }
    }
    levels
}
