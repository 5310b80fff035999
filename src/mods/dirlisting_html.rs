//! The HTML page of mod_dirlisting, byte-identical to lighttpd 1.4.69.
//!
//! The page is an "Index of <uri path>" table with Name, Last Modified, Size
//! and Type columns: a `..` row first unless the path is `/`, then
//! directories, then files, each group sorted bytewise (strcmp). Names are
//! percent-encoded in links (all but alphanumerics and `!()*-._~`, as `%XX`)
//! and escaped as `&#xHH;` in text (controls, `"&'<>`` ` ``, DEL). Times are
//! `%Y-%b-%d %T` in *local* time; sizes are lighttpd's rounded
//! `0.1K`/`1.2M` form (directories show `- &nbsp;`); the type comes from
//! `mimetype.assign` on the bare name, else `application/octet-stream`.
//! With `auto-layout` (the default) the table is wrapped in a full document
//! with built-in CSS (or an external stylesheet), a footer (set-footer, else
//! server.tag, else none) and the built-in sorting script (or an external
//! one); without it only the table is sent. Blank option strings count as
//! unset, as in lighttpd.
//!
//! This file only renders. The handler reads the directory, stats entries
//! (following symlinks), applies `dir-listing.exclude` and the readme/header
//! hiding, and passes the rest; `.` and `..` and, with hide-dotfiles,
//! other dot names are dropped here. The mimetype table and the local zone
//! come in through [`ListingOpts`]: the zone as a UTC-offset function
//! (default [`system_utc_offset`], the system's localtime), so tests can pin
//! it and rendering stays pure.

use crate::http::date::{MONTHS, days_from_civil, gmtime};
use crate::http::mime::{DEFAULT_TYPE, MimeTable};

/// One directory entry as stat(2) saw it (symlinks followed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub is_dir: bool,
    pub size: u64,
    /// Modification time, Unix seconds.
    pub mtime: i64,
}

/// The `dir-listing.*` options that shape the page, plus the request's
/// mimetype table and the local time zone.
#[derive(Debug, Clone)]
pub struct ListingOpts<'a> {
    /// `dir-listing.hide-dotfiles` (default on).
    pub hide_dotfiles: bool,
    /// `dir-listing.encoding`: adds `<meta charset>` and `;charset=` to the
    /// Content-Type.
    pub encoding: Option<String>,
    /// `dir-listing.external-css`: replaces the built-in `<style>`.
    pub external_css: Option<String>,
    /// `dir-listing.external-js`: replaces the built-in sorting script.
    pub external_js: Option<String>,
    /// `dir-listing.set-footer`: replaces server.tag in the footer (raw HTML).
    pub set_footer: Option<String>,
    /// `dir-listing.exclude` regexes. Not applied by `render`: the handler
    /// matches them against each name while reading the directory and
    /// passes only the survivors.
    pub exclude: Vec<String>,
    /// `dir-listing.auto-layout` (default on).
    pub auto_layout: bool,
    /// `mimetype.assign` for the Type column, looked up on the bare name;
    /// None lists every file as `application/octet-stream`.
    pub mimetypes: Option<&'a MimeTable>,
    /// The local zone's offset east of UTC, in seconds, at a given instant;
    /// Last Modified is shown in local time as lighttpd does.
    pub utc_offset: fn(i64) -> i64,
}

impl Default for ListingOpts<'_> {
    fn default() -> Self {
        ListingOpts {
            hide_dotfiles: true,
            encoding: None,
            external_css: None,
            external_js: None,
            set_footer: None,
            exclude: Vec::new(),
            auto_layout: true,
            mimetypes: None,
            utc_offset: system_utc_offset,
        }
    }
}

