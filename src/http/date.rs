//! HTTP dates: the IMF-fixdate text of `Date` and `Last-Modified`, the
//! parser behind `If-Modified-Since`, and the once-per-second `Date` cache.
//!
//! lighttpd 1.4.69 picks the date format by **length alone**: exactly 29
//! bytes is IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), longer is RFC 850
//! (`Sunday, 06-Nov-94 08:49:37 GMT`), shorter is asctime
//! (`Sun Nov  6 08:49:37 1994`). Names are case-sensitive, only the first three
//! letters of the weekday are checked (and never against the date), numeric
//! fields are not range-checked but normalised the way timegm(3) does
//! (`32 Nov` is `2 Dec`), and bytes after a complete RFC 850 or asctime date
//! are ignored. RFC 850's two-digit year lands in the current century unless
//! that is more than 50 years ahead, then in the previous one (in 2026, `76`
//! is 2076 and `77` is 1977). Calendar math is proleptic Gregorian, done here
//! without any date crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// English weekday abbreviations, Sunday first (as `tm_wday` counts).
pub const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
/// English month abbreviations, January first.
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A broken-down UTC time (what gmtime(3) gives), month and day 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tm {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    /// 0 = Sunday
    pub wday: u32,
}

/// Days since 1970-01-01 of a proleptic Gregorian date. `month` is 1..=12;
/// `day` may be out of range and simply counts on from the first. Years and
/// days beyond ±10^13 are clamped (far outside any timestamp) so the
/// arithmetic cannot overflow.
pub fn days_from_civil(year: i64, month: u32, day: i64) -> i64 {
    const LIMIT: i64 = 10_000_000_000_000;
    let year = year.clamp(-LIMIT, LIMIT);
    let day = day.clamp(-LIMIT, LIMIT);
    let m = i64::from(month.clamp(1, 12));
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + (day - 1)
}

/// The (year, month 1..=12, day 1..=31) of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Breaks Unix seconds down into UTC calendar fields. Total for every `i64`.
pub fn gmtime(secs: i64) -> Tm {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    Tm {
        year,
        month,
        day,
        hour: rem / 3600,
        min: rem / 60 % 60,
        sec: rem % 60,
        // 1970-01-01 was a Thursday
        wday: (days + 4).rem_euclid(7) as u32,
    }
}

/// timegm(3) for already-split fields; like timegm it normalises overflowing
/// day, hour, minute and second values instead of rejecting them.
fn timegm(year: i64, month: u32, day: i64, hour: i64, min: i64, sec: i64) -> i64 {
    days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec
}

/// IMF-fixdate for Unix seconds, e.g. `Wed, 25 Nov 2026 10:00:52 GMT`.
pub fn http_date(unix_secs: i64) -> String {
    let t = gmtime(unix_secs);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[t.wday as usize % 7],
        t.day,
        MONTHS[(t.month as usize + 11) % 12],
        t.year,
        t.hour,
        t.min,
        t.sec
    )
}

/// Seconds since the Unix epoch now (0 if the clock is before 1970).
fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Parses an HTTP date in any of the three formats, chosen by length as
/// lighttpd does; the RFC 850 century comes from the system clock.
pub fn parse_http_date(s: &str) -> Option<i64> {
    parse_http_date_at(s, now_secs())
}

/// [`parse_http_date`] with the current time given, for the RFC 850 window.
pub fn parse_http_date_at(s: &str, now_secs: i64) -> Option<i64> {
    let b = Bytes(s.as_bytes());
    match s.len() {
        29 => parse_imf_fixdate(b),
        n if n > 29 => parse_rfc850(b, gmtime(now_secs).year),
        _ => parse_asctime(b),
    }
}

/// True when a resource with modification time `mtime` counts as modified
/// since the `If-Modified-Since` value `ims`; an unparsable date counts as
/// modified (so the full response is sent).
pub fn modified_since(ims: &str, mtime: i64) -> bool {
    match parse_http_date(ims) {
        Some(t) => mtime > t,
        None => true,
    }
}

