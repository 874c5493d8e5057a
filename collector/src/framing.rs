//! Stream framing for syslog over TCP and TLS (RFC 6587), as a pure, incremental decoder.
//!
//! Both framings of RFC 6587 are accepted and auto-detected **per frame**, so a sender may
//! even mix them on one connection:
//!
//! - *Octet counting* (RFC 6587 §3.4.1, the RFC 5425 framing): `MSG-LEN SP SYSLOG-MSG`, e.g.
//!   `65 <34>1 2003-10-11T22:14:15.003Z …`. A frame is treated as octet-counted only when it
//!   starts with a length of 1 to 9 digits without a leading zero, followed by one space and
//!   then `<` (the start of a syslog PRI). Anything else — a non-digit, a missing space, a
//!   leading zero, too many digits, a message that does not start with `<` — is a *garbage
//!   length prefix* and the frame falls back to newline framing.
//! - *Non-transparent framing* (RFC 6587 §3.4.2): the message ends at LF. A CR right before the
//!   LF is dropped (CRLF), and NUL is also accepted as a terminator. Empty lines, and any LF,
//!   CR or NUL bytes between frames, are skipped.
//!
//! Messages longer than the configured maximum are **truncated** to the maximum and returned
//! with [`Frame::truncated`] set; the rest of the oversized message is read and discarded so the
//! stream stays in sync (an octet-counted frame by skipping the announced length, a line by
//! skipping to the next terminator). The decoder's buffer therefore never grows much beyond the
//! maximum message size plus one read.
//!
//! The decoder makes no decision that depends on how the stream was split into reads: feeding
//! the same bytes in any chunks yields the same frames (this is property-tested).

use bytes::{Buf, Bytes, BytesMut};

/// Longest accepted octet-count prefix, in digits (lengths up to 999 999 999 bytes).
const MAX_LEN_DIGITS: usize = 9;

/// One decoded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The message bytes, without framing (no length prefix, no terminator).
    pub data: Bytes,
    /// The message was longer than the maximum (or cut short by the end of the stream) and
    /// `data` holds only its beginning.
    pub truncated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between frames: framing not yet detected.
    Start,
    /// Inside an octet-counted frame of this many bytes (at most the maximum).
    Octet(usize),
    /// Inside an octet-counted frame of this many bytes (more than the maximum).
    OctetOversized(usize),
    /// Skipping this many remaining bytes of an oversized octet-counted frame.
    Skip(usize),
    /// Inside a newline-framed message; `scanned` bytes are known not to hold a terminator.
    Line { scanned: usize },
    /// Skipping the rest of an oversized line up to its terminator.
    DiscardLine,
    /// End of stream handled; nothing more to return.
    Done,
}

/// Outcome of looking for an octet-count header at the start of the buffer.
enum Header {
    /// Not enough bytes to decide.
    NeedMore,
    /// An octet-count header of `header_len` bytes announcing `len` bytes.
    Octet { len: usize, header_len: usize },
    /// Not octet counting: newline framing.
    NotOctet,
}

/// Incremental RFC 6587 frame decoder (octet counting and newline framing, auto-detected).
///
/// Feed bytes with [`FrameDecoder::extend`] (or read straight into
/// [`FrameDecoder::buffer_mut`]), then take frames with [`FrameDecoder::next_frame`] until it
/// returns `None`. At the end of the stream call [`FrameDecoder::finish`] until it returns
/// `None` to get a final unterminated message.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: BytesMut,
    max: usize,
    state: State,
}

fn is_separator(b: u8) -> bool {
    matches!(b, b'\n' | b'\r' | 0)
}

impl FrameDecoder {
    /// A decoder for messages of at most `max_message` bytes (at least 1).
    pub fn new(max_message: usize) -> FrameDecoder {
        FrameDecoder {
            buf: BytesMut::with_capacity(8192),
            max: max_message.max(1),
            state: State::Start,
        }
    }

