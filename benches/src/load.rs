//! The pieces of the end-to-end load harness (`benches/load.sh`) that the
//! generator (`load_gen`) and the runner (`load_runner`) share, kept here so
//! that they are tested: the client's pre-encoded frames, the minimal parser
//! of a server's echo, the handshake, percentiles, the one-line JSON reports
//! and the `/proc` readers.

use std::fmt::Write as _;
use std::fs;
use std::io;

/// Every echo server of `benches/examples/load_server/main.rs`, the order of
/// the runner's tables: raw TCP (the ceiling), this project's three, the
/// peers.
pub const SERVERS: [&str; 8] = [
    "raw",
    "facade-mio",
    "facade-tokio",
    "native",
    "tungstenite",
    "fastwebsockets",
    "tokio-websockets",
    "ws-rs",
];

/// The handshake key of RFC 6455's example, and its accept value.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// `Sec-WebSocket-Accept` for [`KEY`].
pub const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/// The fixed mask key of every client frame.
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// Opcode of a text message.
pub const TEXT: u8 = 0x1;
/// Opcode of a binary message.
pub const BINARY: u8 = 0x2;

/// A payload of `size` bytes: ASCII letters for text (valid UTF-8), bytes
/// of every value for binary.
pub fn payload(size: usize, opcode: u8) -> Vec<u8> {
    (0..size)
        .map(|i| {
            if opcode == TEXT {
                b'a' + (i % 26) as u8
            } else {
                ((i as u32).wrapping_mul(2_654_435_761) >> 24) as u8
            }
        })
        .collect()
}

/// The sentence that [`mixed_utf8`] repeats: Latin with accents, Greek,
/// Cyrillic, CJK and emoji, so that one, two, three and four-byte UTF-8
/// sequences alternate, as in the text of a multilingual chat.
const MIXED: &str =
    "Grüße, café naïve; Καλημέρα κόσμε; Привет, мир; 你好，世界；こんにちは 🌍🚀✨ ";

/// A text payload of exactly `size` bytes of valid UTF-8 that mixes one- to
/// four-byte characters (one multilingual sentence repeated, cut at a
/// character boundary, then padded with ASCII spaces).
pub fn mixed_utf8(size: usize) -> Vec<u8> {
    let mut text = String::with_capacity(size + MIXED.len());
    'fill: loop {
        for c in MIXED.chars() {
            if text.len() + c.len_utf8() > size {
                break 'fill;
            }
            text.push(c);
        }
    }
    let mut bytes = text.into_bytes();
    bytes.resize(size, b' ');
    bytes
}

