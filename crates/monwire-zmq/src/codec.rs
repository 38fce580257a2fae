//! Decode and encode monitor messages: pure functions over frames, no IO.
//!
//! These are *frame* decoders: libzmq hands over whole messages, so short or missing input is
//! an error, never "need more". Frames are anything that derefs to bytes (`&[u8]`, `Vec<u8>`,
//! `bytes::Bytes`), passed as a slice. Decoding never panics, never allocates more than the
//! input (v1 and the v2 shapes libzmq sends do not allocate at all), and checks a v2 value
//! count against the frames present before using it.
//!
//! ```
//! use monwire_zmq::codec::{self, Codec, ByteOrder};
//! use monwire_zmq::{MonitorEvent, V1Message};
//!
//! // LISTENING fd 18 on tcp://127.0.0.1:38317, as libzmq 4.3.4 wrote it on x86_64.
//! let frames: [&[u8]; 2] = [&[0x08, 0x00, 0x12, 0x00, 0x00, 0x00], b"tcp://127.0.0.1:38317"];
//! let codec = Codec::new().with_byte_order(ByteOrder::Little);
//! let msg = codec.decode_v1(&frames)?;
//! assert_eq!(msg.event, MonitorEvent::Listening { fd: 18 });
//! assert_eq!(msg.endpoint_str()?, "tcp://127.0.0.1:38317");
//! assert_eq!(codec.encode_v1(&msg)?, frames.map(<[u8]>::to_vec));
//!
//! // Either version, told apart by the frame count.
//! let any = codec.decode(&frames)?;
//! assert_eq!(any.version(), 1);
//! assert_eq!(any.to_string(), "tcp://127.0.0.1:38317 listening, fd 18");
//! assert_eq!(codec.encode(&any)?, frames.map(<[u8]>::to_vec));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use smallvec::SmallVec;

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::message::{EventCode, MessageRef, MonitorEvent, V1MessageRef, V2Message, V2MessageRef};

/// The byte order of the integers in frames.
///
/// libzmq writes native integers (monitor endpoints are inproc-only, so the bytes never leave
/// the process). Use an explicit order to decode captures from another host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ByteOrder {
    /// This host's order (the right choice for live monitors).
    #[default]
    Native,
    /// Little-endian (x86_64, aarch64 Linux): the golden vectors' order.
    Little,
    /// Big-endian.
    Big,
}

impl ByteOrder {
    fn resolve(self) -> bool {
        // true = little-endian
        match self {
            ByteOrder::Native => cfg!(target_endian = "little"),
            ByteOrder::Little => true,
            ByteOrder::Big => false,
        }
    }
}

/// Bounds on what a decoder accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The most values a v2 message may declare (libzmq sends 1 or 2). Default 64.
    pub max_v2_values: usize,
}

impl Limits {
    /// The defaults.
    pub const DEFAULT: Limits = Limits { max_v2_values: 64 };

    /// These limits with another `max_v2_values`.
    pub const fn with_max_v2_values(mut self, max: usize) -> Limits {
        self.max_v2_values = max;
        self
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

/// The codec: a byte order and limits. `Codec::default()` is native order, default limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Codec {
    /// The byte order of integer frames.
    pub byte_order: ByteOrder,
    /// The decoder's bounds.
    pub limits: Limits,
}

fn err(frame: usize, offset: usize, kind: DecodeErrorKind) -> DecodeError {
    DecodeError {
        frame,
        offset,
        kind,
    }
}

pub(crate) fn utf8_endpoint(bytes: &[u8], frame: usize) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes)
        .map_err(|e| err(frame, e.valid_up_to(), DecodeErrorKind::NonUtf8Endpoint))
}

impl Codec {
    /// Native byte order, default limits.
    pub const fn new() -> Codec {
        Codec {
            byte_order: ByteOrder::Native,
            limits: Limits::DEFAULT,
        }
    }

    /// This codec with another byte order.
    pub const fn with_byte_order(mut self, byte_order: ByteOrder) -> Codec {
        self.byte_order = byte_order;
        self
    }

    /// This codec with other limits.
    pub const fn with_limits(mut self, limits: Limits) -> Codec {
        self.limits = limits;
        self
    }