    /// The maximum message size.
    pub fn max_message(&self) -> usize {
        self.max
    }

    /// Append received bytes.
    pub fn extend(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The internal buffer, to read into directly (`AsyncReadExt::read_buf`). Only append to it.
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Number of buffered bytes not yet returned as (or discarded from) a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame, or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Frame> {
        loop {
            match self.state {
                State::Done => return None,
                State::Start => {
                    let skip = self.buf.iter().take_while(|&&b| is_separator(b)).count();
                    self.buf.advance(skip);
                    if self.buf.is_empty() {
                        return None;
                    }
                    match self.header() {
                        Header::NeedMore => return None,
                        Header::Octet { len, header_len } => {
                            self.buf.advance(header_len);
                            self.state = if len <= self.max {
                                State::Octet(len)
                            } else {
                                State::OctetOversized(len)
                            };
                        }
                        Header::NotOctet => self.state = State::Line { scanned: 0 },
                    }
                }
                State::Octet(len) => {
                    if self.buf.len() < len {
                        return None;
                    }
                    self.state = State::Start;
                    return Some(Frame { data: self.buf.split_to(len).freeze(), truncated: false });
                }
                State::OctetOversized(len) => {
                    if self.buf.len() < self.max {
                        return None;
                    }
                    self.state = State::Skip(len - self.max);
                    return Some(Frame {
                        data: self.buf.split_to(self.max).freeze(),
                        truncated: true,
                    });
                }
                State::Skip(n) => {
                    let k = n.min(self.buf.len());
                    self.buf.advance(k);
                    if k < n {
                        self.state = State::Skip(n - k);
                        return None;
                    }
                    self.state = State::Start;
                }
                State::Line { scanned } => {
                    match memchr::memchr2(b'\n', 0, &self.buf[scanned..]) {
                        Some(rel) => {
                            let term = scanned + rel;
                            let end = if term > 0 && self.buf[term - 1] == b'\r' {
                                term - 1
                            } else {
                                term
                            };
                            let mut line = self.buf.split_to(term + 1);
                            self.state = State::Start;
                            if end == 0 {
                                continue;
                            }
                            let truncated = end > self.max;
                            line.truncate(end.min(self.max));
                            return Some(Frame { data: line.freeze(), truncated });
                        }
                        None => {
                            let len = self.buf.len();
                            // A trailing CR may be the first half of a CRLF: do not count it yet.
                            let effective =
                                if self.buf.last() == Some(&b'\r') { len - 1 } else { len };
                            if effective > self.max {
                                let data = self.buf.split_to(self.max).freeze();
                                self.buf.clear();
                                self.state = State::DiscardLine;
                                return Some(Frame { data, truncated: true });
                            }
                            self.state = State::Line { scanned: len };
                            return None;
                        }
                    }
                }
                State::DiscardLine => match memchr::memchr2(b'\n', 0, &self.buf) {
                    Some(term) => {
                        self.buf.advance(term + 1);
                        self.state = State::Start;
                    }
                    None => {
                        self.buf.clear();
                        return None;
                    }
                },
            }
        }
    }

    /// At the end of the stream: the remaining frames, including a final message without a
    /// terminator (or a partial octet-counted frame, marked truncated). Call until `None`.
    pub fn finish(&mut self) -> Option<Frame> {
        if let Some(frame) = self.next_frame() {
            return Some(frame);
        }
        let state = std::mem::replace(&mut self.state, State::Done);
        let frame = match state {
            State::Done | State::Skip(_) | State::DiscardLine => None,
            State::Start | State::Line { .. } => {
                let mut end = self.buf.len();
                if end > 0 && self.buf[end - 1] == b'\r' {
                    end -= 1;
                }
                let truncated = end > self.max;
                let mut line = self.buf.split();
                line.truncate(end.min(self.max));
                (!line.is_empty()).then(|| Frame { data: line.freeze(), truncated })
            }
            State::Octet(_) | State::OctetOversized(_) => {
                let mut data = self.buf.split();
                data.truncate(self.max);
                (!data.is_empty()).then(|| Frame { data: data.freeze(), truncated: true })
            }
        };
        self.buf.clear();
        frame
    }

    /// Look for an octet-count header (`DIGITS SP <`) at the start of the buffer.
    fn header(&self) -> Header {
        let buf = &self.buf[..];
        match buf.first() {
            Some(b'1'..=b'9') => {}
            _ => return Header::NotOctet,
        }
        let digits = buf.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > MAX_LEN_DIGITS {
            return Header::NotOctet;
        }
        if digits == buf.len() {
            return Header::NeedMore;
        }
        if buf[digits] != b' ' {
            return Header::NotOctet;
        }
        match buf.get(digits + 1) {
            None => Header::NeedMore,
            Some(b'<') => {
                let len =
                    buf[..digits].iter().fold(0usize, |acc, &d| acc * 10 + usize::from(d - b'0'));
                Header::Octet { len, header_len: digits + 1 }
            }
            Some(_) => Header::NotOctet,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(max: usize, chunks: &[&[u8]]) -> Vec<Frame> {
        let mut d = FrameDecoder::new(max);
        let mut out = Vec::new();
        for c in chunks {
            d.extend(c);
            while let Some(f) = d.next_frame() {
                out.push(f);
            }
        }
        while let Some(f) = d.finish() {
            out.push(f);
        }
        out
    }

    fn texts(frames: &[Frame]) -> Vec<(String, bool)> {
        frames
            .iter()
            .map(|f| (String::from_utf8_lossy(&f.data).into_owned(), f.truncated))
            .collect()
    }

    fn ok(s: &str) -> (String, bool) {
        (s.to_string(), false)
    }

    #[test]
    fn newline_framing_variants() {
        let frames = decode_all(100, &[b"<1>a\n<2>b\r\n<3>c\0\n\n\r\n<4>d"]);
        assert_eq!(texts(&frames), vec![ok("<1>a"), ok("<2>b"), ok("<3>c"), ok("<4>d")]);
    }

    #[test]
    fn octet_counting_and_mixed() {
        let stream = b"5 <1>ab<2>line\n11 <3>multi\nli\n<4>x\r\n";
        let frames = decode_all(100, &[stream]);
        assert_eq!(
            texts(&frames),
            vec![ok("<1>ab"), ok("<2>line"), ok("<3>multi\nli"), ok("<4>x")]
        );
    }

    #[test]
    fn garbage_length_prefix_falls_back_to_lines() {
        let frames = decode_all(
            100,
            &[b"12x <1>a\n0 <1>b\n1234567890 <c\n2024-01-01 host msg\n5 nolt\n12\n"],
        );
        assert_eq!(
            texts(&frames),
            vec![
                ok("12x <1>a"),
                ok("0 <1>b"),
                ok("1234567890 <c"),
                ok("2024-01-01 host msg"),
                ok("5 nolt"),
                ok("12")
            ]
        );
    }

    #[test]
    fn oversized_frames_are_truncated_and_stream_stays_in_sync() {
        let frames = decode_all(4, &[b"10 <123456789<1>\n<abcdefgh\n<ok\n"]);
        assert_eq!(
            texts(&frames),
            vec![("<123".into(), true), ok("<1>"), ("<abc".into(), true), ok("<ok")]
        );
        // Byte by byte gives the same result.
        let stream = b"10 <123456789<1>\n<abcdefgh\n<ok\n";
        let chunks: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(decode_all(4, &chunks), frames);
    }

    #[test]
    fn crlf_at_exact_limit_is_not_truncated() {
        let frames = decode_all(4, &[b"<abc", b"\r", b"\n<de\r\r\n"]);
        assert_eq!(texts(&frames), vec![ok("<abc"), ok("<de\r")]);
    }

    #[test]
    fn end_of_stream() {
        assert_eq!(texts(&decode_all(100, &[b"<1>tail\r"])), vec![ok("<1>tail")]);
        assert_eq!(texts(&decode_all(100, &[b"20 <1>short"])), vec![("<1>short".into(), true)]);
        assert_eq!(texts(&decode_all(100, &[b"12"])), vec![ok("12")]);
        assert_eq!(texts(&decode_all(100, &[b"12 "])), vec![ok("12 ")]);
        assert!(decode_all(100, &[b"\n\r\n\0"]).is_empty());
        assert!(decode_all(100, &[b""]).is_empty());
    }

    #[test]
    fn buffer_stays_bounded() {
        let mut d = FrameDecoder::new(16);
        for _ in 0..1000 {
            d.extend(&[b'x'; 100]);
            while d.next_frame().is_some() {}
            assert!(d.buffered() <= 116);
        }
        d.extend(b"\n<ok\n");
        assert_eq!(d.next_frame().map(|f| f.data), Some(Bytes::from_static(b"<ok")));
    }

    /// A message a well-behaved sender could send, and how it frames it.
    #[derive(Debug, Clone)]
    enum Msg {
        /// Octet counted: any bytes after `<`.
        Octet(Vec<u8>),
        /// Newline framed with terminator 0 = LF, 1 = CRLF, 2 = NUL.
        Line(Vec<u8>, u8),
    }

    fn msg() -> impl Strategy<Value = Msg> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(|mut v| {
                v.insert(0, b'<');
                Msg::Octet(v)
            }),
            (
                proptest::collection::vec(
                    any::<u8>().prop_filter("no terminator", |b| *b != b'\n' && *b != 0),
                    0..40
                ),
                0u8..3
            )
                .prop_map(|(mut v, t)| {
                    v.insert(0, b'<');
                    while v.last() == Some(&b'\r') {
                        v.pop();
                    }
                    Msg::Line(v, t)
                }),
        ]
    }

    fn encode(msgs: &[Msg]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in msgs {
            match m {
                Msg::Octet(v) => {
                    out.extend(format!("{} ", v.len()).as_bytes());
                    out.extend(v);
                }
                Msg::Line(v, t) => {
                    out.extend(v);
                    out.extend(match t {
                        0 => &b"\n"[..],
                        1 => b"\r\n",
                        _ => b"\0",
                    });
                }
            }
        }
        out
    }

    proptest! {
        #[test]
        fn any_split_yields_the_same_frames(
            msgs in proptest::collection::vec(msg(), 0..20),
            cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..12),
            max in 1usize..50,
        ) {
            let stream = encode(&msgs);
            let whole = decode_all(max, &[&stream]);
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
            points.sort_unstable();
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut at = 0;
            for p in points {
                chunks.push(&stream[at..p]);
                at = p;
            }
            chunks.push(&stream[at..]);
            prop_assert_eq!(decode_all(max, &chunks), whole.clone());
            let bytewise: Vec<&[u8]> = stream.chunks(1).collect();
            prop_assert_eq!(decode_all(max, &bytewise), whole);
        }

        #[test]
        fn valid_streams_decode_to_their_messages(msgs in proptest::collection::vec(msg(), 0..20)) {
            let stream = encode(&msgs);
            let got = decode_all(1000, &[&stream]);
            let want: Vec<Frame> = msgs
                .iter()
                .map(|m| match m {
                    Msg::Octet(v) | Msg::Line(v, _) => Frame { data: Bytes::from(v.clone()), truncated: false },
                })
                .collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_respect_the_limit(
            data in proptest::collection::vec(any::<u8>(), 0..400),
            max in 1usize..30,
        ) {
            for f in decode_all(max, &[&data]) {
                prop_assert!(f.data.len() <= max);
                prop_assert!(!f.data.is_empty());
            }
        }
    }
}
