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
use crate::http::lossless::to_bytes;
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
    // names and the path go out as the bytes they are (lossless.rs)
    let mut out = to_bytes(&page_start(uri_path, opts)).into_owned();
    out.extend_from_slice(header.unwrap_or_default());
    out.extend_from_slice(&to_bytes(&table(uri_path, entries, opts)));
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
    for &b in to_bytes(s).iter() {
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
mod tests;
