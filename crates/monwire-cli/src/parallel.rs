//! `decode` on every core.
//!
//! A capture is a sequence of records that decode one by one: lines (zmq frames and NSM
//! datagrams in hex, SysAdm JSON) or length-prefixed messages (Galaxy). One thread reads the input and cuts it
//! into blocks of whole records ([`Records`]), about [`BLOCK`] bytes each, and hands them out
//! in turn to the workers. Each worker decodes, filters and formats its block into bytes of
//! output and notes for stderr ([`BlockOut`]); the main thread writes the blocks' output in
//! input order, each block's notes just before its lines. The output is the same, byte for
//! byte, as on one thread (`--threads 1`).
//!
//! It applies when the stdout printer is the only sink and stdout is a file or pipe
//! ([`Pipeline::block_formatter`]); otherwise (a terminal, an OTLP exporter) the protocol
//! decodes on the main thread as before.
//!
//! Bounds: the reader fills one block; each worker has at most one block waiting, one in work
//! and one done that waits for the writer, so at most `3 × threads + 2` blocks are in memory
//! however fast the input comes or however slow stdout drains. A live pipe is not held up:
//! the reader hands out whatever whole records a read returned, and the writer flushes
//! stdout whenever the next block is not ready yet. A signal is seen within 100 ms, and the
//! run ends without waiting for the reader (which may be blocked on stdin).

use std::io::Read;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, sync_channel};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use monwire_event::{Event, Filter};

use crate::output::Formatter;
use crate::pipeline::Pipeline;
use crate::{Failure, Run, Status};

/// The size of the blocks the input is read and handed out in.
pub(crate) const BLOCK: usize = 256 * 1024;

/// The most worker threads a decode starts by itself (one per core up to this).
const MAX_THREADS: usize = 8;

/// The most it starts when asked (`--threads`): the blocks in flight, and so the memory, grow
/// with the number of workers.
const MAX_ASKED: usize = 64;

static THREADS: OnceLock<usize> = OnceLock::new();

/// Sets the number of threads decodes use (`--threads`; 0: one per core, at most 8).
pub(crate) fn set_threads(n: usize) {
    let _ = THREADS.set(n);
}

/// How many workers to start: `--threads` (at most [`MAX_ASKED`]), else one per core (at
/// most [`MAX_THREADS`]). 1 means: decode on the main thread.
fn threads() -> usize {
    match THREADS.get().copied().unwrap_or(0) {
        0 => std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(MAX_THREADS),
        n => n.min(MAX_ASKED),
    }
}

/// Where a block starts in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct At {
    /// The byte offset of its first byte.
    pub(crate) offset: u64,
    /// The 1-based number of its first line.
    pub(crate) line: usize,
}

/// How a capture divides into records.
pub(crate) trait Records: Send + 'static {
    /// The length of the longest prefix of `buf` made of whole records (0: not one yet).
    /// `buf[..seen]` was looked at before and held no whole record (so a search for a record's
    /// end need not look there again, and a long record costs linear time).
    fn whole(&self, buf: &[u8], seen: usize) -> usize;
}

/// Records that are lines.
struct Lines;

impl Records for Lines {
    fn whole(&self, buf: &[u8], seen: usize) -> usize {
        let new = buf.get(seen..).unwrap_or_default();
        memchr::memrchr(b'\n', new).map_or(0, |i| seen + i + 1)
    }
}

/// What a worker does with a block.
pub(crate) trait Blocks: Clone + Send + 'static {
    /// Decodes every record of `block` into `out`. Only the input's last block can end in a
    /// record cut short (the decoder reports it).
    fn decode(&mut self, block: &[u8], at: At, out: &mut BlockOut);
}

