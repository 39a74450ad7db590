//! YAML text of a JSON value, byte for byte what `serde_yaml::to_string` writes, without its
//! cost per scalar, except where serde_yaml's text would mean something else to Kubernetes.
//!
//! Argo CD reads the committed files with sigs.k8s.io/yaml, whose YAML 1.1 reads a plain `yes`,
//! `on`, `y` or `1_000` as a boolean or a number; serde_yaml (YAML 1.2) writes those strings
//! plain. So such a string is single-quoted here (`'yes'`), as serde_yaml quotes `'true'`, and
//! a document whose keys send it to serde_yaml whole is written as JSON (which YAML reads
//! alike in both versions) when it holds such a string.
//!
//! serde_yaml drives a port of libyaml's emitter and, for every string, first tries to parse
//! it as a null, a boolean or a number to decide whether it needs quotes. Most strings of a
//! manifest are names, labels and paths that need neither, and the block layout of mappings
//! and sequences is fixed. So this writes the layout itself, and each scalar whose plain form
//! is certain by the rules below; any other scalar (quoted, a literal block, a float) is
//! written by serde_yaml on its own and spliced in, and a mapping key that is not certainly
//! plain sends the whole document to serde_yaml. A test compares the two on every rendered
//! file and on values chosen to hit each rule.
//!
//! The rules, from serde_yaml 0.9 `Serializer::serialize_str` and libyaml's
//! `yaml_emitter_analyze_scalar` as unsafe-libyaml 0.2 ports it (block context, unlimited
//! width): a string is plain when it is not empty, has no line break, no leading or trailing
//! space, only printable ASCII, does not start with an indicator (`#,[]{}&*!|>'"%@` and a
//! backquote, or `-`, `?`, `:` followed by a space or the end, or `---`/`...`), has no `: `
//! or trailing `:` and no ` #`, and would not read back as a null, a boolean or a number.
//!
//! [`serialize`] writes the same text straight from a typed value (a k8s-openapi object),
//! with no JSON value built in between.

mod serializer;

use std::fmt::Write as _;

use platform_syntax::yaml_scalar::{plain_by_its_characters, typed};
use platform_syntax::yaml11::plain_is_string;
use serde_json::Value;

pub use serializer::serialize;

/// The YAML document of `value`, as `serde_yaml::to_string` writes it.
pub fn to_string(value: &Value) -> String {
    let mut out = String::with_capacity(1024);
    match value {
        Value::Object(map) if !map.is_empty() => {
            if !map.keys().all(|k| key_written_here(k)) {
                return document_fallback(value);
            }
            if !write_mapping(&mut out, map, 0) {
                return document_fallback(value);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            if !write_sequence(&mut out, items, 0) {
                return document_fallback(value);
            }
        }
        _ => return document_fallback(value),
    }
    out
}

/// A whole document serde_yaml writes: as it writes it, unless it holds a string serde_yaml
/// would leave plain and Kubernetes would read as another type; then as JSON, which both read
/// alike.
pub(super) fn document_fallback(value: &Value) -> String {
    if holds_a_string_kubernetes_reads_otherwise(value) {
        let mut json = serde_json::to_string_pretty(value).expect("a JSON value prints");
        json.push('\n');
        return json;
    }
    fallback(value)
}

fn holds_a_string_kubernetes_reads_otherwise(value: &Value) -> bool {
    let misread =
        |text: &str| plain_by_its_characters(text) && !typed(text) && !plain_is_string(text);
    match value {
        Value::String(text) => misread(text),
        Value::Array(items) => items.iter().any(holds_a_string_kubernetes_reads_otherwise),
        Value::Object(map) => map
            .iter()
            .any(|(key, value)| misread(key) || holds_a_string_kubernetes_reads_otherwise(value)),
        _ => false,
    }
}

fn fallback<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_yaml::to_string(value).unwrap_or_else(|error| panic!("value does not serialize: {error}"))
}

fn indent(out: &mut String, width: usize) {
    out.extend(std::iter::repeat_n(' ', width));
}

/// The entries of a non-empty mapping, each key at column `at`, the first one where the
/// caller left the cursor. `false` when a nested key is not certainly plain.
fn write_mapping(out: &mut String, map: &serde_json::Map<String, Value>, at: usize) -> bool {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            indent(out, at);
        }
        if !write_key(out, key) {
            return false;
        }
        match value {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                indent(out, at + 2);
                if !write_mapping(out, inner, at + 2) {
                    return false;
                }
            }
            // A sequence in a mapping is not indented: its dashes line up with the key.
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                indent(out, at);
                if !write_sequence(out, items, at) {
                    return false;
                }
            }
            scalar => {
                out.push(' ');
                write_scalar(out, scalar, at + 2);
            }
        }
    }
    true
}

