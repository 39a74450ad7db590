//! Upstream files turned into the schema folder's layout, so a new component or a chart bump
//! is one command (`cargo xtask schemas import`).
//!
//! A CRD becomes one file per served version, `crds/<group>/<kind>_<version>.json`, converted
//! exactly as datreeio/CRDs-catalog (and kubeconform's `openapi2jsonschema.py`) convert them,
//! so an imported file is byte-identical to theirs for the same CRD:
//! - every object with `properties` except the root gets `additionalProperties: false` unless
//!   it says otherwise (what `kubectl` validation did: a typo in a field name is an error);
//! - a schema with `format: int-or-string` becomes `oneOf: [string, integer]`;
//! - printed as JSON with two-space indents, keys in the CRD's order, non-ASCII escaped.

use serde::Deserialize;
use serde_json::{Map, Value};

/// One file for the schema folder: path relative to it, and contents.
pub type SchemaFile = (String, String);

/// Every served version of every CustomResourceDefinition in a (multi-document) YAML text.
/// Documents of other kinds are skipped; a text with no CRD at all is an error.
pub fn crd_schema_files(text: &str) -> Result<Vec<SchemaFile>, String> {
    let mut files = Vec::new();
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let document = Value::deserialize(document)
            .map_err(|e| format!("document {}: not valid YAML: {e}", index + 1))?;
        if document["kind"] != "CustomResourceDefinition" {
            continue;
        }
        let at = |field: &str| format!("document {}: {field}", index + 1);
        let group = document["spec"]["group"]
            .as_str()
            .ok_or_else(|| at("spec.group is missing"))?;
        let kind = document["spec"]["names"]["kind"]
            .as_str()
            .ok_or_else(|| at("spec.names.kind is missing"))?;
        let versions = document["spec"]["versions"]
            .as_array()
            .ok_or_else(|| at("spec.versions is missing"))?;
        for (v, version) in versions.iter().enumerate() {
            if version["served"] == false {
                continue;
            }
            let name = version["name"]
                .as_str()
                .ok_or_else(|| at(&format!("spec.versions[{v}].name is missing")))?;
            let schema = version["schema"]["openAPIV3Schema"].clone();
            if !schema.is_object() {
                return Err(at(&format!(
                    "spec.versions[{v}].schema.openAPIV3Schema is missing"
                )));
            }
            let path = format!("crds/{group}/{}_{name}.json", kind.to_lowercase());
            files.push((path, to_json(&strict(schema))));
        }
    }
    if files.is_empty() {
        return Err("no CustomResourceDefinition in it".to_owned());
    }
    Ok(files)
}

/// The conversion's two rules, applied as the reference script applies them: closing objects
/// first (the root stays open, since Kubernetes adds `metadata` fields a CRD does not list),
/// then `int-or-string`.
pub fn strict(mut schema: Value) -> Value {
    if let Value::Object(root) = &mut schema {
        for value in root.values_mut() {
            close_objects(value);
        }
    }
    replace_int_or_string(schema)
}

/// Every map that has `properties` gets `additionalProperties: false` if it says nothing.
/// Like the reference, this walks every map, the `properties` map itself included.
/// The reference does not descend into lists for this rule (`allOf`, `anyOf` members stay as
/// they are), so neither does this.
fn close_objects(value: &mut Value) {
    if let Value::Object(map) = value {
        if map.contains_key("properties") && !map.contains_key("additionalProperties") {
            map.insert("additionalProperties".to_owned(), Value::Bool(false));
        }
        for child in map.values_mut() {
            close_objects(child);
        }
    }
}

fn replace_int_or_string(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, child)| {
                    let child = match child {
                        Value::Object(inner)
                            if inner.get("format") == Some(&"int-or-string".into()) =>
                        {
                            int_or_string()
                        }
                        other => replace_int_or_string(other),
                    };
                    (key, child)
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(replace_int_or_string).collect()),
        other => other,
    }
}

