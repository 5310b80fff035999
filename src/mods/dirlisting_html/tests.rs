//! Unit tests of dirlisting_html.rs.

use super::*;

/// The page without header and readme blocks, as text.
fn render(uri_path: &str, entries: &[Entry], server_tag: &str, opts: &ListingOpts) -> String {
    String::from_utf8(super::render(
        uri_path, entries, server_tag, opts, None, None,
    ))
    .unwrap()
}

/// 2026-07-04 03:05:09 UTC and 2026-01-15 23:59:59 UTC (touch -d).
const JUL: i64 = 1_783_134_309;
const JAN: i64 = 1_768_521_599;
/// 2026-03-08 07:30:00 UTC, half an hour into US daylight time.
const MAR: i64 = 1_772_955_000;
const TAG: &str = "lighttpd/1.4.69";

/// The table part of the reference's page for "/sub dir/" (UTC).
const SUB_TABLE: &str = r#"<h2>Index of /sub dir/</h2>
<div class="list">
<table summary="Directory Listing" cellpadding="0" cellspacing="0">
<thead><tr><th class="n">Name</th><th class="m">Last Modified</th><th class="s">Size</th><th class="t">Type</th></tr></thead>
<tbody>
<tr class="d"><td class="n"><a href="../">..</a>/</td><td class="m">&nbsp;</td><td class="s">- &nbsp;</td><td class="t">Directory</td></tr>
<tr class="d"><td class="n"><a href="inner/">inner</a>/</td><td class="m">2026-Mar-08 07:30:00</td><td class="s">- &nbsp;</td><td class="t">Directory</td></tr>
<tr><td class="n"><a href="x%09y.txt">x&#x09;y.txt</a></td><td class="m">2026-Mar-08 07:30:00</td><td class="s">0.1K</td><td class="t">text/plain</td></tr>
</tbody>
</table>
</div>
"#;

fn utc(_: i64) -> i64 {
    0
}

/// America/New_York for 2026, enough for the reference's TZ run.
fn new_york(t: i64) -> i64 {
    if (1_772_953_200..1_793_512_800).contains(&t) {
        -4 * 3600
    } else {
        -5 * 3600
    }
}

