//! The sans-IO side of a live monitor: what to arm, what to pass on, when the stream ends.
//!
//! [`MonitorSession`] holds every decision the [`zmq`](crate::zmq) adapter makes, so it can be
//! tested without libzmq: it names the mask to arm (the caller's events plus
//! `MONITOR_STOPPED`, the only end-of-stream marker), decodes each message the reader hands
//! it, filters out `MONITOR_STOPPED` when the caller did not ask for it, and records the end of
//! the stream.
//!
//! # Driving it
//!
//! After every message read from the monitor socket, call [`MonitorSession::handle_v1`] (or
//! `handle_v2`, or their `_ref` forms, which borrow the endpoints from the frames instead of
//! copying them) and pass on what it returns; drain every message that is ready before waiting
//! again (libzmq never drops monitor events, so a reader that falls behind stalls the sender).
//! When a receive fails with `ETERM`, call [`MonitorSession::handle_term`]. Stop reading once
//! [`MonitorSession::is_ended`] is true: then, and only then, the reader may be closed.

use crate::codec::Codec;
use crate::error::DecodeError;
use crate::message::{EventCode, EventMask, V1Message, V1MessageRef, V2Message, V2MessageRef};

/// Why a monitor stream ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// `MONITOR_STOPPED` arrived: the monitor was stopped or re-armed, or the socket closed.
    MonitorStopped,
    /// The context was terminated (`ETERM`); the final event may have been lost.
    ContextTerminated,
}

/// The state of one monitor stream.
#[derive(Clone, Debug)]
pub struct MonitorSession {
    wanted: EventMask,
    codec: Codec,
    ended: Option<EndReason>,
}

impl MonitorSession {
    /// A session for a caller who wants the events in `wanted`.
    pub fn new(wanted: EventMask) -> MonitorSession {
        MonitorSession {
            wanted,
            codec: Codec::new(),
            ended: None,
        }
    }

    /// This session decoding with `codec` (the default is native byte order).
    #[must_use]
    pub fn with_codec(mut self, codec: Codec) -> MonitorSession {
        self.codec = codec;
        self
    }

    /// The events the caller asked for.
    pub fn wanted(&self) -> EventMask {
        self.wanted
    }

    /// The mask to arm: the wanted events plus `MONITOR_STOPPED`.
    pub fn armed_mask(&self) -> EventMask {
        self.wanted | EventCode::MONITOR_STOPPED
    }

    /// Handles one v1 message. Returns the message when the caller wants it, `None` when it is
    /// filtered out (an unrequested `MONITOR_STOPPED`). `MONITOR_STOPPED` ends the stream. A
    /// decode error is returned and the stream goes on.
    pub fn handle_v1<F: AsRef<[u8]>>(
        &mut self,
        frames: &[F],
    ) -> Result<Option<V1Message>, DecodeError> {
        Ok(self.handle_v1_ref(frames)?.map(|m| m.to_owned()))
    }

