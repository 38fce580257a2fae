//! The writer behind `watch … --record FILE`: records in the `monwire-capture 1` format,
//! taken on the live path at the cost of a copy.
//!
//! A tap calls [`RecordWriter::write`] with what it just read off the wire. Its bytes are
//! copied into a stage under a short lock, and the recording's own thread encodes them
//! (`monwire_capture::record::RecordEncoder`, the peer's token escaped once while the peer
//! stays the same) and writes them out: when 64 KiB are staged, every 200 ms while records
//! arrive, when [`flush`](RecordWriter::flush) asks (the source has nothing ready), and at
//! [`finish`](RecordWriter::finish) (or when the writer is dropped). So the watch pays a copy
//! per record, not its text. When the thread falls behind (256 KiB staged), the tap encodes
//! and writes itself, so a recording holds a bounded amount of memory however fast records
//! come.
//!
//! A write error stops the recording: it is reported once through the error callback, and
//! later records are dropped; the watch goes on.
//!
//! ```
//! use monwire_capture::record::{Direction, FramesRef, Header, PayloadRef, Reader, RecordRef};
//! use monwire_cli::recording::RecordWriter;
//!
//! let path = std::env::temp_dir().join(format!("monwire-doc-rec-{}", std::process::id()));
//! let file = std::fs::File::create(&path)?;
//! let rec = RecordWriter::new(file, &Header::new("zmq"), |e| eprintln!("{e}"))?;
//! let frames: [&[u8]; 2] = [&[1, 0, 7, 0, 0, 0], b"tcp://127.0.0.1:5555"];
//! rec.write(&RecordRef {
//!     time: std::time::SystemTime::now(),
//!     direction: Direction::In,
//!     peer: Some("dealer tcp://127.0.0.1:5555"),
//!     payload: PayloadRef::Frames(FramesRef::Slices(&frames)),
//! });
//! rec.finish();
//! let mut reader = Reader::new(std::io::BufReader::new(std::fs::File::open(&path)?))
//!     .map_err(|e| std::io::Error::other(e.kind.to_string()))?;
//! assert_eq!(reader.header().protocol, "zmq");
//! let back = reader.next_record().unwrap().unwrap();
//! assert_eq!(back.peer.as_deref(), Some("dealer tcp://127.0.0.1:5555"));
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, Write};
use std::ops::Range;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

use monwire_capture::record::{
    Direction, FramesRef, Header, PayloadRef, RecordEncoder, RecordRef, encode_header,
    encode_record,
};

/// The encoder thread is woken when this many bytes are staged, and encoded text is written
/// out in blocks of about this size.
const BUFFER: usize = 64 << 10;
/// Staged bytes past which a tap encodes and writes itself (the encoder thread is behind):
/// the memory a recording holds stays bounded however fast records come.
const STAGED_MAX: usize = 4 * BUFFER;
/// How long records may wait while more arrive.
const FLUSH_EVERY: Duration = Duration::from_millis(200);

type OnError = Box<dyn Fn(String) + Send>;

/// Records taken on the live path and not yet encoded: their bytes copied into one arena.
#[derive(Default)]
struct Staged {
    records: Vec<StagedRecord>,
    bytes: Vec<u8>,
    frames: Vec<Range<usize>>,
}

struct StagedRecord {
    time: SystemTime,
    direction: Direction,
    peer: Option<Range<usize>>,
    payload: StagedPayload,
}

enum StagedPayload {
    /// A range of `Staged::frames`.
    Frames(Range<usize>),
    Datagram(Range<usize>),
    Bytes(Range<usize>),
    Text(Range<usize>),
    Open,
    Close,
    /// A payload kind this writer does not know: its whole line, encoded when it was taken.
    Line(Range<usize>),
}

impl Staged {
    fn copy(&mut self, b: &[u8]) -> Range<usize> {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(b);
        start..self.bytes.len()
    }

    fn push(&mut self, rec: &RecordRef<'_>) {
        let peer = rec.peer.map(|p| self.copy(p.as_bytes()));
        let payload = match rec.payload {
            PayloadRef::Frames(frames) => {
                let first = self.frames.len();
                let slices: &mut dyn Iterator<Item = &[u8]> = match frames {
                    FramesRef::Slices(s) => &mut s.iter().copied(),
                    FramesRef::Owned(o) => &mut o.iter().map(Vec::as_slice),
                };
                for f in slices {
                    let r = self.copy(f);
                    self.frames.push(r);
                }
                StagedPayload::Frames(first..self.frames.len())
            }
            PayloadRef::Datagram(b) => StagedPayload::Datagram(self.copy(b)),
            PayloadRef::Bytes(b) => StagedPayload::Bytes(self.copy(b)),
            PayloadRef::Text(t) => StagedPayload::Text(self.copy(t.as_bytes())),
            PayloadRef::Open => StagedPayload::Open,
            PayloadRef::Close => StagedPayload::Close,
            _ => {
                let start = self.bytes.len();
                encode_record(rec, &mut self.bytes);
                StagedPayload::Line(start..self.bytes.len())
            }
        };
        self.records.push(StagedRecord {
            time: rec.time,
            direction: rec.direction,
            peer,
            payload,
        });
    }

