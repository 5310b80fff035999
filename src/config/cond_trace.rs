//! debug.log-condition-handling: the trace 1.4.69 writes while it applies
//! a request's condition blocks. A block is decided (and traced) by the
//! first reader of an option it holds ([`Stage`]): the core at the start
//! of the request, in config order, then the modules, each when it reads
//! its options for the request — or never, for a request that does not
//! get that far. Each one not decided yet starts a "=== start of condition block ==="
//! and is decided as 1.4.69 decides it, lazily: a nested block asks its
//! parent first ("go parent"), an else branch the branch before it ("go
//! prev"), each answer printed as "(cached)" or "(uncached)", and a
//! condition that is compared prints "<cond> compare to <value>". The
//! results themselves come from matcher::eval_blocks; this only writes
//! the lines (a unit test checks both agree). A block holding only
//! static-file.* options is traced on the URL path mod_staticfile sees
//! (matcher::LateBlocks decides it on that path too).

use super::eval::{BlockCond, ConfigTree};
use super::matcher::{CondInput, field_value, holds};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Res {
    True,
    False,
    Skip,
}

/// When 1.4.69 first reads an option, so decides the blocks holding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// The core, before any module (the request's URL).
    Core,
    /// Modules at the URL stage (mod_access, mod_fastcgi; modules we do
    /// not run are counted here too).
    Url,
    /// mod_alias, at the physical stage (also for a request mod_fastcgi
    /// took at the URL stage).
    Physical,
    /// mod_indexfile, for a URL path ending in `/`.
    IndexFile,
    /// mod_dirlisting, for such a path without an index file (GET, HEAD).
    DirListing,
    /// mod_staticfile (GET, HEAD, POST, QUERY), on the URL path it sees.
    Static,
}

impl Stage {
    const COUNT: usize = 6;

    /// The stage's bit in a set of stages traced for one request.
    pub fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// What the trace needs to know about the configuration, built once.
#[derive(Debug, Clone)]
pub struct CondTrace {
    /// The blocks each stage decides, in config order.
    stages: [Vec<usize>; Stage::COUNT],
    /// The debug.log-condition-handling value a block sets, if any.
    sets_debug: Vec<Option<bool>>,
    /// The global value.
    global: bool,
}

impl CondTrace {
    /// None when nothing in the configuration turns the trace on.
    /// `stage_of_key`: the stage that first reads a key, and the place
    /// of its reader among the modules of that stage (1.4.69 runs them in
    /// server.modules order, each deciding its blocks in config order);
    /// None: nothing reads it, so it decides nothing.
    pub fn new(
        tree: &ConfigTree,
        stage_of_key: impl Fn(&str) -> Option<(Stage, usize)>,
    ) -> Option<CondTrace> {
        const KEY: &str = "debug.log-condition-handling";
        let sets_debug: Vec<Option<bool>> = tree
            .blocks
            .iter()
            .map(|b| b.values.get(KEY).and_then(crate::config::scoped::to_bool))
            .collect();
        let global = sets_debug[0].unwrap_or(false);
        if !global && !sets_debug[1..].contains(&Some(true)) {
            return None;
        }
        let keys = |i: usize| -> Vec<String> {
            tree.blocks[i]
                .values
                .entries
                .iter()
                .filter_map(|e| e.key.clone())
                .collect()
        };
        let mut by_stage: [Vec<(usize, usize)>; Stage::COUNT] = Default::default();
        for i in 1..tree.blocks.len() {
            // (a block holding only nested blocks is decided when one of
            // them asks)
            if let Some((stage, rank)) = keys(i).iter().filter_map(|k| stage_of_key(k)).min() {
                by_stage[stage as usize].push((rank, i));
            }
        }
        let stages = by_stage.map(|mut v| {
            v.sort();
            v.into_iter().map(|(_, i)| i).collect()
        });
        Some(CondTrace {
            stages,
            sets_debug,
            global,
        })
    }

