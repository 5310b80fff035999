//! Unit tests of parse.rs.

use super::*;

fn kinds(src: &str) -> Vec<Tok> {
    tokenize("t", src)
        .unwrap()
        .into_iter()
        .map(|t| t.tok)
        .collect()
}

#[test]
fn string_escape_only_quote() {
    assert_eq!(
        kinds(r#""a\"b\\c\n""#),
        vec![Tok::Str(r#"a"b\\c\n"#.into())]
    );
}

#[test]
fn newlines_and_comments_collapse() {
    assert_eq!(
        kinds("a = 1\n\n# c\n  \nb = 2"),
        vec![
            Tok::Key("a".into()),
            Tok::Assign,
            Tok::Int("1".into()),
            Tok::Eol,
            Tok::Key("b".into()),
            Tok::Assign,
            Tok::Int("2".into())
        ]
    );
}

#[test]
fn newline_in_parens_is_blank_and_comma_outside_ignored() {
    assert_eq!(
        kinds("a = (1,\n 2),"),
        vec![
            Tok::Key("a".into()),
            Tok::Assign,
            Tok::LParen,
            Tok::Int("1".into()),
            Tok::Comma,
            Tok::Int("2".into()),
            Tok::RParen
        ]
    );
}

#[test]
fn curly_implies_eol() {
    let k = kinds("$HTTP[\"url\"] == \"/\" { } else { }");
    assert!(
        k.windows(3)
            .any(|w| w == [Tok::RCurly, Tok::Eol, Tok::Else])
    );
}

#[test]
fn lexer_errors() {
    for (src, msg) in [
        ("a = \"x", "missing closing quote"),
        ("a = 1;", "invalid character in variable name"),
        ("a = (\"k\" = 1)", "use => for assignments in arrays"),
        (
            "$HTTP[\"url\"] = \"x\" {}",
            "only == =~ =^ =$ are allowed in the condition",
        ),
        ("a : 1", "unexpected character ':'"),
    ] {
        let e = tokenize("t", src).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Lex(msg), "{src}");
    }
}

#[test]
fn integers_wrap_like_c_int() {
    let s = parse("t", "a = 3000000000").unwrap();
    let Stmt::Assign {
        value: Expr::Literal(v, _),
        ..
    } = &s[0]
    else {
        panic!()
    };
    assert_eq!(*v, Value::Int(-1294967296));
    assert!(parse("t", "a = 99999999999999999999").is_err());
}

#[test]
fn keys_get_var_prefix() {
    let s = parse("t", "x = y").unwrap();
    let Stmt::Assign {
        key,
        value: Expr::Ref(r, _),
        ..
    } = &s[0]
    else {
        panic!()
    };
    assert_eq!((key.as_str(), r.as_str()), ("var.x", "var.y"));
}

#[test]
fn else_chains_and_head_keywords() {
    for src in [
        "$HTTP[\"url\"] == \"/a\" { } else $HTTP[\"url\"] == \"/b\" { } else { }",
        "if $HTTP[\"url\"] == \"/a\" { }\nelif $HTTP[\"url\"] == \"/b\" { }\nelse { }",
        "$HTTP[\"url\"] == \"/a\" { } else if $HTTP[\"url\"] == \"/b\" { } else { }",
    ] {
        let s = parse("t", src).unwrap();
        let Stmt::Cond { branches } = &s[0] else {
            panic!()
        };
        assert_eq!(branches.len(), 3, "{src}");
        assert!(branches[2].cond.is_none());
    }
}

#[test]
fn two_values_on_a_line_is_an_error() {
    assert!(parse("t", "a = \"x\" \"y\"").is_err());
    assert!(parse("t", "a = 1 b = 2").is_ok());
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("a = {}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(parse("t", &deep).is_err());
    let blocks = "$HTTP[\"url\"] == \"/\" {\n".repeat(1000);
    assert!(parse("t", &blocks).is_err());
    let long_sum = format!("a = 1{}", " + 1".repeat(100_000));
    assert!(parse("t", &long_sum).is_ok());
}

#[test]
fn unclosed_block_is_an_error() {
    assert!(parse("t", "$HTTP[\"url\"] == \"/\" {\n a = 1\n").is_err());
    assert!(parse("t", "}").is_err());
}
