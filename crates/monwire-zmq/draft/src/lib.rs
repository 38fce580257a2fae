//! A minimal binding of a DRAFT libzmq's C API: just what the live v2 monitor test needs.
//! Test support, not published (see `Cargo.toml`). Only C symbols of `zmq.h` are used.
#![allow(unsafe_code)] // It is an FFI binding.
#![allow(clippy::missing_safety_doc)]

use std::ffi::{CStr, CString, c_char, c_int, c_void};

/// `ZMQ_PAIR`.
pub const PAIR: c_int = 0;
/// `ZMQ_DEALER`.
pub const DEALER: c_int = 5;
/// `ZMQ_SNDMORE`.
pub const SNDMORE: c_int = 2;
/// `ZMQ_EVENTS`.
pub const EVENTS: c_int = 15;
const LINGER: c_int = 17;
const RCVTIMEO: c_int = 27;
const LAST_ENDPOINT: c_int = 32;

#[repr(C)]
struct Msg {
    // zmq_msg_t is 64 bytes, 8-aligned (`unsigned char _[64]` in a union with pointers).
    _d: [u64; 8],
}

unsafe extern "C" {
    fn zmq_ctx_new() -> *mut c_void;
    fn zmq_ctx_term(ctx: *mut c_void) -> c_int;
    fn zmq_socket(ctx: *mut c_void, kind: c_int) -> *mut c_void;
    fn zmq_close(s: *mut c_void) -> c_int;
    fn zmq_bind(s: *mut c_void, ep: *const c_char) -> c_int;
    fn zmq_connect(s: *mut c_void, ep: *const c_char) -> c_int;
    fn zmq_send(s: *mut c_void, buf: *const c_void, len: usize, flags: c_int) -> c_int;
    fn zmq_setsockopt(s: *mut c_void, opt: c_int, val: *const c_void, len: usize) -> c_int;
    fn zmq_getsockopt(s: *mut c_void, opt: c_int, val: *mut c_void, len: *mut usize) -> c_int;
    fn zmq_msg_init(m: *mut Msg) -> c_int;
    fn zmq_msg_recv(m: *mut Msg, s: *mut c_void, flags: c_int) -> c_int;
    fn zmq_msg_data(m: *mut Msg) -> *mut c_void;
    fn zmq_msg_size(m: *const Msg) -> usize;
    fn zmq_msg_more(m: *const Msg) -> c_int;
    fn zmq_msg_close(m: *mut Msg) -> c_int;
    fn zmq_errno() -> c_int;
    fn zmq_has(capability: *const c_char) -> c_int;
    fn zmq_socket_monitor(s: *mut c_void, ep: *const c_char, events: c_int) -> c_int;
    // DRAFT API.
    fn zmq_socket_monitor_versioned(
        s: *mut c_void,
        ep: *const c_char,
        events: u64,
        version: c_int,
        kind: c_int,
    ) -> c_int;
    fn zmq_socket_monitor_pipes_stats(s: *mut c_void) -> c_int;
}

/// A libzmq error: its errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

fn check(rc: c_int) -> Result<c_int, Errno> {
    if rc < 0 {
        // SAFETY: no preconditions.
        Err(Errno(unsafe { zmq_errno() }))
    } else {
        Ok(rc)
    }
}

fn cstr(s: &str) -> CString {
    CString::new(s).expect("no NUL in an endpoint")
}

/// Whether the linked libzmq has the DRAFT API (`zmq_has("draft")`).
pub fn has_draft() -> bool {
    let cap = cstr("draft");
    // SAFETY: a valid NUL-terminated string.
    unsafe { zmq_has(cap.as_ptr()) == 1 }
}

/// A context, terminated on drop.
#[derive(Debug)]
pub struct Context(*mut c_void);

impl Context {
    /// `zmq_ctx_new`.
    pub fn new() -> Context {
        // SAFETY: no preconditions.
        let p = unsafe { zmq_ctx_new() };
        assert!(!p.is_null(), "zmq_ctx_new failed");
        Context(p)
    }

    /// `zmq_socket`, with linger 0 and a receive timeout of `timeout_ms`.
    pub fn socket(&self, kind: c_int, timeout_ms: i32) -> Result<Socket, Errno> {
        // SAFETY: a live context.
        let p = unsafe { zmq_socket(self.0, kind) };
        if p.is_null() {
            return Err(check(-1).unwrap_err());
        }
        let s = Socket(p);
        s.set_int(LINGER, 0)?;
        s.set_int(RCVTIMEO, timeout_ms)?;
        Ok(s)
    }
}

impl Default for Context {
    fn default() -> Context {
        Context::new()
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: a live context; every socket was closed first (sockets borrow nothing
        // from it, so the test closes them before the context goes).
        unsafe { zmq_ctx_term(self.0) };
    }
}

/// A socket, closed on drop.
#[derive(Debug)]
pub struct Socket(*mut c_void);

// SAFETY: a libzmq socket may move between threads (not be shared).
unsafe impl Send for Socket {}

impl Socket {
    fn set_int(&self, opt: c_int, v: c_int) -> Result<(), Errno> {
        // SAFETY: a live socket, and a pointer to an int with its size.
        check(unsafe {
            zmq_setsockopt(self.0, opt, (&v as *const c_int).cast(), size_of::<c_int>())
        })
        .map(drop)
    }