    /// Appends every staged record's line to `out`, in order, and empties the stage.
    fn encode(&mut self, enc: &mut RecordEncoder, out: &mut Vec<u8>) {
        let bytes = &self.bytes;
        let at = |r: &Range<usize>| bytes.get(r.clone()).unwrap_or_default();
        let text = |r: &Range<usize>| std::str::from_utf8(at(r)).unwrap_or_default();
        let mut slices: Vec<&[u8]> = Vec::new();
        for rec in &self.records {
            slices.clear();
            let payload = match &rec.payload {
                StagedPayload::Frames(fr) => {
                    for f in self.frames.get(fr.clone()).unwrap_or_default() {
                        slices.push(at(f));
                    }
                    PayloadRef::Frames(FramesRef::Slices(&slices))
                }
                StagedPayload::Datagram(r) => PayloadRef::Datagram(at(r)),
                StagedPayload::Bytes(r) => PayloadRef::Bytes(at(r)),
                StagedPayload::Text(r) => PayloadRef::Text(text(r)),
                StagedPayload::Open => PayloadRef::Open,
                StagedPayload::Close => PayloadRef::Close,
                StagedPayload::Line(r) => {
                    out.extend_from_slice(at(r));
                    continue;
                }
            };
            enc.encode(
                &RecordRef {
                    time: rec.time,
                    direction: rec.direction,
                    peer: rec.peer.as_ref().map(text),
                    payload,
                },
                out,
            );
        }
        self.clear();
    }

    fn clear(&mut self) {
        self.records.clear();
        self.bytes.clear();
        self.frames.clear();
    }
}

/// The live side: what the taps write into.
struct Stage {
    staged: Staged,
    /// `false` once the recording has stopped (a write error, or finished).
    open: bool,
}

/// The writing side: the file, the encoder and its text buffer.
struct Output {
    /// `None` once the recording has stopped.
    out: Option<Box<dyn Write + Send>>,
    /// The stage swapped out to be encoded (kept for its capacity).
    taken: Staged,
    buf: Vec<u8>,
    /// Bytes written since the last flush of `out`.
    dirty: bool,
    /// The line encoder (it keeps the peer's token and the second's digits).
    enc: RecordEncoder,
    on_error: OnError,
}

/// The two halves, each behind its own lock. Lock order: `output`, then `stage`, so that
/// whoever holds `output` writes the stages out in the order they were taken.
struct Shared {
    stage: Mutex<Stage>,
    /// Wakes the encoder thread (a full stage, or the end).
    wake: Condvar,
    output: Mutex<Output>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves a usable recording.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// Encodes what is staged and writes it out; with `flush`, flushes the file too.
    fn drain(&self, flush: bool) {
        let mut o = lock(&self.output);
        let o = &mut *o;
        {
            let mut st = lock(&self.stage);
            std::mem::swap(&mut st.staged, &mut o.taken);
        }
        if o.out.is_none() {
            o.taken.clear();
            return;
        }
        if !o.taken.records.is_empty() {
            o.taken.encode(&mut o.enc, &mut o.buf);
            o.dirty = true;
        }
        if let Err(e) = self.write_out(o, flush) {
            if o.out.take().is_some() {
                (o.on_error)(format!("{e}; recording stopped"));
            }
            lock(&self.stage).open = false;
        }
    }

    fn write_out(&self, o: &mut Output, flush: bool) -> io::Result<()> {
        let Some(out) = o.out.as_mut() else {
            return Ok(());
        };
        let written = out.write_all(&o.buf);
        o.buf.clear();
        written?;
        if flush && o.dirty {
            o.dirty = false;
            out.flush()?;
        }
        Ok(())
    }
}

/// A recording being written (see the [module docs](self)). Share it with an `Arc` between
/// taps.
pub struct RecordWriter {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RecordWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordWriter").finish_non_exhaustive()
    }
}

