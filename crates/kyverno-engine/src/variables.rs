//! `{{ ... }}` substitution in messages, patterns and conditions.
//!
//! A string that is exactly one variable becomes the variable's value with its type; a variable
//! inside a longer string is replaced by its text (JSON for non-strings). `\{{` escapes a brace.

use std::cell::OnceCell;

use jmespath::Rcvar;
use serde_json::{Map, Value};

use crate::jmes::{self, QueryError};

/// The variables of one evaluation: `request.object`, `request.operation`, `element`, ...
/// Converted for JMESPath only when a rule first queries it: most patterns hold no variable.
#[derive(Debug, Clone)]
pub struct Scope {
    data: Value,
    variable: OnceCell<Rcvar>,
}

impl Scope {
    pub fn new(data: Value) -> Scope {
        Scope {
            data,
            variable: OnceCell::new(),
        }
    }

    pub fn data(&self) -> &Value {
        &self.data
    }

    /// A copy with `name` set to `value` at the top level.
    pub fn with(&self, name: &str, value: Value) -> Scope {
        let mut data = self.data.clone();
        if let Value::Object(map) = &mut data {
            map.insert(name.to_owned(), value);
        }
        Scope::new(data)
    }

    pub fn query(&self, expression: &str) -> Result<Value, QueryError> {
        jmes::query(
            expression,
            self.variable.get_or_init(|| jmes::to_variable(&self.data)),
        )
    }
}

/// `document` with its variables substituted; borrowed as it is when it holds none, which is
/// most patterns.
pub fn substituted<'d>(
    document: &'d Value,
    scope: &Scope,
) -> Result<std::borrow::Cow<'d, Value>, QueryError> {
    if has_variables(document) {
        substitute(document, scope).map(std::borrow::Cow::Owned)
    } else {
        Ok(std::borrow::Cow::Borrowed(document))
    }
}

fn has_variables(document: &Value) -> bool {
    match document {
        Value::String(text) => text.contains("{{"),
        Value::Array(items) => items.iter().any(has_variables),
        Value::Object(map) => map
            .iter()
            .any(|(key, value)| key.contains("{{") || has_variables(value)),
        _ => false,
    }
}

/// Substitutes every variable in `document`'s string leaves and keys.
pub fn substitute(document: &Value, scope: &Scope) -> Result<Value, QueryError> {
    Ok(match document {
        Value::String(text) => substitute_string(text, scope)?,
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| substitute(item, scope))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                let key = match substitute_string(key, scope)? {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                out.insert(key, substitute(value, scope)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// Substitutes the variables of one string.
pub fn substitute_string(text: &str, scope: &Scope) -> Result<Value, QueryError> {
    if !text.contains("{{") {
        return Ok(Value::String(text.to_owned()));
    }
    let mut current = text.to_owned();
    // Substituted text may itself hold variables; Kyverno resolves them too, so loop (bounded).
    for _ in 0..16 {
        let Some((start, end)) = find_variable(&current) else {
            break;
        };
        let inner = current[start + 2..end - 2].trim();
        let (expression, shallow) = match inner.strip_prefix('-') {
            Some(rest) => (rest.trim(), true),
            None => (inner, false),
        };
        let value = scope.query(expression)?;
        if start == 0 && end == current.len() {
            return Ok(value);
        }
        let mut replacement = match value {
            Value::String(text) => text,
            other => serde_json::to_string(&other).unwrap_or_default(),
        };
        if shallow {
            replacement = replacement.replace("{{", "\\{{");
        }
        current.replace_range(start..end, &replacement);
    }
    Ok(Value::String(current.replace("\\{{", "{{")))
}

/// The byte range of the first unescaped `{{ ... }}` in `text` whose body holds no other
/// variable: Kyverno's variable pattern, so nested variables resolve innermost first.
fn find_variable(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut start = 0;
    while let Some(offset) = text[start..].find("{{") {
        let at = start + offset;
        start = at + 1;
        if at > 0 && bytes[at - 1] == b'\\' {
            continue;
        }
        if let Some(end) = variable_end(bytes, at + 2) {
            return Some((at, end));
        }
    }
    None
}

/// After `{{`: single-brace groups `{...}` and other characters up to `}}`; `None` when a
/// nested `{{` (or an unbalanced brace) means this is not the innermost variable.
fn variable_end(bytes: &[u8], mut cursor: usize) -> Option<usize> {
    while cursor < bytes.len() {
        match bytes[cursor] {
            b'}' => {
                return (bytes.get(cursor + 1) == Some(&b'}')).then_some(cursor + 2);
            }
            b'{' => {
                let close = bytes[cursor + 1..]
                    .iter()
                    .position(|byte| matches!(byte, b'{' | b'}'))?;
                if bytes[cursor + 1 + close] != b'}' {
                    return None;
                }
                cursor += close + 2;
            }
            _ => cursor += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope() -> Scope {
        Scope::new(
            json!({"request": {"operation": "CREATE", "object": {"metadata": {"name": "web"}, "spec": {"replicas": 3}}}}),
        )
    }

    #[test]
    fn whole_string_variable_keeps_its_type() {
        assert_eq!(
            substitute_string("{{ request.object.spec.replicas }}", &scope()),
            Ok(json!(3))
        );
    }

    #[test]
    fn embedded_variable_is_interpolated() {
        assert_eq!(
            substitute_string(
                "pod {{request.object.metadata.name}} has {{ request.object.spec.replicas }}",
                &scope()
            ),
            Ok(json!("pod web has 3"))
        );
    }

    #[test]
    fn defaults_and_escapes() {
        assert_eq!(
            substitute_string("{{ request.object.x || 'none' }}", &scope()),
            Ok(json!("none"))
        );
        assert_eq!(
            substitute_string("\\{{ literal }}", &scope()),
            Ok(json!("{{ literal }}"))
        );
        assert!(substitute_string("{{ request.object.x }}", &scope()).is_err());
    }

    #[test]
    fn nested_variables_resolve_innermost_first() {
        let scope = Scope::new(
            json!({"request": {"namespace": "shop"}, "dict": {"data": {"shop": "high"}}}),
        );
        assert_eq!(
            substitute_string("{{ dict.data.\"{{request.namespace}}\" }}", &scope),
            Ok(json!("high"))
        );
        assert_eq!(
            substitute_string("{{ `{\"a\": 1}`.a }}", &scope),
            Ok(json!(1))
        );
    }
}
