//! `preconditions` and `deny.conditions`: `any`/`all` blocks of key, operator, value.

use serde_json::Value;

use crate::go_value::{Number, sprint};
use crate::jmes::QueryError;
use crate::leaf::{self, Operator};
use crate::variables::{Scope, substitute};
use crate::{duration, quantity, wildcard};

/// Evaluates a conditions document (`{any: [...], all: [...]}` or the older plain list):
/// `Ok((true, message))` when it holds.
pub fn evaluate(conditions: Option<&Value>, scope: &Scope) -> Result<(bool, String), String> {
    let Some(conditions) = conditions else {
        return Ok((true, String::new()));
    };
    match conditions {
        Value::Null => Ok((true, String::new())),
        Value::Array(list) => {
            let mut messages = Vec::new();
            for condition in list {
                let (holds, message) = single(condition, scope)?;
                if !holds {
                    return Ok((false, message));
                }
                messages.push(message);
            }
            Ok((true, join_non_empty(&messages, ";")))
        }
        Value::Object(map) => {
            let mut false_messages = Vec::new();
            let mut true_messages = Vec::new();
            let mut any_holds = true;
            if let Some(any) = map.get("any").filter(|any| !any.is_null()) {
                any_holds = false;
                for condition in any.as_array().map(Vec::as_slice).unwrap_or_default() {
                    let (holds, message) = single(condition, scope)?;
                    if holds {
                        any_holds = true;
                        true_messages.push(message);
                        break;
                    }
                    false_messages.push(message);
                }
            }
            let mut all_hold = true;
            for condition in map
                .get("all")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let (holds, message) = single(condition, scope)?;
                if holds {
                    true_messages.push(message);
                } else {
                    all_hold = false;
                    false_messages.push(message);
                    break;
                }
            }
            if any_holds && all_hold {
                Ok((true, join_non_empty(&true_messages, "; ")))
            } else {
                Ok((false, join_non_empty(&false_messages, "; ")))
            }
        }
        _ => Err("invalid condition".to_owned()),
    }
}

