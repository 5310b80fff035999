//! Unit tests of backend_resp.rs.

use super::*;

const FCGI: HeadOpts = HeadOpts {
    backend: Backend::Fastcgi,
    purpose: Purpose::Respond,
    xsendfile_allow: true,
};

fn parse(buf: &[u8]) -> Result<Option<(BackendHead<'_>, usize)>, BackendError> {
    parse_backend_head(buf, MAX_HEAD, FCGI)
}

fn head(buf: &[u8]) -> BackendHead<'_> {
    parse(buf).unwrap().unwrap().0
}

fn names(h: &BackendHead) -> Vec<String> {
    h.headers
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                String::from_utf8_lossy(k),
                String::from_utf8_lossy(v)
            )
        })
        .collect()
}

#[test]
fn incomplete_until_blank_line_lf_or_crlf() {
    assert_eq!(parse(b""), Ok(None));
    assert_eq!(parse(b"Content-Type: text/plain"), Ok(None));
    assert_eq!(parse(b"Content-Type: text/plain\r\n"), Ok(None));
    let (h, off) = parse(b"Content-Type: text/plain\r\n\r\nbody")
        .unwrap()
        .unwrap();
    assert_eq!((h.status, off), (200, 28));
    assert_eq!(names(&h), ["Content-Type=text/plain"]);
    let (_, off) = parse(b"A: b\nC: d\n\nbody").unwrap().unwrap();
    assert_eq!(off, 11);
    let (_, off) = parse(b"A: b\r\n\nbody").unwrap().unwrap();
    assert_eq!(off, 7);
}

#[test]
fn blank_first_line_means_no_headers() {
    assert_eq!(parse(b"\r\nbody").unwrap().unwrap().1, 2);
    assert_eq!(parse(b"\nbody").unwrap().unwrap().1, 1);
    assert_eq!(head(b"\n").status, 200);
}

#[test]
fn status_header() {
    assert_eq!(head(b"Status: 404 Not Found\r\n\r\n").status, 404);
    assert_eq!(head(b"status:\t201\n\n").status, 201);
    assert_eq!(head(b"Status: 999\n\n").status, 999);
    for bad in [
        &b"Status: 99\n\n"[..],
        b"Status: 099\n\n",
        b"Status: 2000\n\n",
        b"Status: abc\n\n",
        b"Status:\n\n",
        b"Status: 200x\n\n",
    ] {
        assert_eq!(parse(bad), Err(BackendError::BadStatus), "{:?}", bad);
    }
    assert!(
        names(&head(b"Status: 200\nA: b\n\n"))
            .iter()
            .all(|h| !h.starts_with("Status"))
    );
    // Status is judged only once the blank line has arrived.
    assert_eq!(parse(b"Status: xyz\n"), Ok(None));
}

#[test]
fn nph_status_line() {
    let (h, off) = parse(b"HTTP/1.1 201 Created\r\nA: b\r\n\r\n")
        .unwrap()
        .unwrap();
    assert_eq!((h.status, off), (201, 30));
    assert_eq!(names(&h), ["A=b"]);
    assert_eq!(head(b"HTTP/1.0 200\n\n").status, 200);
    assert_eq!(head(b"HTTP/2.0 204\r\n\r\n").status, 204);
    for bad in [
        &b"HTTP/1.1 20\n\n"[..],
        b"HTTP/1.1 2000\n\n",
        b"HTTP/1.2 200\n\n",
        b"HTTP/1.1  200\n\n",
        b"HTTP/1.1 099 x\n\n",
    ] {
        assert!(
            matches!(parse(bad), Err(BackendError::BadStatusLine(_))),
            "{:?}",
            bad
        );
    }
    // The text logged, as 1.4.69 logs it: the line when its 13th byte
    // ends it, else everything received so far.
    for (reply, shown) in [
        (
            &b"HTTP/1.1 abc\r\nX: 1\r\n\r\nbody"[..],
            &b"HTTP/1.1 abc"[..],
        ),
        (b"HTTP/1.1 99\r\nX: 1\r\n\r\n", b"HTTP/1.1 99\r"),
        (
            b"HTTP/2 200\r\nX: 1\r\n\r\nbody",
            b"HTTP/2 200\r\nX: 1\r\n\r\nbody",
        ),
        (b"HTTP/1.1 1000\r\n\r\nb\0ody", b"HTTP/1.1 1000\r\n\r\nb"),
    ] {
        assert_eq!(
            parse(reply),
            Err(BackendError::BadStatusLine(shown.to_vec()))
        );
    }
    assert_eq!(
        BackendError::BadStatusLine(b"HTTP/2 200\r\n\xff".to_vec()).to_string(),
        "invalid HTTP status line: HTTP/2 200\\r\\n\\xff"
    );
    // Shorter than 12 bytes: not NPH, and no colon.
    assert_eq!(parse(b"HTTP/1.1\n\n"), Err(BackendError::NoColon));
    let proxy = HeadOpts {
        backend: Backend::Proxy,
        ..FCGI
    };
    assert!(parse_backend_head(b"HTTP/2.0 200\n\n", MAX_HEAD, proxy).is_err());
    assert_eq!(
        parse_backend_head(b"A: b\n\n", MAX_HEAD, proxy),
        Err(BackendError::NoStatusLine)
    );
    let h = parse_backend_head(
        b"HTTP/1.1 200 OK\nStatus: 500\nConnection: close\n\n",
        MAX_HEAD,
        proxy,
    )
    .unwrap()
    .unwrap()
    .0;
    assert_eq!((h.status, names(&h)), (200, vec!["Status=500".to_string()]));
    assert!(!h.connection_close);
}

