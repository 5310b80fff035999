//! Any bytes as a lighttpd.conf: the tokenizer, parser, evaluator and the
//! `-p` printer must answer with a value or an error, never a panic, a hang
//! or a stack overflow. Includes are refused (Input::Sandboxed) so fuzz
//! input cannot run commands or read files.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lighttpd::config::{eval, print};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(tree) = eval::read_config(eval::Input::Sandboxed(&text)) {
        let _ = print::print_tree(&tree);
    }
});
