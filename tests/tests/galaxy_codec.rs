#![cfg(feature = "galaxy")]
//! XDR layouts, limits, the text reader's edge cases and the printers, against the values the
//! protocol note (`galaxy.md`) checked with the GC 4.0 library.
// Helpers outside #[test] fns fail loudly too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_galaxy::codec::{
    Codec, Int64Width, Limits, StreamDecoder, decode_object, encode_object,
};
use monwire_galaxy::error::{DecodeErrorKind, EncodeError};
use monwire_galaxy::message::{Frame, FrameType, Message, MsgType, Object};
use monwire_galaxy::session::{GuiClient, GuiServer, HubSide, default_hub_init, sample_info_frame};
use monwire_galaxy::text::{
    self, format_float, outline_frame, pp_frame, pr, pr_frame, read_frame, read_frame_report,
    uudecode, uuencode,
};
use monwire_tests::vectors::{self, unhex};

#[test]
fn object_layouts_match_the_c_library() {
    let cases: [(Object, &str); 6] = [
        (Object::Int(-42), "00000003 ffffffd6"),
        (Object::Float(1.5), "00000004 3fc00000"),
        (Object::List(vec![].into()), "00000006 00000000"),
        (
            Object::Binary(vec![0, 1, 2, 0xff, 0x41].into()),
            "0000000b 00000005 000102ff 41000000",
        ),
        (
            Object::Int16(vec![1, -2].into()),
            "0000000c 00000002 00000001 fffffffe",
        ),
        (Object::Int32(vec![].into()), "0000000d 00000000"),
    ];
    for (obj, hex) in cases {
        assert_eq!(encode_object(&obj).unwrap(), unhex(hex), "{obj:?}");
        assert_eq!(decode_object(&unhex(hex)).unwrap(), obj);
    }
}

#[test]
fn int64_width_is_an_explicit_option() {
    let obj = Object::Int64(vec![1, 0x1_0000_0000].into());
    let four = Codec::default().with_int64_width(Int64Width::Four);
    assert_eq!(
        four.encode_object(&obj).unwrap(),
        unhex("0000000e 00000002 00000001 00000000")
    );
    assert_eq!(
        four.decode_object(&unhex("0000000e 00000001 ffffffff"))
            .unwrap(),
        Object::Int64(vec![-1].into())
    );
    let eight = Codec::default().with_int64_width(Int64Width::Eight);
    let bytes = eight.encode_object(&obj).unwrap();
    assert_eq!(
        bytes,
        unhex("0000000e 00000002 00000000 00000001 00000001 00000000")
    );
    assert_eq!(eight.decode_object(&bytes).unwrap(), obj);
}

#[test]
fn pad_bytes_are_ignored_on_read_and_zero_on_write() {
    let bytes = unhex("00000002 00000001 41ffffff");
    let obj = decode_object(&bytes).unwrap();
    assert_eq!(obj, Object::string("A"));
    assert_eq!(
        encode_object(&obj).unwrap(),
        unhex("00000002 00000001 41000000")
    );
}

#[test]
fn huge_lengths_and_counts_are_typed_errors_before_allocation() {
    // A 2^31 string length, list count and array count in a few bytes.
    for (hex, at) in [
        ("00000002 80000000", 4),
        ("0000000d 80000000", 4),
        ("00000010 7fffffff 00000000", 4),
    ] {
        let e = decode_object(&unhex(hex)).unwrap_err();
        assert_eq!(e.offset, at);
        assert!(
            matches!(e.kind, DecodeErrorKind::LengthTooLarge { .. }),
            "{e}"
        );
    }
    let e = decode_object(&unhex("00000006 80000000")).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::NegativeCount { count: i32::MIN });
    let e = decode_object(&unhex("00000006 7fffffff")).unwrap_err();
    assert!(matches!(
        e.kind,
        DecodeErrorKind::LengthTooLarge {
            len: 0x7fff_ffff,
            ..
        }
    ));
    for code in [0i32, 7, 8, 9, 10, 21, -1] {
        let e = decode_object(&code.to_be_bytes()).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::BadObjectType { code });
    }
}

