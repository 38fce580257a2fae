//! The Galaxy object model and the wire message.
//!
//! Strings, names and keys are **bytes** (`Box<[u8]>`): the C library uses `strlen` and Java uses
//! ISO-8859-1, so nothing on the wire is known to be UTF-8. Use [`lossy`] to show them.
//!
//! # Memory layout
//!
//! The types are laid out so that decoding a message never takes more than 4× its wire size
//! (issue 10 §2; `tests/tests/galaxy_alloc.rs` measures it): an [`Object`] is 24 bytes (its
//! heap payloads are boxed slices, not `Vec`s: the smallest object on the wire is 8 bytes), a
//! [`Frame`] is 56 (its rare predicates sit behind one pointer; the smallest frame is 20
//! bytes), a property 40 (the smallest is 12). Keys that the Hub GUI protocol uses (`:action`,
//! `:provider_id`, …) are shared static bytes, not copies.

use std::fmt;

/// The type of a frame: topic `q`, clause `c` or predicate `p`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// `GAL_NULLFRAME` (wire 0).
    Null,
    /// Topic frame, `{q …}` (wire 1).
    Topic,
    /// Clause frame, `{c …}` (wire 2); what every Hub message uses.
    Clause,
    /// Predicate frame, `{p …}` (wire 3).
    Pred,
    /// Any other wire value, kept so it re-encodes to the same bytes (printed as `{  `).
    Other(i32),
}

impl FrameType {
    /// The wire code.
    pub const fn code(self) -> i32 {
        match self {
            FrameType::Null => 0,
            FrameType::Topic => 1,
            FrameType::Clause => 2,
            FrameType::Pred => 3,
            FrameType::Other(c) => c,
        }
    }

    /// The frame type of a wire code.
    pub const fn from_code(code: i32) -> FrameType {
        match code {
            0 => FrameType::Null,
            1 => FrameType::Topic,
            2 => FrameType::Clause,
            3 => FrameType::Pred,
            c => FrameType::Other(c),
        }
    }

    /// The letter the text syntax uses (`c`, `q`, `p`), if any.
    pub const fn letter(self) -> Option<u8> {
        match self {
            FrameType::Topic => Some(b'q'),
            FrameType::Clause => Some(b'c'),
            FrameType::Pred => Some(b'p'),
            _ => None,
        }
    }
}

/// A Galaxy frame: a type, a name, ordered properties and ordered predicates.
///
/// Properties keep the order the wire (or the program) gave them, with the C library's
/// semantics: [`set`](Frame::set) replaces an existing key's value **in place** and appends a
/// new key; keys compare as exact bytes.
#[derive(Clone, Debug)]
pub struct Frame {
    /// Topic, clause or predicate.
    pub ftype: FrameType,
    /// The name. `None` is the text reader's NULL name (printed `NO_NAME`), which cannot be
    /// encoded; a wire frame always has a name, possibly empty.
    pub name: Option<Box<[u8]>>,
    props: Vec<(Key, Object)>,
    /// The predicates: rare, so behind one pointer (`None` when there are none), which keeps
    /// a frame at 56 bytes where a bare `Vec` would make it 72. See [`preds`](Frame::preds).
    #[allow(clippy::box_collection)]
    preds: Option<Box<Vec<Frame>>>,
}

impl PartialEq for Frame {
    fn eq(&self, other: &Frame) -> bool {
        self.ftype == other.ftype
            && self.name == other.name
            && self.props == other.props
            && self.preds() == other.preds()
    }
}

impl Frame {
    /// An empty frame of type `ftype` named `name`.
    pub fn new(ftype: FrameType, name: impl Into<Vec<u8>>) -> Frame {
        Frame {
            ftype,
            name: Some(name.into().into_boxed_slice()),
            props: Vec::new(),
            preds: None,
        }
    }

    /// An empty frame named by a slice, allocated exactly (the decoders' path).
    pub(crate) fn with_name(ftype: FrameType, name: &[u8]) -> Frame {
        Frame {
            ftype,
            name: Some(Box::from(name)),
            props: Vec::new(),
            preds: None,
        }
    }

