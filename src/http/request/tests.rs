//! Unit tests of request.rs.

use super::*;

fn parse_with(req: &[u8], o: &ParseOpts, ka: bool) -> Result<HeadStatus, HttpError> {
    parse_head(req, o, false, ka)
}

/// 0 = incomplete, 200 = parsed, else the error status.
fn st_with(req: &[u8], o: &ParseOpts) -> u16 {
    match parse_with(req, o, false) {
        Ok(HeadStatus::Incomplete) => 0,
        Ok(HeadStatus::Complete(_)) => 200,
        Err(e) => {
            assert!(e.close, "{req:?}");
            e.status
        }
    }
}

fn st(req: &[u8]) -> u16 {
    st_with(req, &ParseOpts::default())
}

fn lax() -> ParseOpts {
    ParseOpts {
        header_strict: false,
        host_strict: false,
        ..ParseOpts::default()
    }
}

fn ok_with(req: &[u8], o: &ParseOpts) -> RequestHead {
    match parse_with(req, o, false) {
        Ok(HeadStatus::Complete(h)) => h,
        other => panic!("{req:?}: {other:?}"),
    }
}

fn ok(req: &[u8]) -> RequestHead {
    ok_with(req, &ParseOpts::default())
}

/// "GET <target> HTTP/1.1" with Host: a plus `hdrs`.
fn get(target: &str, hdrs: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: a\r\n{hdrs}\r\n").into_bytes()
}

