//! Transfers: RETR and STOR with their EPSV in one write where the server takes that (one
//! round trip to start), else one command at a time; and after an upload its mtime and its
//! rename into place, in one write where the server keeps that in step.

use std::io::{self, Read, Write};
use std::time::SystemTime;

use anyhow::Result;
use suppaftp::FtpError;

use super::batch::Before;
use super::carry::Carried;
use super::control::expect;
use super::data::Data;
use super::{Mode, Redo, Session, StepError, TimeCommand, mdtm_time};
use crate::remote::proven::Batching;
use crate::remote::{Failure, Step, describe_io, reply_text};

/// The largest upload sent before the server's 150: well within any socket's buffers.
const EARLY_MAX: usize = 64 * 1024;

impl Session {
    /// Downloads `remote` into `out`, from `offset` on (REST, then RETR), calling `progress`
    /// with each chunk's size. Returns the bytes received; a broken data connection is an
    /// error even if the server then replies 226.
    ///
    /// With `mtime`, also the file's mtime to the second (MDTM), or None where the server
    /// does not say. Batched, the MDTM goes in the same write as the EPSV and the RETR.
    pub fn retrieve(
        &mut self,
        remote: &str,
        offset: u64,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
        mtime: bool,
    ) -> Result<(u64, Option<SystemTime>)> {
        // Not between a REST and its RETR: some servers forget the offset.
        let in_batch = mtime && offset == 0;
        if self.batches_data() {
            let r = self.retrieve_batched(remote, offset, out, progress, in_batch);
            // EPSV refused: nothing was read; the PASV path below.
            if r.is_ok() || self.mode == Mode::Epsv {
                let (got, time) = r?;
                let time = match mtime && !in_batch {
                    true => self.mdtm(remote).ok(),
                    false => time,
                };
                return Ok((got, time));
            }
        }
        let got = self.transfer(remote, offset, Way::Down(out), progress)?;
        let time = if mtime { self.mdtm(remote).ok() } else { None };
        Ok((got, time))
    }

