//! From a merged tree to a checked `Environment`, with every error located.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use platform_core::model::{self, Environment};
use serde_json::{Map, Number, Value as Json};

use crate::diagnostics::Diagnostic;
use crate::schema::complete_schema;
use crate::suggest::closest;
use crate::tree::{Node, Span, Value, is_null_text};

/// Where each value and key of the merged tree came from, by field path.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Spans {
    values: BTreeMap<String, Span>,
    keys: BTreeMap<String, Span>,
}

impl Spans {
    /// The span of the value at `path`, or of its nearest ancestor that has one.
    pub fn value(&self, path: &str) -> &Span {
        let mut path = path;
        loop {
            if let Some(span) = self.values.get(path) {
                return span;
            }
            match path.rfind(['.', '[']) {
                Some(index) => path = &path[..index],
                None => return &self.values[""],
            }
        }
    }

    /// Like [`Spans::value`], for spans that may be empty (an environment built in code).
    pub fn locate(&self, path: &str) -> Option<&Span> {
        (!self.values.is_empty()).then(|| self.value(path))
    }

    fn key(&self, path: &str) -> &Span {
        self.keys.get(path).unwrap_or_else(|| self.value(path))
    }
}

pub fn type_environment(root: &Node) -> Result<(Environment, Spans), Vec<Diagnostic>> {
    let mut spans = Spans::default();
    let json = to_json(root, String::new(), &mut spans);

    let errors = schema_errors(&json, &spans);
    if !errors.is_empty() {
        return Err(errors);
    }

    let env: Environment = serde_path_to_error::deserialize(&json).map_err(|error| {
        let path = error.path().to_string();
        let path = if path == "." { String::new() } else { path };
        vec![Diagnostic::at(
            spans.value(&path),
            Some(&path),
            error.into_inner().to_string(),
        )]
    })?;

    let errors: Vec<Diagnostic> = model::check(&env)
        .into_iter()
        .map(|error| Diagnostic::at(spans.value(&error.path), Some(&error.path), error.message))
        .collect();
    if errors.is_empty() {
        Ok((env, spans))
    } else {
        Err(errors)
    }
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The tree as JSON, typing plain scalars by YAML 1.2's core schema.
fn to_json(node: &Node, path: String, spans: &mut Spans) -> Json {
    let json = match &node.value {
        Value::Scalar { text, plain: true } => plain_scalar(text),
        Value::Scalar { text, plain: false } => Json::String(text.clone()),
        Value::Sequence(items) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| to_json(item, format!("{path}[{i}]"), spans))
                .collect(),
        ),
        Value::Mapping(entries) => {
            let mut object = Map::new();
            for entry in entries {
                let key_path = child(&path, &entry.key);
                spans.keys.insert(key_path.clone(), entry.key_span.clone());
                object.insert(entry.key.clone(), to_json(&entry.value, key_path, spans));
            }
            Json::Object(object)
        }
    };
    spans.values.insert(path, node.span.clone());
    json
}

fn plain_scalar(text: &str) -> Json {
    if is_null_text(text) {
        return Json::Null;
    }
    match text {
        "true" | "True" | "TRUE" => return Json::Bool(true),
        "false" | "False" | "FALSE" => return Json::Bool(false),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        if let Ok(n) = text.parse::<i64>() {
            return Json::Number(n.into());
        }
        if let Ok(n) = text.parse::<u64>() {
            return Json::Number(n.into());
        }
    }
    let looks_like_float = digits.chars().any(|c| c.is_ascii_digit())
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'));
    if looks_like_float && let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
        return Json::Number(n);
    }
    Json::String(text.to_owned())
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::validator_for(&complete_schema()).expect("the generated schema compiles")
    })
}

