//! Any bytes as a lighttpd.conf: the tokenizer, parser, evaluator and the
//! `-p` printer must answer with a value or an error, never a panic, a hang
//! or a stack overflow. Includes are refused (Input::Sandboxed) so fuzz
//! input cannot run commands or read files. A tree that evaluates is also
//! compiled into per-block settings (module options such as fastcgi.server,
//! alias.url, dir-listing.*) and its conditions are evaluated and traced
//! (debug.log-condition-handling) for one request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lighttpd::config::cond_trace::{CondTrace, Stage};
use lighttpd::config::matcher::{CondInput, eval_blocks};
use lighttpd::config::{eval, print};
use lighttpd::reqconf::CompiledConf;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(tree) = eval::read_config(eval::Input::Sandboxed(&text)) else {
        return;
    };
    let _ = print::print_tree(&tree);
    let modules: Vec<String> = [
        "mod_indexfile",
        "mod_access",
        "mod_alias",
        "mod_fastcgi",
        "mod_dirlisting",
        "mod_staticfile",
    ]
        .iter()
        .map(|m| m.to_string())
        .collect();
    let _ = CompiledConf::compile(&tree, &modules);
    let header = |_: &str| -> Option<&str> { Some("fuzz/1.0") };
    let input = CondInput {
        url: "/a/b.php",
        host: "example.org:8080",
        query: "x=1",
        remote_ip: "127.0.0.1".parse().unwrap(),
        scheme: "http",
        method: "GET",
        socket: "127.0.0.1:8080",
        header: &header,
    };
    let holds = eval_blocks(&tree, &input);
    if let Some(t) = CondTrace::new(&tree, |k| lighttpd::server::stage_of_key(k, &modules)) {
        let traced = t.run(&tree, &input, &mut |_| {});
        for (i, r) in traced.iter().enumerate() {
            if let Some(r) = r {
                assert_eq!(*r, holds[i], "the trace and the evaluator disagree on block {i}");
            }
        }
        // The later stages, each after those before it, on the URL path
        // a module sees (an index file added).
        let now = CondInput {
            url: "/a/b.php/index.html",
            ..input
        };
        let order = [
            Stage::Url,
            Stage::Physical,
            Stage::IndexFile,
            Stage::DirListing,
            Stage::Static,
        ];
        for (k, &stage) in order.iter().enumerate() {
            t.run_stage(&tree, stage, &order[..k], &input, &now, &mut |_| {});
        }
    }
});
