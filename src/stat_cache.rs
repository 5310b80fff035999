//! A stat and open-file cache for static files, like lighttpd's "simple"
//! stat-cache engine: an entry is trusted for the second it was made in and
//! checked again (stat) in any later second (a failed stat is never
//! trusted); with server.stat-cache-engine "disable" every look-up is a
//! stat. An open file descriptor is kept while the file's identity (device,
//! inode, size, mtime, ctime) is unchanged, and so are the contents of a
//! small file, read once, if the file had not changed in the second before
//! they were read (a write in the same clock tick as the last one leaves
//! mtime and ctime as they were, so contents read in that second may be
//! older than the file: they are read again at the next stat). Saves
//! open/stat/close/pread per request.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::rc::Rc;

/// Files up to this size are kept in memory.
pub const SMALL_FILE: u64 = 16 * 1024;
/// At most this many entries (fewer with a small fd limit).
pub const MAX_ENTRIES: usize = 4096;

/// An open file the cache holds, counted in the cache's open files while
/// it is held (the server's out-of-fds check adds them up).
#[derive(Debug)]
struct HeldFile {
    file: Rc<File>,
    count: Rc<std::cell::Cell<usize>>,
}

impl HeldFile {
    fn new(file: Rc<File>, count: &Rc<std::cell::Cell<usize>>) -> HeldFile {
        count.set(count.get() + 1);
        HeldFile {
            file,
            count: count.clone(),
        }
    }
}

impl Clone for HeldFile {
    fn clone(&self) -> Self {
        HeldFile::new(self.file.clone(), &self.count)
    }
}

impl Drop for HeldFile {
    fn drop(&mut self) {
        self.count.set(self.count.get().saturating_sub(1));
    }
}

#[derive(Clone, Debug)]
pub struct Cached {
    pub meta: Metadata,
    file: Option<HeldFile>,
    /// The cache's count of open files.
    count: Rc<std::cell::Cell<usize>>,
    bytes: Option<Rc<[u8]>>,
    /// The file's ctime was more than a second in the past when `bytes`
    /// were read: they stay good while the identity does.
    bytes_settled: bool,
    last_modified: Option<Rc<str>>,
    /// The ETag and the etag.use-* flags it was made with.
    etag: Option<(crate::http::etag::EtagFlags, Option<Rc<str>>)>,
}

impl Cached {
    fn new(meta: Metadata, count: &Rc<std::cell::Cell<usize>>) -> Cached {
        Cached {
            meta,
            file: None,
            count: count.clone(),
            bytes: None,
            bytes_settled: false,
            last_modified: None,
            etag: None,
        }
    }

    /// The mtime as an HTTP date, formatted once per file version.
    pub fn last_modified(&mut self) -> Rc<str> {
        self.last_modified
            .get_or_insert_with(|| Rc::from(crate::http::date::http_date(self.meta.mtime())))
            .clone()
    }

    /// The ETag for etag.use-inode / -mtime / -size, formatted once per
    /// file version (and flags).
    pub fn etag(&mut self, flags: crate::http::etag::EtagFlags) -> Option<Rc<str>> {
        match &self.etag {
            Some((f, e)) if *f == flags => e.clone(),
            _ => {
                let m = &self.meta;
                let e =
                    crate::http::etag::etag_for(m.ino(), m.len(), m.mtime(), m.mtime_nsec(), flags)
                        .map(Rc::from);
                self.etag = Some((flags, e.clone()));
                e
            }
        }
    }

    /// The open file, opened on first use.
    pub fn file(&mut self, path: &str) -> std::io::Result<Rc<File>> {
        if let Some(f) = &self.file {
            return Ok(f.file.clone());
        }
        let f = Rc::new(File::open(crate::http::lossless::to_path(path))?);
        self.file = Some(HeldFile::new(f.clone(), &self.count));
        Ok(f)
    }