    /// [`handle_v1`](MonitorSession::handle_v1) without a copy: the message borrows its
    /// endpoint from `frames`.
    pub fn handle_v1_ref<'a, F: AsRef<[u8]>>(
        &mut self,
        frames: &'a [F],
    ) -> Result<Option<V1MessageRef<'a>>, DecodeError> {
        let msg = self.codec.decode_v1(frames)?;
        Ok(self.pass(&msg.event).then_some(msg))
    }

    /// Handles one v2 message, as [`handle_v1`](MonitorSession::handle_v1) does.
    pub fn handle_v2<F: AsRef<[u8]>>(
        &mut self,
        frames: &[F],
    ) -> Result<Option<V2Message>, DecodeError> {
        Ok(self.handle_v2_ref(frames)?.map(|m| m.to_owned()))
    }

    /// [`handle_v2`](MonitorSession::handle_v2) without a copy: the message borrows its
    /// endpoints from `frames`.
    pub fn handle_v2_ref<'a, F: AsRef<[u8]>>(
        &mut self,
        frames: &'a [F],
    ) -> Result<Option<V2MessageRef<'a>>, DecodeError> {
        let msg = self.codec.decode_v2(frames)?;
        Ok(self.pass(&msg.event).then_some(msg))
    }

    fn pass(&mut self, event: &crate::MonitorEvent) -> bool {
        let code = event.code();
        if code == EventCode::MONITOR_STOPPED {
            self.ended.get_or_insert(EndReason::MonitorStopped);
        }
        code != EventCode::MONITOR_STOPPED || self.wanted.contains(code)
    }

    /// Records that the context was terminated (`ETERM` on receive): the stream has ended.
    pub fn handle_term(&mut self) {
        self.ended.get_or_insert(EndReason::ContextTerminated);
    }

    /// Whether the stream has ended; the reader may be closed only then.
    pub fn is_ended(&self) -> bool {
        self.ended.is_some()
    }

    /// Why the stream ended, if it has.
    pub fn end_reason(&self) -> Option<EndReason> {
        self.ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MonitorEvent;

    fn frames(code: u16, value: u32) -> [Vec<u8>; 2] {
        let mut head = code.to_ne_bytes().to_vec();
        head.extend(value.to_ne_bytes());
        [head, b"tcp://x".to_vec()]
    }

    #[test]
    fn monitor_stopped_is_armed_filtered_and_ends_the_stream() {
        let mut s = MonitorSession::new(EventMask::of(EventCode::CONNECTED));
        assert!(s.armed_mask().contains(EventCode::MONITOR_STOPPED));
        let got = s.handle_v1(&frames(1, 5)).unwrap().unwrap();
        assert_eq!(got.event, MonitorEvent::Connected { fd: 5 });
        assert!(!s.is_ended());
        assert_eq!(s.handle_v1(&frames(0x400, 0)).unwrap(), None);
        assert_eq!(s.end_reason(), Some(EndReason::MonitorStopped));
    }

    #[test]
    fn monitor_stopped_is_passed_on_when_asked_for() {
        let mut s = MonitorSession::new(EventMask::ALL_V1);
        let got = s.handle_v1(&frames(0x400, 0)).unwrap();
        assert_eq!(got.map(|m| m.event), Some(MonitorEvent::MonitorStopped));
        assert!(s.is_ended());
    }

    #[test]
    fn decode_errors_do_not_end_the_stream_and_term_does() {
        let mut s = MonitorSession::new(EventMask::ALL_V1);
        assert!(s.handle_v1(&[vec![0u8; 5]]).is_err());
        assert!(!s.is_ended());
        s.handle_term();
        assert_eq!(s.end_reason(), Some(EndReason::ContextTerminated));
    }

    fn v2(code: u64, values: &[u64], local: &[u8], remote: &[u8]) -> Vec<Vec<u8>> {
        let mut f = vec![
            code.to_ne_bytes().to_vec(),
            (values.len() as u64).to_ne_bytes().to_vec(),
        ];
        f.extend(values.iter().map(|v| v.to_ne_bytes().to_vec()));
        f.push(local.to_vec());
        f.push(remote.to_vec());
        f
    }

    #[test]
    fn handle_v2_passes_filters_ends_and_survives_errors() {
        let mut s = MonitorSession::new(EventMask::ALL_V2);
        let stats = s
            .handle_v2(&v2(0x10000, &[0, 2], b"tcp://l", b"tcp://r"))
            .unwrap()
            .unwrap();
        assert_eq!(
            stats.event,
            MonitorEvent::PipesStats {
                egress: 0,
                ingress: 2
            }
        );
        assert_eq!(
            (stats.local.as_slice(), stats.remote.as_slice()),
            (&b"tcp://l"[..], &b"tcp://r"[..])
        );
        // A bad count is an error, and the stream goes on.
        let mut bad = v2(1, &[5], b"", b"");
        bad[1] = 3u64.to_ne_bytes().to_vec();
        assert!(s.handle_v2(&bad).is_err());
        assert!(!s.is_ended());
        // The borrowed form borrows the frames it was given.
        let frames = v2(0x0200, &[26], b"tcp://l", b"tcp://r");
        let m = s.handle_v2_ref(&frames).unwrap().unwrap();
        assert!(std::ptr::eq(m.remote, frames[4].as_slice()));
        // MONITOR_STOPPED was asked for (ALL_V2 holds it): handed on, and the end.
        let stop = s.handle_v2(&v2(0x400, &[0], b"", b"")).unwrap();
        assert_eq!(stop.map(|m| m.event), Some(MonitorEvent::MonitorStopped));
        assert_eq!(s.end_reason(), Some(EndReason::MonitorStopped));

        // Not asked for: armed anyway, filtered out, and still the end.
        let mut s = MonitorSession::new(EventMask::of(EventCode::PIPES_STATS));
        assert_eq!(s.armed_mask().bits(), 0x10400);
        assert_eq!(s.handle_v2(&v2(0x400, &[0], b"", b"")).unwrap(), None);
        assert!(s.is_ended());
    }

    #[test]
    fn v1_frames_handed_to_handle_v2_are_an_error_not_a_guess() {
        let mut s = MonitorSession::new(EventMask::ALL_V1);
        assert!(s.handle_v2(&frames(1, 5)).is_err());
        assert!(s.handle_v1(&v2(1, &[5], b"", b"")).is_err());
        assert!(!s.is_ended());
    }
}
