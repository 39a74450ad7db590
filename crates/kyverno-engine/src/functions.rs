//! The JMESPath functions Kyverno adds that a policy can use offline: strings, regular
//! expressions, labels, encodings, parsing and arithmetic on numbers, quantities and durations.
//! Functions that need the clock, randomness or a cluster are left out: a rule using them
//! reports an error instead of an answer that would not repeat.

use std::collections::BTreeMap;

use jmespath::functions::{ArgumentType, CustomFunction, Signature};
use jmespath::{Context, ErrorReason, JmespathError, Rcvar, Runtime, Variable};

use crate::{duration, quantity, wildcard};

type Outcome = Result<Rcvar, JmespathError>;

fn fail(context: &Context<'_>, message: String) -> JmespathError {
    JmespathError::from_ctx(context, ErrorReason::Parse(message))
}

fn text(args: &[Rcvar], index: usize) -> String {
    match args.get(index).map(|arg| &**arg) {
        Some(Variable::String(text)) => text.clone(),
        Some(Variable::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn string(value: String) -> Outcome {
    Ok(Rcvar::new(Variable::String(value)))
}

fn boolean(value: bool) -> Outcome {
    Ok(Rcvar::new(Variable::Bool(value)))
}

fn number(value: f64) -> Outcome {
    Ok(Rcvar::new(
        serde_json::Number::from_f64(value).map_or(Variable::Null, Variable::Number),
    ))
}

fn register(
    runtime: &mut Runtime,
    name: &str,
    inputs: Vec<ArgumentType>,
    function: fn(&[Rcvar], &mut Context<'_>) -> Outcome,
) {
    runtime.register_function(
        name,
        Box::new(CustomFunction::new(
            Signature::new(inputs, None),
            Box::new(function),
        )),
    );
}

/// `use_it` with the regular expression in the first argument (RE2 syntax, which the `regex`
/// crate shares). Compiled once per thread and expression, since a policy matches the same one
/// against every image; and used where it is kept, not cloned: a clone starts with none of the
/// matching state the original has built, and building it again cost more than the match.
fn with_compiled<R>(
    args: &[Rcvar],
    context: &Context<'_>,
    use_it: impl FnOnce(&regex::Regex) -> R,
) -> Result<R, JmespathError> {
    thread_local! {
        static COMPILED: std::cell::RefCell<std::collections::HashMap<std::string::String, regex::Regex>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    let source = text(args, 0);
    COMPILED.with(|cache| {
        let mut cache = cache.borrow_mut();
        let regex = match cache.entry(source) {
            std::collections::hash_map::Entry::Occupied(kept) => kept.into_mut(),
            std::collections::hash_map::Entry::Vacant(new) => {
                let regex = regex::Regex::new(new.key())
                    .map_err(|error| fail(context, error.to_string()))?;
                new.insert(regex)
            }
        };
        Ok(use_it(regex))
    })
}

/// Registers Kyverno's functions on `runtime`.
pub fn register_all(runtime: &mut Runtime) {
    use ArgumentType::{Any, Number, Object, String};
    register(runtime, "to_upper", vec![String], |args, _| {
        string(text(args, 0).to_uppercase())
    });
    register(runtime, "to_lower", vec![String], |args, _| {
        string(text(args, 0).to_lowercase())
    });
    register(runtime, "trim", vec![String, String], |args, _| {
        let cut: Vec<char> = text(args, 1).chars().collect();
        string(text(args, 0).trim_matches(cut.as_slice()).to_owned())
    });
    register(runtime, "trim_prefix", vec![String, String], |args, _| {
        let value = text(args, 0);
        let prefix = text(args, 1);
        string(
            value
                .strip_prefix(prefix.as_str())
                .unwrap_or(&value)
                .to_owned(),
        )
    });
    register(runtime, "split", vec![String, String], |args, _| {
        let parts = text(args, 0)
            .split(text(args, 1).as_str())
            .map(|part| Rcvar::new(Variable::String(part.to_owned())))
            .collect();
        Ok(Rcvar::new(Variable::Array(parts)))
    });
    register(runtime, "equal_fold", vec![String, String], |args, _| {
        boolean(text(args, 0).to_lowercase() == text(args, 1).to_lowercase())
    });
    register(
        runtime,
        "replace",
        vec![String, String, String, Number],
        |args, _| {
            let count = args[3].as_number().unwrap_or(-1.0);
            let (value, from, to) = (text(args, 0), text(args, 1), text(args, 2));
            string(if count < 0.0 {
                value.replace(&from, &to)
            } else {
                value.replacen(&from, &to, count as usize)
            })
        },
    );
    register(
        runtime,
        "replace_all",
        vec![String, String, String],
        |args, _| string(text(args, 0).replace(&text(args, 1), &text(args, 2))),
    );
    register(runtime, "truncate", vec![String, Number], |args, _| {
        let length = args[1].as_number().unwrap_or(0.0).max(0.0) as usize;
        string(text(args, 0).chars().take(length).collect())
    });
    register(runtime, "pattern_match", vec![String, Any], |args, _| {
        boolean(wildcard::matches(&text(args, 0), &text(args, 1)))
    });
    register(
        runtime,
        "regex_match",
        vec![String, Any],
        |args, context| {
            let subject = text(args, 1);
            boolean(with_compiled(args, context, |pattern| {
                pattern.is_match(&subject)
            })?)
        },
    );
    register(
        runtime,
        "regex_replace_all",
        vec![String, Any, Any],
        |args, context| {
            let (subject, replacement) = (text(args, 1), text(args, 2));
            string(with_compiled(args, context, |pattern| {
                pattern
                    .replace_all(&subject, replacement.as_str())
                    .into_owned()
            })?)
        },
    );
    register(
        runtime,
        "regex_replace_all_literal",
        vec![String, Any, Any],
        |args, context| {
            let (subject, replacement) = (text(args, 1), text(args, 2));
            string(with_compiled(args, context, |pattern| {
                pattern
                    .replace_all(&subject, regex::NoExpand(&replacement))
                    .into_owned()
            })?)
        },
    );
    register(runtime, "label_match", vec![Object, Object], |args, _| {
        let (Some(selector), Some(labels)) = (args[0].as_object(), args[1].as_object()) else {
            return boolean(false);
        };
        boolean(
            selector
                .iter()
                .all(|(key, value)| labels.get(key).is_some_and(|have| have == value)),
        )
    });
    register(runtime, "base64_encode", vec![String], |args, _| {
        string(base64::encode(text(args, 0).as_bytes()))
    });
    register(runtime, "base64_decode", vec![String], |args, context| {
        let bytes = base64::decode(&text(args, 0))
            .ok_or_else(|| fail(context, "illegal base64 data".to_owned()))?;
        string(std::string::String::from_utf8_lossy(&bytes).into_owned())
    });
    register(runtime, "parse_json", vec![String], |args, context| {
        let value: serde_json::Value = serde_json::from_str(&text(args, 0))
            .map_err(|error| fail(context, error.to_string()))?;
        Ok(crate::jmes::to_variable(&value))
    });
    register(runtime, "parse_yaml", vec![String], |args, context| {
        let value: serde_json::Value = serde_yaml::from_str(&text(args, 0))
            .map_err(|error| fail(context, error.to_string()))?;
        Ok(crate::jmes::to_variable(&value))
    });
    register(runtime, "items", vec![Object, String, String], |args, _| {
        let (key_name, value_name) = (text(args, 1), text(args, 2));
        let items = args[0]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(key, value)| {
                let entry = BTreeMap::from([
                    (key_name.clone(), Rcvar::new(Variable::String(key.clone()))),
                    (value_name.clone(), value.clone()),
                ]);
                Rcvar::new(Variable::Object(entry))
            })
            .collect();
        Ok(Rcvar::new(Variable::Array(items)))
    });
    register(
        runtime,
        "object_from_lists",
        vec![ArgumentType::Array, ArgumentType::Array],
        |args, _| {
            let keys = args[0].as_array().cloned().unwrap_or_default();
            let values = args[1].as_array().cloned().unwrap_or_default();
            let object = keys
                .iter()
                .enumerate()
                .filter_map(|(index, key)| {
                    let value = values
                        .get(index)
                        .cloned()
                        .unwrap_or_else(|| Rcvar::new(Variable::Null));
                    key.as_string().map(|key| (key.clone(), value))
                })
                .collect();
            Ok(Rcvar::new(Variable::Object(object)))
        },
    );
    register(runtime, "add", vec![Any, Any], |args, context| {
        arithmetic(args, context, Operation::Add)
    });
    register(runtime, "subtract", vec![Any, Any], |args, context| {
        arithmetic(args, context, Operation::Subtract)
    });
    register(runtime, "multiply", vec![Any, Any], |args, context| {
        arithmetic(args, context, Operation::Multiply)
    });
    register(runtime, "divide", vec![Any, Any], |args, context| {
        arithmetic(args, context, Operation::Divide)
    });
    register(runtime, "modulo", vec![Any, Any], |args, context| {
        arithmetic(args, context, Operation::Modulo)
    });
}

#[derive(Debug, Clone, Copy)]
enum Operation {
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
}

/// Both operands as numbers, else both as durations (seconds), else both as quantities: a pair
/// is read in the first form both sides have.
fn operands(left: &Variable, right: &Variable) -> Option<(f64, f64)> {
    let as_number = |value: &Variable| match value {
        Variable::Number(number) => number.as_f64(),
        Variable::String(text) => text.parse::<f64>().ok(),
        _ => None,
    };
    let as_text = |value: &Variable| value.as_string().cloned();
    if let (Some(left), Some(right)) = (as_number(left), as_number(right)) {
        return Some((left, right));
    }
    let (left_text, right_text) = (as_text(left), as_text(right));
    let parse_pair = |parse: fn(&str) -> Option<f64>| -> Option<(f64, f64)> {
        let side = |text: &Option<String>, value: &Variable| match text {
            Some(text) => parse(text),
            None => as_number(value),
        };
        Some((side(&left_text, left)?, side(&right_text, right)?))
    };
    parse_pair(|text| duration::parse(text).map(|nanos| nanos / 1e9))
        .or_else(|| parse_pair(quantity::parse))
}

/// Kyverno's arithmetic on numbers, quantities and durations; the result is a number (a ratio
/// for two quantities or durations divided).
fn arithmetic(args: &[Rcvar], context: &Context<'_>, operation: Operation) -> Outcome {
    let Some((left, right)) = operands(&args[0], &args[1]) else {
        return Err(fail(context, format!("invalid operands for {operation:?}")));
    };
    let result = match operation {
        Operation::Add => left + right,
        Operation::Subtract => left - right,
        Operation::Multiply => left * right,
        Operation::Divide | Operation::Modulo if right == 0.0 => {
            return Err(fail(context, "division by zero".to_owned()));
        }
        Operation::Divide => left / right,
        Operation::Modulo => left % right,
    };
    number(result)
}

/// Standard base64 (RFC 4648, padded), for `base64_encode` and `base64_decode`.
mod base64 {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(input: &[u8]) -> String {
        let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
        for chunk in input.chunks(3) {
            let bytes = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let group =
                (u32::from(bytes[0]) << 16) | (u32::from(bytes[1]) << 8) | u32::from(bytes[2]);
            for index in 0..4 {
                if index <= chunk.len() {
                    out.push(ALPHABET[((group >> (18 - 6 * index)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    pub fn decode(input: &str) -> Option<Vec<u8>> {
        let trimmed = input.trim_end_matches('=');
        let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
        let mut buffer = 0u32;
        let mut bits = 0;
        for byte in trimmed.bytes() {
            let value = ALPHABET.iter().position(|candidate| *candidate == byte)? as u32;
            buffer = (buffer << 6) | value;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((buffer >> bits) as u8);
                buffer &= (1 << bits) - 1;
            }
        }
        Some(out)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn round_trips() {
            for text in ["", "a", "ab", "abc", "hello world"] {
                assert_eq!(
                    super::decode(&super::encode(text.as_bytes())).unwrap(),
                    text.as_bytes()
                );
            }
            assert_eq!(super::encode(b"hello"), "aGVsbG8=");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::jmes::{query, to_variable};
    use serde_json::json;

    fn run(expression: &str) -> serde_json::Value {
        query(expression, &to_variable(&json!({}))).unwrap()
    }

    #[test]
    fn strings_and_regexes() {
        assert_eq!(run("regex_match('^[a-z]+$', 'abc')"), json!(true));
        assert_eq!(run("regex_match('^[a-z]+$', 'ABC')"), json!(false));
        assert_eq!(
            run("regex_replace_all('([a-z])-', 'a-b-c', '${1}_')"),
            json!("a_b_c")
        );
        assert_eq!(run("truncate('abcdef', `3`)"), json!("abc"));
        assert_eq!(run("base64_decode('aGVsbG8=')"), json!("hello"));
        assert_eq!(
            run("label_match(`{\"a\": \"1\"}`, `{\"a\": \"1\", \"b\": \"2\"}`)"),
            json!(true)
        );
        assert_eq!(run("parse_json('{\"a\": [1]}').a[0]"), json!(1));
    }

    #[test]
    fn arithmetic_on_quantities_and_durations() {
        assert_eq!(run("divide('1Gi', '512Mi')"), json!(2.0));
        assert_eq!(run("divide('1h', '30m')"), json!(2.0));
        assert_eq!(run("add(`1`, `2`)"), json!(3.0));
        assert!(crate::jmes::query("divide(`1`, `0`)", &to_variable(&json!({}))).is_err());
    }
}