#[test]
fn first_line_without_colon() {
    assert_eq!(parse(b"garbage\nmore"), Err(BackendError::NoColon));
    assert_eq!(parse(b"a\n"), Err(BackendError::NoColon));
    assert_eq!(parse(b"garbage"), Ok(None));
    let cgi = HeadOpts {
        backend: Backend::Cgi,
        ..FCGI
    };
    let (h, off) = parse_backend_head(b"hello\nworld", MAX_HEAD, cgi)
        .unwrap()
        .unwrap();
    assert_eq!((h.status, off, h.headers.len()), (200, 0, 0));
    // Later lines without a colon are skipped.
    assert_eq!(
        names(&head(b"A: b\nnocolon\n: empty name\nC: d\n\n")),
        ["A=b", "C=d"]
    );
}

#[test]
fn size_limit() {
    let mut big = b"A: ".to_vec();
    big.extend(vec![b'x'; MAX_HEAD]);
    assert_eq!(parse(&big), Err(BackendError::TooLarge));
    assert_eq!(parse(&big[..MAX_HEAD]), Ok(None));
    let mut fits = b"A: ".to_vec();
    fits.extend(vec![b'x'; MAX_HEAD - 5]);
    fits.extend(b"\n\n");
    assert_eq!(fits.len(), MAX_HEAD);
    let mut with_body = fits.clone();
    with_body.extend(vec![b'b'; 100_000]);
    assert_eq!(parse(&with_body).unwrap().unwrap().1, MAX_HEAD);
    fits.insert(0, b'B');
    assert_eq!(parse(&fits), Err(BackendError::TooLarge));
    // More lines than lighttpd indexes: never completes.
    let many = [b"A: b\n".repeat(MAX_LINES + 1), b"\n".to_vec()].concat();
    assert_eq!(parse(&many), Ok(None));
    let most = [b"A: b\n".repeat(MAX_LINES), b"\n".to_vec()].concat();
    assert!(parse(&most).unwrap().is_some());
}

#[test]
fn location_gives_302_unless_status() {
    assert_eq!(head(b"Location: /x\n\n").status, 302);
    assert_eq!(head(b"Location: /x\nStatus: 301\n\n").status, 301);
    assert_eq!(head(b"Location:\n\n").status, 200);
}

#[test]
fn dropped_headers() {
    let h = head(
        b"Empty:\nSpace : x\nUpgrade: h2c\nHTTP2-Settings: x\nX-Sendfile-Not: y\n\
                   X-LIGHTTPD-Foo: z\nTransfer-Encoding: chunked\nKeep: \t v \r\n\n",
    );
    assert_eq!(names(&h), ["X-Sendfile-Not=y", "Keep=v "]);
    assert!(h.transfer_encoding_chunked);
    let cgi = HeadOpts {
        backend: Backend::Cgi,
        ..FCGI
    };
    let h = parse_backend_head(b"Upgrade: websocket\n\n", MAX_HEAD, cgi)
        .unwrap()
        .unwrap()
        .0;
    assert_eq!(names(&h), ["Upgrade=websocket"]);
}