fn int_or_string() -> Value {
    serde_json::json!({"oneOf": [{"type": "string"}, {"type": "integer"}]})
}

/// Two-space indents and every non-ASCII character as `\uXXXX` (UTF-16, surrogate pairs
/// above U+FFFF), as Python's `json.dumps(..., indent=2)` prints, with a final newline.
pub fn to_json(value: &Value) -> String {
    let pretty = serde_json::to_string_pretty(value).expect("a JSON value prints");
    let mut text = String::with_capacity(pretty.len() + 1);
    for c in pretty.chars() {
        if c.is_ascii() {
            text.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                text.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    text.push('\n');
    text
}

/// A Kubernetes kind's schema from kubernetes-validate's `<version>-local-strict/` folder, made
/// standalone: every `$ref` into `_definitions.json` replaced by the definition, a sibling
/// key (a field's own `description`) kept over the definition's. A definition that refers to
/// itself, directly or not (a CRD's `JSONSchemaProps`), cannot be inlined: it goes into the
/// file's `$defs` once, and each reference to it becomes a local `$ref`. Printed as Python's
/// `json.dumps(indent=2)` prints, with no final newline, as the files already carried were.
pub fn kubernetes_schema_file(schema: &str, definitions: &str) -> Result<String, String> {
    let schema: Value = serde_json::from_str(schema).map_err(|e| format!("not JSON: {e}"))?;
    let definitions: Value = serde_json::from_str(definitions)
        .map_err(|e| format!("_definitions.json is not JSON: {e}"))?;
    let definitions = definitions["$defs"]
        .as_object()
        .or_else(|| definitions["definitions"].as_object())
        .ok_or("_definitions.json has no `$defs`")?;
    let mut inliner = Inliner {
        definitions,
        open: Vec::new(),
        recursive: Map::new(),
    };
    let mut standalone = inliner.inline(&schema)?;
    if !inliner.recursive.is_empty() {
        let root = standalone
            .as_object_mut()
            .ok_or("the schema is not an object")?;
        root.insert("$defs".to_owned(), Value::Object(inliner.recursive));
    }
    let mut text = to_json(&standalone);
    text.pop();
    Ok(text)
}

struct Inliner<'a> {
    definitions: &'a Map<String, Value>,
    /// The definitions being inlined, outermost first: meeting one again is recursion.
    open: Vec<String>,
    recursive: Map<String, Value>,
}

impl Inliner<'_> {
    fn inline(&mut self, value: &Value) -> Result<Value, String> {
        match value {
            Value::Object(map) => match map.get("$ref").and_then(Value::as_str) {
                Some(reference) => self.reference(reference, map),
                None => map
                    .iter()
                    .map(|(key, child)| Ok((key.clone(), self.inline(child)?)))
                    .collect::<Result<Map<_, _>, String>>()
                    .map(Value::Object),
            },
            Value::Array(items) => items
                .iter()
                .map(|item| self.inline(item))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            other => Ok(other.clone()),
        }
    }

    fn reference(&mut self, reference: &str, at: &Map<String, Value>) -> Result<Value, String> {
        let name = reference
            .rsplit_once("/$defs/")
            .or_else(|| reference.rsplit_once("/definitions/"))
            .map(|(_, name)| name.to_owned())
            .ok_or_else(|| format!("`$ref: {reference}` does not point into _definitions.json"))?;
        let siblings = at.iter().filter(|(key, _)| key.as_str() != "$ref");
        if self.open.contains(&name) {
            if !self.recursive.contains_key(&name) {
                // Reserved now so that the recursion below stops here.
                self.recursive.insert(name.clone(), Value::Null);
                let definition = self.definition(&name)?.clone();
                let open = std::mem::take(&mut self.open);
                self.open.push(name.clone());
                let inlined = self.inline(&definition)?;
                self.open = open;
                self.recursive.insert(name.clone(), inlined);
            }
            let mut local = Map::new();
            local.insert("$ref".to_owned(), Value::String(format!("#/$defs/{name}")));
            local.extend(siblings.map(|(k, v)| (k.clone(), v.clone())));
            return Ok(Value::Object(local));
        }
        let mut merged = self
            .definition(&name)?
            .as_object()
            .cloned()
            .ok_or_else(|| format!("definition {name} is not an object"))?;
        for (key, value) in siblings {
            merged.insert(key.clone(), value.clone());
        }
        self.open.push(name);
        let inlined = self.inline(&Value::Object(merged));
        self.open.pop();
        inlined
    }

    fn definition(&self, name: &str) -> Result<&Value, String> {
        self.definitions
            .get(name)
            .ok_or_else(|| format!("_definitions.json has no definition {name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRD: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: skipped}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.io}
spec:
  group: example.io
  names: {kind: Widget, plural: widgets}
  versions:
  - name: v1
    served: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              port: {format: int-or-string, x-kubernetes-int-or-string: true}
              labels: {type: object, additionalProperties: {type: string}}
              note: {type: string, description: "µs — 😀"}
  - name: v0
    served: false
    schema: {openAPIV3Schema: {type: object}}
"#;

    #[test]
    fn a_crd_becomes_one_strict_schema_per_served_version() {
        let files = crd_schema_files(CRD).unwrap();
        assert_eq!(files.len(), 1, "v0 is not served");
        let (path, text) = &files[0];
        assert_eq!(path, "crds/example.io/widget_v1.json");
        let schema: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            schema.get("additionalProperties"),
            None,
            "the root stays open"
        );
        assert_eq!(schema["properties"]["spec"]["additionalProperties"], false);
        assert_eq!(
            schema["properties"]["spec"]["properties"]["port"],
            int_or_string()
        );
        assert_eq!(
            schema["properties"]["spec"]["properties"]["labels"]["additionalProperties"],
            serde_json::json!({"type": "string"}),
            "an explicit additionalProperties is kept"
        );
        assert!(
            text.contains(r#""description": "\u00b5s \u2014 \ud83d\ude00""#),
            "{text}"
        );
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn a_file_without_a_crd_is_refused() {
        let error = crd_schema_files("apiVersion: v1\nkind: Namespace\n").unwrap_err();
        assert_eq!(error, "no CustomResourceDefinition in it");
    }

    #[test]
    fn a_kubernetes_schema_is_inlined_and_recursion_kept_once() {
        let definitions = r##"{"$defs": {
            "Meta": {"description": "meta", "type": "object", "properties": {"name": {"type": "string"}}},
            "Props": {"type": "object", "properties": {
                "items": {"$ref": "/api/_definitions.json#/$defs/Props"},
                "meta": {"$ref": "/api/_definitions.json#/$defs/Meta"}
            }}
        }}"##;
        let schema = r##"{"properties": {
            "metadata": {"$ref": "/api/_definitions.json#/$defs/Meta", "description": "own"},
            "schema": {"$ref": "/api/_definitions.json#/$defs/Props"}
        }}"##;
        let text = kubernetes_schema_file(schema, definitions).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value["properties"]["metadata"],
            serde_json::json!({"description": "own", "type": "object", "properties": {"name": {"type": "string"}}})
        );
        let local = serde_json::json!({"$ref": "#/$defs/Props"});
        assert_eq!(value["properties"]["schema"]["properties"]["items"], local);
        assert_eq!(value["$defs"]["Props"]["properties"]["items"], local);
        assert_eq!(
            value["$defs"]["Props"]["properties"]["meta"]["description"],
            "meta"
        );
        assert!(
            !text.ends_with('\n'),
            "no final newline, as the carried files"
        );
        let missing = kubernetes_schema_file(
            r##"{"$ref": "_definitions.json#/$defs/Nope"}"##,
            definitions,
        );
        assert!(missing.unwrap_err().contains("no definition Nope"));
    }
}
