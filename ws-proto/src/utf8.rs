//! Incremental UTF-8 validation.
//!
//! A text message may arrive in many fragments, and a fragment in many reads.
//! RFC 6455 section 8.1 asks an endpoint to fail the connection as soon as it
//! sees an invalid sequence; [`Utf8Validator`] checks bytes as they come and
//! reports the first bad one, keeping at most three bytes of an incomplete
//! code point between calls. The bytes are checked with `simdutf8` (SIMD
//! where the CPU has it), which reports the same valid prefix and error
//! length as `std::str::from_utf8`.

use std::fmt;

/// `bytes` as a `String`, checked as UTF-8 at SIMD speed: what
/// `String::from_utf8` does, faster on text that is not all ASCII.
///
/// std's check goes about a byte at a time through multi-byte characters
/// (some 1.4 GB/s on mixed Latin, Greek, CJK and emoji, against 14 GB/s for
/// `simdutf8`). This crate has no unsafe code to turn checked bytes into a
/// `String` in place, so valid text that is not ASCII is copied out of the
/// checked `str`, which at memory speed costs far less than std's check.
/// ASCII text (std checks it a word at a time) and invalid bytes (std's
/// error says where) go to `String::from_utf8`.
///
/// ```
/// let text = ws_proto::string_from_utf8("ξένος 文字 🦀".as_bytes().to_vec()).unwrap();
/// assert_eq!(text, "ξένος 文字 🦀");
/// let err = ws_proto::string_from_utf8(vec![b'a', 0xff]).unwrap_err();
/// assert_eq!(err.utf8_error().valid_up_to(), 1);
/// ```
pub fn string_from_utf8(bytes: Vec<u8>) -> Result<String, std::string::FromUtf8Error> {
    if bytes.is_ascii() {
        return String::from_utf8(bytes);
    }
    match simdutf8::basic::from_utf8(&bytes).map(str::to_owned) {
        Ok(text) => Ok(text),
        Err(_) => String::from_utf8(bytes),
    }
}

/// The bytes seen so far are not a prefix of valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utf8Error {
    /// Offset where the invalid sequence starts, counted from the start of
    /// the stream (the bytes before it are valid UTF-8).
    pub position: u64,
}

impl fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid UTF-8 at byte {}", self.position)
    }
}

impl std::error::Error for Utf8Error {}

/// Validates a UTF-8 stream fed in arbitrary pieces.
///
/// ```
/// use ws_proto::Utf8Validator;
/// let mut v = Utf8Validator::new();
/// let euro = "€".as_bytes(); // three bytes
/// v.feed(&euro[..1]).unwrap();
/// v.feed(&euro[1..]).unwrap();
/// assert!(v.finish().is_ok());
/// assert!(v.feed(&[0xc0]).is_err()); // never valid as a first byte
/// ```
#[derive(Clone, Debug, Default)]
pub struct Utf8Validator {
    /// Bytes of a code point that is not complete yet.
    pending: [u8; 4],
    pending_len: usize,
    /// Bytes consumed so far, for error positions.
    consumed: u64,
}

impl Utf8Validator {
    /// A validator at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets all state, ready for a new stream.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Checks the next piece of the stream. Fails at the first byte that
    /// cannot be part of valid UTF-8, even when the code point it starts or
    /// continues is not complete yet.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), Utf8Error> {
        self.check(data, None)
    }

    /// [`Utf8Validator::feed`], appending the text checked to `out`: the
    /// text of a stream is built as it is checked, each byte checked once
    /// and copied once, with no second check to turn bytes into a `String`.
    /// A code point cut by the end of `data` is appended once the piece
    /// that completes it comes; on an error, `out` holds some of the valid
    /// text before the bad byte.
    ///
    /// ```
    /// use ws_proto::Utf8Validator;
    /// let (mut v, mut text) = (Utf8Validator::new(), String::new());
    /// let bytes = "ξένος 🦀".as_bytes();
    /// v.feed_into(&bytes[..2], &mut text).unwrap();
    /// v.feed_into(&bytes[2..], &mut text).unwrap();
    /// assert!(v.finish().is_ok());
    /// assert_eq!(text, "ξένος 🦀");
    /// ```
    pub fn feed_into(&mut self, data: &[u8], out: &mut String) -> Result<(), Utf8Error> {
        self.check(data, Some(out))
    }

    fn check(&mut self, mut data: &[u8], mut out: Option<&mut String>) -> Result<(), Utf8Error> {
        if self.pending_len > 0 {
            // Complete the pending code point one byte at a time.
            while self.pending_len > 0 && !data.is_empty() {
                self.pending[self.pending_len] = data[0];
                self.pending_len += 1;
                data = &data[1..];
                match simdutf8::compat::from_utf8(&self.pending[..self.pending_len]) {
                    Ok(done) => {
                        if let Some(out) = out.as_deref_mut() {
                            out.push_str(done);
                        }
                        self.consumed += self.pending_len as u64;
                        self.pending_len = 0;
                    }
                    Err(e) if e.error_len().is_none() => {}
                    Err(_) => {
                        return Err(Utf8Error {
                            position: self.consumed,
                        });
                    }
                }
            }
            if self.pending_len > 0 {
                return Ok(());
            }
        }
        // A piece of multi-byte text cut at an arbitrary point (a read, a
        // fragment) most often ends inside a character. Those last one to
        // three bytes are set apart first, so that the SIMD check sees
        // whole characters and, on valid text, is the only pass over the
        // piece: a check of the whole piece would fail at its end, and
        // finding out why would take a second pass.
        let (head, tail) = data.split_at(complete_prefix_len(data));
        match simdutf8::basic::from_utf8(head) {
            Ok(text) => {
                if let Some(out) = out.as_deref_mut() {
                    out.push_str(text);
                }
                self.consumed += head.len() as u64;
            }
            Err(_) => {
                // Only now the slower `compat` check, for the position.
                // `head` ends where a character starts (or where `data`
                // ends, with no character cut short), so whatever it
                // reports, complete or not, is an error.
                let good = simdutf8::compat::from_utf8(head)
                    .err()
                    .map_or(head.len(), |e| e.valid_up_to());
                return Err(Utf8Error {
                    position: self.consumed + good as u64,
                });
            }
        }
        if tail.is_empty() {
            return Ok(());
        }
        // At most three bytes: whether they can start a character, checked
        // now so that a bad byte fails at once (F4 90 can never be valid).
        match simdutf8::compat::from_utf8(tail) {
            Err(e) if e.error_len().is_none() && e.valid_up_to() == 0 => {
                self.pending[..tail.len()].copy_from_slice(tail);
                self.pending_len = tail.len();
                Ok(())
            }
            Err(e) => Err(Utf8Error {
                position: self.consumed + e.valid_up_to() as u64,
            }),
            // Not reached: the tail is a character cut short.
            Ok(text) => {
                if let Some(out) = out {
                    out.push_str(text);
                }
                self.consumed += tail.len() as u64;
                Ok(())
            }
        }
    }

    /// Checks that the stream does not end inside a code point.
    pub fn finish(&self) -> Result<(), Utf8Error> {
        if self.pending_len == 0 {
            Ok(())
        } else {
            Err(Utf8Error {
                position: self.consumed,
            })
        }
    }

    /// Whether the stream so far ends on a code point boundary.
    pub fn is_complete(&self) -> bool {
        self.pending_len == 0
    }
}

