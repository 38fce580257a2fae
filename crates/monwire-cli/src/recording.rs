//! The writer behind `watch … --record FILE`: records in the `monwire-capture 1` format,
//! written on the live path at the cost of a few copies.
//!
//! A tap calls [`RecordWriter::write`] with what it just read off the wire. The line is
//! encoded by `monwire_capture::record::RecordEncoder` straight into a 64 KiB buffer under a
//! lock (the peer's token escaped once while the peer stays the same: a watch has one). The
//! buffer is
//! written out when it fills, when [`flush`](RecordWriter::flush) asks (the source has nothing
//! ready), every 200 ms by a background thread while records arrive, and at
//! [`finish`](RecordWriter::finish) (or when the writer is dropped).
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
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use monwire_capture::record::{Header, RecordEncoder, RecordRef, encode_header};

/// The buffer is written out when it holds this much.
const BUFFER: usize = 64 << 10;
/// How long records may wait in the buffer while more arrive.
const FLUSH_EVERY: Duration = Duration::from_millis(200);

type OnError = Box<dyn Fn(String) + Send>;

struct Inner {
    /// `None` once the recording has stopped (a write error, or finished).
    out: Option<Box<dyn Write + Send>>,
    buf: Vec<u8>,
    /// Bytes buffered or written since the last flush of `out`.
    dirty: bool,
    /// The line encoder (it keeps the peer's token and the second's digits).
    enc: RecordEncoder,
    on_error: OnError,
}

impl Inner {
    fn fail(&mut self, e: &io::Error) {
        if self.out.take().is_some() {
            (self.on_error)(format!("{e}; recording stopped"));
        }
        self.buf.clear();
    }

    fn write_out(&mut self) {
        let Some(out) = self.out.as_mut() else {
            self.buf.clear();
            return;
        };
        if let Err(e) = out.write_all(&self.buf) {
            self.fail(&e);
        }
        self.buf.clear();
    }

    fn flush(&mut self) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        self.write_out();
        if let Some(out) = self.out.as_mut()
            && let Err(e) = out.flush()
        {
            self.fail(&e);
        }
    }
}

/// A recording being written (see the [module docs](self)). Share it with an `Arc` between
/// taps.
pub struct RecordWriter {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for RecordWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordWriter").finish_non_exhaustive()
    }
}

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    // A panic elsewhere while holding the lock leaves a usable recording.
    m.lock().unwrap_or_else(|p| p.into_inner())
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
        let inner = Arc::new(Mutex::new(Inner {
            out: Some(Box::new(out)),
            buf: Vec::with_capacity(BUFFER + 4096),
            dirty: true,
            enc: RecordEncoder::new(),
            on_error: Box::new(on_error),
        }));
        spawn_flusher(Arc::downgrade(&inner));
        Ok(RecordWriter { inner })
    }

    /// Writes one record (into the buffer; see the [module docs](self)).
    pub fn write(&self, rec: &RecordRef<'_>) {
        let mut g = lock(&self.inner);
        let inner = &mut *g;
        if inner.out.is_none() {
            return;
        }
        inner.enc.encode(rec, &mut inner.buf);
        inner.dirty = true;
        if inner.buf.len() >= BUFFER {
            inner.write_out();
        }
    }

    /// Writes out what is buffered and flushes the file.
    pub fn flush(&self) {
        lock(&self.inner).flush();
    }

    /// Writes out everything, flushes the file and stops taking records. Idempotent.
    pub fn finish(&self) {
        let mut g = lock(&self.inner);
        g.flush();
        g.out = None;
    }
}