/// A configured string, with blank treated as unset.
fn opt(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// The response Content-Type for dir-listing.encoding: `text/html`, or
/// `text/html;charset=<enc>`.
pub fn content_type(encoding: Option<&str>) -> String {
    match encoding.filter(|s| !s.is_empty()) {
        Some(enc) => format!("text/html;charset={enc}"),
        None => "text/html".to_string(),
    }
}

/// Whether `name` appears in the listing: never `.` or `..`, and no dot
/// names at all with hide-dotfiles.
pub fn is_listed(name: &str, opts: &ListingOpts) -> bool {
    !(name == "." || name == ".." || (opts.hide_dotfiles && name.starts_with('.')))
}

/// Renders the listing page for `uri_path` (the decoded request path, ending
/// in `/`), with `server_tag` as the default footer ("" for none, as when
/// the Server header is suppressed), and a header file's and a readme
/// file's blocks (from [`include_block`]): the header before the `<h2>`
/// title, the readme after the table, where dir-listing.show-header /
/// show-readme place them. Serve it with [`content_type`].
pub fn render(
    uri_path: &str,
    entries: &[Entry],
    server_tag: &str,
    opts: &ListingOpts,
    header: Option<&[u8]>,
    readme: Option<&[u8]>,
) -> Vec<u8> {
    let mut out = page_start(uri_path, opts).into_bytes();
    out.extend_from_slice(header.unwrap_or_default());
    out.extend_from_slice(table(uri_path, entries, opts).as_bytes());
    out.extend_from_slice(readme.unwrap_or_default());
    out.extend_from_slice(page_end(server_tag, opts).as_bytes());
    out
}

/// The file a show-readme / show-header value names: `enable` is
/// `default_name` (README.txt, HEADER.txt), blank or `disable` is none,
/// anything else is a name in the directory or an absolute path.
pub fn include_name<'v>(value: Option<&'v str>, default_name: &'v str) -> Option<&'v str> {
    match value? {
        "" | "disable" => None,
        "enable" => Some(default_name),
        v => Some(v),
    }
}

/// A header or readme file's block: with `encode`, its bytes XML-escaped
/// in `<pre class="header">` (or `readme`); otherwise the bytes as they
/// are (the file is HTML).
pub fn include_block(class: &str, content: &[u8], encode: bool) -> Vec<u8> {
    if !encode {
        return content.to_vec();
    }
    let mut out = Vec::with_capacity(content.len() + 32);
    out.extend_from_slice(format!("<pre class=\"{class}\">").as_bytes());
    for &b in content {
        if xml_special(u32::from(b)) {
            out.extend_from_slice(format!("&#x{b:02X};").as_bytes());
        } else {
            out.push(b);
        }
    }
    out.extend_from_slice(b"</pre>");
    out
}

/// The document up to `<body>` (auto-layout), or nothing.
fn page_start(uri_path: &str, opts: &ListingOpts) -> String {
    let mut out = String::with_capacity(2048);
    if opts.auto_layout {
        out.push_str("<!DOCTYPE html>\n<html>\n<head>\n");
        if let Some(enc) = opt(&opts.encoding) {
            out.push_str(&format!("<meta charset=\"{enc}\">\n"));
        }
        out.push_str("<title>Index of ");
        push_xml_escaped(&mut out, uri_path);
        out.push_str("</title>\n");
        match opt(&opts.external_css) {
            Some(css) => out.push_str(&format!(
                "<meta name=\"viewport\" content=\"initial-scale=1\">\
                 <link rel=\"stylesheet\" type=\"text/css\" href=\"{css}\">\n"
            )),
            None => out.push_str(BUILTIN_CSS),
        }
        out.push_str("</head>\n<body>\n");
    }
    out
}

/// The title and the table of entries, directories first, each sorted by
/// name.
fn table(uri_path: &str, entries: &[Entry], opts: &ListingOpts) -> String {
    let mut dirs: Vec<&Entry> = Vec::new();
    let mut files: Vec<&Entry> = Vec::new();
    for e in entries.iter().filter(|e| is_listed(&e.name, opts)) {
        if e.is_dir {
            dirs.push(e)
        } else {
            files.push(e)
        }
    }
    dirs.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    files.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));

    let mut out = String::with_capacity(1024 + 256 * (dirs.len() + files.len()));
    out.push_str("<h2>Index of ");
    push_xml_escaped(&mut out, uri_path);
    out.push_str(
        "</h2>\n<div class=\"list\">\n\
         <table summary=\"Directory Listing\" cellpadding=\"0\" cellspacing=\"0\">\n\
         <thead><tr><th class=\"n\">Name</th><th class=\"m\">Last Modified</th>\
         <th class=\"s\">Size</th><th class=\"t\">Type</th></tr></thead>\n<tbody>\n",
    );
    if uri_path != "/" {
        out.push_str(
            "<tr class=\"d\"><td class=\"n\"><a href=\"../\">..</a>/</td>\
             <td class=\"m\">&nbsp;</td><td class=\"s\">- &nbsp;</td>\
             <td class=\"t\">Directory</td></tr>\n",
        );
    }
    for d in dirs {
        out.push_str("<tr class=\"d\"><td class=\"n\"><a href=\"");
        push_href_encoded(&mut out, &d.name);
        out.push_str("/\">");
        push_xml_escaped(&mut out, &d.name);
        out.push_str("</a>/</td><td class=\"m\">");
        out.push_str(&listing_time(d.mtime, opts.utc_offset));
        out.push_str("</td><td class=\"s\">- &nbsp;</td><td class=\"t\">Directory</td></tr>\n");
    }
    for f in files {
        out.push_str("<tr><td class=\"n\"><a href=\"");
        push_href_encoded(&mut out, &f.name);
        out.push_str("\">");
        push_xml_escaped(&mut out, &f.name);
        out.push_str("</a></td><td class=\"m\">");
        out.push_str(&listing_time(f.mtime, opts.utc_offset));
        out.push_str("</td><td class=\"s\">");
        out.push_str(&size_text(f.size));
        out.push_str("</td><td class=\"t\">");
        out.push_str(
            opts.mimetypes
                .and_then(|m| m.lookup(&f.name))
                .unwrap_or(DEFAULT_TYPE),
        );
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
    out
}

