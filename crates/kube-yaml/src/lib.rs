//! YAML read the way Kubernetes and Argo CD read a manifest, for trees the generator did not
//! write (a chart's `helm template` output, a folder handed to `validate`).
//!
//! Argo CD and kubectl turn YAML into JSON with sigs.k8s.io/yaml (`YAMLToJSON`, v1.6.0
//! `yaml.go`), which decodes with go-yaml v2: YAML 1.1 scalars (`platform_syntax::yaml11`), `<<` merges,
//! anchors, then map keys made strings (`convertToJSONableObject`). serde_yaml reads YAML 1.2,
//! so `defaultMode: 0444` in a chart's output was the string `"0444"` to it and the number 292
//! to the API server; reading a foreign tree with this crate, the validator sees what the
//! cluster will.
//!
//! One choice is stricter than go-yaml's non-strict decode, which keeps the last of two
//! equal keys: a duplicate key is an error here, since which value the cluster gets then
//! depends on the reader (kubectl's strict decoding refuses it).

use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use platform_syntax::yaml11 as resolve;
pub use platform_syntax::yaml11::Scalar;

/// Where a document stops being readable, and why. Line and column start at 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for Error {}

/// Every document of a YAML stream as JSON, empty documents as `null`, in order.
pub fn documents(text: &str) -> Result<Vec<Value>, Error> {
    let mut builder = Builder::default();
    Parser::new_from_str(text)
        .load(&mut builder, true)
        .map_err(|error| at(error.marker(), error.info().to_owned()))?;
    if let Some(error) = builder.error {
        return Err(error);
    }
    builder.documents.iter().map(to_json).collect()
}

/// A stream that must hold one document (or none, which is `null`).
pub fn document(text: &str) -> Result<Value, Error> {
    let mut all = documents(text)?;
    match all.len() {
        0 => Ok(Value::Null),
        1 => Ok(all.remove(0)),
        n => Err(Error {
            line: 1,
            column: 1,
            message: format!("{n} documents where one was expected"),
        }),
    }
}

fn at(marker: &Marker, message: String) -> Error {
    Error {
        line: marker.line(),
        column: marker.col() + 1,
        message,
    }
}

/// A node of the YAML tree, before it is JSON.
#[derive(Clone, Debug)]
struct Node {
    line: usize,
    column: usize,
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Scalar {
        text: String,
        plain: bool,
        tag: Option<String>,
    },
    Sequence(Vec<Node>),
    Mapping(Vec<(Node, Node)>),
}

impl Node {
    fn error(&self, message: String) -> Error {
        Error {
            line: self.line,
            column: self.column,
            message,
        }
    }
}