    /// Writes the trace of the core's blocks, at the start of a request,
    /// through `log`; returns each visited block's result (None: not
    /// visited) for the tests.
    pub fn run(
        &self,
        tree: &ConfigTree,
        input: &CondInput<'_>,
        log: &mut dyn FnMut(String),
    ) -> Vec<Option<bool>> {
        let mut t = Tracer {
            tree,
            input,
            cache: vec![None; tree.blocks.len()],
            debug: self.global,
            log,
        };
        self.visit(&mut t, Stage::Core);
        t.cache.iter().map(|r| r.map(|r| r == Res::True)).collect()
    }

    /// Writes the trace of the blocks `stage` decides, on `now` (the
    /// request with the URL path the module sees). The core, the URL
    /// stage when `stage` comes after it, and the stages in `ran` came
    /// first, on `input`; their lines are not written again (a parent
    /// they decided shows as "(cached)").
    pub fn run_stage(
        &self,
        tree: &ConfigTree,
        stage: Stage,
        ran: &[Stage],
        input: &CondInput<'_>,
        now: &CondInput<'_>,
        log: &mut dyn FnMut(String),
    ) {
        if self.stages[stage as usize].is_empty() {
            return;
        }
        let mut quiet = |_: String| {};
        let mut t = Tracer {
            tree,
            input,
            cache: vec![None; tree.blocks.len()],
            debug: self.global,
            log: &mut quiet,
        };
        let before = [Stage::Core, Stage::Url].into_iter().filter(|&s| s < stage);
        for s in before.chain(ran.iter().copied()) {
            self.visit(&mut t, s);
        }
        let mut t = Tracer {
            input: now,
            log,
            ..t
        };
        self.visit(&mut t, stage);
    }

    fn visit(&self, t: &mut Tracer<'_, '_>, stage: Stage) {
        t.cache[0] = Some(Res::True);
        for &i in &self.stages[stage as usize] {
            let res = match t.cache[i] {
                Some(r) => r,
                None => {
                    if t.debug {
                        (t.log)("=== start of condition block ===".to_string());
                    }
                    t.calc(i)
                }
            };
            // A block that holds and sets the switch changes it for the
            // blocks applied after it.
            if res == Res::True
                && let Some(on) = self.sets_debug[i]
            {
                t.debug = on;
            }
        }
    }
}

struct Tracer<'a, 'i> {
    tree: &'a ConfigTree,
    input: &'a CondInput<'i>,
    cache: Vec<Option<Res>>,
    debug: bool,
    log: &'a mut dyn FnMut(String),
}

impl Tracer<'_, '_> {
    fn cached(&mut self, i: usize) -> Res {
        match self.cache[i] {
            Some(r) => {
                self.result_line(i, r, true);
                r
            }
            None => self.calc(i),
        }
    }

    fn calc(&mut self, i: usize) -> Res {
        let r = self.decide(i);
        self.cache[i] = Some(r);
        self.result_line(i, r, false);
        r
    }

    fn decide(&mut self, i: usize) -> Res {
        let b = &self.tree.blocks[i];
        if let Some(p) = b.parent.filter(|&p| p != 0) {
            self.line(format!("go parent {}", self.tree.blocks[p].key));
            if self.cached(p) != Res::True {
                return Res::Skip;
            }
        }
        if let Some(p) = b.prev {
            self.line(format!("go prev {}", self.tree.blocks[p].key));
            if self.cached(p) != Res::False {
                return Res::Skip;
            }
        }
        match &b.cond {
            BlockCond::Global | BlockCond::Else { .. } => Res::True,
            BlockCond::Cond { field, text, .. } => {
                let subject = field_value(field, self.input);
                self.line(format!("{text} compare to {subject}"));
                if holds(&b.cond, self.input) {
                    Res::True
                } else {
                    Res::False
                }
            }
        }
    }

    fn result_line(&mut self, i: usize, r: Res, cached: bool) {
        let what = match r {
            Res::True => "true",
            Res::False => "false",
            Res::Skip => "skipped",
        };
        let how = if cached { "cached" } else { "uncached" };
        let key = &self.tree.blocks[i].key;
        self.line(format!("{i} ({how}) result: {what} (cond: {key})"));
    }