// Every row was checked against lighttpd 1.4.69 (status and close).
const STATUS: &[(&[u8], u16)] = &[
    (b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"\r", 400),
    (b"\n", 400),
    (b"GET / HTTP/1.1\r\n", 0),
    (b"", 0),
    (b"GET / HTTP/1\r\n\r\n", 505),
    (b"GET /x HTTP/1.1\nHost: a\r\n\r\n", 400),
    (b"GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400),
    (b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400),
    (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    (b"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505),
    (b"GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505),
    (b"GET / http/1.1\r\nHost: a\r\n\r\n", 400),
    (b"GET / FOO/1.1\r\nHost: a\r\n\r\n", 400),
    (b"GET /abcdefghijk\r\nHost: a\r\n\r\n", 400),
    (b"GET /a\r\n\r\n", 400),
    (b"get / HTTP/1.1\r\nHost: a\r\n\r\n", 501),
    (b"PRI / HTTP/1.1\r\nHost: a\r\n\r\n", 501),
    (b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 501),
    (b"FOO / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    (b"GETX HTTP/1.1\r\n\r\n", 501),
    (b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"GET /x  HTTP/1.1\r\nHost: a\r\n\r\n", 200),
    (b"GET http://a HTTP/1.1\r\n\r\n", 400),
    (b"GET http:///x HTTP/1.1\r\n\r\n", 400),
    (b"GET ftp://a/x HTTP/1.1\r\n\r\n", 400),
    (b"GET http://a/x HTTP/1.1\r\nHost: b\r\n\r\n", 400),
    (b"GET http://a/x HTTP/1.1\r\nHost: A\r\n\r\n", 200),
    (b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 200),
    (b"OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"CONNECT a.b:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"CONNECT 1.2.3.4:80 HTTP/1.1\r\nHost: a\r\n\r\n", 200),
    (b"CONNECT :80 HTTP/1.1\r\n\r\n", 400),
    (b"GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nFoo\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nFoo : x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nFo o: x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nFo(o: x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nFo\x01o: x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nFo\xe9o: x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nFo_o: x\r\n\r\n", 200),
    (b"GET / HTTP/1.1\r\n Foo: x\r\nHost: a\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\n b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\n\n", 200),
    (b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\x01b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\x7fb\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\x00b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\tb\xe9\xff\r\n\r\n", 200),
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: A\r\n\r\n", 200),
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost:\r\n\r\n", 400),
    (b"GET / HTTP/1.0\r\n\r\n", 200),
    (b"GET / HTTP/1.1\r\nHost: -ab\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a:0x50\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Type: a\r\nContent-Type: A\r\n\r\n", 200),
    (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nIf-Modified-Since: a\r\nIf-Modified-Since: b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: a\r\nIf-None-Match: b\r\n\r\n", 200),
    (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nHTTP2-Settings: a\r\nHTTP2-Settings: b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nHTTP2-Settings: a\r\nhttp2-settings: A\r\n\r\n", 200),
    (b"GET / HTTP/1.0\r\nUpgrade: websocket\r\n\r\n", 400),
    (b"GET / HTTP/1.0\r\nHTTP2-Settings: x\r\n\r\n", 400),
    (b"GET / HTTP/1.0\r\nUpgrade:\r\n\r\n", 200),
    (b"POST / HTTP/1.1\r\nHost: a\r\n\r\n", 411),
    (b"POST / HTTP/1.0\r\n\r\n", 411),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 411),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 200),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  04 \r\n\r\n", 200),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3,3\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3 3\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n", 200),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 200),
    (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n", 400),
    (b"HEAD / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 200),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nHost: -a\r\n\r\n", 501),
    (b"POST /%00 HTTP/1.1\r\n\r\n", 400),
    (b"GET /%C0 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", 200),
];

#[test]
fn statuses_match_lighttpd() {
    for &(req, want) in STATUS {
        assert_eq!(st(req), want, "{:?}", String::from_utf8_lossy(req));
    }
}

#[test]
fn size_limit_counts_whole_head() {
    let sized = |n: usize| {
        let base = "GET / HTTP/1.1\r\nHost: a\r\n\r\n".len();
        format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(n - base)).into_bytes()
    };
    assert_eq!(st(&sized(8192)), 200);
    let e = parse_head(&sized(8193), &ParseOpts::default(), false, false).unwrap_err();
    assert_eq!((e.status, e.close), (431, true));
    assert_eq!(
        e.log.as_deref(),
        Some("oversized request-header -> sending Status 431")
    );
    assert_eq!(st(&sized(8193)[..8192]), 0);
    assert_eq!(st(&sized(8194)[..8193]), 431);
    assert_eq!(st(&get(&format!("/{}", "a".repeat(9000)), "")), 431); // no 414
    // the one blank line allowed after keep-alive is not counted
    let mut ka = b"\r\n".to_vec();
    ka.extend_from_slice(&sized(8192));
    assert!(matches!(
        parse_head(&ka, &ParseOpts::default(), false, true),
        Ok(HeadStatus::Complete(_))
    ));
    // too many lines
    let o = ParseOpts {
        max_request_field_size: 65535,
        ..ParseOpts::default()
    };
    let many = [&b"GET / HTTP/1.1\r\n"[..], &b"a:b\n".repeat(8189)].concat();
    assert_eq!(st_with(&many, &o), 431);
    assert_eq!(st_with(&many[..many.len() - 4], &o), 0);
}

#[test]
fn leading_bytes() {
    let e = parse_head(b"\x16\x03\x01\x02\x00", &ParseOpts::default(), false, false).unwrap_err();
    assert_eq!(
        e.log.as_deref(),
        Some("unexpected TLS ClientHello on clear port")
    );
    assert!(e.log_peer);
    let e = parse_head(b"\r\n", &ParseOpts::default(), false, false).unwrap_err();
    assert_eq!(
        e.log.as_deref(),
        Some("invalid request-line -> sending Status 400")
    );
    let o = ParseOpts::default();
    let ka = |b: &[u8]| match parse_with(b, &o, true) {
        Ok(HeadStatus::Complete(h)) => h.head_len as u16,
        Ok(HeadStatus::Incomplete) => 0,
        Err(e) => e.status,
    };
    assert_eq!(ka(b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 29);
    assert_eq!(ka(b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 28);
    assert_eq!(ka(b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_eq!(ka(b"\r\n"), 0);
    assert_eq!(ka(b"\r\nG"), 0);
    assert_eq!(ka(b"\r"), 400);
}

#[test]
fn every_prefix_is_incomplete() {
    let req = b"POST /x?y HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\nContent-Length: 3\r\n\r\nabc";
    let end = req.len() - 3;
    for n in 0..end {
        assert_eq!(st(&req[..n]), 0, "{n}");
    }
    let h = ok(req);
    assert_eq!((h.head_len, h.content_length), (end, Some(3)));
}

#[test]
fn fields_of_a_request() {
    let h = ok(b"GET /a%20b/../c%3f?x=%41#f HTTP/1.1\r\nHost: Example.COM:80\r\nX-A: 1\r\nCookie: a=1\r\nx-a: 2\r\ncookie: b=2\r\nEmpty:  \r\nExpect: 100-Continue\r\n\r\n");
    assert_eq!(
        (h.method, h.version, h.keep_alive, h.expect_100),
        (Method::Get, Version::Http11, true, true)
    );
    assert_eq!(h.target(), "/a%20b/../c%3f?x=%41#f");
    assert_eq!(h.normalized(), "/c%3F?x=A");
    assert_eq!((h.path(), h.query()), ("/c?", Some("x=A")));
    assert_eq!(h.host(), Some("example.com"));
    let hs: Vec<(&str, &str)> = h.headers().collect();
    assert_eq!(
        hs,
        [
            ("Host", "example.com"),
            ("X-A", "1, 2"),
            ("Cookie", "a=1; b=2"),
            ("Expect", "100-Continue")
        ]
    );
    assert_eq!(h.header("x-a"), Some("1, 2"));
    assert_eq!(h.header("empty"), None);
    assert_eq!(h.head_len, 135);
}

#[test]
fn absolute_form() {
    let h = ok(b"GET HTTPS://Example.COM:443/x?y#z HTTP/1.1\r\nhost: example.com:443\r\n\r\n");
    assert_eq!((h.target(), h.path()), ("/x?y#z", "/x"));
    assert_eq!(h.host(), Some("example.com:443")); // clear-text: 443 is not default
    assert_eq!(
        h.headers().collect::<Vec<_>>(),
        [("Host", "example.com:443")]
    );
    let h = parse_head(
        b"GET https://a:443/ HTTP/1.1\r\n\r\n",
        &ParseOpts::default(),
        true,
        false,
    )
    .unwrap();
    let HeadStatus::Complete(h) = h else { panic!() };
    assert_eq!(h.host(), Some("a"));
    let long = format!("GET http://{}/ HTTP/1.1\r\n\r\n", "a".repeat(1024));
    assert_eq!(st(long.as_bytes()), 400);
}

#[test]
fn options_star_and_connect_keep_target() {
    let h = ok(b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!((h.path(), h.normalized(), h.query()), ("*", "*", None));
    let h = ok(b"CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(h.path(), "127.0.0.1:80");
    let h = ok(b"CONNECT /a/../b HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(h.path(), "/a/../b");
}

#[test]
fn folding_and_trimming() {
    let h = ok(&get(
        "/",
        "Foo: a\r\n  b\r\n\tc \r\nBar: \t x \t\r\nBaz: \r\n  y\r\n",
    ));
    assert_eq!(h.header("Foo"), Some("a    b  \tc"));
    assert_eq!(h.header("Bar"), Some("x"));
    // leading blanks are only skipped on the first line
    assert_eq!(h.header("Baz"), Some("    y"));
    let h = ok_with(b"GET / HTTP/1.1\nHost: a\nFoo: a\n b\n\n", &lax());
    assert_eq!(h.header("Foo"), Some("a  b"));
}

#[test]
fn keep_alive_from_connection_lines() {
    for (ver, conn, want) in [
        ("1.1", "", true),
        ("1.0", "", false),
        ("1.1", "Connection: close\r\n", false),
        ("1.1", "Connection: keep-alive, close\r\n", false),
        ("1.1", "Connection: keep-alive close\r\n", true),
        ("1.1", "Connection: Close;x\r\n", false),
        ("1.1", "Connection: closed\r\n", true),
        ("1.0", "Connection: keep-alive\r\n", true),
        ("1.0", "Connection: foo keep-alive\r\n", false),
        ("1.0", "Connection: foo, KEEP-ALIVE\r\n", true),
        (
            "1.0",
            "Connection: close\r\nConnection: keep-alive\r\n",
            true,
        ),
        (
            "1.1",
            "Connection: keep-alive\r\nConnection: close\r\n",
            false,
        ),
    ] {
        let req = format!("GET / HTTP/{ver}\r\nHost: a\r\n{conn}\r\n");
        assert_eq!(ok(req.as_bytes()).keep_alive, want, "{req:?}");
    }
}

#[test]
fn body_indications() {
    let h = ok(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert!(h.chunked && h.content_length.is_none() && h.header("Transfer-Encoding").is_none());
    assert!(!ok(b"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x\r\n\r\n").expect_100);
    assert!(!ok(b"GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expect_100);
    let o = ParseOpts {
        method_get_body: true,
        ..ParseOpts::default()
    };
    assert_eq!(
        ok_with(&get("/", "Content-Length: 4\r\n"), &o).content_length,
        Some(4)
    );
    // non-strict: Transfer-Encoding wins and Content-Length is dropped
    let h = ok_with(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
        &lax(),
    );
    assert!(h.chunked && h.content_length.is_none() && h.header("Content-Length").is_none());
}

#[test]
fn max_request_size() {
    let o = ParseOpts {
        max_request_size_kb: 1,
        ..ParseOpts::default()
    };
    let post =
        |n: u32| format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {n}\r\n\r\n").into_bytes();
    assert_eq!(st_with(&post(1024), &o), 200);
    let e = parse_head(&post(1025), &o, false, false).unwrap_err();
    assert_eq!((e.status, e.close), (413, true));
    assert_eq!(e.log.as_deref(), Some("request-size too long: 1025 -> 413"));
    assert_eq!(st(&post(1 << 30)), 200);
    assert_eq!(
        check_content_length(Some(5000), 4),
        Err(HttpError::too_large(5000))
    );
    assert_eq!(check_content_length(None, 1), Ok(()));
}

#[test]
fn upgrade_needs_connection() {
    assert_eq!(
        ok(&get("/", "Upgrade: websocket\r\n")).header("Upgrade"),
        None
    );
    let h = ok(&get("/", "Upgrade: h2c\r\nConnection: Upgrade\r\n"));
    assert_eq!(h.header("Upgrade"), Some("h2c"));
}

#[test]
fn non_strict_mode() {
    let o = lax();
    for (req, want) in [
        (&b"GET / HTTP/1.10\r\nHost: a\r\n\r\n"[..], 200),
        (b"GET /a b HTTP/1.1x\r\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        (b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET ./x HTTP/1.1\r\nHost: a\r\n\r\n", 200),
        (b"CONNECT a.b:80 HTTP/1.1\r\nHost: a\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: a\r\nFoo \t: x\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: a\r\n : x\r\n\r\n", 200), // a fold of Host
        (b"GET / HTTP/1.1\r\nHost: a\r\nFo\x01o: x\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: a\r\nFo\x00o: x\r\n\r\n", 400),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\x00\x01b\x7f\r\n\r\n",
            200,
        ),
        (b"GET / HTTP/1.1\r\nHost: -a_b.123:x\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400),
        (b"GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ] {
        assert_eq!(st_with(req, &o), want, "{:?}", String::from_utf8_lossy(req));
    }
    let h = ok_with(
        b"GET / HTTP/1.1 aaaaaaaaaa\r\nHost: a\r\nFoo : x\r\n\r\n",
        &o,
    );
    assert_eq!((h.target(), h.header("Foo")), ("/ HTTP/1.1", Some("x")));
    assert_eq!(
        ok_with(b"GET a/../x HTTP/1.1\r\nHost: a\r\n\r\n", &o).path(),
        "/x"
    );
}

#[test]
fn methods_round_trip() {
    assert_eq!(Method::ALL.len(), 39);
    for &m in Method::ALL {
        assert_eq!(Method::from_bytes(m.as_str().as_bytes()), Some(m));
        let req = format!("{} /x HTTP/1.1\r\nHost: a\r\n\r\n", m.as_str());
        let want = if m == Method::Post { 411 } else { 200 };
        assert_eq!(st(req.as_bytes()), want, "{m:?}");
    }
    assert_eq!(Method::from_bytes(b"PRI"), None);
    assert_eq!(Method::from_bytes(b"get"), None);
}

#[test]
fn h2_preface() {
    assert!(is_h2_preface(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    assert!(!is_h2_preface(b"PRI * HTTP/2.0\r\n"));
    assert!(!is_h2_preface(b"GET / HTTP/1.1\r\n\r\n"));
    assert_eq!(st(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
}

#[test]
fn never_panics() {
    let seeds: [&[u8]; 4] = [
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST http://a:1/b?c HTTP/1.0\r\nX: y\r\n z\r\nContent-Length: 1\r\n\r\n",
        b"CONNECT :1 HTTP/1.1\nHost: [::1]:2\n\n",
        b"\r\nOPTIONS * HTTP/1.1\r\nHost: a.\r\n\r\n",
    ];
    let opts = [
        ParseOpts::default(),
        lax(),
        ParseOpts {
            max_request_field_size: 20,
            ..lax()
        },
    ];
    for seed in seeds {
        for i in 0..seed.len() {
            for b in [
                0u8, b' ', b'\t', b'\r', b'\n', b':', b'%', b'/', b'[', 0x16, 0x80, 0xff,
            ] {
                let mut v = seed.to_vec();
                v[i] = b;
                let mut w = seed.to_vec();
                w.insert(i, b);
                for o in &opts {
                    for ka in [false, true] {
                        let _ = parse_head(&v, o, false, ka);
                        let _ = parse_head(&w, o, true, ka);
                        let _ = parse_head(&v[..i], o, false, ka);
                    }
                }
            }
        }
    }
}

#[test]
fn line_version_for_error_answers() {
    let v = |b| line_version(b, true);
    assert_eq!(v(b"GET / HTTP/1.1\r\nHost: a\r\n"), Some(Version::Http11));
    assert_eq!(v(b"GET / HTTP/1.0\r\n"), Some(Version::Http10));
    assert_eq!(v(b"GET / HTTP/1.1\nHost: a\n"), None);
    assert_eq!(v(b"GET / HTTP/2.0\r\n"), None);
    assert_eq!(v(b"GET / HTTP/1.1 \r\n"), None);
    assert_eq!(v(b"GET / HTTP/1.17\r\n"), None);
    // header-strict disabled: a bare LF ends the line, and the version is
    // read as the lenient parser reads it
    let loose = |b| line_version(b, false);
    assert_eq!(loose(b"GET / HTTP/1.1\nHost: a\n"), Some(Version::Http11));
    assert_eq!(loose(b"GET / HTTP/1.0\r\n"), Some(Version::Http10));
    assert_eq!(loose(b"GET / HTTP/1.17\r\n"), Some(Version::Http11));
    assert_eq!(loose(b"GET / HTTP/1.10\n"), Some(Version::Http11));
    assert_eq!(loose(b"GET / HTTP/2.0\r\n"), None);
    assert_eq!(loose(b"GET / HTTP/1.1"), None);
}

/// debug.log-request-header-on-error names the byte that made a header
/// line bad as 1.4.69 does: a control character in hex, any other in
/// quotes (past ASCII as the log escapes it).
#[test]
fn a_bad_header_byte_is_named() {
    let reason = |raw: &[u8]| {
        parse_head(raw, &ParseOpts::default(), false, false)
            .err()
            .map(|e| e.reason.into_owned())
    };
    assert_eq!(
        reason(b"GET / HTTP/1.1\r\nHost: x\r\nX\xc3: v\r\n\r\n").as_deref(),
        Some("invalid character in header key -> 400 ('\\xc3')")
    );
    assert_eq!(
        reason(b"GET / HTTP/1.1\r\nHost: x\r\nX(: v\r\n\r\n").as_deref(),
        Some("invalid character in header key -> 400 ('(')")
    );
    assert_eq!(
        reason(b"GET / HTTP/1.1\r\nHost: x\r\nX\x01: v\r\n\r\n").as_deref(),
        Some("invalid character in header key -> 400 (0x1)")
    );
    assert_eq!(
        reason(b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x7f\r\n\r\n").as_deref(),
        Some("invalid character in header -> 400 (0x7f)")
    );
}