/// The footer and script (auto-layout), or nothing.
fn page_end(server_tag: &str, opts: &ListingOpts) -> String {
    let mut out = String::new();
    if opts.auto_layout {
        let footer = opt(&opts.set_footer).or(Some(server_tag).filter(|t| !t.is_empty()));
        if let Some(footer) = footer {
            out.push_str(&format!("<div class=\"foot\">{footer}</div>\n"));
        }
        match opt(&opts.external_js) {
            Some(js) => out.push_str(&format!(
                "<script type=\"text/javascript\" src=\"{js}\"></script>\n"
            )),
            None => out.push_str(BUILTIN_JS),
        }
        out.push_str("</body>\n</html>\n");
    }
    out
}

/// lighttpd's compact size: one decimal of the 1024-based unit, sizes under
/// 100 bytes rounded up to `0.1K`, at most `999.9` before moving up a unit
/// (`1023999` is `999.9K`, `1024000` is `0.9M`).
pub fn size_text(size: u64) -> String {
    let mut n = i64::try_from(size).unwrap_or(i64::MAX);
    if 0 < n && n < 100 {
        n += 99;
    }
    let mut unit = 0;
    let mut remain = n & 1023;
    n >>= 10;
    while n & !1023 != 0 {
        remain = n & 1023;
        n >>= 10;
        unit += 1;
    }
    let mut tenth = (remain / 100).min(9);
    if n > 999 {
        n = 0;
        tenth = 9;
        unit += 1;
    }
    let unit = ['K', 'M', 'G', 'T', 'P', 'E']
        .get(unit)
        .copied()
        .unwrap_or('E');
    format!("{n}.{tenth}{unit}")
}

/// `%Y-%b-%d %T` of `mtime` shifted into local time.
fn listing_time(mtime: i64, utc_offset: fn(i64) -> i64) -> String {
    let t = gmtime(mtime.saturating_add(utc_offset(mtime)));
    format!(
        "{}-{}-{:02} {:02}:{:02}:{:02}",
        t.year,
        MONTHS[(t.month as usize + 11) % 12],
        t.day,
        t.hour,
        t.min,
        t.sec
    )
}

/// The local zone's UTC offset at `secs`, derived from the system's
/// localtime (via `sys::local_timestamp`); 0 if that fails.
pub fn system_utc_offset(secs: i64) -> i64 {
    let stamp = crate::sys::local_timestamp(secs);
    parse_local_stamp(&stamp).map_or(0, |local| local - secs)
}

/// `YYYY-MM-DD HH:MM:SS` read back as if it were UTC.
fn parse_local_stamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let dash = b.iter().position(|&c| c == b'-')?;
    if b.len() != dash + 15 {
        return None;
    }
    let year = num(0..dash)?;
    let month = u32::try_from(num(dash + 1..dash + 3)?).ok()?;
    let day = num(dash + 4..dash + 6)?;
    let (h, m, sec) = (
        num(dash + 7..dash + 9)?,
        num(dash + 10..dash + 12)?,
        num(dash + 13..dash + 15)?,
    );
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec)
}