#[test]
fn connection_close_and_javascript() {
    let h = head(
        b"Connection: keep-alive, Close\nContent-Type: application/javascript; charset=utf-8\n\n",
    );
    assert!(h.connection_close);
    assert_eq!(names(&h)[1], "Content-Type=text/javascript; charset=utf-8");
    assert!(!head(b"Connection: closed\n\n").connection_close);
    assert_eq!(
        names(&head(b"Content-Type: Application/javascript\n\n")),
        ["Content-Type=Application/javascript"]
    );
}

#[test]
fn content_length_rules() {
    let h = head(b"Content-Length: +12 \n\n");
    assert_eq!(
        (h.content_length, names(&h)),
        (Some(12), vec!["Content-Length=12 ".to_string()])
    );
    let h = head(b"Content-Length: 1x\n\n");
    assert_eq!(
        (h.content_length, names(&h)),
        (None, vec!["Content-Length=1x".to_string()])
    );
    let h = head(b"Content-Length: 5\nContent-Length: 7\n\n");
    assert_eq!((h.content_length, h.headers.len()), (Some(5), 1));
    // Transfer-Encoding voids the length; the first line stays in place,
    // empty, for the de-chunked length, a later one is dropped.
    let h = head(b"Content-Length: 5\nTransfer-Encoding: chunked\nContent-Length: 7\n\n");
    assert_eq!(
        (h.content_length, names(&h)),
        (None, vec!["Content-Length=".to_string()])
    );
    assert!(h.transfer_encoding_chunked);
    assert_eq!(
        head(b"Content-Length: 99999999999999999999\n\n").content_length,
        None
    );
    assert_eq!(head(b"Content-Length: +\n\n").headers.len(), 0);
}

#[test]
fn x_sendfile_precedence() {
    let h = head(b"X-LIGHTTPD-send-file: /c\nX-Sendfile: /b\nX-Sendfile2: /a 0-1\n\n");
    assert_eq!(h.x_sendfile, Some(XSendfile::Ranges(b"/a 0-1".to_vec())));
    assert!(h.headers.is_empty());
    let h = head(b"X-LIGHTTPD-send-file: /c\nx-sendfile: /b\n\n");
    assert_eq!(h.x_sendfile, Some(XSendfile::Path(b"/b".to_vec())));
    let h = head(b"X-LIGHTTPD-send-file: /c\n\n");
    assert_eq!(h.x_sendfile, Some(XSendfile::Path(b"/c".to_vec())));
    let scgi = HeadOpts {
        backend: Backend::Scgi,
        ..FCGI
    };
    let h = parse_backend_head(
        b"X-Sendfile2: /a 0-1\nX-LIGHTTPD-send-file: /c\n\n",
        MAX_HEAD,
        scgi,
    )
    .unwrap()
    .unwrap()
    .0;
    assert_eq!(
        (h.x_sendfile.clone(), names(&h)),
        (None, vec!["X-Sendfile2=/a 0-1".to_string()])
    );
    let off = HeadOpts {
        xsendfile_allow: false,
        ..FCGI
    };
    let h = parse_backend_head(b"X-Sendfile2: /a 0-1\nX-Sendfile: /b\n\n", MAX_HEAD, off)
        .unwrap()
        .unwrap()
        .0;
    assert_eq!(
        (h.x_sendfile.clone(), names(&h)),
        (None, vec!["X-Sendfile2=/a 0-1".to_string()])
    );
}

#[test]
fn kbytes_per_second() {
    assert_eq!(
        head(b"X-LIGHTTPD-KBytes-per-second: 10\n\n").bytes_per_second,
        Some(10240)
    );
    assert_eq!(
        head(b"X-LIGHTTPD-KBytes-per-second: 0\n\n").bytes_per_second,
        None
    );
}

