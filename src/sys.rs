//! The only home of `unsafe` in the crate: thin, checked wrappers over libc
//! calls that std does not offer (glob(3) with GLOB_BRACE as lighttpd's
//! `include` uses it, localtime for log timestamps). Each block says why it is
//! sound.

use std::ffi::{CStr, CString};

/// What glob(3) answered for a pattern.
#[derive(Debug, PartialEq, Eq)]
pub enum GlobResult {
    /// Matches, sorted as glob(3) sorts them.
    Paths(Vec<String>),
    NoMatch,
    /// GLOB_ABORTED / GLOB_NOSPACE, with the OS error text.
    Failed(String),
}

/// Expands `pattern` with glob(3) and GLOB_BRACE, exactly as lighttpd's
/// `include` does (so `{a,b}` and sorting follow the C library).
pub fn glob_brace(pattern: &str) -> GlobResult {
    let Ok(cpat) = CString::new(pattern) else {
        return GlobResult::NoMatch;
    };
    // GLOB_BRACE is a GNU extension: 1 << 10 in glibc's <glob.h>.
    const GLOB_BRACE: libc::c_int = 1 << 10;
    #[allow(unsafe_code)]
    // SAFETY: `gl` is zero-initialised as glob(3) expects, `cpat` is a valid
    // NUL-terminated string that outlives the call, and globfree() is called
    // exactly once on every path that filled `gl`.
    unsafe {
        let mut gl: libc::glob_t = std::mem::zeroed();
        let rc = libc::glob(cpat.as_ptr(), GLOB_BRACE, None, &mut gl);
        let result = match rc {
            0 => {
                let mut out = Vec::with_capacity(gl.gl_pathc);
                for i in 0..gl.gl_pathc {
                    let p = *gl.gl_pathv.add(i);
                    if !p.is_null() {
                        out.push(CStr::from_ptr(p).to_string_lossy().into_owned());
                    }
                }
                GlobResult::Paths(out)
            }
            libc::GLOB_NOMATCH => GlobResult::NoMatch,
            _ => GlobResult::Failed(std::io::Error::last_os_error().to_string()),
        };
        libc::globfree(&mut gl);
        result
    }
}

/// Local time as `YYYY-MM-DD HH:MM:SS`, the prefix of lighttpd's log lines.
pub fn local_timestamp(secs: i64) -> String {
    let t: libc::time_t = secs as libc::time_t;
    #[allow(unsafe_code)]
    // SAFETY: localtime_r only writes into the `tm` we own; both pointers are
    // valid for the duration of the call.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return format!("@{secs}");
        }
        tm
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

/// The parent process id (std has only our own id).
pub fn getppid() -> u32 {
    #[allow(unsafe_code)]
    // SAFETY: getppid() cannot fail and touches no memory.
    let pid = unsafe { libc::getppid() };
    pid as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_brace_expands_and_sorts() {
        let dir = std::env::temp_dir().join(format!("lrs-glob-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for n in ["b.conf", "a.conf", "c.txt"] {
            std::fs::write(dir.join(n), "").unwrap();
        }
        let pat = format!("{}/{{a,b}}.conf", dir.display());
        match glob_brace(&pat) {
            GlobResult::Paths(p) => {
                assert_eq!(p.len(), 2);
                assert!(p[0].ends_with("a.conf") && p[1].ends_with("b.conf"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            glob_brace(&format!("{}/*.none", dir.display())),
            GlobResult::NoMatch
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn timestamp_shape() {
        let s = local_timestamp(0);
        assert_eq!(s.len(), 19);
        assert_eq!(&s[4..5], "-");
    }
}