#[test]
fn hundred_thousand_nested_frames_are_an_error_not_a_stack_overflow() {
    // Each level: FRAME, clause, name "", 1 prop, key "k", then the next level.
    let level = unhex("00000001 00000002 00000000 00000001 00000001 6b000000");
    let mut bytes = Vec::new();
    for _ in 0..100_000 {
        bytes.extend_from_slice(&level);
    }
    let e = decode_object(&bytes).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::TooDeep { limit: 64 });
    assert_eq!(e.offset, 64 * level.len() as u64);
    // The same with lists, and through the text reader.
    let lists = unhex("00000006 00000001").repeat(100_000);
    assert!(matches!(
        decode_object(&lists).unwrap_err().kind,
        DecodeErrorKind::TooDeep { .. }
    ));
    let text = "{c a :k ".repeat(100_000);
    let read = read_frame_report(text.as_bytes());
    assert!(read.frame.is_some() && read.stop.is_some());
    let deep = Codec::new(Limits::default().with_max_depth(1_000_000));
    assert!(matches!(
        deep.decode_object(&bytes).unwrap_err().kind,
        DecodeErrorKind::TooDeep { limit: 256 }
    ));
}

#[test]
fn stream_decoder_needs_more_then_rejects_bad_headers_at_once() {
    let codec = Codec::default();
    let cap = vectors::read("galaxy", "cap.hub2gui");
    for n in 0..96 {
        assert_eq!(codec.decode(&cap[..n]).unwrap(), None, "{n} bytes");
    }
    let (m, used) = codec.decode(&cap).unwrap().unwrap();
    assert_eq!((m.msg_type, used), (MsgType::Message, 96));
    let e = codec.decode(&unhex("00000009 00000000")).unwrap_err();
    assert_eq!(
        (e.offset, e.kind),
        (0, DecodeErrorKind::UnknownMsgType { code: 9 })
    );
    let e = codec.decode(&unhex("00000001 ffffffff")).unwrap_err();
    assert_eq!(
        (e.offset, e.kind),
        (4, DecodeErrorKind::NegativeSize { size: -1 })
    );
    let e = codec.decode(&unhex("00000001 7fffffff")).unwrap_err();
    assert!(matches!(e.kind, DecodeErrorKind::SizeTooLarge { .. }));
    let (m, used) = codec
        .decode(&unhex("00000007 00000000 ffff"))
        .unwrap()
        .unwrap();
    assert_eq!((m.msg_type, m.body, used), (MsgType::Disconnect, None, 8));
    // Offsets in a stream count from its first byte.
    let mut dec = StreamDecoder::new(codec);
    dec.push(&cap[..96]);
    dec.push(&unhex("00000001 00000008 00000003"));
    assert!(dec.next_message().unwrap().is_some());
    assert_eq!(dec.next_message().unwrap(), None);
    dec.push(&unhex("00000001"));
    let m = dec.next_message().unwrap().unwrap();
    assert_eq!(m.body, Some(Object::Int(1)));
    dec.push(&unhex("0000000a 00000000"));
    let e = dec.next_message().unwrap_err();
    assert_eq!(
        (e.offset, e.kind),
        (112, DecodeErrorKind::UnknownMsgType { code: 10 })
    );
}

#[test]
fn frames_that_cannot_be_encoded_are_refused() {
    let unnamed = Object::from(read_frame(b"{c :a 1 }").unwrap());
    assert_eq!(encode_object(&unnamed), Err(EncodeError::NullName));
    let nul = Object::List(vec![Object::Null].into());
    assert_eq!(encode_object(&nul), Err(EncodeError::NullObject));
    let body_less = Message {
        msg_type: MsgType::Reply,
        body: None,
    };
    assert!(Codec::default().encode(&body_less).is_err());
}