    /// An empty clause frame named `name` (`{c name }`).
    pub fn clause(name: impl Into<Vec<u8>>) -> Frame {
        Frame::new(FrameType::Clause, name)
    }

    /// A frame with a NULL name (`NO_NAME`), as the text reader can produce.
    pub fn unnamed(ftype: FrameType) -> Frame {
        Frame {
            ftype,
            name: None,
            props: Vec::new(),
            preds: None,
        }
    }

    /// The predicate frames, in order.
    pub fn preds(&self) -> &[Frame] {
        self.preds.as_deref().map_or(&[], Vec::as_slice)
    }

    /// The predicate frames, to change them.
    pub fn preds_mut(&mut self) -> &mut Vec<Frame> {
        self.preds.get_or_insert_with(Box::default)
    }

    /// Appends a predicate frame.
    pub fn push_pred(&mut self, pred: Frame) {
        self.preds_mut().push(pred);
    }

    /// Builder form of [`push_pred`](Frame::push_pred).
    #[must_use]
    pub fn with_pred(mut self, pred: Frame) -> Frame {
        self.push_pred(pred);
        self
    }

    /// Makes room for exactly `n` predicates (nothing is allocated for none).
    pub(crate) fn reserve_preds_exact(&mut self, n: usize) {
        if n > 0 {
            self.preds_mut().reserve_exact(n);
        }
    }

    /// The name as bytes (empty for a NULL name).
    pub fn name_bytes(&self) -> &[u8] {
        self.name.as_deref().unwrap_or_default()
    }

    /// Whether the frame's name is exactly `name`.
    pub fn is_named(&self, name: &str) -> bool {
        self.name.as_deref() == Some(name.as_bytes())
    }

    /// Sets `key` to `value`: an existing key keeps its place and takes the new value, a new key
    /// is appended.
    pub fn set(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Object>) {
        let key = key.into();
        let value = value.into();
        match self.props.iter_mut().find(|(k, _)| **k == *key) {
            Some(slot) => slot.1 = value,
            None => {
                self.props.push((Key::from_vec(key), value));
            }
        }
    }

    /// Builder form of [`set`](Frame::set).
    #[must_use]
    pub fn with(mut self, key: impl Into<Vec<u8>>, value: impl Into<Object>) -> Frame {
        self.set(key, value);
        self
    }

    /// Appends a property without looking for an existing key. The caller guarantees the key is
    /// new (the decoders use it after their own duplicate check).
    pub(crate) fn push_unchecked(&mut self, key: Key, value: Object) {
        self.props.push((key, value));
    }

    /// Replaces all properties (the caller guarantees the keys are distinct).
    pub(crate) fn set_props(&mut self, props: Vec<(Key, Object)>) {
        self.props = props;
    }

    /// Makes room for `n` more properties.
    pub(crate) fn reserve_exact(&mut self, n: usize) {
        self.props.reserve_exact(n);
    }

    /// Position of `key`, if present.
    pub(crate) fn position(&self, key: &[u8]) -> Option<usize> {
        self.props.iter().position(|(k, _)| **k == *key)
    }

    /// The key at `index` (which must exist).
    pub(crate) fn key_at(&self, index: usize) -> &Key {
        self.props.get(index).map_or(&NO_KEY, |(k, _)| k)
    }

