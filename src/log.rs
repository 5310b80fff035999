//! The error log. Lines look like lighttpd's:
//! `2026-11-25 10:43:20: (eval.rs.123) message` — a local timestamp, the
//! origin as `(file.line)`, then the text. Until server.errorlog is opened,
//! lines go to stderr (as lighttpd does while it reads its config). Some
//! config-parser messages are printed bare, without prefix, exactly where
//! lighttpd prints them bare; those use `eprintln!`.
//!
//! The sink is per thread (the server is single-threaded): stderr, or a
//! file opened in append mode, reopened on SIGHUP.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::time::{SystemTime, UNIX_EPOCH};

enum Sink {
    Stderr,
    File {
        path: String,
        file: File,
    },
    /// `server.errorlog = "|command"`: lines go to the command's stdin
    /// through a pipe we keep, so a restarted command finds what was
    /// written while it was down.
    Pipe(LogPipe),
    /// server.errorlog-use-syslog.
    Syslog,
    /// The original stderr, kept when server.breakagelog took fd 2.
    SavedStderr(File),
}

struct LogPipe {
    cmd: String,
    writer: std::io::PipeWriter,
    reader: std::io::PipeReader,
    child: Option<std::process::Child>,
    started: i64,
}

impl LogPipe {
    fn spawn(&mut self, now: i64) {
        self.started = now;
        let Ok(input) = self.reader.try_clone() else {
            return;
        };
        let mut cmd = std::process::Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(crate::http::lossless::to_os(&self.cmd))
            .stdin(input)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        crate::sys::default_signals_in_child(&mut cmd);
        self.child = cmd.spawn().ok();
    }
}

impl LogPipe {
    /// A pipe and `cmd` running under /bin/sh on its reading end.
    fn start(cmd: &str) -> std::io::Result<LogPipe> {
        let (reader, writer) = std::io::pipe()?;
        let mut p = LogPipe {
            cmd: cmd.to_string(),
            writer,
            reader,
            child: None,
            started: 0,
        };
        p.spawn(now_secs());
        if p.child.is_none() {
            return Err(std::io::Error::other(format!("cannot run {cmd}")));
        }
        Ok(p)
    }

