//! The value of a backend's `X-Sendfile2` header (fastcgi.md §4): a comma
//! list of `<url-encoded path> <start>-[<end>]`. It is read one item at a
//! time, as 1.4.69 reads it: the server looks each file up before it reads
//! that item's range, and the first error stops the walk where it occurs
//! (what the items before it found stands). The checks between the steps
//! are conn_backend/sendfile.rs's; this is only the text.

/// One item of the list, as written.
#[derive(Debug, PartialEq, Eq)]
pub struct Item<'a> {
    /// The path, still URL-encoded.
    pub name: &'a [u8],
    /// `<start>-[<end>]`, unchecked (see [`parse_range`]).
    pub range: &'a [u8],
    /// From the item's start to the end of the value: what the log lines
    /// quote.
    pub rest: &'a [u8],
    /// Text other than a comma follows the range: the value is bad here.
    pub junk_after: bool,
}

/// What the next step of the walk found.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<'a> {
    End,
    Item(Item<'a>),
    /// A name without a range after it (the rest of the value).
    NoRange(&'a [u8]),
}

/// A walk over the items of a value.
pub struct Walk<'a> {
    value: &'a [u8],
    pos: usize,
}

impl<'a> Walk<'a> {
    pub fn new(value: &'a [u8]) -> Walk<'a> {
        Walk { value, pos: 0 }
    }

    pub fn next_item(&mut self) -> Next<'a> {
        let v = self.value;
        while v.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
        if self.pos >= v.len() {
            return Next::End;
        }
        let rest = &v[self.pos..];
        let Some(sp) = rest.iter().position(|&c| c == b' ') else {
            self.pos = v.len();
            return Next::NoRange(rest);
        };
        let range_at = self.pos + sp + 1;
        let range_end = v[range_at..]
            .iter()
            .position(|&c| c == b' ' || c == b',')
            .map_or(v.len(), |n| range_at + n);
        let mut after = range_end;
        while v.get(after) == Some(&b' ') {
            after += 1;
        }
        let junk_after = after < v.len() && v[after] != b',';
        self.pos = if junk_after {
            v.len()
        } else {
            (after + 1).min(v.len())
        };
        Next::Item(Item {
            name: &rest[..sp],
            range: &v[range_at..range_end],
            rest,
            junk_after,
        })
    }
}

/// `<start>-[<end>]` as lighttpd reads it (each number as strtoll would:
/// an optional sign, digits, no overflow; neither may be negative): the
/// first and last byte, the last defaulting to the file's last (-1 for an
/// empty file). The caller refuses an end before the start and cuts an end
/// past the file.
pub fn parse_range(text: &[u8], size: u64) -> Option<(i64, i64)> {
    let (start, rest) = strtoll(text)?;
    let rest = rest.strip_prefix(b"-")?;
    if rest.is_empty() {
        return Some((start, i64::try_from(size).ok()? - 1));
    }
    let (end, rest) = strtoll(rest)?;
    rest.is_empty().then_some((start, end))
}

/// A non-negative number with an optional sign, and what follows it.
fn strtoll(text: &[u8]) -> Option<(i64, &[u8])> {
    let (neg, body) = match text.first() {
        Some(b'+') => (false, &text[1..]),
        Some(b'-') => (true, &text[1..]),
        _ => (false, text),
    };
    let digits = body.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let n: i64 = std::str::from_utf8(&body[..digits]).ok()?.parse().ok()?;
    if neg && n > 0 {
        return None;
    }
    Some((n, &body[digits..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(v: &[u8]) -> Vec<Next<'_>> {
        let mut w = Walk::new(v);
        let mut out = Vec::new();
        loop {
            let n = w.next_item();
            let stop = !matches!(
                n,
                Next::Item(Item {
                    junk_after: false,
                    ..
                })
            );
            out.push(n);
            if stop {
                return out;
            }
        }
    }

    #[test]
    fn walks_items_in_order() {
        let v = b" /a%20b 0-4, /c 2- ,/d 1-1";
        let got = items(v);
        assert_eq!(got.len(), 4);
        assert_eq!(
            got[0],
            Next::Item(Item {
                name: b"/a%20b",
                range: b"0-4",
                rest: &v[1..],
                junk_after: false
            })
        );
        let Next::Item(i) = &got[1] else { panic!() };
        assert_eq!((i.name, i.range), (&b"/c"[..], &b"2-"[..]));
        let Next::Item(i) = &got[2] else { panic!() };
        assert_eq!((i.name, i.range), (&b"/d"[..], &b"1-1"[..]));
        assert_eq!(got[3], Next::End);
    }

    #[test]
    fn missing_range_and_junk() {
        assert_eq!(items(b"/a"), [Next::NoRange(b"/a")]);
        assert_eq!(items(b"/a 0-1, /b"), {
            let mut w = Walk::new(b"/a 0-1, /b");
            let first = w.next_item();
            vec![first, Next::NoRange(b"/b")]
        });
        let got = items(b"/a 0-1 x, /b 0-1");
        assert!(matches!(
            got[..],
            [Next::Item(Item {
                junk_after: true,
                ..
            })]
        ));
        assert_eq!(items(b""), [Next::End]);
    }

    #[test]
    fn numbers_as_strtoll_reads_them() {
        assert_eq!(strtoll(b"12-"), Some((12, &b"-"[..])));
        assert_eq!(strtoll(b"+3"), Some((3, &b""[..])));
        assert_eq!(strtoll(b"-0"), Some((0, &b""[..])));
        assert_eq!(strtoll(b"-3"), None);
        assert_eq!(strtoll(b"x"), None);
        assert_eq!(strtoll(b"9223372036854775808"), None);
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range(b"0-4", 6), Some((0, 4)));
        assert_eq!(parse_range(b"2-", 6), Some((2, 5)));
        assert_eq!(parse_range(b"0-", 0), Some((0, -1)));
        assert_eq!(parse_range(b"+1-+2", 6), Some((1, 2)));
        // Past the end, backwards: the caller's to judge.
        assert_eq!(parse_range(b"0-999", 6), Some((0, 999)));
        assert_eq!(parse_range(b"5-2", 6), Some((5, 2)));
        for bad in [&b"x"[..], b"-3", b"1", b"1-2-3", b"1--2", b"1-2x", b""] {
            assert_eq!(
                parse_range(bad, 6),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