    /// Replaces the value at `index` (which must exist).
    pub(crate) fn replace_at(&mut self, index: usize, value: Object) {
        if let Some(slot) = self.props.get_mut(index) {
            slot.1 = value;
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Object> {
        self.get_bytes(key.as_bytes())
    }

    /// The value of `key`, given as bytes.
    pub fn get_bytes(&self, key: &[u8]) -> Option<&Object> {
        self.props.iter().find(|(k, _)| **k == *key).map(|(_, v)| v)
    }

    /// The value of `key` if it is an [`Object::Int`].
    pub fn get_int(&self, key: &str) -> Option<i32> {
        match self.get(key)? {
            Object::Int(v) => Some(*v),
            _ => None,
        }
    }

    /// The value of `key` if it is an [`Object::String`].
    pub fn get_string(&self, key: &str) -> Option<&[u8]> {
        match self.get(key)? {
            Object::String(v) => Some(v),
            _ => None,
        }
    }

    /// The value of `key` if it is an [`Object::Frame`].
    pub fn get_frame(&self, key: &str) -> Option<&Frame> {
        match self.get(key)? {
            Object::Frame(v) => Some(v),
            _ => None,
        }
    }

    /// The value of `key` if it is an [`Object::List`].
    pub fn get_list(&self, key: &str) -> Option<&[Object]> {
        match self.get(key)? {
            Object::List(v) => Some(v),
            _ => None,
        }
    }

    /// Removes `key` and returns its value (a later re-add goes to the end).
    pub fn remove(&mut self, key: &str) -> Option<Object> {
        let at = self.position(key.as_bytes())?;
        Some(self.props.remove(at).1)
    }

    /// The properties in order.
    pub fn props(&self) -> impl ExactSizeIterator<Item = (&[u8], &Object)> {
        self.props.iter().map(|(k, v)| (&**k, v))
    }

    /// The properties in order, with their keys as stored.
    pub(crate) fn keyed_props(&self) -> impl ExactSizeIterator<Item = (&Key, &Object)> {
        self.props.iter().map(|(k, v)| (k, v))
    }

    /// How many properties there are.
    pub fn len(&self) -> usize {
        self.props.len()
    }

    /// Whether there are no properties.
    pub fn is_empty(&self) -> bool {
        self.props.is_empty()
    }
}

/// The Hub GUI protocol's well-known keys, shared by every frame that has them.
const KNOWN_KEYS: [&str; 57] = [
    ":msg",
    ":icon",
    ":init",
    ":msgs",
    ":name",
    ":port",
    ":tidx",
    ":type",
    ":debug",
    ":errno",
    ":frame",
    ":queue",
    ":state",
    ":action",
    ":domain",
    ":reused",
    ":call_id",
    ":history",
    ":user_id",
    ":msg_type",
    ":settings",
    ":alarm_key",
    ":available",
    ":conn_type",
    ":connected",
    ":debug_cmd",
    ":lock_mask",
    ":lock_type",
    ":timestamp",
    ":initialize",
    ":lock_value",
    ":menu_items",
    ":properties",
    ":scriptless",
    ":session_id",
    ":signatures",
    ":destination",
    ":provider_id",
    ":screen_name",
    ":server_tidx",
    ":server_type",
    ":gui_invisible",
    ":hub_is_client",
    ":invoked_stype",
    ":provider_list",
    ":reset_session",
    ":remaining_secs",
    ":err_description",
    ":expiration_secs",
    ":hub_opaque_data",
    ":reply_requested",
    ":hub_program_info",
    ":protocol_version",
    ":providers_sessions",
    ":extra_service_types",
    ":providers_sessions_readers",
    ":providers_sessions_writers",
];

/// A property key: one of [`KNOWN_KEYS`] (no allocation; `to_event` uses it as a static map
/// key), or owned bytes. 16 bytes, like a boxed slice: the index lives beside the pointer's
/// niche.
#[derive(Clone)]
pub(crate) enum Key {
    /// `KNOWN_KEYS[i]`.
    Known(u8),
    /// Any other key.
    Owned(Box<[u8]>),
}

impl Key {
    /// The key for these bytes, shared when it is well known, else copied.
    pub(crate) fn new(k: &[u8]) -> Key {
        match known_key(k) {
            Some(i) => Key::Known(i),
            None => Key::Owned(k.into()),
        }
    }

    /// The key for these bytes, taking them when it is not well known.
    pub(crate) fn from_vec(k: Vec<u8>) -> Key {
        match known_key(&k) {
            Some(i) => Key::Known(i),
            None => Key::Owned(k.into_boxed_slice()),
        }
    }

    /// The static text of a well-known key.
    pub(crate) fn as_static(&self) -> Option<&'static str> {
        match self {
            Key::Known(i) => KNOWN_KEYS.get(usize::from(*i)).copied(),
            Key::Owned(_) => None,
        }
    }
}

impl std::ops::Deref for Key {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Key::Known(i) => KNOWN_KEYS
                .get(usize::from(*i))
                .map_or(&[], |k| k.as_bytes()),
            Key::Owned(b) => b,
        }
    }
}

