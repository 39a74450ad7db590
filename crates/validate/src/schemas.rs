//! Upstream schemas: objects by apiVersion and kind, Helm values by chart.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::report::Finding;
use crate::tree::{RenderedObject, RenderedTree};

/// Reads a file of the schema folder, by path relative to it; `Ok(None)` when it does not exist.
pub trait SchemaSource {
    fn read(&self, relative: &str) -> Result<Option<String>, String>;
}

/// Kinds rendered without an upstream schema, each with the reason. A kind with no schema
/// that is not listed here is an error: nothing reaches the cluster unchecked by accident.
pub const UNCHECKED_KINDS: &[(&str, &str, &str)] = &[];

/// The schema folder, with every schema compiled at most once per run.
pub struct Schemas<'a> {
    source: &'a dyn SchemaSource,
    validators: BTreeMap<String, Option<jsonschema::Validator>>,
    documents: BTreeMap<String, Option<Value>>,
}

impl std::fmt::Debug for Schemas<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schemas")
            .field("compiled", &self.validators.len())
            .finish()
    }
}

/// Where the schema of an apiVersion and kind lives in the folder: Kubernetes' own groups
/// (the core group, dot-less groups such as `apps`, and `*.k8s.io`) under `kubernetes/`, custom
/// resources under `crds/<group>/`.
pub fn object_schema_path(api_version: &str, kind: &str) -> String {
    let kind = kind.to_lowercase();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let built_in = group.is_empty() || !group.contains('.') || group.ends_with(".k8s.io");
    if built_in {
        let file = match group.split('.').next() {
            Some(short) if !short.is_empty() => format!("{kind}-{short}-{version}.json"),
            _ => format!("{kind}-{version}.json"),
        };
        format!("kubernetes/v1.37.0-standalone-strict/{file}")
    } else {
        format!("crds/{group}/{kind}_{version}.json")
    }
}

impl<'a> Schemas<'a> {
    pub fn new(source: &'a dyn SchemaSource) -> Self {
        Self {
            source,
            validators: BTreeMap::new(),
            documents: BTreeMap::new(),
        }
    }

    /// How many distinct schemas were compiled.
    pub fn compiled(&self) -> usize {
        self.validators.values().filter(|v| v.is_some()).count()
    }

    pub fn check_tree(&mut self, tree: &RenderedTree) -> Vec<Finding> {
        self.check_objects(&tree.objects)
    }

    /// Each object against its schema, and each child Application's Helm values against
    /// its chart's. Every schema the objects need is compiled first; then the objects are
    /// checked on every core, sharing the compiled schemas.
    pub fn check_objects<'o>(
        &mut self,
        objects: impl IntoIterator<Item = &'o RenderedObject>,
    ) -> Vec<Finding> {
        let objects: Vec<&RenderedObject> = objects.into_iter().collect();
        let mut unreadable: BTreeMap<String, String> = BTreeMap::new();
        for object in &objects {
            let path = object_schema_path(object.api_version(), object.kind());
            if !self.validators.contains_key(&path)
                && !unreadable.contains_key(&path)
                && let Err(message) = self.validator(&path)
            {
                unreadable.insert(path, message);
            }
        }
        let validators = &self.validators;
        let mut findings: Vec<Finding> = crate::tree::in_parallel(&objects, |object| {
            check_object(validators, &unreadable, object)
        })
        .into_iter()
        .flatten()
        .collect();
        for object in objects.iter().filter(|o| o.is_child_application()) {
            findings.extend(self.check_helm_values(object));
        }
        findings
    }

    fn document(&mut self, path: &str) -> Result<Option<&Value>, String> {
        if !self.documents.contains_key(path) {
            let document = match self.source.read(path)? {
                None => None,
                Some(text) if path.ends_with(".json") => Some(
                    serde_json::from_str(&text).map_err(|e| format!("{path} is not JSON: {e}"))?,
                ),
                Some(text) => Some(
                    serde_yaml::from_str(&text).map_err(|e| format!("{path} is not YAML: {e}"))?,
                ),
            };
            self.documents.insert(path.to_owned(), document);
        }
        Ok(self.documents[path].as_ref())
    }

    fn validator(&mut self, path: &str) -> Result<Option<&jsonschema::Validator>, String> {
        if !self.validators.contains_key(path) {
            let validator = match self.document(path)? {
                None => None,
                Some(schema) => Some(
                    jsonschema::validator_for(schema)
                        .map_err(|e| format!("{path} does not compile: {e}"))?,
                ),
            };
            self.validators.insert(path.to_owned(), validator);
        }
        Ok(self.validators[path].as_ref())
    }

    /// Helm merges `valuesObject` over the chart's defaults and, where the chart ships a
    /// schema, validates the result; where it ships none, a key the chart does not know is
    /// silently ignored, which is the mistake this catches.
    fn check_helm_values(&mut self, application: &RenderedObject) -> Vec<Finding> {
        application
            .sources()
            .into_iter()
            .flat_map(|(pointer, source)| {
                self.check_helm_source(&application.file, &pointer, source)
            })
            .collect()
    }

    fn check_helm_source(&mut self, file: &str, pointer: &str, source: &Value) -> Vec<Finding> {
        let Some(chart) = source["chart"].as_str() else {
            return Vec::new();
        };
        let values_pointer = format!("{pointer}/helm/valuesObject");
        let values = source["helm"]["valuesObject"].clone();
        let version = source["targetRevision"].as_str().unwrap_or_default();

        let chart_yaml = format!("charts/{chart}/Chart.yaml");
        let known_version = match self.document(&chart_yaml) {
            Ok(Some(document)) => document["version"].as_str().map(|v| v.trim().to_owned()),
            Ok(None) => {
                return vec![Finding::new(
                    file,
                    &format!("{pointer}/chart"),
                    "values:unknown-chart",
                    &Value::String(chart.to_owned()),
                    format!(
                        "no {chart_yaml} in the schema folder, so the chart's values cannot be checked"
                    ),
                )];
            }
            Err(message) => {
                return vec![unreadable(file, message)];
            }
        };
        if known_version.as_deref() != Some(version) {
            return vec![Finding::new(
                file,
                &format!("{pointer}/targetRevision"),
                "values:chart-version",
                &Value::String(version.to_owned()),
                format!(
                    "the schema folder describes {chart} {}, not {version}; its values cannot be checked against the right chart",
                    known_version.unwrap_or_default()
                ),
            )];
        }

        let defaults = match self.document(&format!("charts/{chart}/values.yaml")) {
            Ok(document) => document.cloned().unwrap_or(Value::Null),
            Err(message) => {
                return vec![unreadable(file, message)];
            }
        };
        let schema_path = format!("charts/{chart}/values.schema.json");
        match self.validator(&schema_path) {
            Ok(Some(validator)) => {
                let merged = helm_merge(defaults, &values);
                validator
                    .iter_errors(&merged)
                    .map(|error| {
                        Finding::new(
                            file,
                            &format!("{values_pointer}{}", error.instance_path()),
                            &format!("values-schema:{}", keyword(&error.schema_path().to_string())),
                            error.instance(),
                            error.to_string(),
                        )
                    })
                    .collect()
            }
            Ok(None) => values
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(key, _)| defaults.get(key.as_str()).is_none())
                .map(|(key, value)| {
                    Finding::new(
                        file,
                        &format!("{values_pointer}/{}", key.replace('~', "~0").replace('/', "~1")),
                        "values-key",
                        value,
                        format!("`{key}` is not a value of the {chart} chart (not in its values.yaml); Helm would ignore it"),
                    )
                })
                .collect(),
            Err(message) => vec![unreadable(file, message)],
        }
    }
}

