//! A compact index of a frame's keys for the decoders' duplicate check.
//!
//! Galaxy frames keep the first position and the last value of a repeated key, so every decoded
//! key must be looked up among the keys before it. A linear scan does that for small frames; past
//! [`SMALL`] keys, an open-addressing table of `u32` positions (hashed with the standard
//! library's randomly keyed SipHash, so crafted keys cannot force collisions) keeps decoding
//! linear in the number of keys. The table is sized by the *distinct* keys seen, not by the
//! count a frame announces (a frame of a few keys repeated must not get a table for all of
//! them), and doubles past a load of 1/2 (short probes), the old table freed first: at most 4
//! slots of 4 bytes per distinct key.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use crate::message::Key;

/// Up to this many keys a linear scan is faster than hashing.
const SMALL: usize = 16;

pub(crate) struct KeyIndex {
    /// Slot = position + 1; 0 is empty. Empty (no allocation) until the frame has more than
    /// [`SMALL`] keys.
    table: Vec<u32>,
    hasher: Option<RandomState>,
    /// Keys seen so far (the frame's length).
    len: usize,
}

/// The table's first size, in slots: room for [`SMALL`] keys and as many again.
const FIRST: usize = 64;

impl KeyIndex {
    /// An empty index.
    pub(crate) fn new() -> KeyIndex {
        KeyIndex {
            table: Vec::new(),
            hasher: None,
            len: 0,
        }
    }

    /// The position of `key` if it was seen; otherwise records it at position `next` (the
    /// frame's length, where the caller appends it) and returns `None`. `key_at(j)` gives the
    /// key at position `j`.
    pub(crate) fn find_or_insert<'k>(
        &mut self,
        key: &Key,
        next: usize,
        key_at: impl Fn(usize) -> &'k Key,
    ) -> Option<usize> {
        if self.len < SMALL {
            if let Some(j) = (0..self.len).find(|&j| key_at(j) == key) {
                return Some(j);
            }
            self.len += 1;
            return None;
        }
        if self.table.is_empty() || (self.len + 1) * 2 > self.table.len() {
            self.build(&key_at);
        }
        let hasher = self.hasher.as_ref()?;
        let mask = self.table.len() - 1;
        let hash = hasher.hash_one(&**key);
        let tag = self.tag(hash);
        let mut slot = (hash as usize) & mask;
        loop {
            match self.table.get(slot).copied() {
                Some(0) | None => {
                    if let Some(s) = self.table.get_mut(slot) {
                        *s = tag | (next as u32 + 1);
                    }
                    self.len += 1;
                    return None;
                }
                // A different tag is a different key: no look at the key itself.
                Some(p) if p & !(mask as u32) == tag => {
                    let j = (p & mask as u32) as usize - 1;
                    if key_at(j) == key {
                        return Some(j);
                    }
                }
                Some(_) => {}
            }
            slot = (slot + 1) & mask;
        }
    }

    /// A slot holds `position + 1` in its low `log2(table size)` bits (positions stay under
    /// half the size) and the top bits of the key's hash above them, so most probes past other
    /// keys compare two integers instead of two keys.
    fn tag(&self, hash: u64) -> u32 {
        let bits = self.table.len().trailing_zeros();
        if bits >= 32 {
            return 0;
        }
        ((hash >> 32) as u32) & !((1u32 << bits) - 1)
    }

    fn build<'k>(&mut self, key_at: &impl Fn(usize) -> &'k Key) {
        // Double (positions fit `u32` because a message is at most 4 GiB). The old table goes
        // first: the keys are re-inserted from the frame, so both are never held at once.
        let size = (self.table.len() * 2).max(FIRST);
        self.table = Vec::new();
        self.table = vec![0; size];
        let hasher = self.hasher.take().unwrap_or_default();
        let mask = size - 1;
        for j in 0..self.len {
            let hash = hasher.hash_one(&**key_at(j));
            let tag = self.tag(hash);
            let mut slot = (hash as usize) & mask;
            while self.table.get(slot).is_some_and(|&p| p != 0) {
                slot = (slot + 1) & mask;
            }
            if let Some(s) = self.table.get_mut(slot) {
                *s = tag | (j as u32 + 1);
            }
        }
        self.hasher = Some(hasher);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_repeats_before_and_after_the_table_is_built() {
        let keys: Vec<Key> = (0..100u32)
            .map(|i| Key::new(&i.to_be_bytes()))
            .chain([Key::new(b":action"), Key::new(b":x")])
            .collect();
        let mut stored: Vec<Key> = Vec::new();
        let mut idx = KeyIndex::new();
        for k in keys.iter().chain(keys.iter()) {
            let found = {
                let s = &stored;
                idx.find_or_insert(k, s.len(), |j| &s[j])
            };
            match found {
                Some(j) => assert_eq!(&stored[j], k),
                None => stored.push(k.clone()),
            }
        }
        assert_eq!(stored, keys);
    }
}