/// The items of a non-empty sequence, each dash at column `at`, the first one where the
/// caller left the cursor.
fn write_sequence(out: &mut String, items: &[Value], at: usize) -> bool {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            indent(out, at);
        }
        out.push_str("- ");
        let written = match item {
            Value::Object(inner) if !inner.is_empty() => write_mapping(out, inner, at + 2),
            Value::Array(inner) if !inner.is_empty() => write_sequence(out, inner, at + 2),
            scalar => {
                write_scalar(out, scalar, at + 2);
                true
            }
        };
        if !written {
            return false;
        }
    }
    true
}

/// A scalar (or an empty collection) after `key: ` or `- `, then the line's end. A literal
/// block's lines are indented to `block`.
fn write_scalar(out: &mut String, value: &Value, block: usize) {
    match value {
        Value::Null => out.push_str("null\n"),
        Value::Bool(true) => out.push_str("true\n"),
        Value::Bool(false) => out.push_str("false\n"),
        Value::Number(number) if number.is_i64() || number.is_u64() => {
            let _ = writeln!(out, "{number}");
        }
        Value::String(text) => write_str(out, text, block),
        Value::Object(_) => out.push_str("{}\n"),
        Value::Array(_) => out.push_str("[]\n"),
        other => splice(out, &fallback(other), block),
    }
}

/// A string scalar, then the line's end: plain or single-quoted where that is certain, else
/// as serde_yaml writes it.
fn write_str(out: &mut String, text: &str, block: usize) {
    if plain(text) {
        out.push_str(text);
        out.push('\n');
    } else if single_quoted(text) {
        out.push('\'');
        out.push_str(&text.replace('\'', "''"));
        out.push_str("'\n");
    } else {
        splice(out, &fallback(text), block);
    }
}

