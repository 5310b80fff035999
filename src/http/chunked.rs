//! Incremental decoder for `Transfer-Encoding: chunked` request bodies, with
//! lighttpd 1.4.69's rules (http-core.md §3 "Chunked decoding"): a size line
//! is hex digits (leading zeros fine), optional SP/HT, then CR or `;` (an
//! extension, ignored) and must be shorter than 1024 bytes; sizes that would
//! overflow are refused; chunk data must be followed by CRLF; the
//! `server.max-request-size` limit is checked at each chunk header (413);
//! trailers are read up to the blank line and discarded, and trailers longer
//! than `server.max-request-field-size` are skipped with keep-alive turned
//! off. Every error is 400 (or 413) with `Connection: close` and an error-log
//! line in lighttpd's wording.
//!
//! The decoder is a byte-driven state machine, so input may arrive in any
//! split, down to one byte per call. Where lighttpd waits for more input
//! before rejecting a line it already knows is bad (a NUL in a size line, a
//! wrong byte where the CRLF after chunk data belongs), this decoder rejects
//! at once with the same status.

use super::request::HttpError;

/// Longest size line lighttpd accepts is 1023 bytes including its LF.
const MAX_SIZE_LINE: usize = 1024;
/// lighttpd refuses to shift the size accumulator once it exceeds this.
const SIZE_SHIFT_LIMIT: u64 = (1 << 59) - 3;

/// Where the decoder is in the chunked stream.
#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    /// Reading a chunk-size line.
    Size(SizeLine),
    /// Copying chunk data; `left` bytes remain in this chunk.
    Data {
        left: u64,
    },
    /// Expecting the CR after chunk data.
    DataCr,
    /// Expecting the LF after chunk data.
    DataLf,
    /// After the last chunk: skipping trailers until CRLFCRLF.
    /// `matched` is how much of CRLFCRLF the latest bytes match; `seen`
    /// counts bytes since the start of the last-chunk line.
    Trailers {
        matched: u8,
        seen: usize,
    },
    Done,
    Failed(HttpError),
}

/// Progress through one chunk-size line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct SizeLine {
    len: usize,
    size: u64,
    digits: bool,
    phase: LinePhase,
    /// The last two bytes of the line (for the trailer scan).
    last2: [u8; 2],
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum LinePhase {
    /// Hex digits.
    #[default]
    Digits,
    /// SP/HT after the digits.
    Space,
    /// After CR or `;`: anything up to LF.
    Tail,
}

/// Decodes one chunked request body.
#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
    max_trailer: usize,
    max_body: u64,
    body_len: u64,
    trailers_overflowed: bool,
}

fn bad(log: &'static str) -> HttpError {
    HttpError::always_logged(400, log)
}

impl ChunkedDecoder {
    /// `max_trailer` is `server.max-request-field-size`; `max_body` is
    /// `server.max-request-size` × 1024 (0 = unlimited).
    pub fn new(max_trailer: usize, max_body: u64) -> Self {
        ChunkedDecoder {
            state: State::Size(SizeLine::default()),
            max_trailer,
            max_body,
            body_len: 0,
            trailers_overflowed: false,
        }
    }

    /// Decoded body bytes so far (the handler's CONTENT_LENGTH once done).
    pub fn body_len(&self) -> u64 {
        self.body_len
    }

    /// Whether the final chunk and its trailers have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Whether trailers exceeded the limit and were cut short; the caller
    /// must turn keep-alive off (the rest of them may still be in flight).
    pub fn trailers_overflowed(&self) -> bool {
        self.trailers_overflowed
    }