fn mime_table() -> MimeTable {
    let pairs = [
        (".txt", "text/plain"),
        (".html", "text/html"),
        (".js", "application/javascript"),
    ];
    MimeTable::new(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// Default options with the reference's mimetype table, in `tz`.
fn opts_in(mime: &MimeTable, tz: fn(i64) -> i64) -> ListingOpts<'_> {
    ListingOpts {
        mimetypes: Some(mime),
        utc_offset: tz,
        ..ListingOpts::default()
    }
}

fn file(name: &str, size: u64, mtime: i64) -> Entry {
    Entry {
        name: name.to_string(),
        is_dir: false,
        size,
        mtime,
    }
}

fn dir(name: &str, mtime: i64) -> Entry {
    Entry {
        is_dir: true,
        ..file(name, 4096, mtime)
    }
}

/// /tmp/lref/dl as the reference listed it (readdir order is irrelevant).
fn root_entries() -> Vec<Entry> {
    let mut v = vec![
        dir(".", JUL),
        dir("..", JUL),
        dir("ü", JUL),
        dir("sub dir", JAN),
    ];
    v.extend([
        dir(".hidden_dir", JUL),
        dir("a&b<dir>", JUL),
        dir("Zdir", JUL),
    ]);
    v.extend([file("e1024.bin", 1024, JAN), file(".dotfile", 3, JUL)]);
    #[rustfmt::skip]
    let files = [
        ("empty.txt", 0), ("one.txt", 1), ("b99.bin", 99), ("c100.bin", 100),
        ("d1023.bin", 1023), ("f1500.bin", 1500), ("g1.2m.bin", 1_258_291), ("h.html", 5000),
        ("q\"uote's & <tag>.txt", 10), ("per%cent#hash?.txt", 10), ("spa ce+plus.js", 10),
        ("ünï.txt", 10), ("Upper.TXT", 20), ("tick`and~tilde!().txt", 7),
        ("semi;colon=eq@at[b]{c}|^.txt", 7), ("k999.bin", 1_023_999), ("m1000k.bin", 1_024_000),
        ("big.bin", 5_492_165_909), ("t999M.bin", 1_073_307_648),
    ];
    v.extend(files.iter().map(|&(name, size)| file(name, size, JUL)));
    v
}

fn sub_entries() -> Vec<Entry> {
    vec![file("x\ty.txt", 3, MAR), dir("inner", MAR)]
}

/// FNV-1a 64, to pin long reference bodies without pasting them.
fn fnv(s: &str) -> u64 {
    let step = |h: u64, b: u8| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    s.bytes().fold(0xcbf2_9ce4_8422_2325, step)
}

#[test]
fn root_listing_is_byte_identical() {
    let m = mime_table();
    let page = render("/", &root_entries(), TAG, &opts_in(&m, utc));
    let rows: Vec<&str> = page.lines().filter(|l| l.starts_with("<tr")).collect();
    assert_eq!(rows.len(), 24);
    let m = "<td class=\"m\">2026-Jul-04 03:05:09</td>";
    let d = "<td class=\"s\">- &nbsp;</td><td class=\"t\">Directory</td></tr>";
    let f = "<td class=\"s\">0.1K</td><td class=\"t\">text/plain</td></tr>";
    assert_eq!(
        rows[1],
        format!(
            "<tr class=\"d\"><td class=\"n\"><a href=\"a%26b%3Cdir%3E/\">a&#x26;b&#x3C;dir&#x3E;</a>/</td>{m}{d}"
        )
    );
    assert_eq!(
        rows[3],
        format!("<tr class=\"d\"><td class=\"n\"><a href=\"%C3%BC/\">ü</a>/</td>{m}{d}")
    );
    assert_eq!(
        rows[18],
        format!(
            "<tr><td class=\"n\"><a href=\"q%22uote%27s%20%26%20%3Ctag%3E.txt\">q&#x22;uote&#x27;s &#x26; &#x3C;tag&#x3E;.txt</a></td>{m}{f}"
        )
    );
    assert_eq!(
        rows[22],
        format!(
            "<tr><td class=\"n\"><a href=\"tick%60and~tilde!().txt\">tick&#x60;and~tilde!().txt</a></td>{m}{f}"
        )
    );
    // whole body: reference Content-Length 10340
    assert_eq!(page.len(), 10340);
    assert_eq!(fnv(&page), 0xf389_3bc2_66a9_e16a);
}

#[test]
fn subdir_listing_is_byte_identical() {
    let m = mime_table();
    let page = render("/sub dir/", &sub_entries(), TAG, &opts_in(&m, utc));
    let head = "<!DOCTYPE html>\n<html>\n<head>\n<title>Index of /sub dir/</title>\n";
    assert!(page.starts_with(&format!("{head}{BUILTIN_CSS}</head>\n<body>\n{SUB_TABLE}")));
    let foot = "<div class=\"foot\">lighttpd/1.4.69</div>\n";
    assert!(page.ends_with(&format!("{SUB_TABLE}{foot}{BUILTIN_JS}</body>\n</html>\n")));
    assert!(BUILTIN_JS.starts_with("\n<script type=\"text/javascript\">\n// <!--\n\n"));
    assert!(BUILTIN_JS.ends_with("init_sort_from_query();\n\n// -->\n</script>\n\n"));
    assert_eq!(page.len(), 6763);
    assert_eq!(fnv(&page), 0x88fc_e0b3_e32b_6050);
}

#[test]
fn local_time_follows_the_offset_at_each_instant() {
    let m = mime_table();
    // reference run with TZ=America/New_York: 07:30 UTC shows as 03:30
    let page = render("/sub dir/", &sub_entries(), TAG, &opts_in(&m, new_york));
    assert!(page.contains("<td class=\"m\">2026-Mar-08 03:30:00</td>"));
    assert_eq!(fnv(&page), 0x2fa9_009b_0832_a788);
    assert_eq!(listing_time(MAR - 3600, new_york), "2026-Mar-08 01:30:00");
    assert_eq!(listing_time(0, utc), "1970-Jan-01 00:00:00");
    let _ = listing_time(i64::MAX, |_| i64::MAX);
    let _ = listing_time(i64::MIN, |_| i64::MIN);
}

#[test]
fn options_external_css_js_footer_encoding_dotfiles() {
    let m = mime_table();
    let opts = ListingOpts {
        hide_dotfiles: false,
        encoding: Some("utf-8".into()),
        external_css: Some("/s.css?a&b".into()),
        external_js: Some("/x.js".into()),
        set_footer: Some("<b>foot</b>".into()),
        ..opts_in(&m, utc)
    };
    let page = render("/sub dir/", &sub_entries(), "MyTag", &opts);
    let head = r#"<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Index of /sub dir/</title>
<meta name="viewport" content="initial-scale=1"><link rel="stylesheet" type="text/css" href="/s.css?a&b">
</head>
<body>
"#;
    let foot = r#"<div class="foot"><b>foot</b></div>
<script type="text/javascript" src="/x.js"></script>
</body>
</html>
"#;
    assert_eq!(page, format!("{head}{SUB_TABLE}{foot}"));
    assert_eq!(page.len(), 1043);
    assert_eq!(
        content_type(opts.encoding.as_deref()),
        "text/html;charset=utf-8"
    );
    // same options on "/": dotfiles listed, 4957 bytes on the reference
    let root = render("/", &root_entries(), "MyTag", &opts);
    assert!(root.contains("<a href=\".hidden_dir/\">.hidden_dir</a>/"));
    assert!(root.contains("<a href=\".dotfile\">.dotfile</a></td><td class=\"m\">2026-Jul-04 03:05:09</td><td class=\"s\">0.1K</td><td class=\"t\">application/octet-stream</td>"));
    assert!(!root.contains("href=\"./\"") && !root.contains("href=\"../\""));
    assert_eq!(root.len(), 4957);
    assert_eq!(fnv(&root), 0xa07b_9903_76ab_3a7c);
}

#[test]
fn without_auto_layout_only_the_table() {
    let m = mime_table();
    let enc = Some("iso-8859-1".into());
    let opts = ListingOpts {
        auto_layout: false,
        encoding: enc,
        ..opts_in(&m, utc)
    };
    let page = render("/sub dir/", &sub_entries(), TAG, &opts);
    assert_eq!(page, SUB_TABLE);
    assert_eq!(page.len(), 730);
    assert_eq!(
        content_type(opts.encoding.as_deref()),
        "text/html;charset=iso-8859-1"
    );
}

#[test]
fn blank_server_tag_drops_footer() {
    let m = mime_table();
    let page = render("/sub dir/", &sub_entries(), "", &opts_in(&m, utc));
    assert!(page.contains("</div>\n\n<script type=\"text/javascript\">\n"));
    assert!(!page.contains("class=\"foot\">"));
    assert_eq!(page.len(), 6723);
    assert_eq!(fnv(&page), 0x7eb7_ad06_a535_ea25);
    // blank option strings count as unset
    let blank = Some(String::new());
    let opts = ListingOpts {
        set_footer: blank.clone(),
        encoding: blank,
        ..opts_in(&m, utc)
    };
    assert_eq!(render("/sub dir/", &sub_entries(), "", &opts), page);
    assert_eq!(content_type(opts.encoding.as_deref()), "text/html");
}

#[test]
fn escaped_title_for_empty_directory() {
    let m = mime_table();
    let page = render("/a&b<dir>/", &[], TAG, &opts_in(&m, utc));
    assert!(page.contains("<title>Index of /a&#x26;b&#x3C;dir&#x3E;/</title>\n"));
    assert!(page.contains("<h2>Index of /a&#x26;b&#x3C;dir&#x3E;/</h2>\n"));
    assert_eq!(page.len(), 6479);
    assert_eq!(fnv(&page), 0x768a_9e0c_94f7_76fa);
}

#[test]
fn without_a_mimetype_table_files_are_octet_stream() {
    let opts = ListingOpts {
        utc_offset: utc,
        ..ListingOpts::default()
    };
    let page = render("/", &[file("a.txt", 5, 0)], "t", &opts);
    let want = "<td class=\"m\">1970-Jan-01 00:00:00</td><td class=\"s\">0.1K</td>\
                <td class=\"t\">application/octet-stream</td>";
    assert!(page.contains(want));
}

#[test]
fn sizes_match_reference() {
    #[rustfmt::skip]
    let cases = [
        (0, "0.0K"), (1, "0.1K"), (20, "0.1K"), (99, "0.1K"), (100, "0.1K"), (1023, "0.9K"),
        (1024, "1.0K"), (1500, "1.4K"), (5000, "4.9K"), (1_023_999, "999.9K"),
        (1_024_000, "0.9M"), (1_258_291, "1.2M"), (1_073_307_648, "0.9G"), (5_492_165_909, "5.1G"),
    ];
    for (size, text) in cases {
        assert_eq!(size_text(size), text, "{size}");
    }
    assert_eq!(size_text(u64::MAX), "7.9E");
    assert_eq!(size_text(1 << 50), "1.0P");
}

#[test]
fn encoders() {
    let mut s = String::new();
    push_href_encoded(&mut s, "aZ09!()*-._~ \"#$%&'+,/:;<=>?@[\\]^`{|}\u{7f}é");
    let want = "aZ09!()*-._~%20%22%23%24%25%26%27%2B%2C%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D%7F%C3%A9";
    assert_eq!(s, want);
    let mut s = String::new();
    push_xml_escaped(&mut s, "a\u{1}\"&'<>`\u{7f}é~/");
    assert_eq!(s, "a&#x01;&#x22;&#x26;&#x27;&#x3C;&#x3E;&#x60;&#x7F;é~/");
}

#[test]
fn listing_filter() {
    let o = ListingOpts::default();
    assert!(!is_listed(".", &o) && !is_listed("..", &o) && !is_listed(".x", &o));
    assert!(is_listed("x", &o) && is_listed("x.", &o));
    let o = ListingOpts {
        hide_dotfiles: false,
        ..o
    };
    assert!(!is_listed(".", &o) && !is_listed("..", &o));
    assert!(is_listed(".x", &o) && is_listed("...", &o));
}

#[test]
fn local_stamp_round_trip() {
    assert_eq!(parse_local_stamp("2026-07-04 03:05:09"), Some(JUL));
    assert_eq!(parse_local_stamp("1970-01-01 00:00:00"), Some(0));
    assert_eq!(parse_local_stamp("@123"), None);
    assert_eq!(parse_local_stamp("2026-07-04 03:05"), None);
    assert_eq!(parse_local_stamp("ü026-07-04 03:05:09"), None);
    let off = system_utc_offset(JUL);
    assert!(off.abs() <= 14 * 3600, "{off}");
}

#[test]
fn readme_and_header_blocks() {
    assert_eq!(
        include_name(Some("enable"), "README.txt"),
        Some("README.txt")
    );
    assert_eq!(include_name(Some("disable"), "README.txt"), None);
    assert_eq!(include_name(Some(""), "README.txt"), None);
    assert_eq!(
        include_name(Some("/x/y.txt"), "README.txt"),
        Some("/x/y.txt")
    );
    assert_eq!(include_name(None, "HEADER.txt"), None);
    assert_eq!(
        include_block("readme", b"a<b>&\"'`\x7f\n\xc3\xa9", true),
        b"<pre class=\"readme\">a&#x3C;b&#x3E;&#x26;&#x22;&#x27;&#x60;&#x7F;&#x0A;\xc3\xa9</pre>"
    );
    assert_eq!(include_block("header", b"<p>raw</p>", false), b"<p>raw</p>");
    let m = mime_table();
    let page = super::render(
        "/d/",
        &[],
        TAG,
        &opts_in(&m, utc),
        Some(b"[H]"),
        Some(b"[R]"),
    );
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("<body>\n[H]<h2>Index of /d/</h2>"), "{page}");
    assert!(
        page.contains("</table>\n</div>\n[R]<div class=\"foot\">"),
        "{page}"
    );
}
