//! `extends`: an environment file names the file it builds on and overrides only what differs.
//!
//! Merge rule: mappings merge key by key; sequences and scalars replace; `null` removes a key.
//! Files chain (`prod` extends `staging` extends `base`); a cycle is an error. A file whose name
//! starts with `base`, or that sets `abstract: true`, is only ever extended, never rendered.

use std::collections::BTreeMap;

use crate::diagnostics::Diagnostic;
use crate::suggest::closest;
use crate::tree::{Entry, Node, Value};

/// Top-level key naming the file (without `.yaml`) this one extends.
pub const EXTENDS_KEY: &str = "extends";
/// Top-level key marking a file that is only extended, never rendered.
pub const ABSTRACT_KEY: &str = "abstract";

/// One parsed file.
#[derive(Clone, Debug)]
pub struct Layer {
    pub name: String,
    pub path: String,
    pub root: Node,
}

impl Layer {
    pub fn new(name: &str, path: &str, root: Node) -> Self {
        Self {
            name: name.to_owned(),
            path: path.to_owned(),
            root,
        }
    }

    fn extends(&self) -> Option<&Entry> {
        self.root.get(EXTENDS_KEY)
    }

    pub fn is_abstract(&self) -> bool {
        self.name.starts_with("base")
            || self
                .root
                .get(ABSTRACT_KEY)
                .and_then(|e| e.value.scalar())
                .is_some_and(|v| v == "true")
    }
}

/// A concrete environment after merging its chain of files, meta keys removed.
#[derive(Clone, Debug)]
pub struct Merged {
    pub name: String,
    pub path: String,
    /// The file and every file it extends, nearest first.
    pub chain: Vec<String>,
    pub root: Node,
}

/// Merges every concrete file over the chain of files it extends.
pub fn resolve(layers: Vec<Layer>) -> (Vec<Merged>, Vec<Diagnostic>) {
    let by_name: BTreeMap<&str, &Layer> = layers.iter().map(|l| (l.name.as_str(), l)).collect();
    let mut merged = Vec::new();
    let mut errors = Vec::new();
    for layer in layers.iter().filter(|l| !l.is_abstract()) {
        match chain(layer, &by_name) {
            Ok(chain) => {
                let mut root = Node {
                    span: layer.root.span.clone(),
                    value: Value::Mapping(Vec::new()),
                };
                for link in chain.iter().rev() {
                    root = merge(root, without_meta_keys(&link.root));
                }
                merged.push(Merged {
                    name: layer.name.clone(),
                    path: layer.path.clone(),
                    chain: chain.iter().map(|link| link.path.clone()).collect(),
                    root,
                });
            }
            Err(error) => errors.push(error),
        }
    }
    errors.sort();
    errors.dedup();
    (merged, errors)
}

/// The file and every file it extends, nearest first.
fn chain<'a>(
    layer: &'a Layer,
    by_name: &BTreeMap<&str, &'a Layer>,
) -> Result<Vec<&'a Layer>, Diagnostic> {
    let mut chain = vec![layer];
    let mut current = layer;
    while let Some(entry) = current.extends() {
        let Some(parent_name) = entry.value.scalar().filter(|_| !entry.value.is_null()) else {
            return Err(Diagnostic::at(
                &entry.value.span,
                Some(EXTENDS_KEY),
                "expected the name of another environment file, without `.yaml`, e.g. `extends: base`".to_owned(),
            ));
        };
        let Some(parent) = by_name.get(parent_name) else {
            let known: Vec<&str> = by_name
                .keys()
                .copied()
                .filter(|n| *n != current.name)
                .collect();
            let hint = closest(parent_name, known.iter().copied())
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            return Err(Diagnostic::at(
                &entry.value.span,
                Some(EXTENDS_KEY),
                format!(
                    "there is no environments/{parent_name}.yaml to extend; {hint}expected one of: {}",
                    known.join(", ")
                ),
            ));
        };
        if let Some(start) = chain.iter().position(|l| l.name == parent.name) {
            let mut cycle: Vec<&str> = chain[start..].iter().map(|l| l.name.as_str()).collect();
            cycle.push(&parent.name);
            let origin = chain[start];
            let entry = origin.extends().unwrap_or(entry);
            return Err(Diagnostic::at(
                &entry.value.span,
                Some(EXTENDS_KEY),
                format!(
                    "`extends` forms a cycle: {}; one of these files must not extend another",
                    cycle.join(" -> ")
                ),
            ));
        }
        chain.push(parent);
        current = parent;
    }
    Ok(chain)
}

