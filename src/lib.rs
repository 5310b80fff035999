//! lighttpd-rs: a drop-in replacement for the lighttpd 1.4 web server.
//! The crate is the server; `src/main.rs` is only the command line.
//! See doc/architecture.md for the shape and doc/compat.md for what works.

#![deny(unsafe_code)]

pub mod chunk;
pub mod cli;
pub mod config;
pub mod conn;
pub mod conn_backend;
pub mod gw;
pub mod http;
pub mod listen;
pub mod log;
pub mod mods;
pub mod plugin;
pub mod reqbody;
pub mod reqconf;
pub mod response;
pub mod server;
pub mod stat_cache;
pub mod stream;
pub mod sys;
pub mod workers;

/// The Server header and `server started (...)` text, as lighttpd 1.4.69's.
pub const DEFAULT_SERVER_TAG: &str = "lighttpd/1.4.69";
