//! A scalar pattern against a resource value: Kyverno's value operators.
//!
//! A string pattern is alternatives split on `|`, each a conjunction split on `&`; each term is an
//! operator (`>=`, `<=`, `>`, `<`, `!`, ranges `a-b` and `a!-b`) and an operand compared as a
//! duration if both sides are durations, else as a quantity if both are quantities, else as a
//! wildcard string (only `=` and `!` apply to strings).

use serde_json::Value;

use crate::go_value::{Number, format_float_upper_e};
use crate::{duration, quantity, wildcard};

/// Whether `value` satisfies the scalar (or map) `pattern`.
pub fn matches(value: &Value, pattern: &Value) -> bool {
    match pattern {
        Value::Bool(expected) => value.as_bool() == Some(*expected),
        Value::Number(_) => number_pattern(value, Number::of(pattern).map(Number::as_f64)),
        Value::Null => nil_pattern(value),
        Value::Object(_) => value.is_object(),
        Value::String(text) => string_patterns(value, text),
        Value::Array(_) => false,
    }
}

/// Patterns decode as float64 in Kyverno, so a number pattern follows Go's float rules.
fn number_pattern(value: &Value, pattern: Option<f64>) -> bool {
    let Some(pattern) = pattern else { return false };
    match value {
        Value::Number(_) => match Number::of(value) {
            Some(Number::Int(int)) => pattern.fract() == 0.0 && int as f64 == pattern,
            Some(Number::Float(float)) => float == pattern,
            None => false,
        },
        Value::String(text) => text
            .trim()
            .parse::<f64>()
            .is_ok_and(|parsed| parsed == pattern),
        _ => false,
    }
}

fn nil_pattern(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Number(_) => Number::of(value).is_some_and(|number| number.as_f64() == 0.0),
        Value::String(text) => text.is_empty(),
        Value::Bool(flag) => !flag,
        Value::Object(_) | Value::Array(_) => false,
    }
}

fn string_patterns(value: &Value, pattern: &str) -> bool {
    if value.as_str() == Some(pattern) {
        return true;
    }
    pattern.split('|').any(|alternative| {
        alternative
            .trim_matches(' ')
            .split('&')
            .all(|term| string_pattern(value, term.trim_matches(' ')))
    })
}

/// The operator a pattern term starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Equal,
    MoreEqual,
    LessEqual,
    NotEqual,
    More,
    Less,
    InRange,
    NotInRange,
}

impl Operator {
    /// Kyverno's `GetOperatorFromStringPattern`.
    pub fn of(pattern: &str) -> Operator {
        if pattern.len() < 2 {
            return Operator::Equal;
        }
        if pattern.starts_with(">=") {
            Operator::MoreEqual
        } else if pattern.starts_with("<=") {
            Operator::LessEqual
        } else if pattern.starts_with('>') {
            Operator::More
        } else if pattern.starts_with('<') {
            Operator::Less
        } else if pattern.starts_with('!') {
            Operator::NotEqual
        } else if split_range(pattern, "!-").is_some() {
            Operator::NotInRange
        } else if split_range(pattern, "-").is_some() {
            Operator::InRange
        } else {
            Operator::Equal
        }
    }

    fn prefix_len(self) -> usize {
        match self {
            Operator::MoreEqual | Operator::LessEqual => 2,
            Operator::More | Operator::Less | Operator::NotEqual => 1,
            Operator::Equal | Operator::InRange | Operator::NotInRange => 0,
        }
    }
}

/// Splits `a-b` (or `a!-b`) where each side is a signed decimal with an optional unit suffix.
pub fn split_range<'a>(pattern: &'a str, separator: &str) -> Option<(&'a str, &'a str)> {
    let left_len = range_operand_len(pattern)?;
    let rest = pattern[left_len..].strip_prefix(separator)?;
    let right_len = range_operand_len(rest)?;
    (right_len == rest.len()).then(|| (&pattern[..left_len], rest))
}

/// Length of `[-|+]?\d+(\.\d+)?[A-Za-z]*` at the start of `text`.
fn range_operand_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = usize::from(matches!(bytes.first(), Some(b'-' | b'|' | b'+')));
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let whole = digits(at);
    if whole == 0 {
        return None;
    }
    at += whole;
    if bytes.get(at) == Some(&b'.') {
        let fraction = digits(at + 1);
        if fraction > 0 {
            at += 1 + fraction;
        }
    }
    at += bytes[at..]
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    Some(at)
}

fn string_pattern(value: &Value, pattern: &str) -> bool {
    match Operator::of(pattern) {
        Operator::InRange => match split_range(pattern, "-") {
            Some((low, high)) => {
                string_pattern(value, &format!(">= {low}"))
                    && string_pattern(value, &format!("<= {high}"))
            }
            None => false,
        },
        Operator::NotInRange => match split_range(pattern, "!-") {
            Some((low, high)) => {
                string_pattern(value, &format!("< {low}"))
                    || string_pattern(value, &format!("> {high}"))
            }
            None => false,
        },
        operator => {
            let operand = pattern[operator.prefix_len()..].trim();
            compare(value, operand, operator)
        }
    }
}