    fn u64_frame(&self, frame: &[u8], index: usize) -> Result<u64, DecodeError> {
        let bytes: [u8; 8] = frame.try_into().map_err(|_| {
            err(
                index,
                frame.len().min(8),
                DecodeErrorKind::FrameLength {
                    expected: 8,
                    found: frame.len(),
                },
            )
        })?;
        Ok(if self.byte_order.resolve() {
            u64::from_le_bytes(bytes)
        } else {
            u64::from_be_bytes(bytes)
        })
    }

    /// Decodes a v1 message: exactly 2 frames, frame 0 exactly 6 bytes (`u16` event, `u32`
    /// value), frame 1 the endpoint (any bytes, possibly empty). Unknown codes decode to
    /// [`MonitorEvent::Unknown`]. Borrows the endpoint; does not allocate.
    pub fn decode_v1<'a, F: AsRef<[u8]>>(
        &self,
        frames: &'a [F],
    ) -> Result<V1MessageRef<'a>, DecodeError> {
        let [head, endpoint] = frames else {
            return Err(err(
                frames.len().min(2),
                0,
                DecodeErrorKind::FrameCount {
                    version: "v1",
                    expected: "exactly 2",
                    found: frames.len(),
                },
            ));
        };
        let head: &[u8; 6] = head.as_ref().try_into().map_err(|_| {
            let found = head.as_ref().len();
            err(
                0,
                found.min(6),
                DecodeErrorKind::FrameLength { expected: 6, found },
            )
        })?;
        let [c0, c1, v0, v1, v2, v3] = *head;
        let (code, value) = if self.byte_order.resolve() {
            (
                u16::from_le_bytes([c0, c1]),
                u32::from_le_bytes([v0, v1, v2, v3]),
            )
        } else {
            (
                u16::from_be_bytes([c0, c1]),
                u32::from_be_bytes([v0, v1, v2, v3]),
            )
        };
        Ok(V1MessageRef {
            event: MonitorEvent::from_raw(EventCode(code.into()), &[value.into()]),
            endpoint: endpoint.as_ref(),
        })
    }

    /// Decodes a v2 message: `u64` event, `u64` n, n × `u64` values, local endpoint, remote
    /// endpoint. n is checked against the frames present and [`Limits::max_v2_values`] before
    /// anything is sized by it.
    pub fn decode_v2<'a, F: AsRef<[u8]>>(
        &self,
        frames: &'a [F],
    ) -> Result<V2MessageRef<'a>, DecodeError> {
        if frames.len() < 4 {
            return Err(err(
                frames.len(),
                0,
                DecodeErrorKind::FrameCount {
                    version: "v2",
                    expected: "at least 4",
                    found: frames.len(),
                },
            ));
        }
        let code = self.u64_frame(frames[0].as_ref(), 0)?;
        let declared = self.u64_frame(frames[1].as_ref(), 1)?;
        let present = frames.len() - 4;
        if !usize::try_from(declared).is_ok_and(|n| n <= self.limits.max_v2_values) {
            return Err(err(
                1,
                0,
                DecodeErrorKind::TooManyValues {
                    declared,
                    limit: self.limits.max_v2_values,
                },
            ));
        }
        if !u64::try_from(present).is_ok_and(|p| p == declared) {
            return Err(err(1, 0, DecodeErrorKind::ValueCount { declared, present }));
        }
        let mut values: SmallVec<[u64; 2]> = SmallVec::with_capacity(present);
        for (i, frame) in frames[2..2 + present].iter().enumerate() {
            values.push(self.u64_frame(frame.as_ref(), 2 + i)?);
        }
        Ok(V2MessageRef {
            event: MonitorEvent::from_raw(EventCode(code), &values),
            local: frames[2 + present].as_ref(),
            remote: frames[3 + present].as_ref(),
        })
    }

    /// Decodes a message of either version, told apart by the frame count alone: exactly 2
    /// frames is v1 ([`decode_v1`](Codec::decode_v1)), 4 or more is v2
    /// ([`decode_v2`](Codec::decode_v2)); 0, 1 or 3 frames is neither.
    pub fn decode<'a, F: AsRef<[u8]>>(
        &self,
        frames: &'a [F],
    ) -> Result<MessageRef<'a>, DecodeError> {
        match frames.len() {
            2 => self.decode_v1(frames).map(MessageRef::V1),
            n if n >= 4 => self.decode_v2(frames).map(MessageRef::V2),
            n => Err(err(
                n,
                0,
                DecodeErrorKind::FrameCount {
                    version: "v1 or v2",
                    expected: "2 (v1) or at least 4 (v2)",
                    found: n,
                },
            )),
        }
    }

    /// Encodes a message of either version as its frames: the exact inverse of
    /// [`decode`](Codec::decode). Fails only for a v1 message v1 cannot carry.
    pub fn encode(&self, msg: &MessageRef<'_>) -> Result<Vec<Vec<u8>>, EncodeError> {
        match msg {
            MessageRef::V1(m) => Ok(self.encode_v1(m)?.into()),
            MessageRef::V2(m) => Ok(self.encode_v2(m)),
        }
    }

    /// Encodes frame 0 of a v1 message (6 bytes), without allocating.
    ///
    /// Fails when the code does not fit 16 bits, when there is not exactly one value, or when
    /// the value does not fit 32 bits.
    pub fn encode_v1_head(&self, event: &MonitorEvent) -> Result<[u8; 6], EncodeError> {
        let code = event.code();
        let code16 = u16::try_from(code.0).map_err(|_| EncodeError::CodeTooLarge(code))?;
        let values = event.values();
        let [value] = values.as_slice() else {
            return Err(EncodeError::ValueCount {
                code,
                count: values.len(),
            });
        };
        let value32 = u32::try_from(*value).map_err(|_| EncodeError::ValueTooLarge {
            code,
            value: *value,
        })?;
        let (c, v) = if self.byte_order.resolve() {
            (code16.to_le_bytes(), value32.to_le_bytes())
        } else {
            (code16.to_be_bytes(), value32.to_be_bytes())
        };
        Ok([c[0], c[1], v[0], v[1], v[2], v[3]])
    }

    /// Encodes a v1 message as its two frames: the exact inverse of [`decode_v1`].
    ///
    /// [`decode_v1`]: Codec::decode_v1
    pub fn encode_v1(&self, msg: &V1MessageRef<'_>) -> Result<[Vec<u8>; 2], EncodeError> {
        Ok([
            self.encode_v1_head(&msg.event)?.to_vec(),
            msg.endpoint.to_vec(),
        ])
    }

    /// Encodes a v2 message as its `n + 4` frames. Always succeeds.
    pub fn encode_v2(&self, msg: &V2MessageRef<'_>) -> Vec<Vec<u8>> {
        let little = self.byte_order.resolve();
        let word = |v: u64| {
            if little {
                v.to_le_bytes().to_vec()
            } else {
                v.to_be_bytes().to_vec()
            }
        };
        let values = msg.event.values();
        let mut frames = Vec::with_capacity(values.len() + 4);
        frames.push(word(msg.event.code().0));
        frames.push(word(values.len() as u64));
        frames.extend(values.iter().map(|&v| word(v)));
        frames.push(msg.local.to_vec());
        frames.push(msg.remote.to_vec());
        frames
    }
}