impl Drop for RecordWriter {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Flushes the recording every 200 ms while it is alive.
fn spawn_flusher(inner: Weak<Mutex<Inner>>) {
    // Without the thread the recording is still flushed when the source waits and at the end.
    let _ = std::thread::Builder::new()
        .name("monwire-record-flush".into())
        .spawn(move || {
            loop {
                std::thread::sleep(FLUSH_EVERY);
                let Some(inner) = inner.upgrade() else { return };
                let mut g = lock(&inner);
                if g.out.is_none() {
                    return;
                }
                g.flush();
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use monwire_capture::record::{Direction, FramesRef, PayloadRef, Writer, encode_record};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::UNIX_EPOCH;

    /// A `Write` into a shared buffer, to look at what the thread wrote.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn records() -> Vec<(SystemTimeLike, Direction, Option<String>, Kind)> {
        let mut out = Vec::new();
        for i in 0..5000u64 {
            let peer = match i % 4 {
                0 => None,
                1 => Some("dealer tcp://127.0.0.1:5555".to_owned()),
                2 => Some(String::new()),
                _ => Some(format!("127.0.0.1:{i}")),
            };
            let kind = match i % 7 {
                0 => Kind::Frames(vec![vec![1, 0, 7, 0, 0, 0], b"tcp://a:1".to_vec(), vec![]]),
                1 => Kind::Datagram(vec![i as u8; (i % 300) as usize]),
                2 => Kind::Bytes(vec![]),
                3 => Kind::Text(format!("text {i} é \n")),
                4 => Kind::Open,
                5 => Kind::Close,
                _ => Kind::Frames(vec![]),
            };
            let dir = if i % 3 == 0 {
                Direction::Out
            } else {
                Direction::In
            };
            out.push((1_700_000_000_000_000_000 + i * 1_000_003, dir, peer, kind));
        }
        out
    }

    type SystemTimeLike = u64;

    enum Kind {
        Frames(Vec<Vec<u8>>),
        Datagram(Vec<u8>),
        Bytes(Vec<u8>),
        Text(String),
        Open,
        Close,
    }

    fn with_ref<R>(
        (t, d, p, k): &(SystemTimeLike, Direction, Option<String>, Kind),
        f: impl FnOnce(&RecordRef<'_>) -> R,
    ) -> R {
        let slices: Vec<&[u8]> = match k {
            Kind::Frames(f) => f.iter().map(Vec::as_slice).collect(),
            _ => Vec::new(),
        };
        let payload = match k {
            Kind::Frames(_) => PayloadRef::Frames(FramesRef::Slices(&slices)),
            Kind::Datagram(b) => PayloadRef::Datagram(b),
            Kind::Bytes(b) => PayloadRef::Bytes(b),
            Kind::Text(s) => PayloadRef::Text(s),
            Kind::Open => PayloadRef::Open,
            Kind::Close => PayloadRef::Close,
        };
        f(&RecordRef {
            time: UNIX_EPOCH + Duration::from_nanos(*t),
            direction: *d,
            peer: p.as_deref(),
            payload,
        })
    }

    /// Every record, alone and after others (the peer token cached and changed), is
    /// `encode_record`'s line; so are hard peers and times.
    #[test]
    fn lines_are_encode_records_bytes() {
        let mut inner = Inner {
            out: None,
            buf: Vec::new(),
            dirty: false,
            enc: RecordEncoder::new(),
            on_error: Box::new(|_| {}),
        };
        let mut recs = records();
        for (i, peer) in ["-", "%", " ", "é", "a b\n", "\u{7f}~!", "", "-"]
            .into_iter()
            .enumerate()
        {
            recs.push((i as u64, Direction::In, Some(peer.to_owned()), Kind::Open));
        }
        recs.push((0, Direction::In, None, Kind::Close));
        recs.push((u64::MAX, Direction::Out, None, Kind::Bytes(vec![0, 255])));
        for r in &recs {
            let mut want = Vec::new();
            with_ref(r, |r| encode_record(r, &mut want));
            inner.buf.clear();
            with_ref(r, |r| inner.enc.encode(r, &mut inner.buf));
            assert_eq!(
                String::from_utf8_lossy(&inner.buf),
                String::from_utf8_lossy(&want)
            );
        }
        // Before 1970: the same as the capture crate (time 0).
        let before = RecordRef {
            time: UNIX_EPOCH - Duration::from_secs(5),
            direction: Direction::In,
            peer: None,
            payload: PayloadRef::Open,
        };
        let mut want = Vec::new();
        encode_record(&before, &mut want);
        inner.buf.clear();
        inner.enc.encode(&before, &mut inner.buf);
        assert_eq!(inner.buf, want);
    }

    #[test]
    fn the_writer_writes_exactly_what_the_capture_writer_writes() {
        let header = Header::new("zmq").with("byte_order", "little");
        let recs = records();
        let mut want = Writer::new(Vec::new(), &header).unwrap();
        for r in &recs {
            with_ref(r, |r| want.write_ref(r)).unwrap();
        }
        let want = want.into_inner().unwrap();

        let out = Shared::default();
        let rec = RecordWriter::new(out.clone(), &header, |e| panic!("{e}")).unwrap();
        for (i, r) in recs.iter().enumerate() {
            with_ref(r, |r| rec.write(r));
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
        with_ref(&recs[0], |r| rec.write(r));
        rec.finish();
        assert_eq!(*out.0.lock().unwrap(), want);
        assert!(
            want.len() > 2 * BUFFER,
            "the buffer filled and was written out"
        );
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
            with_ref(r, |r| rec.write(r));
        }
        rec.flush();
        for r in &records()[..100] {
            with_ref(r, |r| rec.write(r));
        }
        rec.flush();
        rec.finish();
        assert_eq!(errors.load(Ordering::SeqCst), 1);
    }
}
