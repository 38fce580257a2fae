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
            .decode_message(&bytes[at..])
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

/// Fuzz body: a byte stream of messages. The stream decoder never panics; fed in one piece, in
/// two pieces at every few split points, and byte by byte, it gives the same messages and the
/// same error at the same offset; every message re-encodes to bytes that decode to the same
/// re-encoding.
pub fn roundtrip_stream(data: &[u8]) {
    let whole = drain(data, &[data.len()]);
    let bytewise = drain(data, &vec![1; data.len()]);
    assert_eq!(whole, bytewise, "byte-by-byte feeding differs");
    for cut in [1, 7, 8, 9, data.len() / 2] {
        if cut < data.len() {
            let split = drain(data, &[cut, data.len() - cut]);
            assert_eq!(whole, split, "split at {cut} differs");
        }
    }
    let codec = Codec::default();
    for once in &whole.0 {
        let again = codec.decode_message_exact(once).expect("decodes again");
        assert_eq!(&codec.encode_message(&again).unwrap(), once);
    }
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
                Ok(Some(m)) => msgs.push(
                    dec.codec()
                        .encode_message(&m)
                        .expect("a decoded message encodes"),
                ),
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
        assert_eq!(
            String::from_utf8_lossy(&text::pr_frame(&back)),
            String::from_utf8_lossy(&pr),
            "PR text is not stable"
        );
    }
    let codec = Codec::default();
    let obj = monwire_galaxy::Object::Frame(frame);
    if let Ok(bytes) = codec.encode_object(&obj) {
        let back = codec.decode_object(&bytes).expect("encoded frame decodes");
        assert_eq!(codec.encode_object(&back).unwrap(), bytes);
    }
}