/// Where a decoder puts what it makes of a record: on the main thread the pipeline
/// ([`Direct`]), on a worker a block's output ([`BlockOut`]). One decode function serves both.
pub(crate) trait Emit {
    /// One event, through the filters to the output. `Break`: stop decoding.
    fn event(&mut self, e: &Event) -> ControlFlow<()>;
    /// A line of output that is not an event (filters do not apply).
    fn raw_line(&mut self, line: &str) -> ControlFlow<()>;
    /// Raw output bytes (a re-encoded message).
    fn raw_bytes(&mut self, bytes: &[u8]) -> ControlFlow<()>;
    /// A line for stderr (a [`crate::diag`] line, without its newline).
    fn note(&mut self, line: String);
    /// The input had a record that did not decode: the run's status is bad input.
    fn bad_input(&mut self);
}

/// [`Emit`] on the main thread: straight into the pipeline.
pub(crate) struct Direct<'a> {
    /// The run's pipeline.
    pub(crate) out: &'a mut Pipeline,
    /// Whether a record did not decode.
    pub(crate) bad: bool,
}

impl Emit for Direct<'_> {
    fn event(&mut self, e: &Event) -> ControlFlow<()> {
        self.out.event(e)
    }
    fn raw_line(&mut self, line: &str) -> ControlFlow<()> {
        self.out.printer().raw_line(line)
    }
    fn raw_bytes(&mut self, bytes: &[u8]) -> ControlFlow<()> {
        self.out.printer().raw_bytes(bytes)
    }
    fn note(&mut self, line: String) {
        eprintln!("{line}");
    }
    fn bad_input(&mut self) {
        self.bad = true;
    }
}

/// A worker's output for one block: formatted events and stderr notes.
pub(crate) struct BlockOut {
    filter: Filter,
    format: Formatter,
    line: String,
    bytes: Vec<u8>,
    notes: Vec<String>,
    passed: u64,
    bad_input: bool,
    stop: bool,
}

impl BlockOut {
    /// Nothing after this point of the input can be decoded (a stream that cannot
    /// resynchronise): the run stops after this block's output.
    pub(crate) fn stop(&mut self) {
        self.stop = true;
    }
}

impl Emit for BlockOut {
    fn event(&mut self, e: &Event) -> ControlFlow<()> {
        if self.filter.matches(e) {
            self.passed += 1;
            if let Some(note) = self.format.write(e, &mut self.line, &mut self.bytes) {
                self.notes.push(note);
            }
        }
        ControlFlow::Continue(())
    }
    fn raw_line(&mut self, line: &str) -> ControlFlow<()> {
        if !self.format.is_quiet() {
            self.bytes.extend_from_slice(line.as_bytes());
            self.bytes.push(b'\n');
        }
        ControlFlow::Continue(())
    }
    fn raw_bytes(&mut self, bytes: &[u8]) -> ControlFlow<()> {
        if !self.format.is_quiet() {
            self.bytes.extend_from_slice(bytes);
        }
        ControlFlow::Continue(())
    }
    fn note(&mut self, line: String) {
        self.notes.push(line);
    }
    fn bad_input(&mut self) {
        self.bad_input = true;
    }
}

/// A job for a worker.
enum Job {
    Block {
        data: Vec<u8>,
        at: At,
    },
    /// The input failed: the run fails with this message once the blocks before are out.
    Failed(String),
}

/// A worker's answer.
enum Done {
    Block(BlockOut),
    Failed(String),
}