/// Appends `s` with controls, `"`, `&`, `'`, `<`, `>`, `` ` `` and DEL as
/// `&#xHH;` (lighttpd's minimal XML encoding; other bytes pass through).
fn push_xml_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        if xml_special(c as u32) {
            out.push_str(&format!("&#x{:02X};", c as u32));
        } else {
            out.push(c);
        }
    }
}

/// The characters lighttpd's minimal XML encoding escapes.
fn xml_special(c: u32) -> bool {
    c < 0x20 || matches!(c, 0x22 | 0x26 | 0x27 | 0x3c | 0x3e | 0x60 | 0x7f)
}

/// Appends `s` percent-encoded for a relative link: every byte except
/// alphanumerics and `!()*-._~` becomes `%XX`.
fn push_href_encoded(out: &mut String, s: &str) {
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'!' | b'(' | b')' | b'*' | b'-' | b'.' | b'_' | b'~')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The built-in stylesheet of the auto-layout page.
const BUILTIN_CSS: &str = r##"<style type="text/css">
a, a:active {text-decoration: none; color: blue;}
a:visited {color: #48468F;}
a:hover, a:focus {text-decoration: underline; color: red;}
body {background-color: #F5F5F5;}
h2 {margin-bottom: 12px;}
table {margin-left: 12px;}
th, td { font: 90% monospace; text-align: left;}
th { font-weight: bold; padding-right: 14px; padding-bottom: 3px;}
td {padding-right: 14px;}
td.s, th.s {text-align: right;}
div.list { background-color: white; border-top: 1px solid #646464; border-bottom: 1px solid #646464; padding-top: 10px; padding-bottom: 14px;}
div.foot { font: 90% monospace; color: #787878; padding-top: 4px;}
</style>
"##;

/// The built-in column-sorting script, emitted verbatim after the footer.
const BUILTIN_JS: &str = r##"
<script type="text/javascript">
// <!--

var click_column;
var name_column = 0;
var date_column = 1;
var size_column = 2;
var type_column = 3;
var prev_span = null;

if (typeof(String.prototype.localeCompare) === 'undefined') {
 String.prototype.localeCompare = function(str, locale, options) {
   return ((this == str) ? 0 : ((this > str) ? 1 : -1));
 };
}

if (typeof(String.prototype.toLocaleUpperCase) === 'undefined') {
 String.prototype.toLocaleUpperCase = function() {
  return this.toUpperCase();
 };
}

function get_inner_text(el) {
 if((typeof el == 'string')||(typeof el == 'undefined'))
  return el;
 if(el.innerText)
  return el.innerText;
 else {
  var str = "";
  var cs = el.childNodes;
  var l = cs.length;
  for (var i=0;i<l;i++) {
   if (cs[i].nodeType==1) str += get_inner_text(cs[i]);
   else if (cs[i].nodeType==3) str += cs[i].nodeValue;
  }
 }
 return str;
}

function isdigit(c) {
 return (c >= '0' && c <= '9');
}

function unit_multiplier(unit) {
 return (unit=='K') ? 1000
      : (unit=='M') ? 1000000
      : (unit=='G') ? 1000000000
      : (unit=='T') ? 1000000000000
      : (unit=='P') ? 1000000000000000
      : (unit=='E') ? 1000000000000000000 : 1;
}

var li_date_regex=/(\d{4})-(\w{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2})/;

var li_mon = ['Jan','Feb','Mar','Apr','May','Jun',
              'Jul','Aug','Sep','Oct','Nov','Dec'];

function li_mon_num(mon) {
 var i; for (i = 0; i < 12 && mon != li_mon[i]; ++i); return i;
}

function li_date_cmp(s1, s2) {
 var dp1 = li_date_regex.exec(s1)
 var dp2 = li_date_regex.exec(s2)
 for (var i = 1; i < 7; ++i) {
  var cmp = (2 != i)
   ? parseInt(dp1[i]) - parseInt(dp2[i])
   : li_mon_num(dp1[2]) - li_mon_num(dp2[2]);
  if (0 != cmp) return cmp;
 }
 return 0;
}

function sortfn_then_by_name(a,b,sort_column) {
 if (sort_column == name_column || sort_column == type_column) {
  var ad = (a.cells[type_column].innerHTML === 'Directory');
  var bd = (b.cells[type_column].innerHTML === 'Directory');
  if (ad != bd) return (ad ? -1 : 1);
 }
 var at = get_inner_text(a.cells[sort_column]);
 var bt = get_inner_text(b.cells[sort_column]);
 var cmp;
 if (sort_column == name_column) {
  if (at == '../') return -1;
  if (bt == '../') return  1;
 }
 if (a.cells[sort_column].className == 'int') {
  cmp = parseInt(at)-parseInt(bt);
 } else if (sort_column == date_column) {
  var ad = isdigit(at.substr(0,1));
  var bd = isdigit(bt.substr(0,1));
  if (ad != bd) return (!ad ? -1 : 1);
  cmp = li_date_cmp(at,bt);
 } else if (sort_column == size_column) {
  var ai = parseInt(at, 10) * unit_multiplier(at.substr(-1,1));
  var bi = parseInt(bt, 10) * unit_multiplier(bt.substr(-1,1));
  if (at.substr(0,1) == '-') ai = -1;
  if (bt.substr(0,1) == '-') bi = -1;
  cmp = ai - bi;
 } else {
  cmp = at.toLocaleUpperCase().localeCompare(bt.toLocaleUpperCase());
  if (0 != cmp) return cmp;
  cmp = at.localeCompare(bt);
 }
 if (0 != cmp || sort_column == name_column) return cmp;
 return sortfn_then_by_name(a,b,name_column);
}

function sortfn(a,b) {
 return sortfn_then_by_name(a,b,click_column);
}

function resort(lnk) {
 var span = lnk.childNodes[1];
 var table = lnk.parentNode.parentNode.parentNode.parentNode;
 var rows = new Array();
 for (var j=1;j<table.rows.length;j++)
  rows[j-1] = table.rows[j];
 click_column = lnk.parentNode.cellIndex;
 rows.sort(sortfn);

 if (prev_span != null) prev_span.innerHTML = '';
 if (span.getAttribute('sortdir')=='down') {
  span.innerHTML = '&uarr;';
  span.setAttribute('sortdir','up');
  rows.reverse();
 } else {
  span.innerHTML = '&darr;';
  span.setAttribute('sortdir','down');
 }
 for (var i=0;i<rows.length;i++)
  table.tBodies[0].appendChild(rows[i]);
 prev_span = span;
}

function init_sort(init_sort_column, ascending) {
 var tables = document.getElementsByTagName("table");
 for (var i = 0; i < tables.length; i++) {
  var table = tables[i];
  //var c = table.getAttribute("class")
  //if (-1 != c.split(" ").indexOf("sort")) {
   var row = table.rows[0].cells;
   for (var j = 0; j < row.length; j++) {
    var n = row[j];
    if (n.childNodes.length == 1 && n.childNodes[0].nodeType == 3) {
     var link = document.createElement("a");
     var title = n.childNodes[0].nodeValue.replace(/:$/, "");
     link.appendChild(document.createTextNode(title));
     link.setAttribute("href", "#");
     link.setAttribute("class", "sortheader");
     link.setAttribute("onclick", "resort(this);return false;");
     var arrow = document.createElement("span");
     arrow.setAttribute("class", "sortarrow");
     arrow.appendChild(document.createTextNode(":"));
     link.appendChild(arrow)
     n.replaceChild(link, n.firstChild);
    }
   }
   var lnk = row[init_sort_column].firstChild;
   if (ascending) {
    var span = lnk.childNodes[1];
    span.setAttribute('sortdir','down');
   }
   resort(lnk);
  //}
 }
}

function init_sort_from_query() {
  var urlParams = new URLSearchParams(location.search);
  var c = 0;
  var o = 0;
  switch (urlParams.get('C')) {
    case "N": c=0; break;
    case "M": c=1; break;
    case "S": c=2; break;
    case "T":
    case "D": c=3; break;
  }
  switch (urlParams.get('O')) {
    case "A": o=1; break;
    case "D": o=0; break;
  }
  init_sort(c,o);
}
init_sort_from_query();

// -->
</script>

"##;

#[cfg(test)]
mod tests {
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
}
