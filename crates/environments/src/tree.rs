//! A YAML document as a tree that remembers where every key and value came from.

use std::collections::HashMap;
use std::sync::Arc;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diagnostics::Diagnostic;

/// A position in an environment file; line and column start at 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub file: Arc<str>,
    pub line: usize,
    pub column: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A scalar and whether it was written plain (unquoted), which decides its type.
    Scalar {
        text: String,
        plain: bool,
    },
    Sequence(Vec<Node>),
    Mapping(Vec<Entry>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Node {
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true } if is_null_text(text))
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Mapping(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    pub fn scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// YAML 1.2 core schema nulls.
pub fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Parses one file. Tabs, syntax errors and duplicate keys are errors; all tabs and all
/// duplicate keys of the file are reported.
pub fn parse(path: &str, text: &str) -> Result<Node, Vec<Diagnostic>> {
    let file: Arc<str> = Arc::from(path);
    let tabs = tab_indentation(&file, text);
    if !tabs.is_empty() {
        return Err(tabs);
    }
    let mut builder = Builder {
        file: Arc::clone(&file),
        stack: Vec::new(),
        root: None,
        anchors: HashMap::new(),
        errors: Vec::new(),
    };
    if let Err(error) = Parser::new_from_str(text).load(&mut builder, false) {
        let marker = error.marker();
        return Err(vec![Diagnostic::at(
            &span(&file, marker),
            None,
            format!("{}; this is not valid YAML", error.info()),
        )]);
    }
    if !builder.errors.is_empty() {
        return Err(builder.errors);
    }
    match builder.root {
        Some(root) if matches!(root.value, Value::Mapping(_)) => Ok(root),
        Some(root) if root.is_null() => Err(vec![Diagnostic::at(
            &root.span,
            None,
            "the file is empty; expected a mapping of environment settings (see environments/schema.json)".to_owned(),
        )]),
        Some(root) => Err(vec![Diagnostic::at(
            &root.span,
            None,
            "the document is not a mapping; expected `key: value` settings at the top level".to_owned(),
        )]),
        None => Err(vec![Diagnostic {
            file: path.to_owned(),
            location: None,
            path: None,
            message: "the file is empty; expected a mapping of environment settings".to_owned(),
        }]),
    }
}

fn span(file: &Arc<str>, marker: &Marker) -> Span {
    Span {
        file: Arc::clone(file),
        line: marker.line(),
        column: marker.col() + 1,
    }
}

/// YAML forbids tabs in indentation; name every line that has one, with a clear fix.
fn tab_indentation(file: &Arc<str>, text: &str) -> Vec<Diagnostic> {
    text.lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let indent = &line[..line.len() - line.trim_start().len()];
            let column = indent.find('\t')?;
            Some(Diagnostic::at(
                &Span {
                    file: Arc::clone(file),
                    line: index + 1,
                    column: column + 1,
                },
                None,
                "indented with a tab; YAML indents with spaces only".to_owned(),
            ))
        })
        .collect()
}

struct Builder {
    file: Arc<str>,
    stack: Vec<Frame>,
    root: Option<Node>,
    anchors: HashMap<usize, Node>,
    errors: Vec<Diagnostic>,
}

enum Frame {
    Sequence {
        span: Span,
        anchor: usize,
        items: Vec<Node>,
    },
    Mapping {
        span: Span,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<(String, Span)>,
    },
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, marker: Marker) {
        let here = span(&self.file, &marker);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                // An explicit tag such as `!!str` makes the scalar a string, like quoting.
                let plain = style == TScalarStyle::Plain && tag.is_none();
                self.push(
                    Node {
                        span: here,
                        value: Value::Scalar { text, plain },
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Sequence {
                span: here,
                anchor,
                items: Vec::new(),
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Mapping {
                span: here,
                anchor,
                entries: Vec::new(),
                key: None,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Sequence {
                        span,
                        anchor,
                        items,
                    }) => (
                        Node {
                            span,
                            value: Value::Sequence(items),
                        },
                        anchor,
                    ),
                    Some(Frame::Mapping {
                        span,
                        anchor,
                        entries,
                        ..
                    }) => (
                        Node {
                            // A mapping is where its first key is: the parser marks a block
                            // mapping's start after that key.
                            span: entries.first().map_or(span, |e| e.key_span.clone()),
                            value: Value::Mapping(entries),
                        },
                        anchor,
                    ),
                    None => return,
                };
                self.push(node, anchor);
            }
            Event::Alias(anchor) => match self.anchors.get(&anchor) {
                Some(node) => {
                    let node = Node {
                        span: here,
                        value: node.value.clone(),
                    };
                    self.push(node, 0);
                }
                None => self.errors.push(Diagnostic::at(
                    &here,
                    None,
                    "alias of an unknown anchor; define `&name` before using `*name`".to_owned(),
                )),
            },
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
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Sequence { items, .. }) => items.push(node),
            Some(Frame::Mapping { entries, key, .. }) => match key.take() {
                None => match node.value {
                    Value::Scalar { text, .. } => *key = Some((text, node.span)),
                    _ => {
                        self.errors.push(Diagnostic::at(
                            &node.span,
                            None,
                            "a key must be a plain name, not a list or mapping".to_owned(),
                        ));
                        *key = Some((String::new(), node.span));
                    }
                },
                Some((name, key_span)) => {
                    if let Some(first) = entries.iter().find(|e| e.key == name) {
                        self.errors.push(Diagnostic::at(
                            &key_span,
                            None,
                            format!(
                                "duplicate key `{name}`, first set at line {}; a key may appear once per mapping",
                                first.key_span.line
                            ),
                        ));
                    } else {
                        entries.push(Entry {
                            key: name,
                            key_span,
                            value: node,
                        });
                    }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_positions_of_keys_and_values() {
        let root = parse("f.yaml", "a: 1\nb:\n  - x: 'y'\n").unwrap();
        let b = root.get("b").unwrap();
        assert_eq!((b.key_span.line, b.key_span.column), (2, 1));
        let Value::Sequence(items) = &b.value.value else {
            panic!()
        };
        let x = items[0].get("x").unwrap();
        assert_eq!((x.key_span.line, x.key_span.column), (3, 5));
        assert_eq!((x.value.span.line, x.value.span.column), (3, 8));
        assert_eq!(
            x.value.value,
            Value::Scalar {
                text: "y".into(),
                plain: false
            }
        );
    }

    #[test]
    fn reports_every_duplicate_key_and_tab() {
        let errors = parse("f.yaml", "a: 1\nb: 2\na: 3\nb: 4\n").unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(
            errors[0].to_string(),
            "f.yaml:3:1: duplicate key `a`, first set at line 1; a key may appear once per mapping"
        );
        let errors = parse("f.yaml", "a:\n\tb: 1\n").unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "f.yaml:2:1: indented with a tab; YAML indents with spaces only"
        );
    }
}