/// Decodes `input` with `blocks` on the workers if this run can (see the module docs); when
/// it cannot, gives `input` back (`Err`) for the caller to decode on its own thread.
pub(crate) fn decode<R: Records, B: Blocks>(
    input: Box<dyn Read + Send>,
    what: &str,
    out: &mut Pipeline,
    records: R,
    blocks: B,
) -> Result<Run, Box<dyn Read + Send>> {
    let n = threads();
    let Some((filter, format)) = out.block_formatter().filter(|_| n > 1) else {
        return Err(input);
    };
    let stop = Arc::new(AtomicBool::new(false));
    let mut jobs = Vec::with_capacity(n);
    let mut results = Vec::with_capacity(n);
    for _ in 0..n {
        let (job_tx, job_rx) = sync_channel::<Job>(1);
        let (done_tx, done_rx) = sync_channel::<Done>(1);
        let worker = Worker {
            blocks: blocks.clone(),
            filter: filter.clone(),
            format: format.clone(),
        };
        let spawned = std::thread::Builder::new()
            .name("monwire-decode".into())
            .spawn(move || worker.run(&job_rx, &done_tx));
        if spawned.is_err() {
            // No threads to be had: decode on this one (the workers started end with `jobs`).
            return Err(input);
        }
        jobs.push(job_tx);
        results.push(done_rx);
    }
    let reader_stop = Arc::clone(&stop);
    let what_owned = what.to_owned();
    let spawned = std::thread::Builder::new()
        .name("monwire-read".into())
        .spawn(move || read(input, &what_owned, &records, &jobs, &reader_stop));
    if let Err(e) = spawned {
        return Ok(Err(Failure::Runtime(format!(
            "{what}: no reader thread: {e}"
        ))));
    }
    let run = write(out, &results);
    // Whatever is still reading or decoding is not needed any more.
    stop.store(true, Ordering::Relaxed);
    Ok(run)
}

struct Worker<B> {
    blocks: B,
    filter: Filter,
    format: Formatter,
}

impl<B: Blocks> Worker<B> {
    fn run(mut self, jobs: &Receiver<Job>, done: &SyncSender<Done>) {
        while let Ok(job) = jobs.recv() {
            let answer = match job {
                Job::Block { data, at } => {
                    let mut out = BlockOut {
                        filter: self.filter.clone(),
                        format: self.format.clone(),
                        line: String::with_capacity(256),
                        // Output is about twice the input for JSON.
                        bytes: Vec::with_capacity(data.len() * 2),
                        notes: Vec::new(),
                        passed: 0,
                        bad_input: false,
                        stop: false,
                    };
                    self.blocks.decode(&data, at, &mut out);
                    Done::Block(out)
                }
                Job::Failed(msg) => Done::Failed(msg),
            };
            if done.send(answer).is_err() {
                return;
            }
        }
    }
}

/// The reader: cuts the input into blocks and hands them to the workers in turn.
fn read<R: Records>(
    mut input: Box<dyn Read + Send>,
    what: &str,
    records: &R,
    jobs: &[SyncSender<Job>],
    stop: &AtomicBool,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(2 * BLOCK);
    let mut at = At { offset: 0, line: 1 };
    let mut turn = 0usize;
    let send = |job: Job, turn: &mut usize| -> bool {
        let ok = jobs
            .get(*turn % jobs.len())
            .is_some_and(|tx| tx.send(job).is_ok());
        *turn += 1;
        ok
    };
    loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let start = buf.len();
        buf.resize(start + BLOCK, 0);
        let read = crate::capture::read_chunk(&mut input, buf.get_mut(start..).unwrap_or_default());
        let n = match read {
            Ok(n) => n,
            Err(e) => {
                buf.truncate(start);
                let msg = format!("{what}: byte {}: {e}", at.offset + start as u64);
                let _ = send(Job::Failed(msg), &mut turn);
                return;
            }
        };
        buf.truncate(start + n);
        let last = n == 0;
        let whole = if last {
            buf.len()
        } else {
            records.whole(&buf, start)
        };
        if whole == 0 && !last {
            continue;
        }
        let rest = buf.split_off(whole);
        let data = std::mem::replace(&mut buf, rest);
        let next = At {
            offset: at.offset + data.len() as u64,
            line: at.line + memchr::memchr_iter(b'\n', &data).count(),
        };
        if !send(Job::Block { data, at }, &mut turn) || last {
            return;
        }
        at = next;
        if buf.capacity() < BLOCK {
            buf.reserve(2 * BLOCK - buf.len());
        }
    }
}

