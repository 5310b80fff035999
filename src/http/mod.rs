//! Pure HTTP pieces, shared by the core and the modules (and later CGI,
//! SCGI and proxy): request-head parsing, URI normalization, chunked
//! decoding, dates, ETags, MIME lookup, ranges, conditional requests,
//! status texts and error pages. No I/O here.

pub mod backend_resp;
pub mod cgi_env;
pub mod chunked;
pub mod conditional;
pub mod date;
pub mod etag;
pub mod host;
pub mod lossless;
pub mod mime;
pub mod range;
pub mod request;
pub mod sendfile2;
pub mod status;
pub mod uri;