impl RecordWriter {
    /// Writes `header` to `out` at once, then takes records. `on_error` is called with the one
    /// line that says why the recording stopped.
    pub fn new<W: Write + Send + 'static>(
        mut out: W,
        header: &Header,
        on_error: impl Fn(String) + Send + 'static,
    ) -> io::Result<RecordWriter> {
        let mut line = Vec::with_capacity(256);
        encode_header(header, &mut line);
        out.write_all(&line)?;
        let shared = Arc::new(Shared {
            stage: Mutex::new(Stage {
                staged: Staged::default(),
                open: true,
            }),
            wake: Condvar::new(),
            output: Mutex::new(Output {
                out: Some(Box::new(out)),
                taken: Staged::default(),
                buf: Vec::with_capacity(BUFFER + 4096),
                dirty: true,
                enc: RecordEncoder::new(),
                on_error: Box::new(on_error),
            }),
        });
        spawn_encoder(Arc::downgrade(&shared));
        Ok(RecordWriter { shared })
    }

    /// Takes one record: its bytes are copied, to be encoded and written by the recording's
    /// own thread (see the [module docs](self)).
    pub fn write(&self, rec: &RecordRef<'_>) {
        let (before, after) = {
            let mut st = lock(&self.shared.stage);
            if !st.open {
                return;
            }
            let before = st.staged.bytes.len();
            st.staged.push(rec);
            (before, st.staged.bytes.len())
        };
        if after >= STAGED_MAX {
            // The encoder thread is behind: do its work here rather than hold more.
            self.shared.drain(false);
        } else if before < BUFFER && after >= BUFFER {
            self.shared.wake.notify_one();
        }
    }

    /// Writes out what is taken and flushes the file.
    pub fn flush(&self) {
        self.shared.drain(true);
    }

    /// Writes out everything, flushes the file and stops taking records. Idempotent.
    pub fn finish(&self) {
        self.shared.drain(true);
        let mut o = lock(&self.shared.output);
        o.out = None;
        lock(&self.shared.stage).open = false;
        self.shared.wake.notify_one();
    }
}