    fn respawn_if_exited(&mut self, now: i64) {
        if let Some(c) = self.child.as_mut()
            && let Ok(Some(_)) = c.try_wait()
        {
            self.child = None;
        }
        if self.child.is_none() && self.started + 5 < now {
            self.spawn(now);
        }
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

thread_local! {
    static SINK: RefCell<Sink> = const { RefCell::new(Sink::Stderr) };
    /// server.feature-flags "server.errorlog-high-precision".
    static HIGH_PRECISION: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// server.feature-flags "server.errorlog-high-precision": timestamps with
/// nanoseconds (`2026-12-05 00:40:57.448529193:`), as 1.4.69 writes them.
pub fn set_high_precision(on: bool) {
    HIGH_PRECISION.with(|h| h.set(on));
}

/// Formats one error-log line (without the trailing newline).
pub fn format_line(file: &str, line: u32, msg: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let base = file.rsplit('/').next().unwrap_or(file);
    let stamp = crate::sys::local_timestamp(now.as_secs() as i64);
    if HIGH_PRECISION.with(std::cell::Cell::get) {
        format!("{stamp}.{:09}: ({base}.{line}) {msg}", now.subsec_nanos())
    } else {
        format!("{stamp}: ({base}.{line}) {msg}")
    }
}

/// `b` as lighttpd writes it into a log line: printable ASCII as it is,
/// tab, CR and LF as `\t` `\r` `\n`, any other byte as `\xhh`.
pub fn escape(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for &c in b {
        match c {
            0x20..=0x7e => out.push(c as char),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out
}

/// Writes one line to the error log (escaped as [`escape`] says).
pub fn write_line(file: &str, line: u32, msg: &str) {
    let escaped;
    let msg = if msg.bytes().all(|c| (0x20..=0x7e).contains(&c)) {
        msg
    } else {
        // (bytes held in the text, as lossless.rs says, escaped as bytes)
        escaped = escape(&crate::http::lossless::to_bytes(msg));
        &escaped
    };
    let mut text = format_line(file, line, msg);
    text.push('\n');
    SINK.with(|s| match &mut *s.borrow_mut() {
        Sink::Stderr => {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
        Sink::File { file, .. } | Sink::SavedStderr(file) => {
            let _ = file.write_all(text.as_bytes());
        }
        // A full pipe (the command is gone and not back yet) drops the line
        // rather than stopping the server (the write end is non-blocking).
        Sink::Pipe(p) => {
            let _ = p.writer.write_all(text.as_bytes());
        }
        // syslog stamps time and pid itself: send "(file.line) msg".
        Sink::Syslog => {
            let base = file.rsplit('/').next().unwrap_or(file);
            crate::sys::syslog(&format!("({base}.{line}) {msg}"));
        }
    });
}

/// Sends the log to `path` (server.errorlog): a file opened for append, or
/// with a leading `|` a command run by /bin/sh reading the lines on stdin.
pub fn open_errorlog(path: &str) -> std::io::Result<()> {
    if let Some(cmd) = path.strip_prefix('|') {
        let p = LogPipe::start(cmd)?;
        // A full pipe (the command is gone) must not stop the server.
        crate::sys::set_nonblocking(std::os::fd::AsRawFd::as_raw_fd(&p.writer));
        SINK.with(|s| *s.borrow_mut() = Sink::Pipe(p));
        return Ok(());
    }
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .open(crate::http::lossless::to_path(path))?;
    SINK.with(|s| {
        *s.borrow_mut() = Sink::File {
            path: path.to_string(),
            file,
        }
    });
    Ok(())
}

thread_local! {
    /// A `|command` server.breakagelog, restarted like the error log's.
    static BREAKAGE: RefCell<Option<LogPipe>> = const { RefCell::new(None) };
}

/// server.breakagelog: the file (or, with a leading `|`, the stdin of a
/// command run by /bin/sh) becomes our stderr, so the programs we start
/// (FastCGI bin-path procs) write their stderr there; an error log that
/// was stderr keeps the original one.
pub fn open_breakagelog(path: &str) -> std::io::Result<()> {
    use std::os::fd::AsFd;
    let file = match path.strip_prefix('|') {
        Some(cmd) => {
            let p = LogPipe::start(cmd)?;
            let file = File::from(p.writer.as_fd().try_clone_to_owned()?);
            BREAKAGE.with(|b| *b.borrow_mut() = Some(p));
            file
        }
        None => OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o644)
            .open(crate::http::lossless::to_path(path))?,
    };
    SINK.with(|s| -> std::io::Result<()> {
        let mut s = s.borrow_mut();
        if matches!(*s, Sink::Stderr) {
            let saved = std::io::stderr().as_fd().try_clone_to_owned()?;
            *s = Sink::SavedStderr(File::from(saved));
        }
        Ok(())
    })?;
    crate::sys::dup_onto_stderr(&file)
}

/// Sends the log to syslog (server.errorlog-use-syslog) with
/// server.syslog-facility; an unknown facility is logged and daemon used.
pub fn open_syslog(facility: Option<&str>) {
    let name = facility.unwrap_or("daemon");
    let known = crate::sys::open_syslog(name);
    SINK.with(|s| *s.borrow_mut() = Sink::Syslog);
    if !known {
        crate::log_error!(
            "unrecognized server.syslog-facility: \"{name}\"; defaulting to \"daemon\" facility"
        );
    }
}

/// A piped logger that exited is started again on the same pipe, at most
/// once every 5 seconds (as lighttpd does); called on SIGCHLD and each
/// second.
pub fn check_pipe(now: i64) {
    SINK.with(|s| {
        if let Sink::Pipe(p) = &mut *s.borrow_mut() {
            p.respawn_if_exited(now);
        }
    });
    BREAKAGE.with(|b| {
        if let Some(p) = b.borrow_mut().as_mut() {
            p.respawn_if_exited(now);
        }
    });
}

/// Reopens a file sink (SIGHUP, for log rotation; pipes are kept).
pub fn reopen() {
    SINK.with(|s| {
        let mut s = s.borrow_mut();
        if let Sink::File { path, file } = &mut *s
            && let Ok(f) = OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o644)
                .open(crate::http::lossless::to_path(path))
        {
            *file = f;
        }
    });
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
    fn unprintable_bytes_escaped() {
        assert_eq!(
            super::escape(b"a\xff\tb\r\n\x01\x7f \xc3\xa9~"),
            "a\\xff\\tb\\r\\n\\x01\\x7f \\xc3\\xa9~"
        );
    }

    #[test]
    fn line_has_origin_and_text() {
        let l = super::format_line("src/config/eval.rs", 42, "hello");
        assert!(l.ends_with(": (eval.rs.42) hello"), "{l}");
        assert_eq!(l.find(':'), Some(13), "seconds only: {l}");
        super::set_high_precision(true);
        let l = super::format_line("src/config/eval.rs", 42, "hello");
        super::set_high_precision(false);
        // YYYY-MM-DD HH:MM:SS.nnnnnnnnn: (file.line) text
        assert_eq!(l.as_bytes()[19], b'.', "{l}");
        assert!(l[20..29].bytes().all(|c| c.is_ascii_digit()), "{l}");
        assert!(l[29..].starts_with(": (eval.rs.42) hello"), "{l}");
    }

    #[test]
    fn pipe_sink_feeds_the_command() {
        let p = std::env::temp_dir().join(format!("lrs-pipe-{}", std::process::id()));
        let cmd = format!("|cat > {}", p.display());
        std::thread::spawn(move || {
            super::open_errorlog(&cmd).unwrap();
            crate::log_error!("through the pipe");
            // Closing both ends we hold lets the command see EOF.
            let sink = super::SINK.with(|s| s.replace(super::Sink::Stderr));
            if let super::Sink::Pipe(p) = sink {
                let super::LogPipe {
                    writer,
                    reader,
                    child,
                    ..
                } = p;
                drop(writer);
                drop(reader);
                if let Some(mut c) = child {
                    let _ = c.wait();
                }
            }
        })
        .join()
        .unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(") through the pipe\n"), "{text}");
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn file_sink_appends() {
        let p = std::env::temp_dir().join(format!("lrs-log-{}", std::process::id()));
        let ps = p.to_string_lossy().into_owned();
        super::open_errorlog(&ps).unwrap();
        crate::log_error!("one");
        super::reopen();
        crate::log_error!("two");
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.contains(") one\n") && text.contains(") two\n"),
            "{text}"
        );
        std::fs::remove_file(p).unwrap();
    }
}