/// A schema file that exists but cannot be read or compiled.
fn unreadable(file: &str, message: String) -> Finding {
    Finding::new(file, "", "values:unreadable", &Value::Null, message)
}

/// The keyword a schema error broke: the last segment of its schema path.
/// One object against its schema, compiled ahead ([`Schemas::check_objects`]): `validators`
/// holds every schema found, by path, `unreadable` why the others could not be read.
fn check_object(
    validators: &BTreeMap<String, Option<jsonschema::Validator>>,
    unreadable: &BTreeMap<String, String>,
    object: &RenderedObject,
) -> Vec<Finding> {
    let path = object_schema_path(object.api_version(), object.kind());
    let validator = match (validators.get(&path), unreadable.get(&path)) {
        (Some(Some(validator)), _) => validator,
        (_, Some(message)) => {
            return vec![Finding::new(
                &object.file,
                "",
                "schema:unreadable",
                &Value::Null,
                message.clone(),
            )];
        }
        _ => {
            let allowed = UNCHECKED_KINDS
                .iter()
                .any(|(group, kind, _)| *group == object.group() && *kind == object.kind());
            if allowed {
                return Vec::new();
            }
            return vec![Finding::new(
                &object.file,
                "",
                "schema:missing",
                &Value::String(format!("{} {}", object.api_version(), object.kind())),
                format!(
                    "no schema at {path}, and the kind is not on the allow list of unchecked kinds"
                ),
            )];
        }
    };
    validator
        .iter_errors(&object.object)
        .map(|error| {
            Finding::new(
                &object.file,
                &error.instance_path().to_string(),
                &format!("schema:{}", keyword(&error.schema_path().to_string())),
                error.instance(),
                error.to_string(),
            )
        })
        .collect()
}

fn keyword(schema_path: &str) -> String {
    schema_path
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Helm's merge of user values over chart defaults: maps merge, anything else replaces,
/// `null` deletes the default.
pub fn helm_merge(defaults: Value, overrides: &Value) -> Value {
    match (defaults, overrides) {
        (Value::Object(mut base), Value::Object(overrides)) => {
            for (key, value) in overrides {
                if value.is_null() {
                    base.remove(key);
                } else {
                    let merged = helm_merge(base.remove(key).unwrap_or(Value::Null), value);
                    base.insert(key.clone(), merged);
                }
            }
            Value::Object(base)
        }
        (_, overrides) => overrides.clone(),
    }
}