/// Every schema error of the merged environment, as located diagnostics.
fn schema_errors(json: &Json, spans: &Spans) -> Vec<Diagnostic> {
    let schema = complete_schema();
    let mut diagnostics = Vec::new();
    for error in validator().iter_errors(json) {
        let path = dotted(&error.instance_path().to_string());
        let keyword_schema = resolve(&schema, &error.schema_path().to_string());
        let instance = error.instance();
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let known = known_properties(keyword_schema.as_ref());
                for key in unexpected {
                    let key_path = child(&path, key);
                    let hint = closest(key, known.iter().map(String::as_str))
                        .map(|k| format!("did you mean `{k}`? "))
                        .unwrap_or_default();
                    diagnostics.push(Diagnostic::at(
                        spans.key(&key_path),
                        Some(&key_path),
                        format!(
                            "unknown field `{key}`; {hint}expected one of: {}",
                            known.join(", ")
                        ),
                    ));
                }
            }
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                let field_path = child(&path, name);
                let about = keyword_schema
                    .as_ref()
                    .and_then(|s| s.pointer(&format!("/properties/{name}/description")))
                    .and_then(Json::as_str)
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                diagnostics.push(Diagnostic::at(
                    spans.value(&path),
                    Some(&field_path),
                    format!("missing required field `{name}`{about}"),
                ));
            }
            ValidationErrorKind::Type { kind } => diagnostics.push(Diagnostic::at(
                spans.value(&path),
                Some(&path),
                format!(
                    "expected {}, found {}",
                    expected_type(kind),
                    describe(instance)
                ),
            )),
            ValidationErrorKind::Enum { options } => {
                let options: Vec<String> = options
                    .as_array()
                    .map(|o| {
                        o.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let found = instance
                    .as_str()
                    .map_or_else(|| instance.to_string(), str::to_owned);
                let hint = closest(&found, options.iter().map(String::as_str))
                    .map(|o| format!("did you mean `{o}`? "))
                    .unwrap_or_default();
                diagnostics.push(Diagnostic::at(
                    spans.value(&path),
                    Some(&path),
                    format!(
                        "`{found}` is not valid; {hint}expected one of: {}",
                        options.join(", ")
                    ),
                ));
            }
            ValidationErrorKind::Minimum { limit } => diagnostics.push(Diagnostic::at(
                spans.value(&path),
                Some(&path),
                format!("{instance} is below the minimum; expected at least {limit}"),
            )),
            ValidationErrorKind::Maximum { limit } => diagnostics.push(Diagnostic::at(
                spans.value(&path),
                Some(&path),
                format!("{instance} is above the maximum; expected at most {limit}"),
            )),
            ValidationErrorKind::AnyOf { .. } => {
                // An optional checked value (`Option<DnsLabel>`) is `anyOf: [$ref, null]`:
                // explain it with the checker of the referenced type.
                let text = instance.as_str().unwrap_or_default();
                let message = keyword_schema
                    .as_ref()
                    .and_then(|s| s.get("anyOf"))
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|branch| branch.get("$ref").and_then(Json::as_str))
                    .filter_map(|target| schema.pointer(target.strip_prefix('#')?))
                    .find_map(|target| model::explain_invalid(type_name(target), text))
                    .unwrap_or_else(|| error.to_string());
                diagnostics.push(Diagnostic::at(spans.value(&path), Some(&path), message));
            }
            ValidationErrorKind::Pattern { .. } | ValidationErrorKind::MaxLength { .. } => {
                let text = instance.as_str().unwrap_or_default();
                let message =
                    model::explain_invalid(keyword_schema.as_ref().and_then(type_name), text)
                        .unwrap_or_else(|| error.to_string());
                diagnostics.push(Diagnostic::at(spans.value(&path), Some(&path), message));
            }
            _ => diagnostics.push(Diagnostic::at(
                spans.value(&path),
                Some(&path),
                error.to_string(),
            )),
        }
    }
    diagnostics
}

/// The `title` the model gives its checked scalar types, which names their checker.
fn type_name(schema: &Json) -> Option<&str> {
    schema.get("title").and_then(Json::as_str)
}

fn known_properties(schema: Option<&Json>) -> Vec<String> {
    schema
        .and_then(|s| s.get("properties"))
        .and_then(Json::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// The schema object that holds the failing keyword, following `$ref`s along the way.
fn resolve(schema: &Json, keyword_path: &str) -> Option<Json> {
    let segments: Vec<String> = keyword_path
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let (_, parents) = segments.split_last()?;
    let mut current = schema;
    for segment in parents {
        if segment == "$ref" {
            let target = current.get("$ref")?.as_str()?.strip_prefix('#')?;
            current = schema.pointer(target)?;
            continue;
        }
        current = match current {
            Json::Object(object) => object.get(segment.as_str())?,
            Json::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    // A keyword next to a `$ref` (draft 2020-12) applies to the referenced schema too.
    if let Some(target) = current
        .get("$ref")
        .and_then(Json::as_str)
        .and_then(|r| r.strip_prefix('#'))
    {
        return schema.pointer(target).cloned();
    }
    Some(current.clone())
}

/// `/apps/0/secrets/1/vault_path` to `apps[0].secrets[1].vault_path`.
fn dotted(pointer: &str) -> String {
    let mut path = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit()) {
            path.push_str(&format!("[{segment}]"));
        } else {
            path = child(&path, &segment);
        }
    }
    path
}

fn expected_type(kind: &TypeKind) -> String {
    let name = |t: &jsonschema::JsonType| match t.to_string().as_str() {
        "string" => "a string".to_owned(),
        "integer" => "a whole number".to_owned(),
        "number" => "a number".to_owned(),
        "boolean" => "true or false".to_owned(),
        "array" => "a list".to_owned(),
        "object" => "a mapping".to_owned(),
        "null" => "nothing (null)".to_owned(),
        other => other.to_owned(),
    };
    match kind {
        TypeKind::Single(t) => name(t),
        TypeKind::Multiple(types) => types
            .iter()
            .map(|t| name(&t))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

fn describe(value: &Json) -> String {
    match value {
        Json::Null => "nothing (null)".to_owned(),
        Json::Bool(b) => format!("`{b}`"),
        Json::Number(n) => format!("the number `{n}` (quote it if you mean text)"),
        Json::String(s) => format!("the text `{s}`"),
        Json::Array(_) => "a list".to_owned(),
        Json::Object(_) => "a mapping".to_owned(),
    }
}
