//! A reader for the one shape of YAML a rendered tree is almost all made of: a single
//! document in the block style serde_yaml writes (and `core::yaml` after it), with comment
//! lines, two-space indents, sequences under a key at the key's indent, plain and
//! single-quoted scalars, `{}` and `[]`, and integers. It gives exactly what serde_yaml gives
//! for such a document, or nothing, and the caller then reads it as Kubernetes does (YAML 1.1,
//! `platform-kube-yaml`): anything else (a literal block, a double-quoted or multi-line
//! scalar, a float, an anchor, a flow collection, a second document, a duplicate key) is left
//! to it, errors included, and so is a plain scalar Kubernetes reads otherwise than serde_yaml
//! (`yes`, `on`, `1_000`).
//!
//! Parsing YAML back was most of what `validate` cost: serde_yaml drives a full YAML parser
//! through events and, for every plain scalar, tries each type in turn. This reads a line at
//! a time and types a plain scalar by the rules serde_yaml's own writer follows
//! (`platform_syntax::yaml_scalar`). A test compares the two on every file of the committed
//! tree and on documents chosen to hit each rule.

use platform_syntax::yaml_scalar::{plain_by_its_characters, typed};
use platform_syntax::yaml11::plain_is_string;
use serde_json::{Map, Number, Value};

/// The value of `text`, if it is a document this reader reads; `None` for serde_yaml.
pub fn read(text: &str) -> Option<Value> {
    let mut lines: Vec<Line<'_>> = Vec::new();
    for line in text.lines() {
        let content = line.trim_start_matches(' ');
        if content.is_empty() {
            continue;
        }
        // Comments head the file; one further down is left to serde_yaml.
        if content.starts_with('#') {
            if lines.is_empty() {
                continue;
            }
            return None;
        }
        if content.starts_with('\t') || content.ends_with(' ') || line.ends_with('\r') {
            return None;
        }
        lines.push(Line {
            indent: line.len() - content.len(),
            content,
        });
    }
    let first = lines.first()?;
    if first.indent != 0 {
        return None;
    }
    let mut reader = Reader { lines, next: 0 };
    let value = reader.node(0)?;
    (reader.next == reader.lines.len()).then_some(value)
}

#[derive(Clone, Copy)]
struct Line<'t> {
    indent: usize,
    content: &'t str,
}

struct Reader<'t> {
    lines: Vec<Line<'t>>,
    next: usize,
}

impl<'t> Reader<'t> {
    fn peek(&self) -> Option<Line<'t>> {
        self.lines.get(self.next).copied()
    }

    /// The block that starts at the next line, which is at `indent`.
    fn node(&mut self, indent: usize) -> Option<Value> {
        let line = self.peek()?;
        if line.indent != indent {
            return None;
        }
        if is_item(line.content) {
            self.sequence(indent)
        } else {
            self.mapping(indent)
        }
    }

    fn sequence(&mut self, indent: usize) -> Option<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.peek()
            && line.indent == indent
            && is_item(line.content)
        {
            let rest = line.content.strip_prefix("- ")?;
            if is_item(rest) || key_and_rest(rest).is_some() {
                // `- - a` or `- key: value`: a block that starts inside this line, two
                // columns in.
                self.lines[self.next] = Line {
                    indent: indent + 2,
                    content: rest,
                };
                items.push(self.node(indent + 2)?);
            } else {
                self.next += 1;
                items.push(scalar(rest)?);
                self.after_scalar(indent)?;
            }
        }
        Some(Value::Array(items))
    }

    fn mapping(&mut self, indent: usize) -> Option<Value> {
        let mut map = Map::new();
        while let Some(line) = self.peek()
            && line.indent == indent
            && !is_item(line.content)
        {
            let (key, rest) = key_and_rest(line.content)?;
            self.next += 1;
            let value = match rest {
                Some(text) => {
                    let value = scalar(text)?;
                    self.after_scalar(indent)?;
                    value
                }
                // serde_yaml writes a block under its key: a mapping indented, or a sequence
                // at the key's own indent.
                None => match self.peek() {
                    Some(next) if next.indent > indent && !is_item(next.content) => {
                        self.node(next.indent)?
                    }
                    Some(next)
                        if next.indent >= indent
                            && is_item(next.content)
                            && next.indent <= indent + 2 =>
                    {
                        self.sequence(next.indent)?
                    }
                    _ => return None,
                },
            };
            if map.insert(key.to_owned(), value).is_some() {
                return None;
            }
        }
        Some(Value::Object(map))
    }

    /// A scalar ends its line: a deeper line after it would continue it, which this reader
    /// leaves to serde_yaml.
    fn after_scalar(&self, indent: usize) -> Option<()> {
        match self.peek() {
            Some(next) if next.indent > indent => None,
            _ => Some(()),
        }
    }
}