    /// Feeds `input`; decoded data is appended to `out`. Returns how many
    /// bytes of `input` were consumed and whether the body is complete.
    /// Bytes after the end of the body are left unconsumed (a pipelined
    /// request). After an error every call returns the same error.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(usize, bool), HttpError> {
        let mut i = 0;
        while i < input.len() {
            match &mut self.state {
                State::Done => return Ok((i, true)),
                State::Failed(e) => return Err(e.clone()),
                State::Data { left } => {
                    let avail = (input.len() - i) as u64;
                    let n = avail.min(*left) as usize;
                    out.extend_from_slice(&input[i..i + n]);
                    i += n;
                    *left -= n as u64;
                    self.body_len += n as u64;
                    if *left == 0 {
                        self.state = State::DataCr;
                    }
                }
                State::DataCr | State::DataLf => {
                    let want_cr = self.state == State::DataCr;
                    let b = input[i];
                    i += 1;
                    self.state = match (want_cr, b) {
                        (true, b'\r') => State::DataLf,
                        (false, b'\n') => State::Size(SizeLine::default()),
                        _ => State::Failed(bad("chunked data missing end CRLF -> 400")),
                    };
                }
                State::Size(line) => {
                    let b = input[i];
                    i += 1;
                    let next = match step_size_line(line, b) {
                        Err(e) => State::Failed(e),
                        Ok(false) => continue,
                        Ok(true) => self.end_size_line(),
                    };
                    self.state = next;
                }
                State::Trailers { matched, seen } => {
                    let b = input[i];
                    i += 1;
                    *seen += 1;
                    *matched = crlfcrlf_step(*matched, b);
                    if *matched == 4 {
                        self.state = State::Done;
                        return Ok((i, true));
                    }
                }
            }
        }
        match &self.state {
            State::Failed(e) => Err(e.clone()),
            State::Done => Ok((i, true)),
            State::Trailers { seen, .. } if *seen >= self.max_trailer => {
                // lighttpd gives up on trailers this long: it drops what it
                // has and ends the body, and keep-alive is turned off.
                self.trailers_overflowed = true;
                self.state = State::Done;
                Ok((i, true))
            }
            _ => Ok((i, false)),
        }
    }

    /// A complete size line: start the chunk, or the trailers after a 0.
    fn end_size_line(&self) -> State {
        let State::Size(line) = &self.state else {
            return State::Failed(bad("chunked header invalid chars -> 400"));
        };
        if line.size == 0 {
            // lighttpd looks for CRLFCRLF from two bytes before the end of
            // the last-chunk line, so a plain "0\r\n\r\n" ends the body.
            let matched = line.last2.iter().fold(0, |m, &b| crlfcrlf_step(m, b));
            return State::Trailers {
                matched,
                seen: line.len,
            };
        }
        if self.max_body != 0
            && (line.size > self.max_body || self.max_body - line.size < self.body_len)
        {
            return State::Failed(HttpError::too_large(
                self.body_len.saturating_add(line.size),
            ));
        }
        State::Data { left: line.size }
    }
}

/// Feeds one byte of a size line. `Ok(true)` when the line ended (its LF).
fn step_size_line(line: &mut SizeLine, b: u8) -> Result<bool, HttpError> {
    line.len += 1;
    line.last2 = [line.last2[1], b];
    let invalid = || bad("chunked header invalid chars -> 400");
    match line.phase {
        LinePhase::Digits => {
            if let Some(v) = hex_digit(b) {
                if line.size > SIZE_SHIFT_LIMIT {
                    return Err(bad("chunked data size too large -> 400"));
                }
                line.size = (line.size << 4) | u64::from(v);
                line.digits = true;
            } else if !line.digits {
                return Err(invalid());
            } else {
                line.phase = after_digits(b).ok_or_else(invalid)?;
            }
        }
        LinePhase::Space => line.phase = after_digits(b).ok_or_else(invalid)?,
        LinePhase::Tail => {
            if b == b'\n' {
                return if line.len >= MAX_SIZE_LINE {
                    Err(bad("chunked header line too long -> 400"))
                } else {
                    Ok(true)
                };
            }
            // lighttpd scans the line with strchr, so a NUL hides the LF
            // and the line can only end as "too long"; say so now.
            if b == 0 {
                return Err(invalid());
            }
        }
    }
    if line.len >= MAX_SIZE_LINE {
        return Err(bad("chunked header line too long -> 400"));
    }
    Ok(false)
}