/// Keys compare as bytes. A well-known key is never `Owned` (every key is made by
/// [`Key::new`] or [`Key::from_vec`]), so two keys of different kinds differ and two known keys
/// compare by index: the decoders' duplicate check costs one byte compare for them.
impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        match (self, other) {
            (Key::Known(a), Key::Known(b)) => a == b,
            (Key::Owned(a), Key::Owned(b)) => a == b,
            _ => false,
        }
    }
}

/// A key that is never looked at (what [`Frame::key_at`] gives past the end).
pub(crate) static NO_KEY: Key = Key::Known(u8::MAX);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The index of a well-known key in [`KNOWN_KEYS`].
fn known_key(k: &[u8]) -> Option<u8> {
    // Every known key starts with `:` and is 4 to 27 bytes long: most other keys are
    // refused by two compares.
    if k.len() < 4 || k.len() > 27 || k.first() != Some(&b':') {
        return None;
    }
    Some(match k {
        b":msg" => 0,
        b":icon" => 1,
        b":init" => 2,
        b":msgs" => 3,
        b":name" => 4,
        b":port" => 5,
        b":tidx" => 6,
        b":type" => 7,
        b":debug" => 8,
        b":errno" => 9,
        b":frame" => 10,
        b":queue" => 11,
        b":state" => 12,
        b":action" => 13,
        b":domain" => 14,
        b":reused" => 15,
        b":call_id" => 16,
        b":history" => 17,
        b":user_id" => 18,
        b":msg_type" => 19,
        b":settings" => 20,
        b":alarm_key" => 21,
        b":available" => 22,
        b":conn_type" => 23,
        b":connected" => 24,
        b":debug_cmd" => 25,
        b":lock_mask" => 26,
        b":lock_type" => 27,
        b":timestamp" => 28,
        b":initialize" => 29,
        b":lock_value" => 30,
        b":menu_items" => 31,
        b":properties" => 32,
        b":scriptless" => 33,
        b":session_id" => 34,
        b":signatures" => 35,
        b":destination" => 36,
        b":provider_id" => 37,
        b":screen_name" => 38,
        b":server_tidx" => 39,
        b":server_type" => 40,
        b":gui_invisible" => 41,
        b":hub_is_client" => 42,
        b":invoked_stype" => 43,
        b":provider_list" => 44,
        b":reset_session" => 45,
        b":remaining_secs" => 46,
        b":err_description" => 47,
        b":expiration_secs" => 48,
        b":hub_opaque_data" => 49,
        b":reply_requested" => 50,
        b":hub_program_info" => 51,
        b":protocol_version" => 52,
        b":providers_sessions" => 53,
        b":extra_service_types" => 54,
        b":providers_sessions_readers" => 55,
        b":providers_sessions_writers" => 56,
        _ => return None,
    })
}

// The layout the memory bound rests on (see the module docs).
const _: () = assert!(std::mem::size_of::<Object>() == 24);
const _: () = assert!(std::mem::size_of::<Frame>() == 56);
const _: () = assert!(std::mem::size_of::<(Key, Object)>() == 40);

/// A broker proxy (`GAL_PROXY`, wire type 20).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    /// The broker call id.
    pub call_id: Vec<u8>,
    /// The broker host.
    pub host: Vec<u8>,
    /// The broker port.
    pub port: i32,
    /// The object type the broker carries (a wire type code), `-1` for any.
    pub object_type: i32,
}

