//! lighttpd-rs: a drop-in replacement for the lighttpd 1.4 web server.
//! The crate is the server; `src/main.rs` is only the command line.
//! See doc/architecture.md for the shape and doc/compat.md for what works.

#![deny(unsafe_code)]

pub mod cli;
pub mod config;
pub mod log;
pub mod plugin;
pub mod sys;
