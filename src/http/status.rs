//! HTTP status codes: the reason phrases lighttpd 1.4.69 puts in status lines
//! and the built-in XHTML error page it sends for 4xx/5xx responses.
//!
//! Phrases follow IANA as lighttpd spells them (`413 Payload Too Large`,
//! `207 Multi-status`, `306 (Unused)`). A code without a phrase is written as
//! the number and a trailing space (`599 `), in the status line and in the
//! error page alike. The page is fixed text with LF line endings and the
//! status text twice, so its length is 315 + 2 x len("NNN Reason").

/// The reason phrase for `code`, or "" when lighttpd knows none.
pub fn reason(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        306 => "(Unused)",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "",
    }
}

/// The status text after `HTTP/1.x `: `404 Not Found`, or `599 ` for a code
/// without a phrase.
pub fn status_line_text(code: u16) -> String {
    format!("{code} {}", reason(code))
}

/// The built-in error page body for `code` (served as `text/html`).
pub fn error_page(code: u16) -> String {
    let s = status_line_text(code);
    format!(
        "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n\
         <!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n         \
         \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n\
         <html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n \
         <head>\n  \
         <title>{s}</title>\n \
         </head>\n \
         <body>\n  \
         <h1>{s}</h1>\n \
         </body>\n\
         </html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_text() {
        assert_eq!(status_line_text(200), "200 OK");
        assert_eq!(status_line_text(404), "404 Not Found");
        assert_eq!(status_line_text(413), "413 Payload Too Large");
        assert_eq!(status_line_text(431), "431 Request Header Fields Too Large");
        assert_eq!(status_line_text(207), "207 Multi-status");
        assert_eq!(status_line_text(599), "599 ");
        assert_eq!(status_line_text(0), "0 ");
        assert_eq!(status_line_text(u16::MAX), "65535 ");
        assert_eq!(reason(418), "");
        assert_eq!(reason(304), "Not Modified");
    }

    #[test]
    fn error_page_is_byte_identical_to_reference() {
        // body of the reference's 416 for "Range: bytes=-0"
        let want = r#"<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>416 Range Not Satisfiable</title>
 </head>
 <body>
  <h1>416 Range Not Satisfiable</h1>
 </body>
</html>
"#;
        assert_eq!(error_page(416), want);
    }

    #[test]
    fn error_page_lengths_match_reference() {
        for (code, len) in [
            (404, 341),
            (400, 345),
            (501, 353),
            (413, 357),
            (412, 361),
            (416, 365),
            (505, 375),
            (431, 385),
        ] {
            assert_eq!(error_page(code).len(), len, "{code}");
        }
        assert_eq!(error_page(599).len(), 315 + 2 * 4);
        assert!(error_page(599).contains("<title>599 </title>"));
    }
}