/// A sequence or mapping being read: its anchor, and a mapping's key awaiting its value.
struct Open {
    node: Node,
    anchor: usize,
    key: Option<Node>,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    documents: Vec<Node>,
    error: Option<Error>,
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, marker: Marker) {
        if self.error.is_some() {
            return;
        }
        let node = |kind| Node {
            line: marker.line(),
            column: marker.col() + 1,
            kind,
        };
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag.map(|tag| format!("{}{}", tag.handle, tag.suffix));
                let plain = style == TScalarStyle::Plain;
                self.push(node(Kind::Scalar { text, plain, tag }), anchor);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Open {
                node: node(Kind::Sequence(Vec::new())),
                anchor,
                key: None,
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Open {
                node: node(Kind::Mapping(Vec::new())),
                anchor,
                key: None,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(done) = self.stack.pop() {
                    self.push(done.node, done.anchor);
                }
            }
            Event::Alias(anchor) => match self.anchors.get(&anchor) {
                Some(target) => {
                    let copy = Node {
                        line: marker.line(),
                        column: marker.col() + 1,
                        kind: target.kind.clone(),
                    };
                    self.push(copy, 0);
                }
                None => {
                    self.error = Some(at(&marker, "alias of an unknown anchor".to_owned()));
                }
            },
            // Every document has one root node: the parser gives an empty one an empty scalar.
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

impl Builder {
    fn push(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let Some(parent) = self.stack.last_mut() else {
            self.documents.push(node);
            return;
        };
        match &mut parent.node.kind {
            Kind::Sequence(items) => items.push(node),
            Kind::Mapping(entries) => match parent.key.take() {
                Some(key) => entries.push((key, node)),
                None => parent.key = Some(node),
            },
            Kind::Scalar { .. } => unreachable!("only sequences and mappings are opened"),
        }
    }
}

/// sigs.k8s.io/yaml's conversion of the decoded tree: scalars as resolved, every map key a
/// string, numbers as JSON numbers (a whole float is the integer Go's encoder prints).
fn to_json(node: &Node) -> Result<Value, Error> {
    match &node.kind {
        Kind::Scalar { text, plain, tag } => {
            let scalar = resolve::scalar(text, *plain, tag.as_deref())
                .map_err(|message| node.error(message))?;
            scalar_json(scalar).map_err(|message| node.error(message))
        }
        Kind::Sequence(items) => items
            .iter()
            .map(to_json)
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Kind::Mapping(entries) => mapping(entries).map(Value::Object),
    }
}

fn scalar_json(scalar: Scalar) -> Result<Value, String> {
    Ok(match scalar {
        Scalar::Null => Value::Null,
        Scalar::Bool(value) => Value::Bool(value),
        Scalar::Int(value) => Value::from(value),
        Scalar::Uint(value) => Value::from(value),
        Scalar::Float(value) => float_json(value)?,
        Scalar::Str(text) => Value::String(text),
        Scalar::Merge => Value::String("<<".to_owned()),
    })
}

/// encoding/json refuses NaN and the infinities (`json: unsupported value`), so Kubernetes
/// never gets them; a whole number prints without a fraction and reads back as an integer.
fn float_json(value: f64) -> Result<Value, String> {
    if !value.is_finite() {
        return Err(format!(
            "{value} is not a JSON number: sigs.k8s.io/yaml cannot turn it into JSON, so Kubernetes refuses the object"
        ));
    }
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if value.fract() == 0.0 && value.abs() < LIMIT {
        return Ok(Value::from(value as i64));
    }
    Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
}

/// A mapping's entries in order; `<<` merges a mapping, or a list of them (the earlier ones
/// win), as go-yaml v2's `decoder.merge`, and a later key replaces what a merge put there.
fn mapping(entries: &[(Node, Node)]) -> Result<Map<String, Value>, Error> {
    let mut object = Map::new();
    let mut explicit: HashMap<String, usize> = HashMap::new();
    for (key, value) in entries {
        if is_merge(key) {
            merge(value, &mut object)?;
            continue;
        }
        let name = key_string(key)?;
        if let Some(line) = explicit.insert(name.clone(), key.line) {
            return Err(key.error(format!(
                "duplicate key `{name}` (first on line {line}): Kubernetes' readers disagree on which value counts; keep one"
            )));
        }
        object.insert(name, to_json(value)?);
    }
    Ok(object)
}

fn is_merge(key: &Node) -> bool {
    match &key.kind {
        Kind::Scalar { text, plain, tag } => {
            matches!(
                resolve::scalar(text, *plain, tag.as_deref()),
                Ok(Scalar::Merge)
            )
        }
        _ => false,
    }
}

fn merge(value: &Node, into: &mut Map<String, Value>) -> Result<(), Error> {
    let wrong =
        || value.error("map merge requires map or sequence of maps as the value".to_owned());
    match &value.kind {
        Kind::Mapping(entries) => {
            for (name, merged) in mapping(entries)? {
                into.insert(name, merged);
            }
            Ok(())
        }
        Kind::Sequence(items) => {
            for item in items.iter().rev() {
                if !matches!(item.kind, Kind::Mapping(_)) {
                    return Err(wrong());
                }
                merge(item, into)?;
            }
            Ok(())
        }
        Kind::Scalar { .. } => Err(wrong()),
    }
}

/// `convertToJSONableObject`'s keys: strings as they are, integers in decimal, floats as Go's
/// `FormatFloat(f, 'g', -1, 32)`, booleans as `true`/`false`; anything else is refused.
fn key_string(key: &Node) -> Result<String, Error> {
    let Kind::Scalar { text, plain, tag } = &key.kind else {
        return Err(key.error("invalid map key: a list or mapping cannot be a key".to_owned()));
    };
    let scalar = resolve::scalar(text, *plain, tag.as_deref()).map_err(|m| key.error(m))?;
    Ok(match scalar {
        Scalar::Str(text) => text,
        Scalar::Int(value) => value.to_string(),
        Scalar::Bool(value) => value.to_string(),
        Scalar::Float(value) => go_float_key(value),
        Scalar::Merge => "<<".to_owned(),
        Scalar::Null | Scalar::Uint(_) => {
            return Err(key.error(format!(
                "unsupported map key `{text}`: sigs.k8s.io/yaml turns only strings, integers, floats and booleans into JSON keys"
            )));
        }
    })
}

/// `strconv.FormatFloat(f, 'g', -1, 32)`: the shortest digits that identify the float32, in
/// exponent form (`1e+06`) when the exponent is below -4 or at least 6, which is what `%g`
/// decides with the shortest precision (strconv/ftoa.go: `if shortest { eprec = 6 }`).
fn go_float_key(value: f64) -> String {
    if value.is_nan() {
        return ".nan".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { ".inf" } else { "-.inf" }.to_owned();
    }
    let single = value as f32;
    let scientific = format!("{single:e}");
    let (mantissa, exponent) = scientific.split_once('e').expect("{:e} prints an exponent");
    let exponent: i32 = exponent.parse().expect("an integer exponent");
    if !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        format!("{single}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_chart_volume_reads_as_the_api_server_reads_it() {
        let text = "kind: Deployment\nspec:\n  volumes:\n  - projected:\n      defaultMode: 0444\n    secret:\n      defaultMode: '0444'\n";
        assert_eq!(
            document(text).unwrap(),
            json!({"kind": "Deployment", "spec": {"volumes": [
                {"projected": {"defaultMode": 292}, "secret": {"defaultMode": "0444"}}
            ]}})
        );
    }

    #[test]
    fn documents_in_order_with_empty_ones_null() {
        let text = "---\n# Source: chart/templates/a.yaml\na: 1\n---\n# nothing\n---\nb: on\n";
        assert_eq!(
            documents(text).unwrap(),
            vec![json!({"a": 1}), Value::Null, json!({"b": true})]
        );
        assert_eq!(documents("").unwrap(), Vec::<Value>::new());
    }

    #[test]
    fn anchors_aliases_and_merges_as_go_yaml_v2() {
        let text = "base: &base {a: 1, b: 2}\nother: &other {c: 3}\nlist: [*base]\nm:\n  <<: [*base, *other, {a: 9}]\n  b: 20\n";
        assert_eq!(
            document(text).unwrap(),
            json!({
                "base": {"a": 1, "b": 2},
                "other": {"c": 3},
                "list": [{"a": 1, "b": 2}],
                // Earlier mappings of the list win; a key of the mapping itself wins over all.
                "m": {"a": 1, "b": 20, "c": 3}
            })
        );
        let error = document("m:\n  <<: 1\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.message.contains("map merge requires"), "{error}");
    }

    #[test]
    fn keys_become_strings_as_sigs_k8s_io_yaml_makes_them() {
        assert_eq!(
            document("on: 1\n010: 2\n1.5: 3\n1e6: 4\n'yes': 5\n").unwrap(),
            json!({"true": 1, "8": 2, "1.5": 3, "1e+06": 4, "yes": 5})
        );
        let error = document("a: 1\n~: 2\n").unwrap_err();
        assert_eq!((error.line, error.column), (2, 1));
        assert!(error.message.contains("unsupported map key"), "{error}");
        assert!(
            document("? [a]\n: 1\n")
                .unwrap_err()
                .message
                .contains("invalid map key")
        );
    }

    #[test]
    fn numbers_become_what_json_carries() {
        assert_eq!(
            document("[1.0, 2.5, 1e3, 08, -0]").unwrap(),
            json!([1, 2.5, 1000, 8, 0])
        );
        let error = document("a:\n  b: .nan\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.message.contains("not a JSON number"), "{error}");
    }

    #[test]
    fn a_duplicate_key_is_refused_with_both_lines() {
        let error = document("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(error.line, 3);
        assert!(
            error
                .message
                .contains("duplicate key `a` (first on line 1)"),
            "{error}"
        );
        // `on` and `true` are the same key once made strings.
        assert!(document("on: 1\n\"true\": 2\n").is_err());
    }

    #[test]
    fn bad_yaml_is_located() {
        let error = document("a:\n  b: 1\n c: 2\n").unwrap_err();
        assert_eq!(error.line, 3, "{error}");
        assert!(documents("a: *nowhere\n").is_err());
        let error = document("a: !!int x\n").unwrap_err();
        assert!(
            error.message.contains("cannot decode !!str `x` as a !!int"),
            "{error}"
        );
        assert!(
            document("a: 1\n---\nb: 2\n")
                .unwrap_err()
                .message
                .contains("2 documents")
        );
    }
}