/// One masked client frame with FIN set: what the generator writes, again
/// and again, for every message of a load.
pub fn masked_frame(opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let len = payload.len();
    let mut frame = Vec::with_capacity(len + 14);
    frame.push(0x80 | (opcode & 0x0f));
    if len < 126 {
        frame.push(0x80 | len as u8);
    } else if len <= usize::from(u16::MAX) {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        frame.push(0x80 | 127);
        frame.extend_from_slice(&(len as u64).to_be_bytes());
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// The opening handshake request the generator sends.
pub fn handshake_request(host: &str) -> String {
    format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// Where the head of an HTTP response ends (the index after `\r\n\r\n`).
pub fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Checks a handshake response head: status 101 and the right
/// `Sec-WebSocket-Accept`.
pub fn check_response(head: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status = lines.next().unwrap_or("");
    if !status.starts_with("HTTP/1.1 101") {
        return Err(format!("handshake refused: {status:?}"));
    }
    let accept = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("sec-websocket-accept")
            .then(|| value.trim().to_string())
    });
    match accept {
        Some(a) if a == ACCEPT => Ok(()),
        other => Err(format!("bad Sec-WebSocket-Accept: {other:?}")),
    }
}

/// Reads a server's echoes: counts complete messages and checks them
/// against what was sent, at the cost of a header parse per frame and a
/// comparison of the bytes (which were just read, so are in cache).
///
/// In WebSocket mode a message is its data frames up to one with FIN (a
/// server may fragment); control frames in between are skipped, a close
/// frame or a masked frame is an error. In raw mode (a TCP echo) a message
/// is back when as many bytes as were sent have come back.
#[derive(Debug, Clone)]
pub struct EchoReader {
    raw: bool,
    opcode: u8,
    /// The unmasked payload (WebSocket mode) or the frame as sent (raw).
    expect: Vec<u8>,
    verify: bool,
    hdr: [u8; 14],
    hdr_len: usize,
    in_frame: bool,
    control: bool,
    fin: bool,
    remaining: u64,
    in_message: bool,
    /// Bytes of the current message received so far.
    offset: usize,
}

impl EchoReader {
    /// A reader of WebSocket echoes of `payload` sent with `opcode`.
    pub fn websocket(opcode: u8, payload: Vec<u8>, verify: bool) -> EchoReader {
        EchoReader::new(false, opcode, payload, verify)
    }

    /// A reader of a TCP echo of `sent`.
    pub fn raw(sent: Vec<u8>, verify: bool) -> EchoReader {
        EchoReader::new(true, 0, sent, verify)
    }

    fn new(raw: bool, opcode: u8, expect: Vec<u8>, verify: bool) -> EchoReader {
        EchoReader {
            raw,
            opcode,
            expect,
            verify,
            hdr: [0; 14],
            hdr_len: 0,
            in_frame: false,
            control: false,
            fin: false,
            remaining: 0,
            in_message: false,
            offset: 0,
        }
    }

    /// How many bytes one echoed message is expected to hold (payload, or
    /// the whole frame in raw mode).
    pub fn message_len(&self) -> usize {
        self.expect.len()
    }

    /// Resets the state of the connection this reader belongs to (the
    /// expected message stays).
    pub fn reset(&mut self) {
        self.hdr_len = 0;
        self.in_frame = false;
        self.in_message = false;
        self.offset = 0;
        self.remaining = 0;
    }

    /// Feeds bytes read from the server; returns how many messages they
    /// completed.
    pub fn feed(&mut self, data: &[u8]) -> Result<u32, String> {
        if self.raw {
            self.feed_raw(data)
        } else {
            self.feed_ws(data)
        }
    }

    fn feed_raw(&mut self, mut data: &[u8]) -> Result<u32, String> {
        let mut done = 0;
        while !data.is_empty() {
            let n = data.len().min(self.expect.len() - self.offset);
            self.check(&data[..n])?;
            self.offset += n;
            data = &data[n..];
            if self.offset == self.expect.len() {
                self.offset = 0;
                done += 1;
            }
        }
        Ok(done)
    }

    fn check(&self, got: &[u8]) -> Result<(), String> {
        if self.verify && *got != self.expect[self.offset..self.offset + got.len()] {
            let at = got
                .iter()
                .zip(&self.expect[self.offset..])
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            return Err(format!(
                "wrong byte at offset {} of the echo",
                self.offset + at
            ));
        }
        Ok(())
    }

    fn feed_ws(&mut self, mut data: &[u8]) -> Result<u32, String> {
        let mut done = 0;
        while !data.is_empty() || (self.in_frame && self.remaining == 0) {
            if !self.in_frame {
                let need = self.header_len();
                let take = (need - self.hdr_len).min(data.len());
                self.hdr[self.hdr_len..self.hdr_len + take].copy_from_slice(&data[..take]);
                self.hdr_len += take;
                data = &data[take..];
                if self.hdr_len < 2 || self.hdr_len < self.header_len() {
                    continue;
                }
                self.start_frame()?;
                continue;
            }
            let n = (data.len() as u64).min(self.remaining) as usize;
            if !self.control {
                self.check(&data[..n])?;
                self.offset += n;
            }
            self.remaining -= n as u64;
            data = &data[n..];
            if self.remaining == 0 {
                self.in_frame = false;
                self.hdr_len = 0;
                if !self.control {
                    if self.fin {
                        if self.offset != self.expect.len() {
                            return Err(format!(
                                "echo of {} bytes, {} were sent",
                                self.offset,
                                self.expect.len()
                            ));
                        }
                        self.offset = 0;
                        self.in_message = false;
                        done += 1;
                    } else {
                        self.in_message = true;
                    }
                }
            }
        }
        Ok(done)
    }

    /// The length of the current frame's header, as far as it is known.
    fn header_len(&self) -> usize {
        if self.hdr_len < 2 {
            return 2;
        }
        let ext = match self.hdr[1] & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask = if self.hdr[1] & 0x80 != 0 { 4 } else { 0 };
        2 + ext + mask
    }

    fn start_frame(&mut self) -> Result<(), String> {
        let (b0, b1) = (self.hdr[0], self.hdr[1]);
        if b1 & 0x80 != 0 {
            return Err("the server masked a frame".into());
        }
        if b0 & 0x70 != 0 {
            return Err(format!("reserved bits set: {b0:#04x}"));
        }
        let len = match b1 & 0x7f {
            126 => u64::from(u16::from_be_bytes([self.hdr[2], self.hdr[3]])),
            127 => u64::from_be_bytes(self.hdr[2..10].try_into().expect("8 bytes")),
            n => u64::from(n),
        };
        let opcode = b0 & 0x0f;
        self.fin = b0 & 0x80 != 0;
        self.control = opcode & 0x08 != 0;
        if opcode == 0x8 {
            return Err("the server sent a close frame".into());
        }
        if !self.control {
            match (opcode, self.in_message) {
                (0, true) => {}
                (0, false) => return Err("continuation frame outside a message".into()),
                (op, false) if op == self.opcode => {}
                (op, false) => {
                    return Err(format!(
                        "echo with opcode {op}, sent with opcode {}",
                        self.opcode
                    ));
                }
                (op, true) => return Err(format!("opcode {op} inside a fragmented message")),
            }
            if self.offset as u64 + len > self.expect.len() as u64 {
                return Err(format!(
                    "echo longer than the {} bytes sent",
                    self.expect.len()
                ));
            }
        }
        self.remaining = len;
        self.in_frame = true;
        Ok(())
    }
}

/// The value at percentile `p` (0 to 100) of sorted values, nearest rank.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The `rss_series` of a slow-readers report (`load_gen --slow-readers`):
/// space-separated `seconds:KiB` samples, as (seconds, KiB) points.
pub fn parse_series(s: &str) -> Vec<(f64, f64)> {
    s.split_whitespace()
        .filter_map(|p| p.split_once(':'))
        .filter_map(|(t, k)| Some((t.parse().ok()?, k.parse().ok()?)))
        .collect()
}

/// The median of values (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A value of a one-line report.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number.
    Num(f64),
    /// A string.
    Str(String),
    /// A boolean.
    Bool(bool),
}

