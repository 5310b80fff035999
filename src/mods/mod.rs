//! lighttpd's modules, one file each as they are built (mod_dirlisting's
//! page so far; mod_staticfile, mod_indexfile and mod_access live in the
//! core's static pipeline, src/response.rs, until the hook pipeline lands).

pub mod dirlisting_cache;
pub mod dirlisting_html;
pub mod fastcgi;
