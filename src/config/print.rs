//! `lighttpd -p`: the config tree printed exactly as lighttpd 1.4.69 prints
//! it. Keys padded to the longest key of their block, four spaces per level,
//! `"` shown as `\"`; arrays of at most five scalars whose first element has
//! no key on one line, others one element per line with keys padded; blocks
//! as `COND {` / `# block N` / content / `} # end of COND`, else branches
//! chained after their predecessor.

use super::eval::{Block, BlockCond, ConfigTree};
use super::value::{Array, Value};

pub fn print_tree(tree: &ConfigTree) -> String {
    let mut out = String::new();
    print_block(tree, &tree.blocks[0], &mut out, 0);
    out.push('\n');
    out
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth * 4 {
        out.push(' ');
    }
}

fn pad(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn print_block(tree: &ConfigTree, b: &Block, out: &mut String, depth: usize) {
    match &b.cond {
        BlockCond::Global => out.push_str("config {\n"),
        BlockCond::Cond { text, .. } => {
            out.push_str(text);
            out.push_str(" {\n");
        }
        BlockCond::Else { .. } => out.push_str("{\n"),
    }
    if b.index != 0 {
        indent(out, depth + 1);
        out.push_str(&format!("# block {}\n", b.index));
    }
    let depth = depth + 1;
    let maxlen = b
        .values
        .entries
        .iter()
        .map(|e| e.key.as_deref().map_or(0, str::len))
        .max()
        .unwrap_or(0);
    for e in &b.values.entries {
        indent(out, depth);
        let k = e.key.as_deref().unwrap_or("");
        out.push_str(k);
        pad(out, maxlen - k.len());
        out.push_str(" = ");
        print_value(&e.value, out, depth);
        out.push('\n');
    }
    out.push('\n');
    for &c in &b.children {
        let child = &tree.blocks[c];
        if child.prev.is_none() {
            out.push('\n');
            indent(out, depth);
            print_block(tree, child, out, depth);
            out.push('\n');
        }
    }
    let depth = depth - 1;
    indent(out, depth);
    out.push('}');
    match &b.cond {
        BlockCond::Global => {}
        BlockCond::Cond { text, .. } => {
            out.push_str(" # end of ");
            out.push_str(text);
        }
        BlockCond::Else { .. } => out.push_str(" # end of else"),
    }
    if let Some(n) = b.next {
        out.push('\n');
        indent(out, depth);
        out.push_str("else ");
        print_block(tree, &tree.blocks[n], out, depth);
    }
}

pub fn print_value(v: &Value, out: &mut String, depth: usize) {
    match v {
        Value::Str(s) => {
            out.push('"');
            for ch in s.chars() {
                if ch == '"' {
                    out.push('\\');
                }
                out.push(ch);
            }
            out.push('"');
        }
        Value::Int(n) => out.push_str(&n.to_string()),
        Value::Array(a) => print_array(a, out, depth),
    }
}

fn print_array(a: &Array, out: &mut String, depth: usize) {
    let oneline = a.len() <= 5
        && a.entries.first().is_none_or(|e| e.key.is_none())
        && a.entries
            .iter()
            .all(|e| !matches!(e.value, Value::Array(_)));
    if oneline {
        out.push('(');
        for (i, e) in a.entries.iter().enumerate() {
            if i != 0 {
                out.push_str(", ");
            }
            print_value(&e.value, out, depth + 1);
        }
        out.push(')');
        return;
    }
    let maxlen = a
        .entries
        .iter()
        .map(|e| e.key.as_deref().map_or(0, str::len))
        .max()
        .unwrap_or(0);
    out.push_str("(\n");
    for e in &a.entries {
        indent(out, depth + 1);
        if let Some(k) = &e.key {
            out.push('"');
            out.push_str(k);
            out.push('"');
            pad(out, maxlen - k.len());
            out.push_str(" => ");
        }
        print_value(&e.value, out, depth + 1);
        out.push_str(",\n");
    }
    indent(out, depth);
    out.push(')');
}

#[cfg(test)]
mod tests {
    use super::super::eval::{Input, read_config};
    use super::*;

    fn printed(text: &str) -> String {
        let t = read_config(Input::Stdin(text)).unwrap();
        print_tree(&t)
            .lines()
            .filter(|l| !l.contains("var.CWD") && !l.contains("var.PID"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn arrays_one_line_or_many() {
        let p = printed("a = (\"x\", \"k\" => \"v\")\nb = (\"k\" => \"v\")\n");
        assert!(p.contains("var.a   = (\"x\", \"v\")"), "{p}");
        assert!(
            p.contains("var.b   = (\n        \"k\" => \"v\",\n    )"),
            "{p}"
        );
    }

    #[test]
    fn blocks_and_else() {
        let p = printed("$HTTP[\"url\"] =~ \"^/foo\" {\n x = 1\n} else {\n}\n");
        let want = "config {\n\n\n    $HTTP[\"url\"] =^ \"/foo\" {\n        # block 1\n        var.x = 1\n\n    } # end of $HTTP[\"url\"] =^ \"/foo\"\n    else {\n        # block 2\n\n    } # end of else\n}";
        assert_eq!(p, want);
    }

    #[test]
    fn quotes_escaped() {
        let p = printed("a = \"x\\\"y\\\\z\"\n");
        assert!(p.contains(r#"var.a   = "x\"y\\z""#), "{p}");
    }
}