/// Byte access that reads past the end as NUL, so a short input fails the
/// next character test instead of indexing out of bounds.
#[derive(Clone, Copy)]
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn at(self, i: usize) -> u8 {
        self.0.get(i).copied().unwrap_or(0)
    }
    fn is(self, i: usize, c: u8) -> bool {
        self.at(i) == c
    }
    /// Two ASCII digits at `i` as a number.
    fn num2(self, i: usize) -> Option<i64> {
        let (a, b) = (self.at(i), self.at(i + 1));
        (a.is_ascii_digit() && b.is_ascii_digit()).then(|| i64::from((a - b'0') * 10 + (b - b'0')))
    }
    fn num4(self, i: usize) -> Option<i64> {
        Some(self.num2(i)? * 100 + self.num2(i + 2)?)
    }
    /// Index of the three letters at `i` in `names`, compared case-sensitively.
    fn name3(self, i: usize, names: &[&str]) -> Option<usize> {
        let want = [self.at(i), self.at(i + 1), self.at(i + 2)];
        names.iter().position(|n| n.as_bytes() == want)
    }
    /// `hh:mm:ss` at `i` as (hour, min, sec).
    fn clock(self, i: usize) -> Option<(i64, i64, i64)> {
        let h = self.num2(i)?;
        if !self.is(i + 2, b':') {
            return None;
        }
        let m = self.num2(i + 3)?;
        if !self.is(i + 5, b':') {
            return None;
        }
        Some((h, m, self.num2(i + 6)?))
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`
fn parse_imf_fixdate(b: Bytes) -> Option<i64> {
    b.name3(0, &WEEKDAYS)?;
    if !(b.is(3, b',') && b.is(4, b' ')) {
        return None;
    }
    let day = b.num2(5)?;
    if !b.is(7, b' ') {
        return None;
    }
    let mon = b.name3(8, &MONTHS)?;
    if !b.is(11, b' ') {
        return None;
    }
    let year = b.num4(12)?;
    if !b.is(16, b' ') {
        return None;
    }
    let (h, m, s) = b.clock(17)?;
    if !(b.is(25, b' ') && b.is(26, b'G') && b.is(27, b'M') && b.is(28, b'T')) {
        return None;
    }
    Some(timegm(year, mon as u32 + 1, day, h, m, s))
}

/// `Sunday, 06-Nov-94 08:49:37 GMT`; only the weekday's first three letters
/// are checked, then anything up to the comma is skipped.
fn parse_rfc850(b: Bytes, current_year: i64) -> Option<i64> {
    b.name3(0, &WEEKDAYS)?;
    let mut c = 3;
    while !matches!(b.at(c), b',' | 0) {
        c += 1;
    }
    if !(b.is(c, b',') && b.is(c + 1, b' ')) {
        return None;
    }
    let day = b.num2(c + 2)?;
    if !b.is(c + 4, b'-') {
        return None;
    }
    let mon = b.name3(c + 5, &MONTHS)?;
    if !b.is(c + 8, b'-') {
        return None;
    }
    let yy = b.num2(c + 9)?;
    if !b.is(c + 11, b' ') {
        return None;
    }
    let (h, m, s) = b.clock(c + 12)?;
    if !(b.is(c + 20, b' ') && b.is(c + 21, b'G') && b.is(c + 22, b'M') && b.is(c + 23, b'T')) {
        return None;
    }
    let mut year = current_year - current_year.rem_euclid(100) + yy;
    if year > current_year + 50 {
        year -= 100;
    }
    Some(timegm(year, mon as u32 + 1, day, h, m, s))
}

/// `Sun Nov  6 08:49:37 1994` (day space-padded or two digits).
fn parse_asctime(b: Bytes) -> Option<i64> {
    b.name3(0, &WEEKDAYS)?;
    if !b.is(3, b' ') {
        return None;
    }
    let mon = b.name3(4, &MONTHS)?;
    if !b.is(7, b' ') {
        return None;
    }
    let tens = match b.at(8) {
        b' ' => 0,
        d if d.is_ascii_digit() => i64::from(d - b'0') * 10,
        _ => return None,
    };
    let ones = b.at(9);
    if !ones.is_ascii_digit() {
        return None;
    }
    let day = tens + i64::from(ones - b'0');
    if !b.is(10, b' ') {
        return None;
    }
    let (h, m, s) = b.clock(11)?;
    if !b.is(19, b' ') {
        return None;
    }
    let year = b.num4(20)?;
    Some(timegm(year, mon as u32 + 1, day, h, m, s))
}

/// The `Date` header value, formatted at most once per second.
#[derive(Debug, Default)]
pub struct DateCache {
    secs: Option<i64>,
    text: String,
}

impl DateCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// IMF-fixdate for `now_secs`, reformatted only when the second changes.
    pub fn get(&mut self, now_secs: i64) -> &str {
        if self.secs != Some(now_secs) {
            self.text = http_date(now_secs);
            self.secs = Some(now_secs);
        }
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// mtime of the reference test file (touch -d '2026-11-25 10:00:52').
    const T: i64 = 1_795_600_852;
    /// 2026-11-25 11:00:00 UTC, a "now" for the RFC 850 window.
    const NOW: i64 = 1_795_604_400;

    #[test]
    fn formats_imf_fixdate_as_the_reference() {
        assert_eq!(http_date(T), "Wed, 25 Nov 2026 10:00:52 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
        assert_eq!(http_date(253_402_300_799), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn civil_round_trips() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, i64::from(d)), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        let _ = days_from_civil(i64::MAX, 99, i64::MIN);
        let _ = days_from_civil(i64::MIN, 0, i64::MAX);
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        for s in [i64::MIN, i64::MIN + 1, i64::MAX, i64::MAX - 1] {
            let _ = http_date(s);
            let _ = gmtime(s);
        }
    }

    #[test]
    fn parses_the_three_formats() {
        let p = |s| parse_http_date_at(s, NOW);
        assert_eq!(p("Wed, 25 Nov 2026 10:00:52 GMT"), Some(T));
        assert_eq!(p("Wednesday, 25-Nov-26 10:00:52 GMT"), Some(T));
        assert_eq!(p("Wed Nov 25 10:00:52 2026"), Some(T));
        assert_eq!(p("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(p("Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(p("Sun Nov  6 08:49:37 1994"), Some(784_111_777));
    }

    #[test]
    fn lenient_where_lighttpd_is_lenient() {
        let p = |s| parse_http_date_at(s, NOW);
        // weekday never checked against the date (reference: 304)
        assert_eq!(p("Mon, 25 Nov 2026 10:00:52 GMT"), Some(T));
        // day 32 of November normalises to 2 December (reference: 304)
        assert_eq!(p("Wed, 32 Nov 2026 10:00:52 GMT"), Some(T + 7 * 86_400));
        // RFC 850: only three weekday letters checked (reference: 304)
        assert_eq!(p("Wedxxxxxx, 25-Nov-26 10:00:52 GMT"), Some(T));
        assert_eq!(p("Monday, 25-Nov-26 10:00:52 GMT"), Some(T));
        // asctime: trailing bytes after the year are ignored (reference: 304)
        assert_eq!(p("Wed Nov 25 10:00:52 2026 GMT"), Some(T));
        // space-padded day and a zero day
        assert_eq!(p("Wed Dec  1 10:00:51 2026"), Some(T + 6 * 86_400 - 1));
        assert_eq!(p("Wed Dec  0 10:00:52 2026"), Some(T + 5 * 86_400));
        assert_eq!(
            p("Sun, 06 Nov 1994 25:61:61 GMT"),
            Some(784_111_777 + 61_200 + 720 + 24)
        );
    }

    #[test]
    fn strict_where_lighttpd_is_strict() {
        let p = |s| parse_http_date_at(s, NOW);
        for s in [
            "",
            "garbage",
            "wed, 25 nov 2026 10:00:52 gmt", // case-sensitive (reference: 200)
            "Wed, 25 Nov 2026 10:00:52 GMTx", // 30 bytes: RFC 850 (reference: 200)
            "Wed, 25-Nov-26 10:00:52 GMT",   // 27 bytes: asctime (reference: 200)
            "Wed Dec 1 10:00:51 2026",       // unpadded asctime day (reference: 200)
            "Wed, 25 Nov 2026 10:00:52 UTC",
            "Wed, 25 Nov 26 10:00:52 GMT  ",
            "Wed, 2x Nov 2026 10:00:52 GMT",
            "Xyz, 25 Nov 2026 10:00:52 GMT",
            "Wed, 25 Foo 2026 10:00:52 GMT",
            "Wed, 25 Nov 2026 10-00:52 GMT",
            "Wednesday 25-Nov-26 10:00:52 GMT",
            "Wednesday, 25-Nov-26 10:00:52 GM",
            "Wed Nov 25 10:00:52 26",
            "Wed",
            "W",
        ] {
            assert_eq!(p(s), None, "{s:?}");
        }
    }

    #[test]
    fn rfc850_two_digit_year_window() {
        let year_of = |yy: &str| {
            let s = format!("Wednesday, 25-Nov-{yy} 10:00:52 GMT");
            gmtime(parse_http_date_at(&s, NOW).unwrap()).year
        };
        // reference in 2026: "76" gives 304 (2076), "77" gives 200 (1977)
        assert_eq!(year_of("76"), 2076);
        assert_eq!(year_of("77"), 1977);
        assert_eq!(year_of("00"), 2000);
        assert_eq!(year_of("99"), 1999);
        assert_eq!(year_of("26"), 2026);
    }

    #[test]
    fn multibyte_input_is_safe() {
        let p = |s| parse_http_date_at(s, NOW);
        assert_eq!(p("ü, 25 Nov 2026 10:00:52 GMT"), None);
        assert_eq!(p("Wedüüüüüüüüüüüüüüüüüüüüüüü"), None);
        assert_eq!(p("Wed,\u{0}25-Nov-26 10:00:52 GMT\u{0}"), None);
    }

    #[test]
    fn modified_since_compares_seconds() {
        assert!(!modified_since("Wed, 25 Nov 2026 10:00:52 GMT", T));
        assert!(!modified_since("Wed, 25 Nov 2026 10:00:53 GMT", T));
        assert!(!modified_since("Wed, 25 Nov 2099 10:00:51 GMT", T)); // future: 304
        assert!(modified_since("Wed, 25 Nov 2026 10:00:51 GMT", T));
        assert!(modified_since("garbage", T));
    }

    #[test]
    fn date_cache_reformats_once_per_second() {
        let mut c = DateCache::new();
        assert_eq!(c.get(T), "Wed, 25 Nov 2026 10:00:52 GMT");
        assert_eq!(c.get(T), "Wed, 25 Nov 2026 10:00:52 GMT");
        assert_eq!(c.get(T + 1), "Wed, 25 Nov 2026 10:00:53 GMT");
        assert_eq!(c.get(T - 86_400), "Tue, 24 Nov 2026 10:00:52 GMT");
    }
}
