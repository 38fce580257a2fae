//! Attribute values and the ordered attribute list.

use std::borrow::Cow;
use std::fmt;

/// A typed attribute value.
///
/// Numbers compare by value: `Value::Int(5) == Value::UInt(5)`. This is what makes the JSON form
/// lossless, since JSON does not say whether a non-negative integer was signed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Value {
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer (used for wire values such as file descriptors and counters).
    UInt(u64),
    /// A floating-point number. Non-finite values have no JSON form (see the crate docs).
    Float(f64),
    /// Text.
    Str(String),
    /// Raw bytes that are not known to be text (JSON: `{"$hex": "…"}`).
    Bytes(Vec<u8>),
    /// An ordered list of values.
    List(Vec<Value>),
    /// An ordered map of key → value, keys in insertion order, each key once (OpenTelemetry's
    /// `kvlist`; JSON: an object).
    Map(Map),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (UInt(a), UInt(b)) => a == b,
            (Int(a), UInt(b)) | (UInt(b), Int(a)) => u64::try_from(*a).is_ok_and(|a| a == *b),
            (Float(a), Float(b)) => a == b,
            (Str(a), Str(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            (List(a), List(b)) => a == b,
            (Map(a), Map(b)) => a == b,
            _ => false,
        }
    }
}

impl Value {
    /// The value as an unsigned integer, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::UInt(v) => Some(v),
            Value::Int(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a signed integer, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(v) => Some(v),
            Value::UInt(v) => i64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a float (integers are not converted).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(v) => Some(v),
            _ => None,
        }
    }

    /// The value as a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(v) => Some(v),
            _ => None,
        }
    }

    /// The value as text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(v) => Some(v),
            _ => None,
        }
    }

    /// The value as raw bytes.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(v) => Some(v),
            _ => None,
        }
    }

    /// The value as a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) => Some(v),
            _ => None,
        }
    }

    /// The value as a map.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the value is a scalar (not bytes, a list or a map): what a one-line view shows.
    pub fn is_scalar(&self) -> bool {
        !matches!(self, Value::Bytes(_) | Value::List(_) | Value::Map(_))
    }
}

impl fmt::Display for Value {
    /// A compact human form: text as is, bytes as hex, lists in brackets, maps in braces
    /// (`{key=value key2="two words"}`; nested text is quoted when it holds spaces).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::UInt(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Str(v) => f.write_str(v),
            Value::Bytes(v) => {
                f.write_str("0x")?;
                for b in v {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
            Value::List(v) => {
                f.write_str("[")?;
                for (i, item) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    fmt_nested(item, f)?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{k}=")?;
                    fmt_nested(v, f)?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Nested text is quoted when it would otherwise be ambiguous (empty, spaces, separators).
fn fmt_nested(v: &Value, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match v {
        Value::Str(s) if needs_quotes(s) => write!(f, "{s:?}"),
        other => write!(f, "{other}"),
    }
}

/// Whether a text value needs quotes in a `key=value` view: it is empty, or holds whitespace,
/// quotes, `=`, brackets or control characters.
pub fn needs_quotes(s: &str) -> bool {
    s.is_empty()
        || s.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '"' | '=' | '[' | ']' | '{' | '}' | ',')
        })
}

macro_rules! from_impl {
    ($($t:ty => $variant:ident),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$variant(v.into())
            }
        })*
    };
}

from_impl! {
    bool => Bool,
    i8 => Int, i16 => Int, i32 => Int, i64 => Int,
    u8 => UInt, u16 => UInt, u32 => UInt, u64 => UInt,
    f32 => Float, f64 => Float,
    String => Str, &str => Str,
    Vec<u8> => Bytes, &[u8] => Bytes,
    Vec<Value> => List,
    Map => Map,
}

/// An ordered map: keys in the order they were first inserted, each key once.
///
/// It is both an event's [`Attributes`] and the [`Value::Map`] of a structured value. Lookups
/// are linear, which is the fast choice for the handful of keys an event or a frame carries;
/// building a map key by key with [`insert`](Map::insert) is quadratic in the number of keys, so
/// codecs that read many keys from the wire check uniqueness their own way and use
/// [`push_unchecked`](Map::push_unchecked).
///
/// Keys are `Cow<'static, str>`: a codec's fixed keys (`"zmq.fd"`) are stored without an
/// allocation, while keys read from the wire are owned `String`s. Both convert with `into()`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map {
    entries: Vec<(Cow<'static, str>, Value)>,
}

/// An event's attributes: an ordered [`Map`] whose keys are namespaced by protocol (`zmq.fd`,
/// `nsm.jack_name`).
pub type Attributes = Map;

impl Map {
    /// An empty map.
    pub const fn new() -> Self {
        Map {
            entries: Vec::new(),
        }
    }

    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        Map {
            entries: Vec::with_capacity(n),
        }
    }

    /// Appends `key` without looking for it first. The caller promises the key is not present
    /// yet (a codec that has checked it); if it is, [`get`](Map::get) finds the first entry.
    pub fn push_unchecked(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Value>) {
        self.entries.push((key.into(), value.into()));
    }

    /// Sets `key` to `value`. A key already present keeps its place and takes the new value.
    pub fn insert(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Value>) {
        let key = key.into();
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Removes `key` and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let at = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(at).1)
    }

    /// The value of `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The entries in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    /// Removes every entry, keeping the room allocated for them (for a map refilled per
    /// message).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<K: Into<Cow<'static, str>>, V: Into<Value>> FromIterator<(K, V)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut a = Map::new();
        for (k, v) in iter {
            a.insert(k, v);
        }
        a
    }
}

impl IntoIterator for Map {
    type Item = (Cow<'static, str>, Value);
    type IntoIter = std::vec::IntoIter<(Cow<'static, str>, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a str, &'a Value);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a Value)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_by_value_across_signedness() {
        assert_eq!(Value::Int(5), Value::UInt(5));
        assert_ne!(Value::Int(-1), Value::UInt(u64::MAX));
        assert_ne!(Value::Int(5), Value::Float(5.0));
    }

    #[test]
    fn insert_keeps_first_position_and_replaces_value() {
        let mut a = Attributes::new();
        a.insert("b", 1u64);
        a.insert("a", 2u64);
        a.insert("b", "x");
        let keys: Vec<_> = a.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["b", "a"]);
        assert_eq!(a.get("b"), Some(&Value::from("x")));
        assert_eq!(a.remove("b"), Some(Value::from("x")));
        assert_eq!(a.len(), 1);
    }
}
