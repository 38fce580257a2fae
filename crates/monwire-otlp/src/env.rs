//! Reading the standard `OTEL_*` environment variables.

/// An environment lookup: the value of a variable, if set. [`process_env`] reads the process
/// environment; tests pass a closure over a fixed list.
pub type Env<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// The process environment (`std::env::var`, non-Unicode values read as unset).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Parse a W3C-baggage-style list `key1=value1,key2=value2` as `OTEL_RESOURCE_ATTRIBUTES` and
/// `OTEL_EXPORTER_OTLP_HEADERS` use it: entries split on `,`, key and value trimmed, values
/// percent-decoded. Entries without `=` or with an empty key are skipped.
pub fn parse_key_values(list: &str) -> Vec<(String, String)> {
    list.split(',')
        .filter_map(|entry| {
            let (k, v) = entry.split_once('=')?;
            let k = percent_decode(k.trim());
            if k.is_empty() {
                return None;
            }
            Some((k, percent_decode(v.trim())))
        })
        .collect()
}

/// Decode `%XX` escapes; a `%` not followed by two hex digits stays as it is. Invalid UTF-8 after
/// decoding is replaced (U+FFFD).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|c| hex(*c)),
                bytes.get(i + 2).and_then(|c| hex(*c)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_trim_decode_and_skip_malformed() {
        assert_eq!(
            parse_key_values(" a = 1 ,bad,=x, Authorization=Bearer%20t%3Dk ,c=%zz"),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("Authorization".to_owned(), "Bearer t=k".to_owned()),
                ("c".to_owned(), "%zz".to_owned()),
            ]
        );
    }
}