    /// The whole contents of a small regular file, read once.
    pub fn small_bytes(&mut self, path: &str) -> Option<Rc<[u8]>> {
        if !self.meta.is_file() || self.meta.len() > SMALL_FILE {
            return None;
        }
        if let Some(b) = &self.bytes {
            return Some(b.clone());
        }
        let f = self.file(path).ok()?;
        let mut buf = vec![0u8; self.meta.len() as usize];
        f.read_exact_at(&mut buf, 0).ok()?;
        let b: Rc<[u8]> = Rc::from(buf);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        self.bytes_settled = self.meta.ctime() < now - 1;
        self.bytes = Some(b.clone());
        Some(b)
    }
}

struct Entry {
    at: i64,
    result: Result<Cached, i32>,
}

pub struct StatCache {
    /// Path -> position in `entries` (one hash per look-up).
    index: HashMap<Box<str>, usize>,
    entries: Vec<Entry>,
    /// Files the entries hold open.
    open_files: Rc<std::cell::Cell<usize>>,
    /// More entries than this and the cache starts over. Each entry can
    /// hold an open file, so the server sets it from its fd budget.
    max_entries: usize,
    /// server.stat-cache-engine "disable": no entry is trusted without a
    /// stat.
    always_stat: bool,
}

impl Default for StatCache {
    fn default() -> Self {
        StatCache::with_limit(MAX_ENTRIES)
    }
}

fn same_file(a: &Metadata, b: &Metadata) -> bool {
    a.dev() == b.dev()
        && a.ino() == b.ino()
        && a.len() == b.len()
        && a.mtime() == b.mtime()
        && a.mtime_nsec() == b.mtime_nsec()
        && a.ctime() == b.ctime()
        && a.ctime_nsec() == b.ctime_nsec()
}

impl StatCache {
    /// A cache of at most `max_entries` files (and so open descriptors).
    pub fn with_limit(max_entries: usize) -> StatCache {
        StatCache {
            index: HashMap::new(),
            entries: Vec::new(),
            open_files: Rc::default(),
            max_entries: max_entries.max(1),
            always_stat: false,
        }
    }

    /// server.stat-cache-engine = "disable" (or "none"): every look-up
    /// asks the file system, as 1.4.69 does then.
    pub fn always_stat(mut self, on: bool) -> StatCache {
        self.always_stat = on;
        self
    }

    /// How many files the cache holds open now.
    pub fn open_files(&self) -> usize {
        self.open_files.get()
    }

    /// stat(2) of `path` (following symlinks), cached for this second; the
    /// error is the errno.
    pub fn stat(&mut self, path: &str, now: i64) -> Result<&mut Cached, i32> {
        let i = match self.index.get(path) {
            // A failure is not trusted even within its second: a file
            // created right after a 404 is served at once, as lighttpd
            // keeps no entry for a path it could not stat.
            Some(&i)
                if !self.always_stat
                    && self.entries[i].at == now
                    && self.entries[i].result.is_ok() =>
            {
                i
            }
            Some(&i) => {
                // Keep the open fd and contents if the file is the same.
                let e = &mut self.entries[i];
                e.result = match std::fs::metadata(crate::http::lossless::to_path(path)) {
                    Ok(meta) => match std::mem::replace(&mut e.result, Err(0)) {
                        Ok(c) if same_file(&c.meta, &meta) => {
                            let bytes = c.bytes.filter(|_| c.bytes_settled);
                            Ok(Cached { meta, bytes, ..c })
                        }
                        _ => Ok(Cached::new(meta, &self.open_files)),
                    },
                    Err(e) => Err(stat_errno(&e)),
                };
                e.at = now;
                i
            }
            None => {
                let result = match std::fs::metadata(crate::http::lossless::to_path(path)) {
                    Ok(meta) => Ok(Cached::new(meta, &self.open_files)),
                    Err(e) => Err(stat_errno(&e)),
                };
                if self.entries.len() >= self.max_entries {
                    self.index.clear();
                    self.entries.clear();
                }
                self.entries.push(Entry { at: now, result });
                self.index.insert(path.into(), self.entries.len() - 1);
                self.entries.len() - 1
            }
        };
        match &mut self.entries[i].result {
            Ok(c) => Ok(c),
            Err(e) => Err(*e),
        }
    }
}

