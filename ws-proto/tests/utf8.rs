//! Property tests: the incremental validator agrees with std's `from_utf8`
//! on the verdict and on the position of the first bad byte, however the
//! bytes are split into pieces (reads or fragments).

use proptest::prelude::*;
use ws_proto::{Utf8Error, Utf8Validator};

/// What std says about `bytes` as a whole stream: `Ok`, or the position a
/// stream validator must report (the end of the valid prefix, both for a
/// bad byte and for a stream that stops inside a code point).
fn std_verdict(bytes: &[u8]) -> Result<(), Utf8Error> {
    std::str::from_utf8(bytes)
        .map(|_| ())
        .map_err(|e| Utf8Error {
            position: e.valid_up_to() as u64,
        })
}

/// Feeds `bytes` cut at `cuts` (offsets, any order, may repeat), then
/// finishes. Returns the verdict and where the piece that failed starts.
fn fed_in_pieces(bytes: &[u8], cuts: &[usize]) -> (Result<(), Utf8Error>, Option<usize>) {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.push(bytes.len());
    cuts.sort_unstable();
    let mut v = Utf8Validator::new();
    let mut start = 0;
    for end in cuts {
        if let Err(e) = v.feed(&bytes[start..end]) {
            return (Err(e), Some(start));
        }
        start = end;
    }
    (v.finish(), None)
}

/// Mostly multi-byte text (Latin, Greek, CJK, emoji), sometimes with a few
/// bytes overwritten by arbitrary ones, sometimes cut short.
fn text_bytes() -> impl Strategy<Value = Vec<u8>> {
    let ch = prop_oneof![
        Just('a'),
        Just('é'),
        Just('λ'),
        Just('中'),
        Just('😀'),
        any::<char>(),
    ];
    (
        proptest::collection::vec(ch, 0..200),
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
        any::<usize>(),
        any::<bool>(),
    )
        .prop_map(|(chars, damage, cut, truncate)| {
            let mut bytes = chars.into_iter().collect::<String>().into_bytes();
            if !bytes.is_empty() {
                for (at, b) in damage {
                    let len = bytes.len();
                    bytes[at % len] = b;
                }
                if truncate {
                    bytes.truncate(cut % (bytes.len() + 1));
                }
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn verdict_and_position_match_std_whatever_the_split(
        bytes in text_bytes(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let want = std_verdict(&bytes);
        let (got, failed_in) = fed_in_pieces(&bytes, &cuts);
        prop_assert_eq!(got, want);
        // Fail fast: a bad byte is reported by the piece that holds it,
        // never later (a truncated stream fails only at finish).
        if let (Err(_), Some(start)) = (got, failed_in) {
            let bad = std::str::from_utf8(&bytes).unwrap_err();
            let error_len = bad.error_len();
            prop_assert!(error_len.is_some());
            // The failing piece starts no later than the byte that makes
            // the sequence impossible, which is at most std's valid prefix
            // plus its error length (`E0 00`: the error is `E0`, the
            // byte that shows it is `00`): no piece after that one.
            prop_assert!(start <= bad.valid_up_to() + error_len.unwrap_or(0));
        }
    }

    #[test]
    fn byte_by_byte_matches_std(bytes in text_bytes()) {
        let cuts: Vec<usize> = (0..bytes.len()).collect();
        let (got, failed_in) = fed_in_pieces(&bytes, &cuts);
        prop_assert_eq!(got, std_verdict(&bytes));
        if let (Err(e), Some(start)) = (got, failed_in) {
            // Fed one byte at a time, the failure comes within the bad
            // sequence (at most three bytes after it starts).
            prop_assert!(start <= e.position as usize + 3);
        }
    }

    #[test]
    fn feed_into_builds_the_text_whatever_the_split(
        bytes in text_bytes(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.push(bytes.len());
        cuts.sort_unstable();
        let mut v = Utf8Validator::new();
        let mut text = String::new();
        let mut start = 0;
        let mut got = Ok(());
        for end in cuts {
            got = v.feed_into(&bytes[start..end], &mut text);
            if got.is_err() {
                break;
            }
            start = end;
        }
        let got = got.and_then(|()| v.finish());
        // The same verdict as `feed`, and on valid bytes the same text.
        prop_assert_eq!(got, fed_in_pieces(&bytes, &[]).0);
        prop_assert_eq!(got, std_verdict(&bytes));
        match std::str::from_utf8(&bytes) {
            Ok(whole) => prop_assert_eq!(text.as_str(), whole),
            Err(e) => prop_assert!(text.len() <= e.valid_up_to()),
        }
    }
}