/// [`Codec::decode`] with native byte order and default limits: a message of either version,
/// told apart by its frame count.
pub fn decode<F: AsRef<[u8]>>(frames: &[F]) -> Result<MessageRef<'_>, DecodeError> {
    Codec::new().decode(frames)
}

/// [`Codec::encode`] with native byte order.
pub fn encode(msg: &MessageRef<'_>) -> Result<Vec<Vec<u8>>, EncodeError> {
    Codec::new().encode(msg)
}

/// [`Codec::decode_v1`] with native byte order.
pub fn decode_v1<F: AsRef<[u8]>>(frames: &[F]) -> Result<V1MessageRef<'_>, DecodeError> {
    Codec::new().decode_v1(frames)
}

/// [`Codec::decode_v2`] with native byte order and default limits.
pub fn decode_v2<F: AsRef<[u8]>>(frames: &[F]) -> Result<V2MessageRef<'_>, DecodeError> {
    Codec::new().decode_v2(frames)
}

/// [`Codec::encode_v1`] with native byte order.
pub fn encode_v1(msg: &V1MessageRef<'_>) -> Result<[Vec<u8>; 2], EncodeError> {
    Codec::new().encode_v1(msg)
}

/// [`Codec::encode_v2`] with native byte order.
pub fn encode_v2(msg: &V2Message) -> Vec<Vec<u8>> {
    Codec::new().encode_v2(&msg.view())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{ProtocolError, Values};

    const LE: Codec = Codec::new().with_byte_order(ByteOrder::Little);

    fn v2_frames(code: u64, n: u64, values: &[u64]) -> Vec<Vec<u8>> {
        let mut f = vec![code.to_le_bytes().to_vec(), n.to_le_bytes().to_vec()];
        f.extend(values.iter().map(|v| v.to_le_bytes().to_vec()));
        f.push(b"tcp://a".to_vec());
        f.push(Vec::new());
        f
    }

    #[test]
    fn v1_malformed_shapes_are_typed_errors() {
        let one: [&[u8]; 1] = [&[0; 6]];
        let e = LE.decode_v1(&one).unwrap_err();
        assert_eq!((e.frame, e.offset), (1, 0));
        assert!(matches!(
            e.kind,
            DecodeErrorKind::FrameCount { found: 1, .. }
        ));
        let three: [&[u8]; 3] = [&[0; 6], b"", b""];
        assert!(matches!(
            LE.decode_v1(&three).unwrap_err().kind,
            DecodeErrorKind::FrameCount { found: 3, .. }
        ));
        for len in [0usize, 5, 7] {
            let head = vec![0u8; len];
            let frames: [&[u8]; 2] = [&head, b""];
            let e = LE.decode_v1(&frames).unwrap_err();
            assert_eq!(e.frame, 0);
            assert_eq!(
                e.kind,
                DecodeErrorKind::FrameLength {
                    expected: 6,
                    found: len
                }
            );
        }
        let none: [&[u8]; 0] = [];
        assert!(LE.decode_v1(&none).is_err());
    }

    #[test]
    fn v1_unknown_codes_decode_and_round_trip() {
        for code in [0u16, 0x8000, 0x0003, 0xFFFF] {
            let mut head = code.to_le_bytes().to_vec();
            head.extend(7u32.to_le_bytes());
            let frames = [head.clone(), b"x".to_vec()];
            let msg = LE.decode_v1(&frames).unwrap();
            assert_eq!(
                msg.event,
                MonitorEvent::Unknown {
                    code: EventCode(code.into()),
                    values: Values::from_slice(&[7])
                }
            );
            assert_eq!(LE.encode_v1(&msg).unwrap(), frames);
        }
    }

    #[test]
    fn v1_unexpected_values_are_kept() {
        // HANDSHAKE_SUCCEEDED with 7 and MONITOR_STOPPED with 1 are not their typed variants.
        for code in [0x1000u16, 0x0400] {
            let mut head = code.to_le_bytes().to_vec();
            head.extend(7u32.to_le_bytes());
            let frames = [head.clone(), Vec::new()];
            let msg = LE.decode_v1(&frames).unwrap();
            assert!(matches!(msg.event, MonitorEvent::Unknown { .. }));
            assert_eq!(LE.encode_v1(&msg).unwrap()[0], head);
        }
        let auth = MonitorEvent::from_raw(EventCode::HANDSHAKE_FAILED_AUTH, &[401]);
        assert_eq!(
            auth,
            MonitorEvent::HandshakeFailedAuth {
                status: crate::ZapStatus(401)
            }
        );
    }

    #[test]
    fn byte_orders_differ_and_native_matches_host() {
        let head = [0x00, 0x20, 0x02, 0x00, 0x00, 0x11];
        let frames: [&[u8]; 2] = [&head, b""];
        assert_eq!(
            LE.decode_v1(&frames).unwrap().event,
            MonitorEvent::HandshakeFailedProtocol(ProtocolError::ZmtpMechanismMismatch)
        );
        let be = Codec::new().with_byte_order(ByteOrder::Big);
        assert_eq!(
            be.decode_v1(&frames).unwrap().event.code(),
            EventCode(0x0020)
        );
        let native = decode_v1(&frames).unwrap();
        let expected = if cfg!(target_endian = "little") {
            LE.decode_v1(&frames).unwrap()
        } else {
            be.decode_v1(&frames).unwrap()
        };
        assert_eq!(native, expected);
    }

    #[test]
    fn v2_counts_are_checked_before_use() {
        let ok = v2_frames(0x10000, 2, &[3, 4]);
        assert_eq!(
            LE.decode_v2(&ok).unwrap().event,
            MonitorEvent::PipesStats {
                egress: 3,
                ingress: 4
            }
        );
        let huge = v2_frames(1, u64::MAX, &[3]);
        assert!(matches!(
            LE.decode_v2(&huge).unwrap_err().kind,
            DecodeErrorKind::TooManyValues {
                declared: u64::MAX,
                ..
            }
        ));
        for (n, present) in [(2u64, 1usize), (0, 1), (1, 2)] {
            let vals = vec![9u64; present];
            let f = v2_frames(1, n, &vals);
            assert_eq!(
                LE.decode_v2(&f).unwrap_err().kind,
                DecodeErrorKind::ValueCount {
                    declared: n,
                    present
                }
            );
        }
        let mut short = v2_frames(1, 1, &[5]);
        short[2].pop();
        let e = LE.decode_v2(&short).unwrap_err();
        assert_eq!(e.frame, 2);
        assert_eq!(
            e.kind,
            DecodeErrorKind::FrameLength {
                expected: 8,
                found: 7
            }
        );
        let three = &ok[..3];
        assert!(matches!(
            LE.decode_v2(three).unwrap_err().kind,
            DecodeErrorKind::FrameCount { found: 3, .. }
        ));
    }

    #[test]
    fn v2_known_code_with_odd_count_is_lossless() {
        let f = v2_frames(1, 2, &[25, 26]);
        let msg = LE.decode_v2(&f).unwrap();
        assert!(matches!(msg.event, MonitorEvent::Unknown { .. }));
        assert_eq!(LE.encode_v2(&msg), f);
        let none = v2_frames(0x400, 0, &[]);
        let msg = LE.decode_v2(&none).unwrap();
        assert_eq!(msg.event.values().len(), 0);
        assert_eq!(LE.encode_v2(&msg), none);
    }

    #[test]
    fn v1_encode_refuses_what_v1_cannot_carry() {
        let stats = MonitorEvent::PipesStats {
            egress: 1,
            ingress: 2,
        };
        assert!(matches!(
            LE.encode_v1_head(&stats),
            Err(EncodeError::CodeTooLarge(_))
        ));
        let wide = MonitorEvent::Connected { fd: 1 << 40 };
        assert!(matches!(
            LE.encode_v1_head(&wide),
            Err(EncodeError::ValueTooLarge { .. })
        ));
        let two = MonitorEvent::from_raw(EventCode::CONNECTED, &[1, 2]);
        assert!(matches!(
            LE.encode_v1_head(&two),
            Err(EncodeError::ValueCount { count: 2, .. })
        ));
    }

    #[test]
    fn decode_tells_the_versions_apart_by_frame_count() {
        let v1: [&[u8]; 2] = [&[8, 0, 18, 0, 0, 0], b"tcp://a"];
        assert!(matches!(LE.decode(&v1).unwrap(), MessageRef::V1(_)));
        let v2 = v2_frames(0x10000, 2, &[3, 4]);
        let msg = LE.decode(&v2).unwrap();
        assert!(matches!(msg, MessageRef::V2(_)));
        assert_eq!(LE.encode(&msg).unwrap(), v2);
        let none = v2_frames(0x400, 0, &[]);
        assert_eq!(LE.decode(&none).unwrap().version(), 2);
        for n in [0usize, 1, 3] {
            let frames = vec![vec![0u8; 8]; n];
            let e = LE.decode(&frames).unwrap_err();
            assert_eq!(e.frame, n);
            assert!(
                matches!(e.kind, DecodeErrorKind::FrameCount { found, .. } if found == n),
                "{e}"
            );
        }
    }

    /// Frames may be `bytes::Bytes` slices of a read buffer: the decoded message borrows the
    /// endpoint from the slice, with no copy.
    #[test]
    fn frames_may_be_bytes_slices_and_are_borrowed() {
        let buf = bytes::Bytes::from_static(b"\x08\x00\x12\x00\x00\x00tcp://127.0.0.1:5555");
        let frames = [buf.slice(..6), buf.slice(6..)];
        let msg = LE.decode(&frames).unwrap();
        let MessageRef::V1(v1) = &msg else {
            panic!("{msg:?}")
        };
        assert_eq!(v1.event, MonitorEvent::Listening { fd: 18 });
        assert!(std::ptr::eq(v1.endpoint, &buf[6..]));
    }

    #[test]
    fn non_utf8_endpoint_names_the_byte() {
        let frames: [&[u8]; 2] = [&[1, 0, 5, 0, 0, 0], b"tcp\xff"];
        let msg = LE.decode_v1(&frames).unwrap();
        let e = msg.endpoint_str().unwrap_err();
        assert_eq!((e.frame, e.offset), (1, 3));
        assert_eq!(e.kind, DecodeErrorKind::NonUtf8Endpoint);
    }
}