/// Any Galaxy object.
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    /// A frame (`GAL_FRAME`, 1), boxed so that an object stays 24 bytes (a list of small
    /// objects then costs at most 4× its wire size).
    Frame(Box<Frame>),
    /// A string (`GAL_STRING`, 2), as bytes.
    String(Box<[u8]>),
    /// A 32-bit integer (`GAL_INT`, 3).
    Int(i32),
    /// A 32-bit float (`GAL_FLOAT`, 4).
    Float(f32),
    /// A symbol (`GAL_SYMBOL`, 5).
    Symbol(Box<[u8]>),
    /// A list (`GAL_LIST`, 6).
    List(Box<[Object]>),
    /// Binary data (`GAL_BINARY`, 11).
    Binary(Box<[u8]>),
    /// 16-bit integers (`GAL_INT_16`, 12; 4 bytes each on the wire).
    Int16(Box<[i16]>),
    /// 32-bit integers (`GAL_INT_32`, 13).
    Int32(Box<[i32]>),
    /// 64-bit integers (`GAL_INT_64`, 14; see [`Int64Width`](crate::codec::Int64Width)).
    Int64(Box<[i64]>),
    /// 32-bit floats (`GAL_FLOAT_32`, 15).
    Float32(Box<[f32]>),
    /// 64-bit floats (`GAL_FLOAT_64`, 16).
    Float64(Box<[f64]>),
    /// A keyword (`GAL_KEYWORD`, 17).
    Keyword(Box<[u8]>),
    /// A tag (`GAL_TAG`, 18).
    Tag(Box<[u8]>),
    /// A token (`GAL_TOKEN`, 19): what the text reader makes of a word it cannot classify.
    Token(Box<[u8]>),
    /// A broker proxy (`GAL_PROXY`, 20), boxed like frames.
    Proxy(Box<Proxy>),
    /// A NULL list element (`NULLObject` / `NULLFrame` in text). Never encodable: the C
    /// encoder crashes on it.
    Null,
}

impl Object {
    /// The wire type code (0 for [`Object::Null`], which has none).
    pub const fn type_code(&self) -> i32 {
        match self {
            Object::Frame(_) => 1,
            Object::String(_) => 2,
            Object::Int(_) => 3,
            Object::Float(_) => 4,
            Object::Symbol(_) => 5,
            Object::List(_) => 6,
            Object::Binary(_) => 11,
            Object::Int16(_) => 12,
            Object::Int32(_) => 13,
            Object::Int64(_) => 14,
            Object::Float32(_) => 15,
            Object::Float64(_) => 16,
            Object::Keyword(_) => 17,
            Object::Tag(_) => 18,
            Object::Token(_) => 19,
            Object::Proxy(_) => 20,
            Object::Null => 0,
        }
    }

    /// The frame inside, if this is a frame.
    pub fn as_frame(&self) -> Option<&Frame> {
        match self {
            Object::Frame(f) => Some(f),
            _ => None,
        }
    }

    /// A string object from text.
    pub fn string(s: impl Into<Vec<u8>>) -> Object {
        Object::String(s.into().into_boxed_slice())
    }
}

/// The C type name of a wire type code (`GAL_INT_32`), `UNKNOWN` for others (proxy included).
pub fn type_name(code: i32) -> &'static str {
    match code {
        0 => "GAL_FREE",
        1 => "GAL_FRAME",
        2 => "GAL_STRING",
        3 => "GAL_INT",
        4 => "GAL_FLOAT",
        5 => "GAL_SYMBOL",
        6 => "GAL_LIST",
        7 => "GAL_PTR",
        8 => "GAL_TOPIC_FRAME",
        9 => "GAL_CLAUSE_FRAME",
        10 => "GAL_PRED_FRAME",
        11 => "GAL_BINARY",
        12 => "GAL_INT_16",
        13 => "GAL_INT_32",
        14 => "GAL_INT_64",
        15 => "GAL_FLOAT_32",
        16 => "GAL_FLOAT_64",
        17 => "GAL_KEYWORD",
        18 => "GAL_TAG",
        19 => "GAL_TOKEN",
        _ => "UNKNOWN",
    }
}

impl From<Frame> for Object {
    fn from(v: Frame) -> Self {
        Object::Frame(Box::new(v))
    }
}
impl From<Proxy> for Object {
    fn from(v: Proxy) -> Self {
        Object::Proxy(Box::new(v))
    }
}
impl From<i32> for Object {
    fn from(v: i32) -> Self {
        Object::Int(v)
    }
}
impl From<f32> for Object {
    fn from(v: f32) -> Self {
        Object::Float(v)
    }
}
impl From<&str> for Object {
    fn from(v: &str) -> Self {
        Object::String(v.as_bytes().into())
    }
}
impl From<&[u8]> for Object {
    /// A string object of these bytes.
    fn from(v: &[u8]) -> Self {
        Object::String(v.into())
    }
}
impl From<String> for Object {
    fn from(v: String) -> Self {
        Object::String(v.into_bytes().into_boxed_slice())
    }
}
impl From<Vec<Object>> for Object {
    fn from(v: Vec<Object>) -> Self {
        Object::List(v.into_boxed_slice())
    }
}