    /// A small remote file's bytes (ftpmirror's own state: the manifest, a lock's owner),
    /// or `None` where there is no such file (550).
    pub fn fetch(&mut self, remote: &str) -> Result<Option<Vec<u8>>> {
        let mut bytes = Vec::new();
        match self.retrieve(remote, 0, &mut bytes, &mut |_| {}, false) {
            Ok(_) => Ok(Some(bytes)),
            Err(e) if Failure::code_of(&e) == Some(550) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Uploads `input` to `remote`, from `offset` on (REST, then STOR; `input` must start
    /// there). A local read error resets the data connection rather than closing it, which
    /// the server would take as a complete file.
    pub fn store(
        &mut self,
        remote: &str,
        offset: u64,
        input: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        self.store_with(remote, offset, input, progress, &mut Carried::default())
    }

    /// [`Session::store`], with a finish to carry in the batched write (see `carry`).
    pub(super) fn store_with(
        &mut self,
        remote: &str,
        offset: u64,
        input: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
        carried: &mut Carried,
    ) -> Result<u64> {
        if self.batches_data() {
            let r = self.store_batched(remote, offset, input, progress, carried);
            // EPSV refused: the file was not touched; the PASV path below.
            if r.is_ok() || self.mode == Mode::Epsv {
                return r;
            }
        }
        self.transfer(remote, offset, Way::Up(input), progress)
    }

    /// REST, when resuming, on its own: after a refused REST, a batched command would start
    /// the file over.
    fn rest(&mut self, cmd: &str, remote: &str, offset: u64) -> Result<()> {
        if offset > 0 {
            self.ask(format!("REST {offset}"), &[350])
                .map_err(|e| self.fail_at(Step::of_command(cmd), "REST", remote, &e))?;
        }
        Ok(())
    }

    /// One command at a time: [REST,] EPSV or PASV or PORT, then RETR or STOR.
    fn transfer(
        &mut self,
        remote: &str,
        offset: u64,
        way: Way,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        let cmd = way.verb();
        self.rest(cmd, remote, offset)?;
        let data = self
            .open_data(&format!("{cmd} {remote}"))
            .map_err(|e| self.fail(cmd, remote, &e))?;
        self.move_data(remote, data, way, progress)
    }

    /// EPSV and STOR in one write (see [`Session::open_batched`]). On a plain data
    /// connection, a file of at most [`EARLY_MAX`] bytes goes out as soon as the connection
    /// is made, not one round trip later after the 150.
    fn store_batched(
        &mut self,
        remote: &str,
        offset: u64,
        input: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
        carried: &mut Carried,
    ) -> Result<u64> {
        self.rest("STOR", remote, offset)?;
        let mut head = Vec::new();
        if self.data_tls.is_none() {
            input
                .take(EARLY_MAX as u64 + 1)
                .read_to_end(&mut head)
                .map_err(|e| self.copy_failure("STOR", remote, false, CopyError::Read(e)))?;
        }
        let whole = self.data_tls.is_none() && head.len() <= EARLY_MAX;
        let (sock, _) = self
            .open_batched(
                None,
                &format!("STOR {remote}"),
                None,
                whole.then_some(&head[..]),
                carried,
            )
            .map_err(|e| self.step_failure("STOR", remote, e))?;
        if whole {
            drop(sock);
            progress(head.len() as u64);
            self.exchange(&[], 1)
                .and_then(|mut r| expect(r.remove(0), &[226, 250]))
                .map_err(|e| self.fail("STOR", remote, &e))?;
            return Ok(head.len() as u64);
        }
        let data = self
            .start_data(sock)
            .map_err(|e| self.fail("STOR", remote, &e))?;
        let mut rest = io::Cursor::new(head).chain(input);
        self.move_data(remote, data, Way::Up(&mut rest), progress)
    }

    /// [MDTM,] EPSV and RETR in one write (see [`Session::open_batched`]).
    fn retrieve_batched(
        &mut self,
        remote: &str,
        offset: u64,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
        mtime: bool,
    ) -> Result<(u64, Option<SystemTime>)> {
        self.rest("RETR", remote, offset)?;
        let before = mtime.then_some(Before::Mdtm(remote));
        let (sock, mdtm) = self
            .open_batched(
                before,
                &format!("RETR {remote}"),
                None,
                None,
                &mut Carried::default(),
            )
            .map_err(|e| self.step_failure("RETR", remote, e))?;
        let data = self
            .start_data(sock)
            .map_err(|e| self.fail("RETR", remote, &e))?;
        let got = self.move_data(remote, data, Way::Down(out), progress)?;
        Ok((got, mdtm.as_ref().and_then(mdtm_time)))
    }

    /// Moves a transfer's bytes over `data` and reads the server's completion (226). A data
    /// connection that fails is reset, the session retired (its final reply may still come),
    /// and the transfer failed whatever the server says next.
    fn move_data(
        &mut self,
        remote: &str,
        mut data: Data,
        way: Way,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        let cmd = way.verb();
        let down = matches!(way, Way::Down(_));
        let copied = match way {
            Way::Down(out) => copy(&mut data, out, progress),
            Way::Up(input) => copy(input, &mut data, progress),
        };
        let moved = match copied {
            Ok(n) => n,
            Err(e) => {
                self.broken = true;
                data.abort();
                return Err(self.refusal_or(cmd, remote, down, e));
            }
        };
        // An upload ends by closing our side, which tells the server the file is whole; a
        // download's connection is closed too before the final reply is read, since some
        // servers (proftpd) wait for that before they send it.
        let closed = if down {
            drop(data);
            Ok(())
        } else {
            data.finish()
        };
        if let Err(e) = closed {
            self.broken = true;
            return Err(self.refusal_or(cmd, remote, down, CopyError::Write(e)));
        }
        self.exchange(&[], 1)
            .and_then(|mut r| expect(r.remove(0), &[226, 250]))
            .map_err(|e| self.fail(cmd, remote, &e))?;
        Ok(moved)
    }

    /// A data connection the server dropped during an upload usually comes with its reason
    /// on the control connection (550 permission denied, 552 disk full): that reply, read
    /// within a moment, is the error, else the connection's.
    fn refusal_or(&mut self, cmd: &str, remote: &str, down: bool, e: CopyError) -> anyhow::Error {
        if !down
            && matches!(e, CopyError::Write(_))
            && let Some(r) = self.refusal()
        {
            return self.fail(cmd, remote, &FtpError::UnexpectedResponse(r));
        }
        self.copy_failure(cmd, remote, down, e)
    }

    /// The error for a batched data step that did not open: a redo for the pool, or the
    /// failure with its context.
    fn step_failure(&self, cmd: &str, remote: &str, e: StepError) -> anyhow::Error {
        match e {
            StepError::Redo(why) => anyhow::Error::new(Redo(why)),
            StepError::Failed(e) => self.fail(cmd, remote, &e),
        }
    }

    /// Blames the right side of a failed copy: the network's failures are worth a retry, the
    /// disk's are not.
    fn copy_failure(&self, cmd: &str, remote: &str, down: bool, e: CopyError) -> anyhow::Error {
        let step = Step::of_command(cmd);
        match (e, down) {
            (CopyError::Interrupted, _) => Failure::io(step, "interrupted".into(), false),
            (CopyError::Read(e), true) | (CopyError::Write(e), false) => Failure::io(
                step,
                format!("{cmd} {remote} on {}: {}", self.label, describe_io(&e)),
                true,
            ),
            (CopyError::Write(e), true) => Failure::io(
                Step::Local,
                format!("writing the downloaded data: {e}"),
                false,
            ),
            (CopyError::Read(e), false) => {
                Failure::io(Step::Local, format!("reading the local file: {e}"), false)
            }
        }
    }

    /// After a STOR to `stored`: sets its mtime (when `time` is given) and mode (`chmod`)
    /// and renames it to `rename_to` (when given). Batched, the mtime and mode go first, on
    /// the stored name, and all go in one write: one round trip. No EPSV goes along: a port
    /// is announced only with the command that uses it. Otherwise the rename goes first,
    /// then the mtime and mode on the final name.
    pub fn finish_upload(
        &mut self,
        time: Option<(TimeCommand, SystemTime)>,
        chmod: Option<u32>,
        stored: &str,
        rename_to: Option<&str>,
    ) -> Finished {
        let failed = |e| Finished {
            time: None,
            chmod: None,
            renamed: Err(e),
        };
        // More than one command is worth a batch; one is not.
        let commands = usize::from(time.is_some())
            + usize::from(chmod.is_some())
            + 2 * usize::from(rename_to.is_some());
        let batched = self.batches_after_transfer() && commands > 1;
        if !batched {
            if let Some(to) = rename_to
                && let Err(e) = self.rename(stored, to)
            {
                return failed(e);
            }
            let name = rename_to.unwrap_or(stored).to_string();
            let time = time.map(|(cmd, t)| self.set_time(cmd, &name, t));
            let chmod = chmod.and_then(|mode| {
                let r = self.chmods(mode, std::slice::from_ref(&name));
                r.ok().and_then(|mut a| a.pop())
            });
            return Finished {
                time,
                chmod,
                renamed: Ok(()),
            };
        }
        let mut finish = Carried::finish(time, chmod, stored, rename_to);
        let replies = match self.exchange(&finish.lines, finish.lines.len()) {
            Ok(r) => r,
            Err(FtpError::ConnectionError(io)) if io.kind() == io::ErrorKind::TimedOut => {
                let why = self.anomaly(Batching::AfterTransfer, "RNFR", "no reply came in time");
                return failed(self.step_failure("RNFR/RNTO", stored, why));
            }
            Err(e) => return failed(self.fail("RNFR/RNTO", stored, &e)),
        };
        // Each reply must be its command's success. Anything else may be a refusal, or a
        // server answering batched commands out of order (libunftp does): either way these
        // go one at a time from now on, and this upload is redone that way at once.
        if let Some((line, reply)) = finish.first_wrong(&replies) {
            let what = format!("\"{}\" came back", reply_text(reply));
            let why = self.anomaly(Batching::AfterTransfer, line, &what);
            return failed(self.step_failure("RNFR/RNTO", stored, why));
        }
        finish.replies = replies;
        Finished {
            time: time.map(|_| Ok(())),
            chmod: finish.chmod(),
            renamed: Ok(()),
        }
    }
}

/// What [`Session::finish_upload`] did: the mtime's result and the SITE CHMOD's answer
/// (each if it was tried), and the rename's result.
pub struct Finished {
    pub time: Option<Result<()>>,
    pub chmod: Option<Option<bool>>,
    pub renamed: Result<()>,
}

/// Which way a transfer's bytes go.
enum Way<'a> {
    Down(&'a mut dyn Write),
    Up(&'a mut dyn Read),
}

impl Way<'_> {
    fn verb(&self) -> &'static str {
        match self {
            Way::Down(_) => "RETR",
            Way::Up(_) => "STOR",
        }
    }
}

/// Which side of a copy failed, or a stop was asked for.
enum CopyError {
    Read(io::Error),
    Write(io::Error),
    Interrupted,
}

/// Streams in 256 KiB chunks: memory stays flat whatever the file size, and a big file
/// moves in few system calls.
fn copy(
    from: &mut dyn Read,
    to: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, CopyError> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        if crate::interrupt::requested() {
            return Err(CopyError::Interrupted);
        }
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        to.write_all(&buf[..n]).map_err(CopyError::Write)?;
        total += n as u64;
        progress(n as u64);
    }
    to.flush().map_err(CopyError::Write)?;
    Ok(total)
}