fn join_non_empty(messages: &[String], separator: &str) -> String {
    messages
        .iter()
        .filter(|message| !message.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(separator)
}

fn single(condition: &Value, scope: &Scope) -> Result<(bool, String), String> {
    let resolve = |field: &str| -> Result<Value, String> {
        let raw = condition.get(field).cloned().unwrap_or(Value::Null);
        substitute(&raw, scope).map_err(|error: QueryError| {
            format!("failed to substitute variables in condition {field}: {error}")
        })
    };
    let key = resolve("key")?;
    let value = resolve("value")?;
    let operator = condition
        .get("operator")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let message = condition
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let holds = apply(operator, &key, &value)
        .ok_or_else(|| format!("unknown condition operator {operator:?}"))?;
    Ok((holds, message))
}

/// Applies a condition operator, as Kyverno's operator handlers do; `None` for an unknown operator.
pub fn apply(operator: &str, key: &Value, value: &Value) -> Option<bool> {
    Some(match operator.to_ascii_lowercase().as_str() {
        "equal" | "equals" => equals(key, value),
        "notequal" | "notequals" => not_equals(key, value),
        "in" => membership(key, value, Membership::In),
        "notin" => membership(key, value, Membership::NotIn),
        "anyin" => membership(key, value, Membership::AnyIn),
        "allin" => membership(key, value, Membership::AllIn),
        "anynotin" => membership(key, value, Membership::AnyNotIn),
        "allnotin" => membership(key, value, Membership::AllNotIn),
        "greaterthan" => numeric(key, value, |ordering| ordering.is_gt()),
        "greaterthanorequals" => numeric(key, value, |ordering| ordering.is_ge()),
        "lessthan" => numeric(key, value, |ordering| ordering.is_lt()),
        "lessthanorequals" => numeric(key, value, |ordering| ordering.is_le()),
        "durationgreaterthan" => durations(key, value, |ordering| ordering.is_gt()),
        "durationgreaterthanorequals" => durations(key, value, |ordering| ordering.is_ge()),
        "durationlessthan" => durations(key, value, |ordering| ordering.is_lt()),
        "durationlessthanorequals" => durations(key, value, |ordering| ordering.is_le()),
        _ => return None,
    })
}

/// Both sides as durations when either is one (a bare number then counts seconds).
fn both_durations(key: &Value, value: &Value) -> Option<(f64, f64)> {
    let parse_side = |side: &Value| match side {
        Value::String(text) if text != "0" => duration::parse(text),
        _ => None,
    };
    let (key_duration, value_duration) = (parse_side(key), parse_side(value));
    if key_duration.is_none() && value_duration.is_none() {
        return None;
    }
    let seconds = |side: &Value| Number::of(side).map(|number| number.as_f64() * 1e9);
    Some((
        key_duration.or_else(|| seconds(key))?,
        value_duration.or_else(|| seconds(value))?,
    ))
}

fn equals(key: &Value, value: &Value) -> bool {
    match key {
        Value::Bool(flag) => value.as_bool() == Some(*flag),
        Value::Number(_) => {
            let key = Number::of(key).map(Number::as_f64).unwrap_or(f64::NAN);
            match value {
                Value::Number(_) => {
                    let number = Number::of(value).unwrap_or(Number::Float(f64::NAN));
                    match number {
                        Number::Int(int) => key.fract() == 0.0 && key == int as f64,
                        Number::Float(float) => float == key,
                    }
                }
                Value::String(text) => text.parse::<f64>().is_ok_and(|parsed| parsed == key),
                _ => false,
            }
        }
        Value::String(text) => {
            if let Some((left, right)) = both_durations(key, value) {
                return left == right;
            }
            if let (Some(left), Value::String(right)) = (quantity::parse(text), value) {
                return quantity::parse(right).is_some_and(|right| right == left);
            }
            value
                .as_str()
                .is_some_and(|pattern| wildcard::matches(pattern, text))
        }
        Value::Object(_) | Value::Array(_) => key == value,
        Value::Null => false,
    }
}

fn not_equals(key: &Value, value: &Value) -> bool {
    match key {
        Value::Bool(flag) => value.as_bool() != Some(*flag),
        Value::Number(_) => !equals(key, value),
        Value::String(text) => {
            if let Some((left, right)) = both_durations(key, value) {
                return left != right;
            }
            if let (Some(left), Value::String(right)) = (quantity::parse(text), value)
                && !right.is_empty()
            {
                return quantity::parse(right).is_none_or(|right| right != left);
            }
            value
                .as_str()
                .is_none_or(|pattern| !wildcard::matches(pattern, text))
        }
        Value::Object(_) | Value::Array(_) => key != value,
        Value::Null => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Membership {
    In,
    NotIn,
    AnyIn,
    AllIn,
    AnyNotIn,
    AllNotIn,
}

fn either_matches(left: &str, right: &str) -> bool {
    wildcard::matches(left, right) || wildcard::matches(right, left)
}

/// A string value that is a JSON list, a range `a-b`, or a single item.
fn value_as_list(value: &str) -> Option<Vec<String>> {
    if serde_json::from_str::<Value>(value).is_ok() {
        return serde_json::from_str::<Vec<String>>(value).ok();
    }
    Some(vec![value.to_owned()])
}

fn membership(key: &Value, value: &Value, kind: Membership) -> bool {
    match key {
        Value::Array(keys) => {
            // In and NotIn take string keys only; the others print any scalar.
            let keys: Vec<String> = keys.iter().map(sprint).collect();
            set_membership(&keys, value, kind)
        }
        Value::String(text) => single_membership(text, value, kind),
        Value::Number(_) | Value::Bool(_) => single_membership(&sprint(key), value, kind),
        _ => false,
    }
}

fn single_membership(key: &str, value: &Value, kind: Membership) -> bool {
    let found = match value {
        Value::Array(items) => Some(items.iter().any(|item| either_matches(&sprint(item), key))),
        Value::String(text) => {
            if wildcard::matches(text, key) {
                Some(true)
            } else if matches!(kind, Membership::In | Membership::NotIn) {
                serde_json::from_str::<Vec<String>>(text)
                    .ok()
                    .map(|list| list.iter().any(|item| item == key))
            } else if Operator::of(text) == Operator::InRange {
                Some(leaf::matches(&Value::String(key.to_owned()), value))
            } else {
                value_as_list(text).map(|list| list.iter().any(|item| item == key))
            }
        }
        _ => None,
    };
    match found {
        None => false,
        Some(found) => match kind {
            Membership::In | Membership::AnyIn | Membership::AllIn => found,
            Membership::NotIn | Membership::AnyNotIn | Membership::AllNotIn => !found,
        },
    }
}

fn set_membership(keys: &[String], value: &Value, kind: Membership) -> bool {
    let values: Vec<String> = match value {
        Value::Array(items) => {
            if matches!(kind, Membership::In | Membership::NotIn)
                && !items.iter().all(Value::is_string)
            {
                return false;
            }
            items.iter().map(sprint).collect()
        }
        Value::Number(_) | Value::Bool(_)
            if !matches!(kind, Membership::In | Membership::NotIn) =>
        {
            vec![sprint(value)]
        }
        Value::String(text) => {
            if keys.len() == 1 && keys[0] == *text {
                return !matches!(
                    kind,
                    Membership::NotIn | Membership::AnyNotIn | Membership::AllNotIn
                );
            }
            if !matches!(kind, Membership::In | Membership::NotIn)
                && Operator::of(text) == Operator::InRange
            {
                let in_range = |key: &String| leaf::matches(&Value::String(key.clone()), value);
                return match kind {
                    Membership::AnyIn => keys.iter().any(in_range),
                    Membership::AllIn => keys.iter().all(in_range),
                    Membership::AnyNotIn => {
                        let outside = Value::String(text.replacen('-', "!-", 1));
                        keys.iter()
                            .any(|key| leaf::matches(&Value::String(key.clone()), &outside))
                    }
                    _ => !keys.iter().any(in_range),
                };
            }
            let list = if matches!(kind, Membership::In | Membership::NotIn) {
                serde_json::from_str::<Vec<String>>(text).ok()
            } else {
                value_as_list(text)
            };
            match list {
                Some(list) => list,
                None => return false,
            }
        }
        _ => return false,
    };
    match kind {
        // In and NotIn compare exactly; the Any/All forms match wildcards both ways.
        Membership::In => keys.iter().all(|key| values.contains(key)),
        Membership::NotIn => keys.iter().any(|key| !values.contains(key)),
        Membership::AnyIn => keys
            .iter()
            .any(|key| values.iter().any(|item| either_matches(key, item))),
        Membership::AllIn => keys
            .iter()
            .all(|key| values.iter().any(|item| either_matches(key, item))),
        Membership::AnyNotIn => keys
            .iter()
            .any(|key| !values.iter().any(|item| either_matches(key, item))),
        Membership::AllNotIn => !keys
            .iter()
            .any(|key| values.iter().any(|item| either_matches(key, item))),
    }
}

fn numeric(key: &Value, value: &Value, test: fn(std::cmp::Ordering) -> bool) -> bool {
    let compare = |left: f64, right: f64| left.partial_cmp(&right).is_some_and(test);
    let number_against = |left: f64, value: &Value| -> bool {
        match value {
            Value::Number(_) => {
                Number::of(value).is_some_and(|right| compare(left, right.as_f64()))
            }
            Value::String(text) => {
                if let Some((left_ns, right_ns)) = both_durations(&serde_json::json!(left), value) {
                    return compare(left_ns, right_ns);
                }
                text.parse::<f64>().is_ok_and(|right| compare(left, right))
            }
            _ => false,
        }
    };
    match key {
        Value::Number(_) => {
            Number::of(key).is_some_and(|left| number_against(left.as_f64(), value))
        }
        Value::String(text) => {
            if let Some((left, right)) = both_durations(key, value) {
                return compare(left, right);
            }
            if let (Some(left), Some(right)) = (
                quantity::parse(text),
                value.as_str().and_then(quantity::parse),
            ) {
                return compare(left, right);
            }
            if let Ok(left) = text.parse::<f64>() {
                return number_against(left, value);
            }
            match (semver(text), value.as_str().and_then(semver)) {
                (Some(left), Some(right)) => test(left.cmp(&right)),
                _ => false,
            }
        }
        _ => false,
    }
}

/// `major.minor.patch` for version comparisons; pre-release and build suffixes are ignored.
fn semver(text: &str) -> Option<(u64, u64, u64)> {
    let core = text.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|part| part.parse::<u64>().ok());
    let version = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(version)
}

fn durations(key: &Value, value: &Value, test: fn(std::cmp::Ordering) -> bool) -> bool {
    let as_duration = |side: &Value| match side {
        Value::String(text) => duration::parse(text),
        Value::Number(_) => Number::of(side).map(|number| number.as_f64().trunc() * 1e9),
        _ => None,
    };
    match (as_duration(key), as_duration(value)) {
        (Some(left), Some(right)) => left.partial_cmp(&right).is_some_and(test),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(operator: &str, key: Value, value: Value) -> bool {
        apply(operator, &key, &value).unwrap()
    }

    #[test]
    fn equals_and_not_equals() {
        assert!(op("Equals", json!("CREATE"), json!("CREATE")));
        assert!(op("Equals", json!("nginx:1"), json!("nginx:*")));
        assert!(op("Equals", json!("1Gi"), json!("1024Mi")));
        assert!(op("Equals", json!("1h"), json!("60m")));
        assert!(op("Equals", json!(2), json!("2")));
        assert!(op("Equals", json!({"a": 1}), json!({"a": 1})));
        assert!(op("NotEquals", json!("DELETE"), json!("CREATE")));
        assert!(!op("NotEquals", json!("CREATE"), json!("CREATE")));
        assert!(op("NotEqual", json!(true), json!(false)));
    }

    #[test]
    fn in_and_not_in() {
        assert!(op("In", json!("a"), json!(["a", "b"])));
        assert!(!op("In", json!("c"), json!(["a", "b"])));
        assert!(op("In", json!(["a", "b"]), json!(["a", "b", "c"])));
        assert!(!op("In", json!(["a", "z"]), json!(["a", "b", "c"])));
        assert!(op("NotIn", json!("c"), json!(["a", "b"])));
        assert!(op("NotIn", json!(["a", "z"]), json!(["a", "b"])));
    }

    #[test]
    fn any_and_all_forms_with_wildcards() {
        assert!(op("AnyIn", json!(["NET_ADMIN", "CHOWN"]), json!(["NET_*"])));
        assert!(!op("AnyIn", json!(["CHOWN"]), json!(["NET_*"])));
        assert!(op("AllIn", json!(["a", "b"]), json!(["a", "b", "c"])));
        assert!(!op("AllIn", json!(["a", "x"]), json!(["a", "b"])));
        assert!(op("AnyNotIn", json!(["a", "x"]), json!(["a", "b"])));
        assert!(!op("AnyNotIn", json!(["a"]), json!(["a", "b"])));
        assert!(op("AllNotIn", json!(["x", "y"]), json!(["a", "b"])));
        assert!(!op("AllNotIn", json!(["x", "a"]), json!(["a", "b"])));
        assert!(op("AnyIn", json!([8080]), json!("8000-9000")));
        assert!(op("AnyNotIn", json!([80]), json!("8000-9000")));
        assert!(op(
            "AnyIn",
            json!("nodes/proxy"),
            json!(["nodes/proxy", "pods"])
        ));
        assert!(!op("AnyIn", json!(""), json!(null)));
    }

    #[test]
    fn numeric_and_duration_comparisons() {
        assert!(op("GreaterThan", json!(5), json!(3)));
        assert!(op("GreaterThanOrEquals", json!("3"), json!(3)));
        assert!(op("LessThan", json!("500m"), json!("1")));
        assert!(op("GreaterThan", json!("9h"), json!("8h")));
        assert!(!op("GreaterThan", json!("0s"), json!("8h")));
        assert!(op("LessThanOrEquals", json!("1.2.3"), json!("1.10.0")));
        assert!(op("DurationGreaterThan", json!("2h"), json!("90m")));
        assert!(op("DurationLessThanOrEquals", json!(60), json!("1m")));
        assert!(!op("DurationLessThan", json!("x"), json!("1m")));
    }

    #[test]
    fn any_all_blocks() {
        let scope = Scope::new(json!({"request": {"operation": "CREATE", "object": {}}}));
        let conditions = json!({"any": [{"key": "{{request.operation}}", "operator": "Equals", "value": "UPDATE"},
                                       {"key": "{{request.operation}}", "operator": "Equals", "value": "CREATE"}]});
        assert!(evaluate(Some(&conditions), &scope).unwrap().0);
        let conditions = json!({"all": [{"key": "{{request.operation}}", "operator": "Equals", "value": "CREATE"},
                                       {"key": "a", "operator": "Equals", "value": "b", "message": "a is not b"}]});
        assert_eq!(
            evaluate(Some(&conditions), &scope).unwrap(),
            (false, "a is not b".to_owned())
        );
        assert!(evaluate(None, &scope).unwrap().0);
        let unknown = json!({"all": [{"key": "a", "operator": "Bogus", "value": "b"}]});
        assert!(evaluate(Some(&unknown), &scope).is_err());
    }
}
