//! How Go's encoding/json values print and compare, where Kyverno's answers depend on it.

use serde_json::Value;

/// A JSON number as Go sees it in an unstructured object: an integer stays an integer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub fn of(value: &Value) -> Option<Number> {
        let number = match value {
            Value::Number(number) => number,
            _ => return None,
        };
        Some(match number.as_i64() {
            Some(int) => Number::Int(int),
            None => Number::Float(number.as_f64().unwrap_or(f64::NAN)),
        })
    }

    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(int) => int as f64,
            Number::Float(float) => float,
        }
    }
}

/// `fmt.Sprint` of a value: what Kyverno compares when an operator works on strings.
pub fn sprint(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(_) => match Number::of(value) {
            Some(Number::Int(int)) => int.to_string(),
            Some(Number::Float(float)) => format_float_g(float),
            None => String::new(),
        },
        Value::String(text) => text.clone(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(sprint).collect();
            format!("[{}]", inner.join(" "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(key, value)| format!("{key}:{}", sprint(value)))
                .collect();
            format!("map[{}]", inner.join(" "))
        }
    }
}

/// Go's `%v` of a float64: shortest representation, exponent only for very large or small values.
pub fn format_float_g(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e21 {
        format!("{}", value as i128)
    } else if value != 0.0 && (value.abs() < 1e-4 || value.abs() >= 1e21) {
        let text = format!("{value:e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) => {
                let (sign, digits) = match exponent.strip_prefix('-') {
                    Some(digits) => ('-', digits),
                    None => ('+', exponent),
                };
                format!("{mantissa}e{sign}{digits:0>2}")
            }
            None => text,
        }
    } else {
        format!("{value}")
    }
}

/// `strconv.FormatFloat(v, 'E', -1, 64)`, which Kyverno uses to compare a float with a string pattern.
pub fn format_float_upper_e(value: f64) -> String {
    let text = format!("{value:E}");
    match text.split_once('E') {
        Some((mantissa, exponent)) => {
            let (sign, digits) = match exponent.strip_prefix('-') {
                Some(digits) => ('-', digits),
                None => ('+', exponent),
            };
            format!("{mantissa}E{sign}{digits:0>2}")
        }
        None => text,
    }
}

/// Go's `%T` of a decoded JSON value, for messages that name it.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => match Number::of(value) {
            Some(Number::Int(_)) => "int64",
            _ => "float64",
        },
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sprint_matches_go() {
        assert_eq!(sprint(&json!(1)), "1");
        assert_eq!(sprint(&json!(1.0)), "1");
        assert_eq!(sprint(&json!(1.5)), "1.5");
        assert_eq!(sprint(&json!(true)), "true");
        assert_eq!(sprint(&json!(null)), "<nil>");
        assert_eq!(sprint(&json!(["a", 1])), "[a 1]");
    }

    #[test]
    fn upper_e_matches_strconv() {
        assert_eq!(format_float_upper_e(1.5), "1.5E+00");
        assert_eq!(format_float_upper_e(1000.0), "1E+03");
        assert_eq!(format_float_upper_e(0.001), "1E-03");
    }
}