fn without_meta_keys(root: &Node) -> Node {
    let mut root = root.clone();
    if let Value::Mapping(entries) = &mut root.value {
        entries.retain(|e| e.key != EXTENDS_KEY && e.key != ABSTRACT_KEY);
    }
    root
}

/// `overlay` over `base`: mappings merge key by key, everything else replaces, null removes.
pub fn merge(base: Node, overlay: Node) -> Node {
    match (base.value, overlay.value) {
        (Value::Mapping(mut entries), Value::Mapping(overrides)) => {
            for entry in overrides {
                let existing = entries.iter().position(|e| e.key == entry.key);
                match (existing, entry.value.is_null()) {
                    (Some(index), true) => {
                        entries.remove(index);
                    }
                    (None, true) => {}
                    (Some(index), false) => {
                        let previous = entries[index].value.clone();
                        entries[index] = Entry {
                            value: merge(previous, entry.value),
                            ..entry
                        };
                    }
                    (None, false) => {
                        let value = merge_new(entry.value);
                        entries.push(Entry { value, ..entry });
                    }
                }
            }
            Node {
                span: overlay.span,
                value: Value::Mapping(entries),
            }
        }
        (_, value) => Node {
            span: overlay.span,
            value: match value {
                Value::Mapping(_) => {
                    merge_new(Node {
                        span: base.span,
                        value,
                    })
                    .value
                }
                other => other,
            },
        },
    }
}

/// A mapping that replaces nothing still drops its `null` keys: null means "absent" everywhere.
fn merge_new(node: Node) -> Node {
    match node.value {
        Value::Mapping(_) => merge(
            Node {
                span: node.span.clone(),
                value: Value::Mapping(Vec::new()),
            },
            node,
        ),
        _ => node,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::parse;

    fn layer(name: &str, text: &str) -> Layer {
        let path = format!("environments/{name}.yaml");
        Layer::new(name, &path, parse(&path, text).unwrap())
    }

    fn yaml(node: &Node) -> String {
        match &node.value {
            Value::Scalar { text, .. } => text.clone(),
            Value::Sequence(items) => format!(
                "[{}]",
                items.iter().map(yaml).collect::<Vec<_>>().join(", ")
            ),
            Value::Mapping(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|e| format!("{}: {}", e.key, yaml(&e.value)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    #[test]
    fn maps_merge_lists_and_scalars_replace_null_removes() {
        let (merged, errors) = resolve(vec![
            layer(
                "base",
                "a: {x: 1, y: 2, z: {deep: 1, keep: 1}}\nlist: [1, 2]\ngone: 1\nkept: 1\n",
            ),
            layer(
                "dev",
                "extends: base\na: {y: 3, z: {deep: 2}}\nlist: [3]\ngone: null\nnew: {n: 1, m: ~}\n",
            ),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(merged.len(), 1, "base is abstract");
        assert_eq!(
            yaml(&merged[0].root),
            "{a: {x: 1, y: 3, z: {deep: 2, keep: 1}}, list: [3], kept: 1, new: {n: 1}}"
        );
    }

    #[test]
    fn chains_apply_nearest_last() {
        let (merged, errors) = resolve(vec![
            layer("base", "r: 1\ns: 1\nt: 1\n"),
            layer("staging", "extends: base\nabstract: true\ns: 2\nt: 2\n"),
            layer("prod", "extends: staging\nt: 3\n"),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(merged.len(), 1);
        assert_eq!(yaml(&merged[0].root), "{r: 1, s: 2, t: 3}");
    }

    #[test]
    fn a_missing_parent_and_a_cycle_are_located() {
        let (_, errors) = resolve(vec![
            layer("dev", "extends: bsae\n"),
            layer("base", "a: 1\n"),
        ]);
        assert_eq!(
            errors[0].to_string(),
            "environments/dev.yaml:1:10: extends: there is no environments/bsae.yaml to extend; did you mean `base`? expected one of: base"
        );
        let (_, errors) = resolve(vec![layer("a", "extends: b\n"), layer("b", "extends: a\n")]);
        assert!(
            errors
                .iter()
                .any(|e| e.message.contains("cycle: a -> b -> a")),
            "{errors:?}"
        );
    }
}