/// The errno of a failed stat. A path with a NUL byte cannot be asked of
/// the kernel: it names no file (ENOENT, a 404), where 1.4.69's C string
/// stops at the NUL and looks up the name before it.
fn stat_errno(e: &std::io::Error) -> i32 {
    match e.raw_os_error() {
        Some(n) => n,
        None if e.kind() == std::io::ErrorKind::InvalidInput => libc::ENOENT,
        None => libc::EIO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_within_a_second_and_rechecks_after() {
        let dir = std::env::temp_dir().join(format!("lrs-sc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f.txt");
        let ps = p.to_string_lossy().into_owned();
        std::fs::write(&p, b"one").unwrap();
        let mut c = StatCache::default();
        assert_eq!(
            &*c.stat(&ps, 100).unwrap().small_bytes(&ps).unwrap(),
            b"one"
        );
        std::fs::write(&p, b"three").unwrap();
        // Same second: the cached answer stands.
        assert_eq!(c.stat(&ps, 100).unwrap().meta.len(), 3);
        // A later second: re-stat sees the change and drops old contents.
        assert_eq!(
            &*c.stat(&ps, 101).unwrap().small_bytes(&ps).unwrap(),
            b"three"
        );
        std::fs::remove_file(&p).unwrap();
        assert_eq!(c.stat(&ps, 102).unwrap_err(), libc::ENOENT);
        // Within the same second a missing file is looked for again.
        std::fs::write(&p, b"back").unwrap();
        assert_eq!(c.stat(&ps, 102).unwrap().meta.len(), 4);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn contents_outlive_their_second_only_once_the_file_has_settled() {
        let dir = std::env::temp_dir().join(format!("lrs-scs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (fresh, old) = (dir.join("fresh"), dir.join("old"));
        std::fs::write(&old, b"old").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2100));
        std::fs::write(&fresh, b"new").unwrap();
        let mut c = StatCache::default();
        for (p, kept) in [(&fresh, false), (&old, true)] {
            let p = p.to_str().unwrap();
            let first = c.stat(p, 100).unwrap().small_bytes(p).unwrap();
            // Within the second the same contents are served.
            let again = c.stat(p, 100).unwrap().small_bytes(p).unwrap();
            assert!(Rc::ptr_eq(&first, &again));
            // In a later second the file is the same (device, inode, size,
            // mtime, ctime): a file written a moment before the read may
            // have been written again in the same clock tick, so its
            // contents are read again; an older one's are kept.
            let later = c.stat(p, 101).unwrap().small_bytes(p).unwrap();
            assert_eq!(Rc::ptr_eq(&first, &later), kept, "{p}");
            assert_eq!(first, later);
        }
        // "disable": no look-up is answered without a stat.
        let mut d = StatCache::default().always_stat(true);
        let p = fresh.to_str().unwrap();
        assert_eq!(d.stat(p, 100).unwrap().meta.len(), 3);
        std::fs::write(&fresh, b"longer").unwrap();
        assert_eq!(d.stat(p, 100).unwrap().meta.len(), 6);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_limit_bounds_the_entries_and_so_the_open_files() {
        let dir = std::env::temp_dir().join(format!("lrs-scl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut c = StatCache::with_limit(3);
        for i in 0..10 {
            let p = dir.join(format!("f{i}"));
            std::fs::write(&p, b"x").unwrap();
            let path = p.to_str().unwrap();
            c.stat(path, 1).unwrap().file(path).unwrap();
            assert!(c.entries.len() <= 3, "{} entries", c.entries.len());
            // Each entry holds its file, counted for the out-of-fds check.
            assert_eq!(c.open_files(), c.entries.len());
        }
        // A file that changed is stat()ed again in a later second: the
        // entry lets its old descriptor go.
        let p = dir.join("f9");
        let path = p.to_str().unwrap();
        let held = c.open_files();
        std::fs::write(&p, b"longer").unwrap();
        assert_eq!(c.stat(path, 2).unwrap().meta.len(), 6);
        assert_eq!(c.open_files(), held - 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