#[test]
fn reader_accepts_what_the_c_reader_accepts() {
    let cases: [(&str, Option<&str>); 12] = [
        (
            "{c n :i -5 :j +5 :f .5 :g 5. :h 1e5 :z 007}",
            Some("{c n :i -5 :j 5 :f 5.000000e-01 :g 5.000000e+00 :h 1.000000e+05 :z 7 }"),
        ),
        ("{x foo :a 1 }", Some("{c foo :a 1 }")),
        ("{foo :a 1}", None),
        (
            "{c n :a sym :b $var :c :d 4 }",
            Some("{c n :a sym :b $var :d 4 }"),
        ),
        (
            "{c n nokey 1 :x NULLObject :y 2 }",
            Some("{c n nokey 1 :y 2 }"),
        ),
        ("{c n :tok 1a :z 2 }", Some("{c n }")),
        ("{c}", Some("{c NO_NAME }")),
        (
            "  {q t :e 1e :ep 1e+ }",
            Some("{q t :e 1.000000e+00 :ep 1.000000e+00 }"),
        ),
        (
            "{p n :l ( 1 NULLObject :kw tok-1 ... \"s\" ) :after 1 }",
            Some("{p n :l ( 1 NULLObject :kw tok-1 \"s\" ) :after 1 }"),
        ),
        ("{c n :s \"a\\nb\\\"c\" }", Some("{c n :s \"anb\\\"c\" }")),
        (
            "{c n :b % 5 8   $\"_T$  :x 1 }",
            Some("{c n :b % 5 8   $\"_T$  :x 1 }"),
        ),
        (
            "{c n :p {p pp } :pred {p q :x 1 } :dup 1 :dup 2 }",
            Some("{c n :p {p pp } :dup 2 :pred {p q :x 1 } }"),
        ),
    ];
    for (input, want) in cases {
        let got = read_frame(input.as_bytes()).map(|f| String::from_utf8(pr_frame(&f)).unwrap());
        assert_eq!(got.as_deref(), want, "{input}");
    }
    let f = read_frame(b"{c n :b % 5 8   $\"_T$  }").unwrap();
    assert_eq!(
        f.get(":b"),
        Some(&Object::Binary(vec![0, 1, 2, 0xff, 0x41].into()))
    );
    // An early stop is reported, with the frame so far.
    let r = read_frame_report(b"{c n :a 1 :b 1a :c 3 }");
    assert_eq!(r.frame.map(|f| f.len()), Some(1));
    assert!(r.stop.is_some());
    assert_eq!(read_frame_report(b"{c n :a 1 }").stop, None);
}