fn is_item(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

/// `key: value` or `key:`, for a key serde_yaml reads as this very string.
fn key_and_rest(content: &str) -> Option<(&str, Option<&str>)> {
    let (key, rest) = match content.split_once(": ") {
        Some((key, rest)) => (key, Some(rest)),
        None => (content.strip_suffix(':')?, None),
    };
    (plain_by_its_characters(key) && !typed(key) && plain_is_string(key)).then_some((key, rest))
}

fn scalar(text: &str) -> Option<Value> {
    match text {
        "{}" => return Some(Value::Object(Map::new())),
        "[]" => return Some(Value::Array(Vec::new())),
        "null" | "Null" | "NULL" | "~" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    if let Some(quoted) = text.strip_prefix('\'') {
        return single_quoted(quoted);
    }
    if !plain_by_its_characters(text) {
        return None;
    }
    if !typed(text) {
        // `yes`, `on`, `1_000`: strings to serde_yaml, not to Kubernetes; its reader decides.
        return plain_is_string(text).then(|| Value::String(text.to_owned()));
    }
    // Decimal integers as serde_yaml reads them; every other typed scalar is its to read.
    let digits = text.strip_prefix('-').unwrap_or(text);
    let decimal = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !decimal {
        return None;
    }
    let number = if text.starts_with('-') {
        Number::from(text.parse::<i64>().ok()?)
    } else {
        Number::from(text.parse::<u64>().ok()?)
    };
    Some(Value::Number(number))
}

/// The rest of a single-quoted scalar after its opening quote, on one line: `''` is a quote.
fn single_quoted(rest: &str) -> Option<Value> {
    let inner = rest.strip_suffix('\'')?;
    let mut text = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\'' && chars.next() != Some('\'') {
            return None;
        }
        text.push(c);
    }
    Some(Value::String(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What this reader gives is what serde_yaml gives, or it gives nothing.
    fn agrees(text: &str) -> bool {
        let expected: Result<Value, _> = serde_yaml::from_str(text);
        match read(text) {
            Some(value) => {
                assert_eq!(Some(&value), expected.as_ref().ok(), "{text}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn documents_as_serde_yaml_writes_them_read_the_same() {
        let value = serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "a", "x": "3"}},
            "spec": {
                "replicas": 2, "negative": -3, "big": 18446744073709551615_u64, "zero": 0,
                "enabled": true, "disabled": false, "nothing": null, "empty": {}, "none": [],
                "quoted": ["1.0", "007", "true", "null", "it's", "a: b", " padded", "#x", "-"],
                "plain": ["1.0.0", "100m", "0.0.0.0/0", "a-b", "ghcr.io/x/y:1.0.0"],
                "nested": [[1, [2, []]], [{"a": [{"b": {}}]}]],
                "items": [{"name": "x", "ports": [{"port": 80}]}, {"name": "z", "env": []}],
            },
        });
        let text = format!("# a comment\n{}", serde_yaml::to_string(&value).unwrap());
        assert!(agrees(&text), "read by this reader:\n{text}");
        assert_eq!(read(&text), Some(value));
    }

    #[test]
    fn anything_else_is_left_to_serde_yaml() {
        for text in [
            "a: |\n  line\n",
            "a: \"x\"\n",
            "a: 1.5\n",
            "a: 0x1F\n",
            "a: &x 1\nb: *x\n",
            "a: [1, 2]\n",
            "a: {b: 1}\n",
            "---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "a: 1\na: 2\n",
            // YAML 1.1, as Kubernetes reads it: a boolean key, a boolean, a number.
            "on: 1\n",
            "a: yes\n",
            "a: 1_000\n",
            "a: b\n  c\n",
            "a:\n",
            "  a: 1\n",
            "a:\n\tb: 1\n",
            "'a': 1\n",
            "1: a\n",
            "a: 'x\n",
            "a: 'it's'\n",
            "a: x # comment\n",
            "a: b\n# between\nc: d\n",
            "? a\n: b\n",
            "",
            "# only a comment\n",
        ] {
            assert!(!agrees(text), "{text:?} is left to serde_yaml");
        }
    }
}