/// The message type in the 8-byte header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MsgType {
    /// 0: broker data.
    Object,
    /// 1: a new message.
    Message,
    /// 2: a reply.
    Reply,
    /// 3: token destroyed.
    Destroy,
    /// 4: broker start.
    BrokerStart,
    /// 5: broker end.
    BrokerEnd,
    /// 6: an error reply (`{c system_error :errno … :err_description … }`).
    Error,
    /// 7: end of stream; no body.
    Disconnect,
    /// 8: postpone (never matches a reply; never send it).
    Postpone,
}

impl MsgType {
    /// The wire code.
    pub const fn code(self) -> i32 {
        match self {
            MsgType::Object => 0,
            MsgType::Message => 1,
            MsgType::Reply => 2,
            MsgType::Destroy => 3,
            MsgType::BrokerStart => 4,
            MsgType::BrokerEnd => 5,
            MsgType::Error => 6,
            MsgType::Disconnect => 7,
            MsgType::Postpone => 8,
        }
    }

    /// The message type of a wire code; `None` for codes 4.0 does not define.
    pub const fn from_code(code: i32) -> Option<MsgType> {
        Some(match code {
            0 => MsgType::Object,
            1 => MsgType::Message,
            2 => MsgType::Reply,
            3 => MsgType::Destroy,
            4 => MsgType::BrokerStart,
            5 => MsgType::BrokerEnd,
            6 => MsgType::Error,
            7 => MsgType::Disconnect,
            8 => MsgType::Postpone,
            _ => return None,
        })
    }

    /// The C name without its prefix (`MESSAGE`, `REPLY`, …).
    pub const fn name(self) -> &'static str {
        match self {
            MsgType::Object => "OBJECT",
            MsgType::Message => "MESSAGE",
            MsgType::Reply => "REPLY",
            MsgType::Destroy => "DESTROY",
            MsgType::BrokerStart => "BROKER_START",
            MsgType::BrokerEnd => "BROKER_END",
            MsgType::Error => "ERROR",
            MsgType::Disconnect => "DISCONNECT",
            MsgType::Postpone => "POSTPONE",
        }
    }

    /// Whether a message of this type can answer a pending request (2, 3 or 6).
    pub const fn is_reply(self) -> bool {
        matches!(self, MsgType::Reply | MsgType::Destroy | MsgType::Error)
    }
}

impl fmt::Display for MsgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One message on a Galaxy stream: the header type and its body object.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// The header type.
    pub msg_type: MsgType,
    /// The body; `None` only for [`MsgType::Disconnect`], which has no body.
    pub body: Option<Object>,
}

impl Message {
    /// A message carrying `frame`.
    pub fn frame(msg_type: MsgType, frame: Frame) -> Message {
        Message {
            msg_type,
            body: Some(Object::from(frame)),
        }
    }

    /// The body frame, if the body is a frame.
    pub fn as_frame(&self) -> Option<&Frame> {
        self.body.as_ref().and_then(Object::as_frame)
    }

    /// The body frame, by value.
    pub fn into_frame(self) -> Option<Frame> {
        match self.body {
            Some(Object::Frame(f)) => Some(*f),
            _ => None,
        }
    }
}

/// Galaxy bytes shown as text: UTF-8 when valid, else each byte as its Latin-1 character
/// (Java's reading), so no byte is ever lost or replaced.
pub fn lossy(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// The frame in PR form, one line (`{c token_status :action 2 :tidx 1 }`); bytes that are not
/// UTF-8 shown as [`lossy`] does.
impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&lossy(&crate::text::pr_frame(self)))
    }
}

/// The object in PR form, one line.
impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&lossy(&crate::text::pr(self)))
    }
}

/// The message type, then the body in PR form: `MESSAGE {c reinitialize }`, `DISCONNECT`.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.body {
            Some(body) => write!(f, "{} {body}", self.msg_type),
            None => f.write_str(self.msg_type.name()),
        }
    }
}