#[test]
fn repeats_grouped_at_first_occurrence() {
    let h = head(b"Set-Cookie: a=1\nX-A: 1\nset-cookie: b=2\nX-B: 2\nSET-COOKIE: c=3\n\n");
    assert_eq!(
        names(&h),
        [
            "Set-Cookie=a=1",
            "set-cookie=b=2",
            "SET-COOKIE=c=3",
            "X-A=1",
            "X-B=2"
        ]
    );
    // Past 32 headers the grouping takes the long way: same rule.
    let mut many = String::new();
    for i in 0..40 {
        many.push_str(&format!("H{i}: {i}\n"));
    }
    many.push_str("h3: again\n\n");
    let h = head(many.as_bytes());
    let got = names(&h);
    assert_eq!(got.len(), 41);
    assert_eq!(&got[3..5], ["H3=3", "h3=again"]);
    assert_eq!(got[5], "H4=4");
    let mut distinct = String::new();
    for i in 0..40 {
        distinct.push_str(&format!("D{i}: {i}\n"));
    }
    distinct.push('\n');
    let got = names(&head(distinct.as_bytes()));
    assert!(
        got.iter()
            .enumerate()
            .all(|(i, n)| *n == format!("D{i}={i}"))
    );
}

#[test]
fn interim_1xx() {
    let buf = b"Status: 103\nLink: </s.css>\n\nStatus: 200\n\nbody";
    let (h, off) = parse(buf).unwrap().unwrap();
    assert!(h.is_interim());
    let (h2, off2) = parse(&buf[off..]).unwrap().unwrap();
    assert_eq!((h2.status, &buf[off + off2..]), (200, &b"body"[..]));
    assert!(!head(b"Status: 101\n\n").is_interim());
    // No x-sendfile on an interim head.
    assert_eq!(head(b"Status: 100\nX-Sendfile: /a\n\n").x_sendfile, None);
}

#[test]
fn authorizer_mode() {
    let auth = HeadOpts {
        purpose: Purpose::Authorize,
        ..FCGI
    };
    let p = |b: &'static [u8]| parse_backend_head(b, MAX_HEAD, auth);
    let h = p(b"X-A: 1\nVariable-User: bob\nLocation: /x\nVariable-: no\n\n")
        .unwrap()
        .unwrap()
        .0;
    assert_eq!((h.status, h.headers.len()), (200, 0));
    assert_eq!(h.variables, [(b"User".to_vec(), b"bob".to_vec())]);
    // a name again, in any case: ", value" appended to the first
    let h = p(b"Variable-lower: l\nVariable-LOWER: m\nVariable-x: 1\nVariable-Lower:\n\n")
        .unwrap()
        .unwrap()
        .0;
    assert_eq!(
        h.variables,
        [
            (b"lower".to_vec(), b"l, m, ".to_vec()),
            (b"x".to_vec(), b"1".to_vec())
        ]
    );
    let h = p(b"X-A: 1\nStatus: 403\nX-B: 2\nStatus: 401\n\n")
        .unwrap()
        .unwrap()
        .0;
    assert_eq!((h.status, names(&h)), (401, vec!["X-B=2".to_string()]));
    let h = p(b"Status: 200\nX-A: 1\nStatus: 302\nLocation: /l\n\n")
        .unwrap()
        .unwrap()
        .0;
    assert_eq!(
        (h.status, names(&h)),
        (302, vec!["Location=/l".to_string()])
    );
    assert_eq!(p(b"Status: 2\n\n"), Err(BackendError::BadStatus));
    assert_eq!(
        p(b"Status: 200\nX-Sendfile: /a\n\n")
            .unwrap()
            .unwrap()
            .0
            .x_sendfile,
        None
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    let alphabet = b"HTTP/1. 0123:\r\nStausLocaX-Sendfil2";
    let mut seed = 0x9e37_79b9_u32;
    for len in 0..400 {
        let buf: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                alphabet[(seed as usize) % alphabet.len()]
            })
            .collect();
        for backend in [
            Backend::Cgi,
            Backend::Scgi,
            Backend::Fastcgi,
            Backend::Proxy,
        ] {
            for purpose in [Purpose::Respond, Purpose::Authorize] {
                let opts = HeadOpts {
                    backend,
                    purpose,
                    xsendfile_allow: true,
                };
                if let Ok(Some((_, off))) = parse_backend_head(&buf, 64, opts) {
                    assert!(off <= buf.len());
                }
            }
        }
    }
}