impl Drop for RecordWriter {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The recording's thread: encodes and writes what the taps staged, when a stage fills and
/// every 200 ms while the recording is open.
fn spawn_encoder(shared: Weak<Shared>) {
    // Without the thread, the taps encode when the stage is full, and the source's flushes
    // and the end write the rest.
    let _ = std::thread::Builder::new()
        .name("monwire-record".into())
        .spawn(move || {
            loop {
                let Some(s) = shared.upgrade() else { return };
                let full = {
                    let st = lock(&s.stage);
                    if !st.open {
                        return;
                    }
                    let (st, _) = s
                        .wake
                        .wait_timeout_while(st, FLUSH_EVERY, |st| {
                            st.open && st.staged.bytes.len() < BUFFER
                        })
                        .unwrap_or_else(|p| p.into_inner());
                    if !st.open {
                        return;
                    }
                    st.staged.bytes.len() >= BUFFER
                };
                // A full stage is written; a quiet 200 ms flushes the file as well.
                s.drain(!full);
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use monwire_capture::record::{Payload, Record, Writer};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::UNIX_EPOCH;

    /// A `Write` into a shared buffer, to look at what the thread wrote.
    #[derive(Clone, Default)]
    struct SharedBuf(Arc<Mutex<Vec<u8>>>);

    impl Write for SharedBuf {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn records() -> Vec<Record> {
        let mut out = Vec::new();
        for i in 0..5000u64 {
            let peer = match i % 4 {
                0 => None,
                1 => Some("dealer tcp://127.0.0.1:5555".to_owned()),
                2 => Some(String::new()),
                _ => Some(format!("127.0.0.1:{i}")),
            };
            let payload = match i % 7 {
                0 => Payload::Frames(vec![vec![1, 0, 7, 0, 0, 0], b"tcp://a:1".to_vec(), vec![]]),
                1 => Payload::Datagram(vec![i as u8; (i % 300) as usize]),
                2 => Payload::Bytes(vec![]),
                3 => Payload::Text(format!("text {i} é \n")),
                4 => Payload::Open,
                5 => Payload::Close,
                _ => Payload::Frames(vec![]),
            };
            let dir = if i % 3 == 0 {
                Direction::Out
            } else {
                Direction::In
            };
            out.push(record(
                1_700_000_000_000_000_000 + i * 1_000_003,
                dir,
                peer,
                payload,
            ));
        }
        out
    }

    fn record(nanos: u64, dir: Direction, peer: Option<String>, payload: Payload) -> Record {
        let r = Record::new(UNIX_EPOCH + Duration::from_nanos(nanos), dir, payload);
        match peer {
            Some(p) => r.with_peer(p),
            None => r,
        }
    }

    /// Every record, staged alone or after others, in one batch or many (the peer token
    /// cached and changed), is `encode_record`'s line; so are hard peers and times.
    #[test]
    fn staged_records_encode_to_encode_records_bytes() {
        let mut recs = records();
        for (i, peer) in ["-", "%", " ", "é", "a b\n", "\u{7f}~!", "", "-"]
            .into_iter()
            .enumerate()
        {
            recs.push(record(
                i as u64,
                Direction::In,
                Some(peer.to_owned()),
                Payload::Open,
            ));
        }
        recs.push(record(0, Direction::In, None, Payload::Close));
        recs.push(record(
            u64::MAX,
            Direction::Out,
            None,
            Payload::Bytes(vec![0, 255]),
        ));
        let mut enc = RecordEncoder::new();
        let mut staged = Staged::default();
        let mut all = Vec::new();
        let mut want_all = Vec::new();
        for r in &recs {
            let mut want = Vec::new();
            encode_record(&r.as_ref(), &mut want);
            let mut one = Vec::new();
            staged.push(&r.as_ref());
            staged.encode(&mut enc, &mut one);
            assert_eq!(
                String::from_utf8_lossy(&one),
                String::from_utf8_lossy(&want)
            );
            want_all.extend_from_slice(&want);
        }
        for r in &recs {
            staged.push(&r.as_ref());
        }
        staged.encode(&mut RecordEncoder::new(), &mut all);
        assert!(all == want_all, "one batch of every record");
        // Before 1970: the same as the capture crate (time 0).
        let before = RecordRef {
            time: UNIX_EPOCH - Duration::from_secs(5),
            direction: Direction::In,
            peer: None,
            payload: PayloadRef::Open,
        };
        let mut want = Vec::new();
        encode_record(&before, &mut want);
        staged.push(&before);
        let mut got = Vec::new();
        staged.encode(&mut enc, &mut got);
        assert_eq!(got, want);
    }

    #[test]
    fn the_writer_writes_exactly_what_the_capture_writer_writes() {
        let header = Header::new("zmq").with("byte_order", "little");
        let recs = records();
        let mut want = Writer::new(Vec::new(), &header).unwrap();
        for r in &recs {
            want.write_ref(&r.as_ref()).unwrap();
        }
        let want = want.into_inner().unwrap();

        let out = SharedBuf::default();
        let rec = RecordWriter::new(out.clone(), &header, |e| panic!("{e}")).unwrap();
        for (i, r) in recs.iter().enumerate() {
            rec.write(&r.as_ref());
            if i % 1000 == 0 {
                rec.flush();
            }
            if i == 2500 {
                let so_far = out.0.lock().unwrap().clone();
                assert!(!so_far.is_empty() && want.starts_with(&so_far));
            }
        }
        rec.finish();
        // Records after the end are dropped.
        rec.write(&recs[0].as_ref());
        rec.finish();
        assert_eq!(*out.0.lock().unwrap(), want);
        assert!(
            want.len() > 2 * BUFFER,
            "the buffer filled and was written out"
        );
    }

    /// However fast records come, a tap never leaves more than `STAGED_MAX` bytes staged: past
    /// it, the tap encodes and writes them itself.
    #[test]
    fn the_stage_stays_bounded() {
        let out = SharedBuf::default();
        let rec = RecordWriter::new(out.clone(), &Header::new("nsm"), |e| panic!("{e}")).unwrap();
        let big = vec![7u8; 1000];
        let mut most = 0;
        for i in 0..5000u64 {
            rec.write(&RecordRef {
                time: UNIX_EPOCH + Duration::from_nanos(i),
                direction: Direction::In,
                peer: Some("127.0.0.1:9"),
                payload: PayloadRef::Datagram(&big),
            });
            let staged = lock(&rec.shared.stage).staged.bytes.len();
            assert!(staged < STAGED_MAX, "{staged} bytes staged");
            most = most.max(staged);
        }
        rec.finish();
        let lines = out
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        assert_eq!(lines, 5001, "the header and every record");
        assert!(most > 0);
    }

    /// A write that fails: stops the recording, says so once, and later records are dropped.
    #[test]
    fn a_write_error_stops_the_recording_once() {
        struct Failing;
        impl Write for Failing {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                if b.starts_with(b"monwire-capture") {
                    Ok(b.len())
                } else {
                    Err(io::Error::other("disk full"))
                }
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let errors = Arc::new(AtomicUsize::new(0));
        let seen = errors.clone();
        let rec = RecordWriter::new(Failing, &Header::new("nsm"), move |e| {
            assert!(
                e.contains("disk full") && e.ends_with("recording stopped"),
                "{e}"
            );
            seen.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        for r in &records()[..100] {
            rec.write(&r.as_ref());
        }
        rec.flush();
        for r in &records()[..100] {
            rec.write(&r.as_ref());
        }
        rec.flush();
        rec.finish();
        assert_eq!(errors.load(Ordering::SeqCst), 1);
    }
}