/// The writer: the blocks' output in input order.
fn write(out: &mut Pipeline, results: &[Receiver<Done>]) -> Run {
    let mut status = Status::Ok;
    for turn in 0.. {
        let Some(rx) = results.get(turn % results.len()) else {
            break;
        };
        let done = match rx.try_recv() {
            Ok(done) => done,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {
                // Show what is there before waiting (a live pipe stays live).
                out.idle();
                loop {
                    if out.shutdown().is_requested() {
                        return Ok(Status::Ok);
                    }
                    match rx.recv_timeout(Duration::from_millis(100)) {
                        Ok(done) => break done,
                        Err(RecvTimeoutError::Timeout) => continue,
                        Err(RecvTimeoutError::Disconnected) => return Ok(status),
                    }
                }
            }
        };
        match done {
            Done::Failed(msg) => return Err(Failure::Runtime(msg)),
            Done::Block(block) => {
                out.add_passed(block.passed);
                for note in &block.notes {
                    eprintln!("{note}");
                }
                if out.printer().write_block(&block.bytes).is_break() {
                    return Ok(status);
                }
                if block.bad_input {
                    status = Status::BadInput;
                }
                if block.stop {
                    return Ok(status);
                }
            }
        }
        if out.shutdown().is_requested() {
            return Ok(Status::Ok);
        }
    }
    Ok(status)
}

/// Decodes the lines of `input` with `f(line_number, line, emit)`: on the workers when the
/// run can ([`decode`]), else on this thread through [`crate::capture::for_each_line`].
pub(crate) fn decode_lines<F>(
    input: Box<dyn Read + Send>,
    what: &str,
    out: &mut Pipeline,
    f: F,
) -> Run
where
    F: FnMut(usize, &str, &mut dyn Emit) -> ControlFlow<()> + Clone + Send + 'static,
{
    let input = match decode(input, what, out, Lines, LineBlocks::new(what, f.clone())) {
        Ok(run) => return run,
        Err(input) => input,
    };
    let mut f = f;
    let mut bad = false;
    let read = crate::capture::for_each_line(input, what, out, |out, n, line| {
        let mut direct = Direct { out, bad: false };
        let flow = f(n, line, &mut direct);
        bad |= direct.bad;
        flow
    })?;
    Ok(if read == Status::BadInput || bad {
        Status::BadInput
    } else {
        Status::Ok
    })
}

/// Decodes lines with `f(line_number, line, out)`: the same lines, numbers and UTF-8 checks
/// as [`crate::capture::for_each_line`] (a line without its `\n` or `\r\n`; one that is not
/// UTF-8 is reported and skipped).
#[derive(Clone)]
struct LineBlocks<F> {
    what: Arc<str>,
    f: F,
}

impl<F> LineBlocks<F>
where
    F: FnMut(usize, &str, &mut dyn Emit) -> ControlFlow<()> + Clone + Send + 'static,
{
    /// Lines of the input called `what`, each given to `f`.
    fn new(what: &str, f: F) -> LineBlocks<F> {
        LineBlocks {
            what: what.into(),
            f,
        }
    }
}

impl<F> Blocks for LineBlocks<F>
where
    F: FnMut(usize, &str, &mut dyn Emit) -> ControlFlow<()> + Clone + Send + 'static,
{
    fn decode(&mut self, block: &[u8], at: At, out: &mut BlockOut) {
        let body = block.strip_suffix(b"\n").unwrap_or(block);
        if block.is_empty() {
            return;
        }
        for (i, line) in body.split(|&b| b == b'\n').enumerate() {
            let n = at.line + i;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            match std::str::from_utf8(line) {
                Ok(text) => {
                    // A worker's output never refuses more.
                    let _ = (self.f)(n, text, out);
                }
                Err(e) => {
                    Emit::note(
                        out,
                        crate::diag::input_line(
                            &self.what,
                            n,
                            Some(e.valid_up_to() + 1),
                            "not valid UTF-8; line skipped",
                        ),
                    );
                    Emit::bad_input(out);
                }
            }
        }
    }
}