    fn line(&mut self, s: String) {
        if self.debug {
            (self.log)(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::eval::{Input, read_config};
    use crate::config::matcher::eval_blocks;

    /// A GET of `url` from 127.0.0.1 to localhost:8099, query "q".
    fn request<'a>(url: &'a str, header: &'a dyn Fn(&str) -> Option<&'a str>) -> CondInput<'a> {
        CondInput {
            url,
            host: "localhost:8099",
            query: "q",
            remote_ip: "127.0.0.1".parse().unwrap(),
            scheme: "http",
            method: "GET",
            socket: "127.0.0.1:8099",
            header,
        }
    }

    fn trace(conf: &str, url: &str, core: &[&str]) -> (Vec<String>, Vec<Option<bool>>, Vec<bool>) {
        let t = read_config(Input::Stdin(conf)).unwrap();
        let hdr = |_: &str| -> Option<&str> { None };
        let input = request(url, &hdr);
        let ct = CondTrace::new(&t, |k| match k {
            _ if core.contains(&k) => Some((Stage::Core, 0)),
            "index-file.names" => Some((Stage::IndexFile, 0)),
            _ => Some((Stage::Url, 0)),
        })
        .unwrap();
        let mut lines = Vec::new();
        let res = ct.run(&t, &input, &mut |s| lines.push(s));
        (lines, res, eval_blocks(&t, &input))
    }

    /// The configuration and request of a run of 1.4.69, whose error log
    /// lines (without time and origin) are the expected ones.
    const CONF: &str = r#"debug.log-condition-handling = "enable"
$HTTP["url"] =~ "^/d(i)r/" { server.tag = "a" }
else { server.tag = "b" }
$HTTP["querystring"] =~ "x" { index-file.names = ("a") }
$HTTP["host"] != "" {
  $HTTP["url"] =~ "\.txt$" { server.tag = "txt" }
  else $HTTP["request-method"] == "HEAD" { server.tag = "txt" }
}
"#;

    #[test]
    fn lines_as_1_4_69_writes_them() {
        let (lines, res, holds) = trace(CONF, "/hello.txt", &["server.tag"]);
        let expected = [
            "=== start of condition block ===",
            r#"$HTTP["url"] =~ "^/d(i)r/" compare to /hello.txt"#,
            r#"1 (uncached) result: false (cond: global / $HTTP["url"] =~ "^/d(i)r/")"#,
            "=== start of condition block ===",
            r#"go prev global / $HTTP["url"] =~ "^/d(i)r/""#,
            r#"1 (cached) result: false (cond: global / $HTTP["url"] =~ "^/d(i)r/")"#,
            r#"2 (uncached) result: true (cond: global / $HTTP["url"] !~ "^/d(i)r/")"#,
            "=== start of condition block ===",
            r#"go parent global / $HTTP["host"] != """#,
            r#"$HTTP["host"] != "" compare to localhost:8099"#,
            r#"4 (uncached) result: true (cond: global / $HTTP["host"] != "")"#,
            r#"$HTTP["url"] =$ ".txt" compare to /hello.txt"#,
            r#"5 (uncached) result: true (cond: global / $HTTP["host"] != "" / $HTTP["url"] =$ ".txt")"#,
            "=== start of condition block ===",
            r#"go parent global / $HTTP["host"] != """#,
            r#"4 (cached) result: true (cond: global / $HTTP["host"] != "")"#,
            r#"go prev global / $HTTP["host"] != "" / $HTTP["url"] =$ ".txt""#,
            r#"5 (cached) result: true (cond: global / $HTTP["host"] != "" / $HTTP["url"] =$ ".txt")"#,
            r#"6 (uncached) result: skipped (cond: global / $HTTP["host"] != "" / $HTTP["request-method"] == "HEAD")"#,
            // (the block holding only index-file.names waits for
            // mod_indexfile)
        ];
        assert_eq!(lines, expected);
        for (i, r) in res.iter().enumerate() {
            assert_eq!(r.unwrap_or(false), holds[i], "block {i}");
        }
    }

    #[test]
    fn a_module_stage_is_traced_on_its_own_url_with_earlier_parents_cached() {
        let conf = r#"debug.log-condition-handling = "enable"
$HTTP["host"] != "" {
  server.tag = "h"
  $HTTP["url"] =$ ".txt" { static-file.etags = "disable" }
}
$HTTP["url"] =^ "/d/" { index-file.names = ( "i" ) }
"#;
        let t = read_config(Input::Stdin(conf)).unwrap();
        let ct = CondTrace::new(&t, |k| match k {
            "server.tag" => Some((Stage::Core, 0)),
            "index-file.names" => Some((Stage::IndexFile, 0)),
            _ => Some((Stage::Static, 0)),
        })
        .unwrap();
        let hdr = |_: &str| -> Option<&str> { None };
        let input = request("/a.txt/x", &hdr);
        let now = CondInput {
            url: "/a.txt",
            ..input
        };
        let mut lines = Vec::new();
        ct.run(&t, &input, &mut |s| lines.push(s));
        assert_eq!(lines.len(), 3, "{lines:?}");
        lines.clear();
        ct.run_stage(
            &t,
            Stage::Static,
            &[Stage::Physical],
            &input,
            &now,
            &mut |s| lines.push(s),
        );
        assert_eq!(
            lines,
            [
                "=== start of condition block ===",
                r#"go parent global / $HTTP["host"] != """#,
                r#"1 (cached) result: true (cond: global / $HTTP["host"] != "")"#,
                r#"$HTTP["url"] =$ ".txt" compare to /a.txt"#,
                r#"2 (uncached) result: true (cond: global / $HTTP["host"] != "" / $HTTP["url"] =$ ".txt")"#,
            ]
        );
        // the index-file block is not the static stage's
        lines.clear();
        ct.run_stage(
            &t,
            Stage::IndexFile,
            &[Stage::Physical],
            &input,
            &input,
            &mut |s| lines.push(s),
        );
        assert_eq!(lines[1], r#"$HTTP["url"] =^ "/d/" compare to /a.txt/x"#);
    }

    #[test]
    fn a_stage_goes_module_by_module_in_server_modules_order() {
        let conf = r#"debug.log-condition-handling = "enable"
$HTTP["url"] =^ "/f" { fastcgi.debug = 0 }
$HTTP["url"] =^ "/a" { url.access-deny = ( "x" ) }
$HTTP["url"] =^ "/b" { fastcgi.debug = 0 }
"#;
        let t = read_config(Input::Stdin(conf)).unwrap();
        let hdr = |_: &str| -> Option<&str> { None };
        let input = request("/z", &hdr);
        // mod_access listed before mod_fastcgi, then after it
        for (access, fastcgi, want) in [(1, 2, ["/a", "/f", "/b"]), (2, 1, ["/f", "/b", "/a"])] {
            let ct = CondTrace::new(&t, |k| match k {
                "url.access-deny" => Some((Stage::Url, access)),
                _ => Some((Stage::Url, fastcgi)),
            })
            .unwrap();
            let mut lines = Vec::new();
            ct.run_stage(&t, Stage::Url, &[], &input, &input, &mut |s| lines.push(s));
            let order: Vec<&str> = lines
                .iter()
                .filter_map(|l| l.strip_prefix(r#"$HTTP["url"] =^ ""#))
                .map(|l| &l[..2])
                .collect();
            assert_eq!(order, want);
        }
    }

    #[test]
    fn results_agree_with_the_evaluator() {
        for url in ["/dir/x", "/a.txt", "/", "/dir/a.txt"] {
            let (_, res, holds) = trace(CONF, url, &["server.tag"]);
            for (i, r) in res.iter().enumerate() {
                assert_eq!(r.unwrap_or(false), holds[i], "{url} block {i}");
            }
        }
    }

    #[test]
    fn a_block_can_turn_the_trace_on_for_what_follows() {
        let conf = r#"$HTTP["url"] =^ "/a" { debug.log-condition-handling = "enable" }
$HTTP["url"] =^ "/b" { server.tag = "b" }
"#;
        let keys = ["server.tag", "debug.log-condition-handling"];
        let (lines, _, _) = trace(conf, "/a", &keys);
        assert_eq!(
            lines,
            [
                "=== start of condition block ===",
                r#"$HTTP["url"] =^ "/b" compare to /a"#,
                r#"2 (uncached) result: false (cond: global / $HTTP["url"] =^ "/b")"#,
            ]
        );
        let (lines, _, _) = trace(conf, "/x", &keys);
        assert!(lines.is_empty(), "{lines:?}");
    }
}