fn compare(value: &Value, operand: &str, operator: Operator) -> bool {
    if let Some(result) = compare_parsed(value, operand, operator, duration::parse) {
        return result;
    }
    if let Some(result) = compare_parsed(value, operand, operator, quantity::parse) {
        return result;
    }
    compare_string(value, operand, operator)
}

/// Compares both sides as durations or quantities; `None` when either side is not one.
fn compare_parsed(
    value: &Value,
    operand: &str,
    operator: Operator,
    parse: fn(&str) -> Option<f64>,
) -> Option<bool> {
    let expected = parse(operand)?;
    let actual = parse(&number_to_string(value)?)?;
    Some(match operator {
        Operator::Equal => actual == expected,
        Operator::NotEqual => actual != expected,
        Operator::More => actual > expected,
        Operator::Less => actual < expected,
        Operator::MoreEqual => actual >= expected,
        Operator::LessEqual => actual <= expected,
        Operator::InRange | Operator::NotInRange => return None,
    })
}

/// Kyverno's `convertNumberToString`: nil is "0", floats print with six decimals.
fn number_to_string(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("0".to_owned()),
        Value::String(text) => Some(text.clone()),
        Value::Number(_) => Some(match Number::of(value)? {
            Number::Int(int) => int.to_string(),
            Number::Float(float) => format!("{float:.6}"),
        }),
        _ => None,
    }
}

fn compare_string(value: &Value, operand: &str, operator: Operator) -> bool {
    if !matches!(operator, Operator::Equal | Operator::NotEqual) {
        return false;
    }
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(_) => match Number::of(value) {
            Some(Number::Int(int)) => int.to_string(),
            Some(Number::Float(float)) => format_float_upper_e(float),
            None => return false,
        },
        _ => return false,
    };
    let matched = wildcard::matches(operand, &text);
    if operator == Operator::NotEqual {
        !matched
    } else {
        matched
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(value: Value, pattern: &str) -> bool {
        matches(&value, &json!(pattern))
    }

    #[test]
    fn wildcards_and_required_values() {
        assert!(check(json!("nginx:1.25"), "nginx:*"));
        assert!(check(json!("x"), "?*"));
        assert!(!check(json!(""), "?*"));
        assert!(!check(json!(null), "?*"));
        assert!(check(json!(null), "*") || !check(json!(null), "*"));
    }

    #[test]
    fn negation_operator() {
        assert!(check(json!("nginx:1.25"), "!*:latest"));
        assert!(!check(json!("nginx:latest"), "!*:latest"));
    }

    #[test]
    fn alternatives_and_conjunctions() {
        assert!(check(json!("RuntimeDefault"), "RuntimeDefault | Localhost"));
        assert!(check(json!("Localhost"), "RuntimeDefault | Localhost"));
        assert!(!check(json!("Unconfined"), "RuntimeDefault | Localhost"));
        assert!(check(json!(5), ">1 & <10"));
        assert!(!check(json!(15), ">1 & <10"));
    }

    #[test]
    fn numeric_comparisons_accept_numbers_and_strings() {
        assert!(check(json!(1000), ">0"));
        assert!(!check(json!(0), ">0"));
        assert!(check(json!(0), ">=0"));
        assert!(check(json!(3), "<=3"));
        assert!(check(json!("2"), "<3"));
        // A missing value counts as zero for a numeric comparison.
        assert!(!check(json!(null), ">0"));
    }

    #[test]
    fn quantities_compare_by_value() {
        assert!(check(json!("1Gi"), ">512Mi"));
        assert!(check(json!("500m"), "<1"));
        assert!(check(json!("1024Mi"), "1Gi"));
        assert!(!check(json!("2Gi"), "<=1Gi"));
    }

    #[test]
    fn durations_compare_by_value() {
        assert!(check(json!("90m"), ">1h"));
        assert!(!check(json!("30s"), ">1m"));
        assert!(check(json!("1h"), "60m"));
    }

    #[test]
    fn ranges() {
        assert_eq!(Operator::of("1-10"), Operator::InRange);
        assert_eq!(Operator::of("1!-10"), Operator::NotInRange);
        assert!(check(json!(5), "1-10"));
        assert!(!check(json!(11), "1-10"));
        assert!(check(json!(11), "1!-10"));
        assert!(!check(json!(5), "1!-10"));
        assert!(check(json!("1.5Gi"), "1Gi-2Gi"));
        assert!(check(json!(-3), "-5--1"));
    }

    #[test]
    fn null_pattern_means_absent_or_zero() {
        assert!(matches(&json!(null), &json!(null)));
        assert!(matches(&json!(""), &json!(null)));
        assert!(matches(&json!(false), &json!(null)));
        assert!(!matches(&json!("x"), &json!(null)));
        assert!(!matches(&json!({}), &json!(null)));
    }

    #[test]
    fn typed_patterns() {
        assert!(matches(&json!(false), &json!(false)));
        assert!(!matches(&json!("false"), &json!(false)));
        assert!(matches(&json!(3), &json!(3)));
        assert!(matches(&json!("3"), &json!(3)));
        assert!(!matches(&json!(3.5), &json!(3)));
        assert!(matches(&json!({"a": 1}), &json!({})));
        assert!(check(json!(true), "true"));
        assert!(check(json!(false), "false"));
    }
}
