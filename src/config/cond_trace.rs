//! debug.log-condition-handling: the trace 1.4.69 writes while it applies
//! a request's condition blocks. It visits the blocks that hold core
//! options in config order (then, unlike 1.4.69, which waits until a
//! module reads its options, the blocks that hold only module options);
//! each one not decided yet starts a "=== start of condition block ==="
//! and is decided as 1.4.69 decides it, lazily: a nested block asks its
//! parent first ("go parent"), an else branch the branch before it ("go
//! prev"), each answer printed as "(cached)" or "(uncached)", and a
//! condition that is compared prints "<cond> compare to <value>". The
//! results themselves come from matcher::eval_blocks; this only writes
//! the lines (a unit test checks both agree). A block 1.4.69 decides only
//! when mod_staticfile reads its options (matcher::LateBlocks) is traced
//! then ([`CondTrace::run_late`]), on the URL path it sees then, and not
//! at all for a request that does not get that far.

use super::eval::{BlockCond, ConfigTree};
use super::matcher::{CondInput, LateBlocks, field_value, holds};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Res {
    True,
    False,
    Skip,
}

/// What the trace needs to know about the configuration, built once.
#[derive(Debug, Clone)]
pub struct CondTrace {
    /// Blocks in the order they are applied.
    order: Vec<usize>,
    /// Blocks decided when mod_staticfile reads its options, in order.
    late: Vec<usize>,
    /// The debug.log-condition-handling value a block sets, if any.
    sets_debug: Vec<Option<bool>>,
    /// The global value.
    global: bool,
}

impl CondTrace {
    /// None when nothing in the configuration turns the trace on.
    pub fn new(
        tree: &ConfigTree,
        is_core_key: impl Fn(&str) -> bool,
        late: Option<&LateBlocks>,
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
        // static-file.* only: decided by neither the core nor a module
        // before mod_staticfile, not even for a directory
        let decided_late = |i: usize| late.is_some_and(|l| !l.early[i] && !l.early_dir[i]);
        let (mut core, mut rest, mut at_static) = (Vec::new(), Vec::new(), Vec::new());
        for i in 1..tree.blocks.len() {
            let k = keys(i);
            if k.iter().any(|k| is_core_key(k)) {
                core.push(i);
            } else if k.is_empty() {
                // only nested blocks: decided when one of them asks
            } else if decided_late(i) {
                at_static.push(i);
            } else {
                rest.push(i);
            }
        }
        core.extend(rest);
        Some(CondTrace {
            order: core,
            late: at_static,
            sets_debug,
            global,
        })
    }

    /// Writes the trace for one request through `log`; returns each
    /// visited block's result (None: not visited) for the tests.
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
        self.visit(&mut t, &self.order);
        t.cache.iter().map(|r| r.map(|r| r == Res::True)).collect()
    }

    /// Writes the trace of the blocks decided when mod_staticfile reads
    /// its options, on `late` (the URL path it sees); the others were
    /// decided on `input` by [`CondTrace::run`] (whose lines are not
    /// written again: a parent shows as "(cached)").
    pub fn run_late(
        &self,
        tree: &ConfigTree,
        input: &CondInput<'_>,
        late: &CondInput<'_>,
        log: &mut dyn FnMut(String),
    ) {
        if self.late.is_empty() {
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
        self.visit(&mut t, &self.order);
        let mut t = Tracer {
            input: late,
            log,
            ..t
        };
        self.visit(&mut t, &self.late);
    }

    fn visit(&self, t: &mut Tracer<'_, '_>, order: &[usize]) {
        t.cache[0] = Some(Res::True);
        for &i in order {
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

    fn trace(conf: &str, url: &str, core: &[&str]) -> (Vec<String>, Vec<Option<bool>>, Vec<bool>) {
        let t = read_config(Input::Stdin(conf)).unwrap();
        let hdr = |_: &str| -> Option<&str> { None };
        let input = CondInput {
            url,
            host: "localhost:8099",
            query: "q",
            remote_ip: "127.0.0.1".parse().unwrap(),
            scheme: "http",
            method: "GET",
            socket: "127.0.0.1:8099",
            header: &hdr,
        };
        let ct = CondTrace::new(&t, |k| core.contains(&k), None).unwrap();
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
            // Ours goes on with the block holding only a module option
            // (1.4.69 traces it when mod_indexfile reads its options).
            "=== start of condition block ===",
            r#"$HTTP["querystring"] =~ "x" compare to q"#,
            r#"3 (uncached) result: false (cond: global / $HTTP["querystring"] =~ "x")"#,
        ];
        assert_eq!(lines, expected);
        for (i, r) in res.iter().enumerate() {
            assert_eq!(r.unwrap_or(false), holds[i], "block {i}");
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
