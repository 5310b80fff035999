//! The error log. Lines look like lighttpd's:
//! `2026-11-25 10:43:20: (eval.rs.123) message` — a local timestamp, the
//! origin as `(file.line)`, then the text. Until the configured
//! server.errorlog is opened, lines go to stderr (as lighttpd does while it
//! reads its config). Some config-parser messages are printed bare, without
//! prefix, exactly where lighttpd prints them bare; those use `eprintln!`.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// Formats one error-log line (without the trailing newline).
pub fn format_line(file: &str, line: u32, msg: &str) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let base = file.rsplit('/').next().unwrap_or(file);
    format!(
        "{}: ({}.{}) {}",
        crate::sys::local_timestamp(secs),
        base,
        line,
        msg
    )
}

/// Writes one line to the error log (stderr for now).
pub fn write_line(file: &str, line: u32, msg: &str) {
    let text = format_line(file, line, msg);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// `log_error!("fmt", args..)`: one timestamped line with our origin.
#[macro_export]
macro_rules! log_error {
    ($($arg:tt)*) => {
        $crate::log::write_line(file!(), line!(), &format!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_has_origin_and_text() {
        let l = super::format_line("src/config/eval.rs", 42, "hello");
        assert!(l.ends_with(": (eval.rs.42) hello"), "{l}");
    }
}