    /// `ZMQ_RECONNECT_IVL`, in ms.
    pub fn set_reconnect_ivl(&self, ms: c_int) -> Result<(), Errno> {
        const RECONNECT_IVL: c_int = 18;
        self.set_int(RECONNECT_IVL, ms)
    }

    /// `zmq_bind`.
    pub fn bind(&self, ep: &str) -> Result<(), Errno> {
        let ep = cstr(ep);
        // SAFETY: a live socket and a NUL-terminated string.
        check(unsafe { zmq_bind(self.0, ep.as_ptr()) }).map(drop)
    }

    /// `zmq_connect`.
    pub fn connect(&self, ep: &str) -> Result<(), Errno> {
        let ep = cstr(ep);
        // SAFETY: as for bind.
        check(unsafe { zmq_connect(self.0, ep.as_ptr()) }).map(drop)
    }

    /// `ZMQ_LAST_ENDPOINT`.
    pub fn last_endpoint(&self) -> Result<String, Errno> {
        let mut buf = [0u8; 256];
        let mut len = buf.len();
        // SAFETY: a live socket, a buffer and its length.
        check(unsafe { zmq_getsockopt(self.0, LAST_ENDPOINT, buf.as_mut_ptr().cast(), &mut len) })?;
        let s = CStr::from_bytes_until_nul(&buf).expect("NUL-terminated");
        Ok(s.to_string_lossy().into_owned())
    }

    /// `ZMQ_EVENTS` (reading it also makes the socket process its pending commands).
    pub fn events(&self) -> Result<c_int, Errno> {
        let mut v: c_int = 0;
        let mut len = size_of::<c_int>();
        // SAFETY: a live socket and an int with its size.
        check(unsafe { zmq_getsockopt(self.0, EVENTS, (&mut v as *mut c_int).cast(), &mut len) })?;
        Ok(v)
    }

    /// `zmq_send`.
    pub fn send(&self, data: &[u8], flags: c_int) -> Result<(), Errno> {
        // SAFETY: a live socket and a buffer with its length.
        check(unsafe { zmq_send(self.0, data.as_ptr().cast(), data.len(), flags) }).map(drop)
    }

    /// Receives one whole message (blocking up to the socket's receive timeout).
    pub fn recv_multipart(&self) -> Result<Vec<Vec<u8>>, Errno> {
        self.recv_multipart_flags(0)
    }

    /// Receives one whole message if one is ready; `Ok(None)` if none is (`EAGAIN`).
    pub fn try_recv_multipart(&self) -> Result<Option<Vec<Vec<u8>>>, Errno> {
        const DONTWAIT: c_int = 1;
        const EAGAIN: i32 = 11;
        match self.recv_multipart_flags(DONTWAIT) {
            Ok(frames) => Ok(Some(frames)),
            Err(Errno(EAGAIN)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn recv_multipart_flags(&self, first: c_int) -> Result<Vec<Vec<u8>>, Errno> {
        let mut frames = Vec::new();
        loop {
            let mut m = Msg { _d: [0; 8] };
            // SAFETY: a message initialized before use and closed after; the data pointer is
            // read for its size while the message is alive.
            unsafe {
                zmq_msg_init(&mut m);
                let flags = if frames.is_empty() { first } else { 0 };
                if let Err(e) = check(zmq_msg_recv(&mut m, self.0, flags)) {
                    zmq_msg_close(&mut m);
                    return Err(e);
                }
                let len = zmq_msg_size(&m);
                let data = zmq_msg_data(&mut m).cast::<u8>();
                let bytes = if len == 0 {
                    Vec::new()
                } else {
                    std::slice::from_raw_parts(data, len).to_vec()
                };
                let more = zmq_msg_more(&m) == 1;
                zmq_msg_close(&mut m);
                frames.push(bytes);
                if !more {
                    return Ok(frames);
                }
            }
        }
    }

    /// `zmq_socket_monitor_versioned(s, ep, events, version, type)` (DRAFT).
    pub fn monitor_versioned(
        &self,
        ep: &str,
        events: u64,
        version: i32,
        kind: c_int,
    ) -> Result<(), Errno> {
        let ep = cstr(ep);
        // SAFETY: a live socket and a NUL-terminated string.
        check(unsafe { zmq_socket_monitor_versioned(self.0, ep.as_ptr(), events, version, kind) })
            .map(drop)
    }

    /// `zmq_socket_monitor(s, NULL, 0)`: stops the monitor.
    pub fn stop_monitor(&self) -> Result<(), Errno> {
        // SAFETY: a live socket; NULL means stop.
        check(unsafe { zmq_socket_monitor(self.0, std::ptr::null(), 0) }).map(drop)
    }

    /// `zmq_socket_monitor_pipes_stats` (DRAFT): asks every pipe for a `PIPES_STATS` event.
    pub fn pipes_stats(&self) -> Result<(), Errno> {
        // SAFETY: a live socket.
        check(unsafe { zmq_socket_monitor_pipes_stats(self.0) }).map(drop)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: a live socket, closed once.
        unsafe { zmq_close(self.0) };
    }
}