/// The length of `data` without the character its last bytes start, when
/// those bytes are too few for it: the end of the last whole character, or
/// `data.len()` when nothing is cut short (or the end is invalid anyway,
/// which the full check then finds).
fn complete_prefix_len(data: &[u8]) -> usize {
    // The last byte that is not a continuation byte (10xxxxxx), looked for
    // among the last three: a character is at most four bytes long.
    for back in 1..=data.len().min(3) {
        let at = data.len() - back;
        let byte = data[at];
        if byte & 0xc0 == 0x80 {
            continue;
        }
        let needs = match byte {
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => 1,
        };
        return if needs > back { at } else { data.len() };
    }
    data.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_all_splits(bytes: &[u8]) -> Result<(), Utf8Error> {
        let whole = {
            let mut v = Utf8Validator::new();
            v.feed(bytes).and_then(|_| v.finish())
        };
        for cut in 0..=bytes.len() {
            let mut v = Utf8Validator::new();
            let r = v
                .feed(&bytes[..cut])
                .and_then(|_| v.feed(&bytes[cut..]))
                .and_then(|_| v.finish());
            assert_eq!(r, whole, "cut at {cut} of {bytes:?}");
            let mut v = Utf8Validator::new();
            let mut text = String::new();
            let r = v
                .feed_into(&bytes[..cut], &mut text)
                .and_then(|_| v.feed_into(&bytes[cut..], &mut text))
                .and_then(|_| v.finish());
            assert_eq!(r, whole, "feed_into, cut at {cut} of {bytes:?}");
            if r.is_ok() {
                assert_eq!(text.as_bytes(), bytes);
            }
        }
        let mut v = Utf8Validator::new();
        let bytewise = bytes
            .iter()
            .try_for_each(|b| v.feed(std::slice::from_ref(b)))
            .and_then(|_| v.finish());
        assert_eq!(bytewise, whole);
        whole
    }

    #[test]
    fn valid_text_in_any_split() {
        for s in [
            "",
            "hello",
            "κόσμε",
            "€uro",
            "𝄞 music",
            "\u{10FFFF}",
            "\u{FFFF}",
        ] {
            assert!(check_all_splits(s.as_bytes()).is_ok(), "{s}");
        }
    }

    #[test]
    fn invalid_sequences_fail_at_first_bad_byte() {
        // (bytes, position of first bad byte)
        let cases: &[(&[u8], u64)] = &[
            (b"\xc0\xaf", 0),         // overlong
            (b"ab\xed\xa0\x80", 2),   // surrogate
            (b"\xf4\x90\x80\x80", 0), // above U+10FFFF
            (
                b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
                11,
            ),
            (b"\x80", 0), // lone continuation
            (b"\xf8\x88\x80\x80\x80", 0),
        ];
        for (bytes, pos) in cases {
            assert_eq!(
                check_all_splits(bytes),
                Err(Utf8Error { position: *pos }),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn fails_fast_before_code_point_is_complete() {
        // F4 90 can never start a valid sequence: fail at the second byte.
        let mut v = Utf8Validator::new();
        v.feed(b"\xf4").unwrap();
        assert!(v.feed(b"\x90").is_err());
        // E0 80 is overlong from the second byte on.
        let mut v = Utf8Validator::new();
        assert!(v.feed(b"\xe0\x80").is_err());
    }

    #[test]
    fn truncated_stream_fails_on_finish_only() {
        let mut v = Utf8Validator::new();
        v.feed(b"ok\xe2\x82").unwrap();
        assert!(!v.is_complete());
        assert_eq!(v.finish(), Err(Utf8Error { position: 2 }));
    }
}