#[test]
fn printers_match_the_c_printers() {
    let f = read_frame(
        b"{c demo :str \"a \\\"q\\\" b\\\\c\nnl\" :int -42 :flt 1.5 :list ( 1 \"x\" ( ) ) :empty ( ) :frm {q inner :k 1 } :sym foo :pred {p pp } }",
    )
    .unwrap();
    let want_pp = "{c demo\n   :str \"a \\\"q\\\" b\\\\c\nnl\"\n   :int -42\n   :flt 1.500000e+00\n   :list ( 1\n           \"x\"\n           (  ) )\n   :empty (  )\n   :frm {q inner\n           :k 1 }\n   :sym foo\n   :pred {p pp } }";
    assert_eq!(String::from_utf8(pp_frame(&f)).unwrap(), want_pp);
    let want_pr = "{c demo :str \"a \\\"q\\\" b\\\\c\nnl\" :int -42 :flt 1.500000e+00 :list ( 1 \"x\" (  ) ) :empty (  ) :frm {q inner :k 1 } :sym foo :pred {p pp } }";
    assert_eq!(String::from_utf8(pr_frame(&f)).unwrap(), want_pr);
    for (v, s) in [
        (1.5f32, "1.500000e+00"),
        (-0.25, "-2.500000e-01"),
        (0.0, "0.000000e+00"),
        (-0.0, "-0.000000e+00"),
        (f32::from_bits(1), "1.401298e-45"),
        (f32::INFINITY, "inf"),
        (f32::NAN, "nan"),
        (-f32::NAN, "-nan"),
        (1e10, "1.000000e+10"),
        (3.4028235e38, "3.402823e+38"),
    ] {
        assert_eq!(format_float(v), s);
    }
    assert_eq!(uuencode(&[0, 1, 2, 0xff, 0x41]), b"  $\"_T$ ");
    assert_eq!(uudecode(b"  $\"_T$ ", 5), [0, 1, 2, 0xff, 0x41]);
    assert_eq!(pr(&Object::Binary(vec![].into())), b"% 0 0 ");
    assert_eq!(
        pr(&Object::Float64(vec![1.0].into())),
        b"\"[non-readable frame element: array of type GAL_FLOAT_64]\""
    );
    let arr = Frame::clause("a")
        .with(":t", Object::Float64(vec![1.0, 2.0].into()))
        .with(":b", Object::Binary(vec![1, 2].into()))
        .with(":x", 1);
    assert_eq!(
        pp_frame(&arr),
        b"{c a\n   :t [array: type GAL_FLOAT_64, 2 bytes]\n   :b % 2 4  0( \n\n   :x 1 }"
    );
    assert_eq!(
        outline_frame(&arr),
        b"{c a\n   :t [array: type GAL_FLOAT_64, 2 bytes]\n   :b % 2 GAL_BINARY object\n   :x 1 }"
    );
    // Outline: 50-59 byte strings are cut to 50 plus " ..." (a C inverted test); others whole.
    let s55 = "x".repeat(55);
    let o = Frame::clause("s")
        .with(":a", s55.as_str())
        .with(":b", "x".repeat(60).as_str());
    let want = format!(
        "{{c s\n   :a \"{} ...\"\n   :b \"{}\" }}",
        "x".repeat(50),
        "x".repeat(60)
    );
    assert_eq!(String::from_utf8(outline_frame(&o)).unwrap(), want);
    // Keywords and tokens: skipped as PR property values, printed in lists and by outline.
    let kw = Frame::clause("k")
        .with(":a", Object::Keyword(b":z"[..].into()))
        .with(
            ":l",
            Object::List(vec![Object::Token(b"1a"[..].into())].into()),
        );
    assert_eq!(pr_frame(&kw), b"{c k :l ( 1a ) }");
    assert_eq!(outline_frame(&kw), b"{c k\n   :a :z\n   :l ( 1a ) }");
    let odd = Frame::new(FrameType::Other(9), "n");
    assert_eq!(pr_frame(&odd), b"{  n }");
}

#[test]
fn gui_server_fed_the_capture_answers_exactly_like_the_c_gui() {
    let mut gui = GuiServer::default();
    gui.handle_input(&vectors::read("galaxy", "cap.hub2gui"))
        .unwrap();
    let mut out = Vec::new();
    while let Some(b) = gui.poll_transmit() {
        out.extend_from_slice(&b);
    }
    assert_eq!(out, vectors::read("galaxy", "cap.gui2hub"));
}

#[test]
fn gui_client_fed_the_capture_sends_exactly_what_the_c_gui_sent() {
    let mut gui = GuiClient::new(Codec::default(), sample_info_frame()).unwrap();
    let mut out = gui.poll_transmit().unwrap();
    gui.handle_input(&vectors::read("galaxy", "cap4.hub2gui"))
        .unwrap();
    while let Some(b) = gui.poll_transmit() {
        out.extend_from_slice(&b);
    }
    assert_eq!(out, vectors::read("galaxy", "cap4.gui2hub"));
    assert!(gui.is_running());
}

#[test]
fn hub_side_reproduces_the_captured_handshake_and_reinitialize() {
    let cap = vectors::read("galaxy", "cap.hub2gui");
    let mut hub = HubSide::connecting(Codec::default(), default_hub_init()).unwrap();
    assert_eq!(hub.poll_transmit().unwrap(), cap[..96]);
    hub.handle_input(&vectors::read("galaxy", "cap.gui2hub")[..1120])
        .unwrap();
    assert_eq!(hub.poll_transmit().unwrap(), cap[96..328]);
    // Listener mode: the echo of the announcement and the reinitialize without :server_type.
    let cap4 = vectors::read("galaxy", "cap4.hub2gui");
    let mut hub = HubSide::listening(Codec::default(), default_hub_init());
    hub.handle_input(&vectors::read("galaxy", "cap4.gui2hub")[..1120])
        .unwrap();
    assert_eq!(hub.poll_transmit().unwrap(), cap4[..1320]);
    let _ = text::read_frame(b"{c x }");
}
