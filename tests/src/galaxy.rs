//! Galaxy round-trip bodies shared by the fuzz targets (`fuzz/fuzz_targets/galaxy_*.rs`) and the
//! stable corpus-replay test (`tests/tests/galaxy_corpus.rs`), plus capture helpers.

use monwire_galaxy::codec::{Codec, Int64Width, StreamDecoder};
use monwire_galaxy::message::Message;
use monwire_galaxy::text;

/// Splits a capture (one direction of a stream) into `(offset, body length, message)`; panics
/// when it does not decode completely.
pub fn messages(bytes: &[u8]) -> Vec<(usize, usize, Message)> {
    let codec = Codec::default();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (m, used) = codec
            .decode(&bytes[at..])
            .unwrap_or_else(|e| panic!("at {at}: {e}"))
            .unwrap_or_else(|| panic!("truncated message at {at}"));
        out.push((at, used - 8, m));
        at += used;
    }
    out
}

/// The frame blocks of a C GUI log (`gui.out`): from a line starting with `{` to where the
/// braces balance, counting only braces outside strings.
pub fn frame_blocks(log: &[u8]) -> Vec<Vec<u8>> {
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < log.len() {
        let line_start = i == 0 || log[i - 1] == b'\n';
        if line_start && log[i] == b'{' {
            let start = i;
            let (mut depth, mut in_str, mut esc) = (0i32, false, false);
            while i < log.len() {
                let c = log[i];
                i += 1;
                if in_str {
                    if esc {
                        esc = false;
                    } else if c == b'\\' {
                        esc = true;
                    } else if c == b'"' {
                        in_str = false;
                    }
                    continue;
                }
                match c {
                    b'"' => in_str = true,
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            blocks.push(log[start..i].to_vec());
        } else {
            i += 1;
        }
    }
    blocks
}

/// Fuzz body: one XDR object, with both INT_64 widths. Decoding never panics; whatever decodes
/// re-encodes, and decoding the re-encoding gives an object that re-encodes to the same bytes
/// (the first re-encoding normalises pad bytes and out-of-range INT_16 values, as C does).
pub fn roundtrip_object(data: &[u8]) {
    for width in [Int64Width::Four, Int64Width::Eight] {
        let codec = Codec::default().with_int64_width(width);
        let Ok(obj) = codec.decode_object(data) else {
            continue;
        };
        let once = codec.encode_object(&obj).expect("a decoded object encodes");
        let again = codec
            .decode_object(&once)
            .expect("a re-encoded object decodes");
        let twice = codec.encode_object(&again).expect("encodes again");
        assert_eq!(once, twice, "XDR round trip is not stable");
        // The printers never panic on anything that decodes.
        if let Some(f) = obj.as_frame() {
            let _ = text::pr_frame(f);
            let _ = text::pp_frame(f);
            let _ = text::outline_frame(f);
        }
    }
}

/// Fuzz body: a byte stream of messages. The stream decoder never panics; fed in one piece and
/// in two pieces at a few split points (and byte by byte when the input is short, since that
/// costs a decode attempt per byte), it gives the same messages and the same error at the same
/// offset; every message re-encodes to bytes that decode to the same re-encoding.
pub fn roundtrip_stream(data: &[u8]) {
    let whole = drain(data, &[data.len()]);
    if data.len() <= 512 {
        let bytewise = drain(data, &vec![1; data.len()]);
        assert_eq!(whole, bytewise, "byte-by-byte feeding differs");
    }
    for cut in [1, 8, 9, data.len() / 2] {
        if cut < data.len() {
            let split = drain(data, &[cut, data.len() - cut]);
            assert_eq!(whole, split, "split at {cut} differs");
        }
    }
    let codec = Codec::default();
    for once in &whole.0 {
        let again = codec.decode_exact(once).expect("decodes again");
        assert_eq!(&codec.encode(&again).unwrap(), once);
    }
}

/// Fuzz body: the GUI session, in the role the first byte picks (even: the GUI server the Hub
/// connects to; odd: the GUI client of a Hub listener), fed the rest as the Hub's bytes, whole
/// and in two pieces. It never panics; both feedings give the same events and the same bytes
/// back; a waiting debug prompt is answered; once closed, the session refuses input; every
/// event maps to a `monwire_event::Event` with a summary, and a status frame comes back from it
/// unchanged (the lossless law).
pub fn roundtrip_session(data: &[u8]) {
    let Some((&role, stream)) = data.split_first() else {
        return;
    };
    let cut = stream.len() / 2;
    let whole = run_session(role, &[stream]);
    let split = run_session(role, &[&stream[..cut], &stream[cut..]]);
    // The bytes sent back may interleave differently (a prompt is answered when it is seen),
    // so only what the session saw is compared.
    assert_eq!(
        (&whole.0, &whole.2, whole.3),
        (&split.0, &split.2, split.3),
        "feeding in two pieces differs"
    );
}

/// Runs a session over `pieces`: (events as text, bytes sent, error text, closed).
fn run_session(role: u8, pieces: &[&[u8]]) -> (Vec<String>, Vec<u8>, Option<String>, bool) {
    use monwire_galaxy::event::{from_event, gui_event_to_event};
    use monwire_galaxy::session::{GuiClient, GuiEvent, GuiServer, minimal_info_frame};
    enum S {
        Server(GuiServer),
        Client(GuiClient),
    }
    let codec = Codec::default();
    // Our own information frame is never read from the input: the smallest one the Hub takes
    // keeps each run cheap (the 1112-byte sample frame's encoding is `galaxy_object`'s job).
    let mut s = if role.is_multiple_of(2) {
        S::Server(GuiServer::new(codec, minimal_info_frame()))
    } else {
        S::Client(GuiClient::new(codec, minimal_info_frame()).expect("the minimal frame encodes"))
    };
    let (mut events, mut sent, mut error) = (Vec::new(), Vec::new(), None);
    macro_rules! with {
        ($s:ident => $e:expr) => {
            match &mut s {
                S::Server($s) => $e,
                S::Client($s) => $e,
            }
        };
    }
    for piece in pieces {
        if with!(x => x.is_closed()) {
            break;
        }
        if let Err(e) = with!(x => x.handle_input(piece)) {
            error = Some(e.to_string());
            assert!(with!(x => x.is_closed()), "an error closes the session");
        }
        while let Some(ev) = with!(x => x.poll_event()) {
            let e = gui_event_to_event(&ev);
            assert!(!e.summary_text().is_empty());
            if let GuiEvent::Status(m) = &ev {
                let frame = m.to_frame();
                let back = from_event(&e).expect("a status event gives its frame back");
                assert!(same_frame(&back, &frame), "lossless law");
            }
            events.push(ev.to_string());
        }
        if with!(x => x.prompt_pending()) {
            with!(x => x.answer_debug_prompt(b"c")).expect("a waiting prompt can be answered");
        }
        while let Some(b) = with!(x => x.poll_transmit()) {
            sent.extend_from_slice(&b);
        }
        if error.is_some() {
            break;
        }
    }
    let closed = with!(x => x.is_closed());
    if closed {
        assert!(
            with!(x => x.handle_input(b"x")).is_err(),
            "a closed session takes no input"
        );
    }
    (events, sent, error, closed)
}

/// Messages as their re-encodings (floats compare by bits), the error, the final offset.
type Drained = (Vec<Vec<u8>>, Option<monwire_galaxy::DecodeError>, u64);

fn drain(data: &[u8], chunks: &[usize]) -> Drained {
    let mut dec = StreamDecoder::new(Codec::default());
    let mut msgs = Vec::new();
    let mut at = 0;
    for &n in chunks {
        let end = (at + n).min(data.len());
        dec.push(&data[at..end]);
        at = end;
        loop {
            match dec.next_message() {
                Ok(Some(m)) => {
                    msgs.push(dec.codec().encode(&m).expect("a decoded message encodes"))
                }
                Ok(None) => break,
                Err(e) => return (msgs, Some(e), dec.offset()),
            }
        }
    }
    (msgs, None, dec.offset())
}

/// Fuzz body: the text reader. It never panics; a frame it reads prints in PR, PP and outline;
/// PR text re-reads to a frame with the same PR text (except `-inf`, which C reads back as a
/// token); and an encodable frame round-trips through XDR.
pub fn roundtrip_text(data: &[u8]) {
    let read = text::read_frame_report(data);
    let Some(frame) = read.frame else {
        return;
    };
    let pr = text::pr_frame(&frame);
    let _ = text::pp_frame(&frame);
    let _ = text::outline_frame(&frame);
    if !pr.windows(4).any(|w| w == b"-inf") {
        let back = text::read_frame(&pr).expect("PR text re-reads");
        let again = text::pr_frame(&back);
        // Compared as bytes (stricter than text, and no copy); shown as text when they differ.
        assert!(
            again == pr,
            "PR text is not stable:\n{}\n{}",
            String::from_utf8_lossy(&again),
            String::from_utf8_lossy(&pr)
        );
    }
    let codec = Codec::default();
    let obj = monwire_galaxy::Object::from(frame);
    if let Ok(bytes) = codec.encode_object(&obj) {
        let back = codec.decode_object(&bytes).expect("encoded frame decodes");
        assert_eq!(codec.encode_object(&back).unwrap(), bytes);
    }
}

/// Strategies that reach the hard cases: nesting to the decoder's depth limit, `Null` list
/// elements, unnamed frames, `FrameType::Null` and `Other`, every float bit pattern (NaN
/// payloads, infinities, -0.0, subnormals), non-UTF-8 names and keys.
pub mod strategies {
    use monwire_galaxy::message::{Frame, FrameType, Object, Proxy};
    use proptest::prelude::*;

    /// Bytes, sometimes not UTF-8.
    pub fn bytes() -> impl Strategy<Value = Vec<u8>> + Clone {
        prop_oneof![
            "[a-z_:\\[\\]0-9 é\"\\\\]{0,8}".prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 0..8),
        ]
    }

    /// Keys: mostly `:name`, sometimes any bytes.
    pub fn key() -> impl Strategy<Value = Vec<u8>> + Clone {
        prop_oneof![
            4 => ":[a-z_][a-z0-9_]{0,6}".prop_map(String::into_bytes),
            1 => bytes(),
        ]
    }

    /// A float from any bit pattern, or a plain one.
    pub fn f32_any() -> impl Strategy<Value = f32> + Clone {
        prop_oneof![
            any::<u32>().prop_map(f32::from_bits),
            Just(-0.0f32),
            Just(f32::MIN_POSITIVE / 4.0),
            (-1000i32..1000).prop_map(|k| k as f32 / 4.0),
        ]
    }

    /// A double from any bit pattern, or a plain one.
    pub fn f64_any() -> impl Strategy<Value = f64> + Clone {
        prop_oneof![
            any::<u64>().prop_map(f64::from_bits),
            Just(-0.0f64),
            Just(5e-324f64),
            (-1000i32..1000).prop_map(|k| f64::from(k) / 4.0),
        ]
    }

    /// Any frame type, the unusual ones included.
    pub fn frame_type() -> impl Strategy<Value = FrameType> + Clone {
        prop_oneof![
            4 => Just(FrameType::Clause),
            1 => Just(FrameType::Topic),
            1 => Just(FrameType::Pred),
            1 => Just(FrameType::Null),
            1 => any::<i32>().prop_map(FrameType::from_code),
        ]
    }

    /// Leaves: every object type that is not a container. `wire` leaves out `Null`, which
    /// cannot be encoded.
    pub fn leaf(wire: bool) -> BoxedStrategy<Object> {
        let mut s = prop_oneof![
            bytes().prop_map(|b| Object::String(b.into())),
            any::<i32>().prop_map(Object::Int),
            f32_any().prop_map(Object::Float),
            bytes().prop_map(|b| Object::Symbol(b.into())),
            bytes().prop_map(|b| Object::Binary(b.into())),
            proptest::collection::vec(any::<i16>(), 0..4).prop_map(|v| Object::Int16(v.into())),
            proptest::collection::vec(any::<i32>(), 0..4).prop_map(|v| Object::Int32(v.into())),
            proptest::collection::vec(any::<i64>(), 0..4).prop_map(|v| Object::Int64(v.into())),
            proptest::collection::vec(f32_any(), 0..4).prop_map(|v| Object::Float32(v.into())),
            proptest::collection::vec(f64_any(), 0..4).prop_map(|v| Object::Float64(v.into())),
            bytes().prop_map(|b| Object::Keyword(b.into())),
            bytes().prop_map(|b| Object::Tag(b.into())),
            bytes().prop_map(|b| Object::Token(b.into())),
            (bytes(), bytes(), any::<i32>(), any::<i32>()).prop_map(|(c, h, p, t)| {
                Object::from(Proxy {
                    call_id: c,
                    host: h,
                    port: p,
                    object_type: t,
                })
            }),
        ]
        .boxed();
        if !wire {
            s = prop_oneof![10 => s, 1 => Just(Object::Null)].boxed();
        }
        s
    }

    /// A frame whose values come from `values`; `wire` frames are always named.
    pub fn frame_of(
        values: impl Strategy<Value = Object> + Clone + 'static,
        wire: bool,
    ) -> BoxedStrategy<Frame> {
        let name = if wire {
            bytes().prop_map(Some).boxed()
        } else {
            proptest::option::weighted(0.8, bytes()).boxed()
        };
        (
            frame_type(),
            name,
            proptest::collection::vec((key(), values.clone()), 0..4),
            proptest::collection::vec(
                (
                    frame_type(),
                    bytes(),
                    proptest::collection::vec((key(), values), 0..2),
                ),
                0..2,
            ),
        )
            .prop_map(|(t, n, props, preds)| {
                let mut f = Frame::unnamed(t);
                f.name = n.map(Vec::into_boxed_slice);
                for (k, v) in props {
                    f.set(k, v);
                }
                for (pt, pn, pprops) in preds {
                    let mut p = Frame::new(pt, pn);
                    for (k, v) in pprops {
                        p.set(k, v);
                    }
                    f.push_pred(p);
                }
                f
            })
            .boxed()
    }

    /// Any object, nested up to `depth` levels (the decoder's default limit is 64).
    pub fn object(depth: u32, wire: bool) -> BoxedStrategy<Object> {
        leaf(wire)
            .prop_recursive(depth, 3 * depth + 16, 3, move |inner| {
                prop_oneof![
                    // A chain: one deep item beside a few leaves, so depth is reached cheaply.
                    proptest::collection::vec(inner.clone(), 0..3).prop_map(Object::from),
                    frame_of(inner, wire).prop_map(Object::from),
                ]
            })
            .boxed()
    }

    /// A chain of exactly `depth` nested lists and frames around a leaf (the decoder counts
    /// containers: the default limit of 64 takes 64 of them).
    pub fn deep(depth: usize, wire: bool) -> BoxedStrategy<Object> {
        (proptest::collection::vec(any::<bool>(), depth), leaf(wire))
            .prop_map(|(kinds, leaf)| {
                let mut o = leaf;
                for as_frame in kinds {
                    o = if as_frame {
                        Object::from(Frame::clause("f").with(":k", o))
                    } else {
                        Object::from(vec![o])
                    };
                }
                o
            })
            .boxed()
    }
}

/// Structural equality with floats compared by their bits (NaN payloads included), which
/// `PartialEq` cannot give.
pub fn same_object(a: &monwire_galaxy::Object, b: &monwire_galaxy::Object) -> bool {
    use monwire_galaxy::Object as O;
    match (a, b) {
        (O::Float(x), O::Float(y)) => x.to_bits() == y.to_bits(),
        (O::Float32(x), O::Float32(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        (O::Float64(x), O::Float64(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        (O::List(x), O::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_object(p, q))
        }
        (O::Frame(x), O::Frame(y)) => same_frame(x, y),
        _ => a == b,
    }
}

/// [`same_object`] for frames.
pub fn same_frame(a: &monwire_galaxy::Frame, b: &monwire_galaxy::Frame) -> bool {
    a.ftype == b.ftype
        && a.name == b.name
        && a.len() == b.len()
        && a.props()
            .zip(b.props())
            .all(|((ka, va), (kb, vb))| ka == kb && same_object(va, vb))
        && a.preds().len() == b.preds().len()
        && a.preds()
            .iter()
            .zip(b.preds())
            .all(|(p, q)| same_frame(p, q))
}