/// What may follow the hex digits (or the blanks after them).
fn after_digits(b: u8) -> Option<LinePhase> {
    match b {
        b' ' | b'\t' => Some(LinePhase::Space),
        b'\r' | b';' => Some(LinePhase::Tail),
        _ => None,
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// One step of matching CR LF CR LF; returns how much is matched (4 = found).
fn crlfcrlf_step(matched: u8, b: u8) -> u8 {
    match (matched, b) {
        (0 | 2, b'\r') => matched + 1,
        (1 | 3, b'\n') => matched + 1,
        (_, b'\r') => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` in one call; (consumed, done, body, error status).
    fn run(input: &[u8]) -> (usize, bool, Vec<u8>, Option<u16>) {
        run_with(input, 8192, 0)
    }

    fn run_with(
        input: &[u8],
        max_trailer: usize,
        max_body: u64,
    ) -> (usize, bool, Vec<u8>, Option<u16>) {
        let mut d = ChunkedDecoder::new(max_trailer, max_body);
        let mut out = Vec::new();
        match d.decode(input, &mut out) {
            Ok((n, done)) => (n, done, out, None),
            Err(e) => (0, false, out, Some(e.status)),
        }
    }

    /// Decodes `input` one byte per call; same result shape as `run`.
    fn run_bytewise(
        input: &[u8],
        max_trailer: usize,
        max_body: u64,
    ) -> (usize, bool, Vec<u8>, Option<u16>) {
        let mut d = ChunkedDecoder::new(max_trailer, max_body);
        let mut out = Vec::new();
        let mut used = 0;
        for (k, b) in input.iter().enumerate() {
            match d.decode(std::slice::from_ref(b), &mut out) {
                Ok((n, done)) => {
                    used += n;
                    if done {
                        return (used, true, out, None);
                    }
                    assert_eq!(n, 1, "byte {k} not consumed");
                }
                Err(e) => return (used, false, out, Some(e.status)),
            }
        }
        (used, false, out, None)
    }

    fn ok_body(input: &[u8]) -> Vec<u8> {
        let (n, done, body, err) = run(input);
        assert_eq!(err, None, "{input:?}");
        assert!(done, "{input:?}");
        assert_eq!(n, input.len());
        let (n2, done2, body2, err2) = run_bytewise(input, 8192, 0);
        assert_eq!((n2, done2, &body2, err2), (n, true, &body, None));
        body
    }

    fn status(input: &[u8]) -> Option<u16> {
        let one = run(input).3;
        let bytewise = run_bytewise(input, 8192, 0).3;
        assert_eq!(one, bytewise, "{input:?}");
        one
    }

    #[test]
    fn simple_bodies() {
        assert_eq!(ok_body(b"0\r\n\r\n"), b"");
        assert_eq!(ok_body(b"3\r\nabc\r\n0\r\n\r\n"), b"abc");
        assert_eq!(ok_body(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), b"abcde");
        assert_eq!(ok_body(b"A\r\n0123456789\r\n0\r\n\r\n"), b"0123456789");
        assert_eq!(ok_body(b"a\r\n0123456789\r\n0\r\n\r\n"), b"0123456789");
        // data may hold CR, LF and NUL
        assert_eq!(ok_body(b"4\r\n\r\n\0x\r\n0\r\n\r\n"), b"\r\n\0x");
    }

    #[test]
    fn size_line_forms() {
        assert_eq!(ok_body(b"0003\r\nabc\r\n000\r\n\r\n"), b"abc");
        assert_eq!(ok_body(b"3 \t \r\nabc\r\n0\r\n\r\n"), b"abc");
        assert_eq!(ok_body(b"3;name=value\r\nabc\r\n0;x\r\n\r\n"), b"abc");
        assert_eq!(ok_body(b"3 ;ext\r\nabc\r\n0\r\n\r\n"), b"abc");
        // after CR or ';' anything up to LF is accepted, as in lighttpd
        assert_eq!(ok_body(b"3\rjunk\nabc\r\n0\r\n\r\n"), b"abc");
        assert_eq!(ok_body(b"3;x\nabc\r\n0\r\n\r\n"), b"abc");
    }

    #[test]
    fn bad_size_lines() {
        for bad in [
            &b"zz\r\n"[..],
            b"-3\r\n",
            b"3x\r\n",
            b"3 x\r\n",
            b"\r\n",
            b";\r\n",
            b" 3\r\n",
            b"3\n",
            b"0\n\n",
            b"3 \n",
            b"+3\r\n",
            b"0x3\r\n",
            b"3;\0\r\n",
        ] {
            assert_eq!(status(bad), Some(400), "{bad:?}");
        }
    }

    #[test]
    fn size_line_length_limit() {
        let mut ok = b"3;".to_vec();
        ok.resize(1021, b'e');
        ok.extend_from_slice(b"\r\n"); // 1023 bytes with LF
        ok.extend_from_slice(b"abc\r\n0\r\n\r\n");
        assert_eq!(ok_body(&ok), b"abc");
        let mut long = b"3;".to_vec();
        long.resize(1022, b'e');
        long.extend_from_slice(b"\r\n"); // 1024 bytes with LF
        assert_eq!(status(&long), Some(400));
        // an unterminated line fails once it reaches 1024 bytes
        let mut partial = b"3;".to_vec();
        partial.resize(1023, b'e');
        assert_eq!(status(&partial), None);
        partial.push(b'e');
        assert_eq!(status(&partial), Some(400));
        // leading zeros count toward the limit too
        let zeros = vec![b'0'; 1024];
        assert_eq!(status(&zeros), Some(400));
    }

    #[test]
    fn size_overflow() {
        // lighttpd stops shifting once the value passes 2^59 - 3
        assert_eq!(status(b"7fffffffffffffdf\r\n"), None);
        assert_eq!(status(b"7fffffffffffffe0\r\n"), Some(400));
        assert_eq!(status(b"800000000000000\r\n"), None);
        assert_eq!(status(b"80000000000000000\r\n"), Some(400));
        assert_eq!(status(b"ffffffffffffffff\r\n"), Some(400));
        assert_eq!(
            status(b"0000000000000000000000003\r\nabc\r\n0\r\n\r\n"),
            None
        );
        let mut d = ChunkedDecoder::new(8192, 0);
        let e = d
            .decode(b"ffffffffffffffffff\r\n", &mut Vec::new())
            .unwrap_err();
        assert_eq!(e.log.as_deref(), Some("chunked data size too large -> 400"));
        assert!(e.close);
    }

    #[test]
    fn missing_crlf_after_data() {
        assert_eq!(status(b"3\r\nabcd\r\n"), Some(400));
        assert_eq!(status(b"3\r\nabc\n0\r\n\r\n"), Some(400));
        assert_eq!(status(b"3\r\nabc\r0\r\n\r\n"), Some(400));
        assert_eq!(status(b"3\r\nabc\r"), None);
        let mut d = ChunkedDecoder::new(8192, 0);
        let e = d.decode(b"1\r\nab", &mut Vec::new()).unwrap_err();
        assert_eq!(
            (e.status, e.log.as_deref()),
            (400, Some("chunked data missing end CRLF -> 400"))
        );
    }

    #[test]
    fn trailers_are_discarded() {
        assert_eq!(ok_body(b"3\r\nabc\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n"), b"abc");
        assert_eq!(ok_body(b"0;e\r\nX: y\r\n\r\n"), b"");
        // trailer lines with bare LF: only a CRLFCRLF ends them
        let (_, done, _, err) = run(b"0\r\nX: y\n\r\n");
        assert_eq!((done, err), (false, None));
        // the CRLF search starts two bytes before the end of the 0 line
        let (_, done, _, _) = run(b"0;x\n\r\n");
        assert!(!done);
        assert_eq!(ok_body(b"0;x\n\r\n\r\n"), b"");
    }

    #[test]
    fn trailer_overflow_ends_body_and_breaks_keep_alive() {
        let mut d = ChunkedDecoder::new(32, 0);
        let mut out = Vec::new();
        let mut input = b"1\r\nz\r\n0\r\n".to_vec();
        input.extend_from_slice(&[b'x'; 40]);
        let (n, done) = d.decode(&input, &mut out).unwrap();
        assert!(done && d.trailers_overflowed());
        assert_eq!((n, out.as_slice()), (input.len(), &b"z"[..]));
        // below the limit it keeps waiting
        let mut d = ChunkedDecoder::new(64, 0);
        let (_, done) = d.decode(&input, &mut Vec::new()).unwrap();
        assert!(!done && !d.trailers_overflowed());
        // a complete trailer block is accepted even past the limit
        let mut d = ChunkedDecoder::new(8, 0);
        let (_, done) = d
            .decode(b"0\r\nLong-Trailer: yes\r\n\r\n", &mut Vec::new())
            .unwrap();
        assert!(done && !d.trailers_overflowed());
    }

    #[test]
    fn max_body_checked_at_each_chunk_header() {
        // limit 8: 8 bytes pass, 9 fail
        assert_eq!(run_with(b"8\r\n12345678\r\n0\r\n\r\n", 8192, 8).3, None);
        assert_eq!(run_with(b"9\r\n", 8192, 8).3, Some(413));
        assert_eq!(
            run_with(b"5\r\n12345\r\n3\r\n678\r\n0\r\n\r\n", 8192, 8).3,
            None
        );
        assert_eq!(run_with(b"5\r\n12345\r\n4\r\n", 8192, 8).3, Some(413));
        assert_eq!(run_bytewise(b"5\r\n12345\r\n4\r\n", 8192, 8).3, Some(413));
        // 0 = unlimited
        assert_eq!(run_with(b"7ffffffffffffff\r\n", 8192, 0).3, None);
        let mut d = ChunkedDecoder::new(8192, 8);
        let e = d
            .decode(b"5\r\n12345\r\n4\r\n", &mut Vec::new())
            .unwrap_err();
        assert_eq!(e.log.as_deref(), Some("request-size too long: 9 -> 413"));
        assert!(e.close);
    }

    #[test]
    fn leaves_pipelined_bytes() {
        let input = b"3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
        let (n, done, body, _) = run(input);
        assert!(done);
        assert_eq!((n, body.as_slice()), (13, &b"abc"[..]));
        let (n, ..) = run_bytewise(input, 8192, 0);
        assert_eq!(n, 13);
        // once done, nothing more is consumed
        let mut d = ChunkedDecoder::new(8192, 0);
        d.decode(b"0\r\n\r\n", &mut Vec::new()).unwrap();
        assert_eq!(d.decode(b"xyz", &mut Vec::new()).unwrap(), (0, true));
        assert!(d.is_done());
    }

    #[test]
    fn body_len_counts_decoded_bytes() {
        let mut d = ChunkedDecoder::new(8192, 0);
        let mut out = Vec::new();
        d.decode(b"3\r\nabc\r\n10\r\n", &mut out).unwrap();
        assert_eq!(d.body_len(), 3);
        d.decode(&[b'x'; 16], &mut out).unwrap();
        d.decode(b"\r\n0\r\n\r\n", &mut out).unwrap();
        assert_eq!((d.body_len(), out.len()), (19, 19));
    }

    #[test]
    fn errors_are_sticky() {
        let mut d = ChunkedDecoder::new(8192, 0);
        assert!(d.decode(b"zz\r\n", &mut Vec::new()).is_err());
        assert_eq!(
            d.decode(b"0\r\n\r\n", &mut Vec::new()).unwrap_err().status,
            400
        );
    }

    #[test]
    fn every_split_point_agrees() {
        let input = b"4;a=b\r\nWiki\r\n5 \r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nT: v\r\n\r\n";
        let whole = run(input);
        assert_eq!(whole.2, b"Wikipedia in\r\n\r\nchunks.");
        for cut in 0..=input.len() {
            let mut d = ChunkedDecoder::new(8192, 0);
            let mut out = Vec::new();
            let (a, done_a) = d.decode(&input[..cut], &mut out).unwrap();
            assert_eq!(a, cut);
            let (b, done_b) = if done_a {
                (0, true)
            } else {
                d.decode(&input[cut..], &mut out).unwrap()
            };
            assert!(done_b);
            assert_eq!((a + b, &out), (input.len(), &whole.2));
        }
    }

    #[test]
    fn never_panics() {
        // all two-byte inputs after a few prefixes, whole and bytewise
        for prefix in [&b""[..], b"1\r\n", b"1\r\nx", b"0\r\n", b"0\r\n\r", b"f;"] {
            for a in 0..=255u8 {
                for b in [0u8, b'\r', b'\n', b'0', b'a', b' ', b';', 0xff] {
                    let mut v = prefix.to_vec();
                    v.extend_from_slice(&[a, b]);
                    let _ = run_with(&v, 4, 3);
                    let _ = run_bytewise(&v, 4, 3);
                }
            }
        }
    }
}
