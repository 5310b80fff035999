//! dir-listing.cache (mod_dirlisting): a generated listing is written to
//! `<cache path><directory's physical path>dirlist.html` (directories made
//! with mode 0700, the file written under a temporary name and renamed
//! into place) and served from there while it is younger than max-age.
//! An external program can force a refresh by deleting the file.

use crate::http::lossless::to_path;
use crate::reqconf::DirCache;
use std::fs::Metadata;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

/// The cache file of the directory at `physical` (which ends in `/`).
pub fn file_for(dc: &DirCache, physical: &str) -> String {
    let base = dc.path.trim_end_matches('/');
    let rel = physical.trim_start_matches('/');
    format!("{base}/{rel}dirlist.html")
}

/// A fresh cached page: its bytes, its metadata (for the ETag) and the
/// seconds it stays fresh (Cache-Control: max-age).
pub fn lookup(dc: &DirCache, physical: &str, now: i64) -> Option<(Vec<u8>, Metadata, i64)> {
    use std::os::unix::fs::MetadataExt;
    let path = to_path(&file_for(dc, physical)).into_owned();
    let m = std::fs::metadata(&path).ok()?;
    let left = m.mtime() + dc.max_age - now;
    if left < 0 || !m.is_file() {
        return None;
    }
    let page = std::fs::read(&path).ok()?;
    Some((page, m, left))
}

/// Writes `page` as the directory's cache file; the new file's metadata,
/// or None when it could not be written (the response goes out anyway).
pub fn store(dc: &DirCache, physical: &str, page: &[u8]) -> Option<Metadata> {
    let name = file_for(dc, physical);
    let dir = name.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(to_path(dir))
        .ok()?;
    let path = to_path(&name);
    let tmp = to_path(&format!("{name}.{}.tmp", std::process::id())).into_owned();
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(page).map(|()| f));
    match written.and_then(|f| std::fs::rename(&tmp, &path).map(|()| f)) {
        Ok(f) => f.metadata().ok(),
        Err(_) => {
            let _ = std::fs::remove_file(&tmp);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_then_lookup_until_max_age() {
        let root = std::env::temp_dir().join(format!("dlcache-{}", std::process::id()));
        let dc = DirCache {
            max_age: 30,
            path: root.to_str().unwrap().to_string(),
        };
        assert_eq!(
            file_for(&dc, "/srv/www/sub/"),
            format!("{}/srv/www/sub/dirlist.html", dc.path)
        );
        assert!(lookup(&dc, "/srv/www/sub/", 0).is_none());
        let m = store(&dc, "/srv/www/sub/", b"<page>").unwrap();
        use std::os::unix::fs::MetadataExt;
        let (page, _, left) = lookup(&dc, "/srv/www/sub/", m.mtime() + 10).unwrap();
        assert_eq!((page.as_slice(), left), (b"<page>".as_slice(), 20));
        assert!(lookup(&dc, "/srv/www/sub/", m.mtime() + 31).is_none());
        let mode = std::fs::metadata(root.join("srv")).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o700);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