/// A flat JSON object, written and read on one line: what the generator
/// reports for a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// The fields, in order.
    pub fields: Vec<(String, Value)>,
}

impl Report {
    /// Adds a number.
    pub fn num(&mut self, key: &str, v: f64) -> &mut Report {
        self.fields.push((key.into(), Value::Num(v)));
        self
    }

    /// Adds a string.
    pub fn str(&mut self, key: &str, v: &str) -> &mut Report {
        self.fields.push((key.into(), Value::Str(v.into())));
        self
    }

    /// Adds a boolean.
    pub fn bool(&mut self, key: &str, v: bool) -> &mut Report {
        self.fields.push((key.into(), Value::Bool(v)));
        self
    }

    /// A number field (booleans count as 0 and 1).
    pub fn get_num(&self, key: &str) -> Option<f64> {
        self.fields.iter().find_map(|(k, v)| match v {
            Value::Num(n) if k == key => Some(*n),
            Value::Bool(b) if k == key => Some(f64::from(u8::from(*b))),
            _ => None,
        })
    }

    /// A string field.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.fields.iter().find_map(|(k, v)| match v {
            Value::Str(s) if k == key => Some(s.as_str()),
            _ => None,
        })
    }

    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_str(&mut out, k);
            out.push(':');
            match v {
                Value::Num(n) if n.is_finite() => {
                    let _ = write!(out, "{n}");
                }
                Value::Num(_) => out.push_str("null"),
                Value::Str(s) => push_json_str(&mut out, s),
                Value::Bool(b) => {
                    let _ = write!(out, "{b}");
                }
            }
        }
        out.push('}');
        out
    }

    /// Reads a line written by [`to_json`](Report::to_json): a flat object
    /// of numbers, strings, booleans and nulls (which are left out).
    pub fn from_json(line: &str) -> Result<Report, String> {
        let mut p = JsonParser {
            s: line.trim().as_bytes(),
            i: 0,
        };
        let mut report = Report::default();
        p.expect(b'{')?;
        if p.peek() == Some(b'}') {
            p.i += 1;
            return p.end(report);
        }
        loop {
            let key = p.string()?;
            p.expect(b':')?;
            match p.peek() {
                Some(b'"') => {
                    let s = p.string()?;
                    report.str(&key, &s);
                }
                Some(b't') => {
                    p.word("true")?;
                    report.bool(&key, true);
                }
                Some(b'f') => {
                    p.word("false")?;
                    report.bool(&key, false);
                }
                Some(b'n') => p.word("null")?,
                _ => {
                    let n = p.number()?;
                    report.num(&key, n);
                }
            }
            match p.next() {
                Some(b',') => {}
                Some(b'}') => return p.end(report),
                _ => return Err(format!("expected , or }} at {}", p.i)),
            }
        }
    }
}

fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek();
        self.i += 1;
        c
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        match self.next() {
            Some(got) if got == c => Ok(()),
            _ => Err(format!("expected {:?} at {}", c as char, self.i - 1)),
        }
    }

    fn word(&mut self, w: &str) -> Result<(), String> {
        self.skip_ws();
        if self.s[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            Ok(())
        } else {
            Err(format!("expected {w} at {}", self.i))
        }
    }

    fn end(mut self, report: Report) -> Result<Report, String> {
        match self.peek() {
            None => Ok(report),
            Some(_) => Err(format!("trailing input at {}", self.i)),
        }
    }

    fn number(&mut self) -> Result<f64, String> {
        self.skip_ws();
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_digit() || b"+-.eE".contains(c))
        {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| format!("bad number at {start}"))
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            match self.s.get(self.i).copied() {
                None => return Err("unterminated string".into()),
                Some(b'"') => {
                    self.i += 1;
                    return String::from_utf8(out).map_err(|e| e.to_string());
                }
                Some(b'\\') => {
                    let esc = self.s.get(self.i + 1).copied();
                    self.i += 2;
                    match esc {
                        Some(b'n') => out.push(b'\n'),
                        Some(b't') => out.push(b'\t'),
                        Some(b'u') => {
                            let hex = self
                                .s
                                .get(self.i..self.i + 4)
                                .and_then(|h| std::str::from_utf8(h).ok())
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .and_then(char::from_u32)
                                .ok_or("bad \\u escape")?;
                            self.i += 4;
                            let mut b = [0; 4];
                            out.extend_from_slice(hex.encode_utf8(&mut b).as_bytes());
                        }
                        Some(c) => out.push(c),
                        None => return Err("unterminated escape".into()),
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }
}

/// Nanoseconds a process's threads have spent on a CPU: the sum of the
/// first field of `/proc/PID/task/*/schedstat`.
pub fn cpu_ns(pid: u32) -> io::Result<u64> {
    let mut total = 0;
    for task in fs::read_dir(format!("/proc/{pid}/task"))? {
        let path = task?.path().join("schedstat");
        // A thread that ended since the listing has nothing to add.
        if let Ok(stat) = fs::read_to_string(path) {
            total += stat
                .split_whitespace()
                .next()
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Ok(total)
}

/// A process's resident set size in KiB (`VmRSS` of `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| io::Error::other("no VmRSS in /proc/PID/status"))
}

/// Nanoseconds all CPUs together have been busy (user, nice, system, irq,
/// softirq and steal time of `/proc/stat`), at its 10 ms resolution.
pub fn system_busy_ns() -> io::Result<u64> {
    let stat = fs::read_to_string("/proc/stat")?;
    let line = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .ok_or_else(|| io::Error::other("no cpu line in /proc/stat"))?;
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is in user).
    let busy: u64 = [0, 1, 2, 5, 6, 7]
        .iter()
        .map(|&i| f.get(i).copied().unwrap_or(0))
        .sum();
    // USER_HZ is 100 on every Linux configuration that exposes /proc/stat
    // to user space.
    Ok(busy * 10_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = masked_frame(opcode, payload, [0; 4]);
        // Unmask the header: drop the mask bit and the (zero) key.
        f[1] &= 0x7f;
        let hdr = f.len() - payload.len() - 4;
        f.drain(hdr..hdr + 4);
        if !fin {
            f[0] &= 0x7f;
        }
        f
    }

    #[test]
    fn mixed_utf8_is_exact_valid_and_multi_byte() {
        for size in [0, 1, 20, 1023, 1024, 64 << 10] {
            let p = mixed_utf8(size);
            assert_eq!(p.len(), size);
            let text = std::str::from_utf8(&p).expect("valid UTF-8");
            if size >= 1024 {
                for width in 1..=4 {
                    assert!(
                        text.chars().any(|c| c.len_utf8() == width),
                        "size {size}: no {width}-byte character"
                    );
                }
                // Mostly multi-byte: fewer characters than bytes by far.
                assert!(text.chars().count() * 3 < size * 2, "size {size}");
            }
        }
    }

    #[test]
    fn frame_lengths() {
        for (size, hdr) in [(0, 6), (125, 6), (126, 8), (65_535, 8), (65_536, 14)] {
            let p = payload(size, BINARY);
            let f = masked_frame(BINARY, &p, MASK);
            assert_eq!(f.len(), size + hdr, "size {size}");
            assert_eq!(f[0], 0x82);
            assert_eq!(f[1] & 0x80, 0x80);
            let unmasked: Vec<u8> = f[hdr..]
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ MASK[i % 4])
                .collect();
            assert_eq!(unmasked, p);
        }
    }

    #[test]
    fn text_payload_is_utf8() {
        assert!(std::str::from_utf8(&payload(1000, TEXT)).is_ok());
        assert!(std::str::from_utf8(&payload(1000, BINARY)).is_err());
    }

    #[test]
    fn echo_byte_by_byte_and_fragmented() {
        let p = payload(300, TEXT);
        let mut wire = server_frame(true, TEXT, &p);
        let mut frag = server_frame(false, TEXT, &p[..100]);
        frag.extend(server_frame(true, 0x9, b"ping"));
        frag.extend(server_frame(false, 0, &p[100..250]));
        frag.extend(server_frame(true, 0, &p[250..]));
        wire.extend(frag);
        let mut r = EchoReader::websocket(TEXT, p.clone(), true);
        let done: u32 = wire.iter().map(|b| r.feed(&[*b]).unwrap()).sum();
        assert_eq!(done, 2);
        let mut r = EchoReader::websocket(TEXT, p, true);
        assert_eq!(r.feed(&wire).unwrap(), 2);
    }

    #[test]
    fn empty_message() {
        let mut r = EchoReader::websocket(BINARY, Vec::new(), true);
        assert_eq!(r.feed(&server_frame(true, BINARY, &[])).unwrap(), 1);
    }

    #[test]
    fn wrong_echoes_fail() {
        let p = payload(1024, BINARY);
        let mut bad = p.clone();
        bad[700] ^= 1;
        let cases = [
            server_frame(true, BINARY, &bad),
            server_frame(true, TEXT, &p),
            server_frame(true, BINARY, &p[..1000]),
            server_frame(true, 0x8, &[3, 232]),
            masked_frame(BINARY, &p, MASK),
            server_frame(true, 0, &p),
        ];
        for (i, wire) in cases.iter().enumerate() {
            let mut r = EchoReader::websocket(BINARY, p.clone(), true);
            assert!(r.feed(wire).is_err(), "case {i} passed");
        }
        let mut long = p.clone();
        long.push(0);
        let mut r = EchoReader::websocket(BINARY, p.clone(), true);
        assert!(r.feed(&server_frame(true, BINARY, &long)).is_err());
    }

    #[test]
    fn raw_echo() {
        let sent = masked_frame(BINARY, &payload(70_000, BINARY), MASK);
        let mut r = EchoReader::raw(sent.clone(), true);
        assert_eq!(r.feed(&sent[..5000]).unwrap(), 0);
        assert_eq!(r.feed(&sent[5000..]).unwrap(), 1);
        let mut bad = sent.clone();
        bad[69_999] ^= 0xff;
        let mut r = EchoReader::raw(sent, true);
        assert!(r.feed(&bad).is_err());
    }

    #[test]
    fn handshake_response() {
        let ok = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nsec-websocket-accept: {ACCEPT}\r\n\r\n"
        );
        assert_eq!(head_end(ok.as_bytes()), Some(ok.len()));
        assert!(check_response(ok.as_bytes()).is_ok());
        assert!(check_response(b"HTTP/1.1 400 Bad Request\r\n\r\n").is_err());
        assert!(check_response(b"HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: x\r\n\r\n").is_err());
    }

    #[test]
    fn rss_series() {
        assert_eq!(
            parse_series("0.1:100 0.2:150 bad 0.3:x 0.4:90"),
            vec![(0.1, 100.0), (0.2, 150.0), (0.4, 90.0)]
        );
    }

    #[test]
    fn percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn report_round_trip() {
        let mut r = Report::default();
        r.num("messages", 1234.0)
            .num("p50_us", 12.5)
            .bool("ok", true)
            .str("error", "bad \"echo\"\nat 3");
        let line = r.to_json();
        assert!(!line.contains('\n'));
        assert_eq!(Report::from_json(&line).unwrap(), r);
        let parsed = Report::from_json(r#"{"a": -1.5e3, "b": null, "c": "\u0041"}"#).unwrap();
        assert_eq!(parsed.get_num("a"), Some(-1500.0));
        assert_eq!(parsed.get_num("b"), None);
        assert_eq!(parsed.get_str("c"), Some("A"));
        assert!(Report::from_json("{\"a\":1} x").is_err());
    }

    #[test]
    fn proc_readers() {
        let me = std::process::id();
        assert!(rss_kib(me).unwrap() > 0);
        assert!(cpu_ns(me).unwrap() > 0);
        assert!(system_busy_ns().unwrap() > 0);
    }
}