/// serde_yaml's document of one scalar, put where the scalar goes: its first line after the
/// indicator, a literal block's lines moved from column 2 to `block` (empty lines stay
/// empty, as libyaml writes them).
fn splice(out: &mut String, document: &str, block: usize) {
    let mut lines = document.lines();
    if let Some(first) = lines.next() {
        out.push_str(first);
        out.push('\n');
    }
    for line in lines {
        if let Some(content) = line.strip_prefix("  ") {
            indent(out, block);
            out.push_str(content);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// Whether serde_yaml certainly writes `text` in single quotes: a line of printable ASCII
/// (libyaml allows single quotes for it and, with no line width set, never folds it) that
/// libyaml will not leave plain, or that serde_yaml reads back as another type.
fn single_quoted(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| (0x20..0x7f).contains(&b))
        && (!plain_by_its_characters(text) || typed(text) || !plain_is_string(text))
}

/// A mapping key serde_yaml writes plain, as an implicit key (at most 128 characters).
fn plain_key(key: &str) -> bool {
    key.len() <= 128 && plain(key)
}

/// A key plain by its characters that only its type makes quoted: serde_yaml writes `'true':`
/// as it writes `'true'` as a value, and Kubernetes needs `'y':` (plain, a boolean to it).
fn quoted_key(key: &str) -> bool {
    key.len() <= 128 && plain_by_its_characters(key) && single_quoted(key)
}

/// Whether this writer writes `key` itself, plain or quoted; else serde_yaml writes the
/// document.
pub(super) fn key_written_here(key: &str) -> bool {
    plain_key(key) || quoted_key(key)
}

/// `key:`, plain or single-quoted; `false` (nothing written) for a key serde_yaml must write.
pub(super) fn write_key(out: &mut String, key: &str) -> bool {
    if plain_key(key) {
        out.push_str(key);
    } else if quoted_key(key) {
        out.push('\'');
        out.push_str(&key.replace('\'', "''"));
        out.push('\'');
    } else {
        return false;
    }
    out.push(':');
    true
}

/// Whether serde_yaml writes `text` as a plain scalar in block context: exact.
fn plain(text: &str) -> bool {
    plain_by_its_characters(text) && !typed(text) && plain_is_string(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Both writers, against serde_yaml: the JSON one on the value, the streaming one on the
    /// value serialized. Where serde_yaml's text means something else to Kubernetes, ours
    /// differs, and both serde_yaml and Kubernetes read it back as the value.
    fn same(value: &Value) {
        let expected = serde_yaml::to_string(value).unwrap();
        let ours = to_string(value);
        assert_eq!(serialize(value), ours, "{value}");
        let kubernetes_reads = |text: &str| platform_kube_yaml::document(text).unwrap();
        if kubernetes_reads(&expected) == kube_json(value) {
            assert_eq!(ours, expected, "{value}");
        } else {
            assert_ne!(ours, expected, "{value}");
            assert_eq!(
                &serde_yaml::from_str::<Value>(&ours).unwrap(),
                value,
                "{ours}"
            );
            assert_eq!(kubernetes_reads(&ours), kube_json(value), "{ours}");
        }
    }

    /// The value as Kubernetes keeps it: JSON, where a whole float is an integer.
    fn kube_json(value: &Value) -> Value {
        platform_kube_yaml::document(&serde_json::to_string(value).unwrap()).unwrap()
    }

    #[test]
    fn strings_and_keys_kubernetes_reads_as_other_types_are_quoted() {
        for text in ["yes", "on", "Off", "y", "N", "1_000", "0b1_0"] {
            same(&json!({ "key": text }));
            same(&json!({ text: 1 }));
            same(&json!([text]));
        }
        assert_eq!(to_string(&json!({"y": "on"})), "'y': 'on'\n");
        // A key serde_yaml must write sends the document to it; then JSON, read alike by both.
        let awkward = json!({"a: b": "yes"});
        assert!(to_string(&awkward).starts_with('{'));
        same(&awkward);
    }

    #[test]
    fn every_kind_of_scalar_is_written_as_serde_yaml_writes_it() {
        let strings = [
            "",
            " ",
            "a",
            "a b",
            " a",
            "a ",
            "true",
            "True",
            "false",
            "null",
            "~",
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "0",
            "1",
            "-1",
            "+1",
            "01",
            "007",
            "0x1F",
            "0o17",
            "0b101",
            "1.5",
            "-1.5",
            "1e3",
            ".5",
            "5.",
            "inf",
            ".inf",
            "-.inf",
            "nan",
            ".nan",
            "NaN",
            "abc",
            "deadbeef",
            "1h",
            "15s",
            "128Mi",
            "0.5Gi",
            "100m",
            "10.244.0.0/16",
            "0.0.0.0/0",
            "ghcr.io/org/app:1.0.0",
            "a:b",
            "a: b",
            "a:",
            ":a",
            ": a",
            "-a",
            "- a",
            "-",
            "?",
            "?a",
            "? a",
            "#a",
            "a#b",
            "a #b",
            "[a]",
            "{a}",
            "a,b",
            "&a",
            "*a",
            "!a",
            "|a",
            ">a",
            "'a'",
            "\"a\"",
            "%a",
            "@a",
            "`a",
            "---",
            "--- a",
            "...",
            "a\nb",
            "a\nb\n",
            "a\n\nb\n\n",
            "\na",
            " a\nb",
            "a\tb",
            "é",
            "a\u{1}b",
            "argocd.argoproj.io/sync-wave",
            "SkipDryRunOnMissingResource=true",
            ".webhooks[]?.clientConfig.caBundle",
            "*.example.org",
            "a'b",
            "it's",
            "1.0.0",
            "0.5",
            "1.5e-3",
            "1E3",
            "1e",
            "e1",
            "1_000",
            "0x",
            "0xG",
            "0x1f",
            "-0x1F",
            "-0o17",
            "-0b101",
            "+0x1F",
            "0x+1",
            "+-1",
            "-+1",
            "++1",
            "-0",
            "+0",
            "-007",
            "+01",
            "00",
            "0.",
            "-.5",
            "+.5",
            "+.inf",
            ".Inf",
            "-.INF",
            ".NaN",
            "+.nan",
            "infinity",
            "-inf",
            "1e400",
            "340282366920938463463374607431768211456",
            "170141183460469231731687303715884105728",
            "-170141183460469231731687303715884105729",
            "99999999999999999999",
            "beef",
            "add",
            "dead",
            "cafe",
            "ab12",
            "Yes",
            "NULL",
            "Null",
            "FALSE",
        ];
        for text in strings {
            same(&json!({ "key": text }));
            same(&json!({ "key": [text] }));
            same(&json!({ "key": { "inner": text } }));
            same(&json!([{ "a": text, "b": [[text]] }]));
        }
        for key in [
            "a b",
            "",
            "true",
            "1",
            "a: b",
            "-",
            "é",
            "x".repeat(129).as_str(),
        ] {
            same(&json!({ key: 1 }));
            same(&json!({ "outer": { key: "v" } }));
        }
    }

    #[test]
    fn layouts_and_other_scalars_are_written_as_serde_yaml_writes_them() {
        same(&json!({
            "n": null, "t": true, "f": false, "i": -3, "u": 18446744073709551615_u64,
            "x": 1.5, "y": 2.0, "e": {}, "s": [], "nested": {"deeper": {"deepest": [1, [2, [3]], {}]}},
            "list": [{"a": 1, "b": {"c": [{"d": "e"}]}}, [], {}, [[]], "multi\nline\n"],
            "block": "first\n  indented\n\nlast"
        }));
        same(&json!([1, "two", {"three": 3}]));
    }

    /// What a typed value hands the serializer that its JSON form does not show: absent and
    /// `None` fields, floats of either width and none at all, enum variants, keys that are not
    /// strings, flattened maps, empty structs, tuples. The streaming writer writes the JSON
    /// form's text for each, or gives up and goes through it.
    #[test]
    fn a_typed_value_is_written_as_its_json_form_is() {
        use std::collections::BTreeMap;

        #[derive(serde::Serialize)]
        enum Variant {
            Unit,
            Newtype(u8),
            Tuple(u8, u8),
            Struct { a: u8 },
        }

        #[derive(serde::Serialize, Default)]
        struct Empty {
            #[serde(skip_serializing_if = "Option::is_none")]
            skipped: Option<u8>,
        }

        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Typed {
            name: &'static str,
            absent: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            skipped: Option<String>,
            narrow: f32,
            wide: f64,
            whole: f64,
            not_a_number: f64,
            infinite: f32,
            letter: char,
            variants: Vec<Variant>,
            empty: Empty,
            empties: Vec<Empty>,
            nothing: Vec<u8>,
            pair: (u8, &'static str),
            big: u64,
            #[serde(flatten)]
            extra: BTreeMap<String, String>,
        }

        let typed = |variants: Vec<Variant>| Typed {
            name: "typed",
            absent: None,
            skipped: None,
            narrow: 0.1,
            wide: 0.1,
            whole: 2.0,
            not_a_number: f64::NAN,
            infinite: f32::INFINITY,
            letter: 'y',
            variants,
            empty: Empty::default(),
            empties: vec![Empty::default(), Empty { skipped: Some(1) }],
            nothing: Vec::new(),
            pair: (1, "true"),
            big: u64::MAX,
            extra: BTreeMap::from([("flat".to_owned(), "multi\nline\n".to_owned())]),
        };
        fn through_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
            to_string(&serde_json::to_value(value).unwrap())
        }
        for variants in [
            vec![Variant::Unit, Variant::Newtype(3)],
            vec![Variant::Tuple(1, 2)],
            vec![Variant::Struct { a: 1 }],
        ] {
            let value = typed(variants);
            assert_eq!(serialize(&value), through_json(&value));
        }
        assert!(
            serializer::streamed(&typed(vec![Variant::Unit, Variant::Newtype(3)])).is_some(),
            "written as it is serialized"
        );
        assert!(serializer::streamed(&typed(vec![Variant::Tuple(1, 2)])).is_none());
        let numbered: BTreeMap<i32, &str> = BTreeMap::from([(1, "a"), (2, "b")]);
        assert_eq!(serialize(&numbered), through_json(&numbered));
        let wide: BTreeMap<&str, u128> = BTreeMap::from([("n", 1)]);
        assert_eq!(serialize(&wide), through_json(&wide));
        let odd_key: BTreeMap<&str, u8> = BTreeMap::from([("a: b", 1), ("c", 2)]);
        assert_eq!(serialize(&odd_key), through_json(&odd_key));
        for gives_up in [
            serializer::streamed(&numbered),
            serializer::streamed(&wide),
            serializer::streamed(&odd_key),
        ] {
            assert_eq!(gives_up, None);
        }
        assert_eq!(serialize(&1), through_json(&1));
        assert_eq!(serialize("text"), through_json("text"));
        assert_eq!(
            serialize(&Empty::default()),
            through_json(&Empty::default())
        );
        assert_eq!(
            serialize(&Vec::<u8>::new()),
            through_json(&Vec::<u8>::new())
        );
    }
}
