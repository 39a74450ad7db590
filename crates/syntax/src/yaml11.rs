//! What a scalar is, by go-yaml v2's rules (sigs.k8s.io/yaml v1.4.0 `goyaml.v2/resolve.go`,
//! the same as go.yaml.in/yaml/v2 v2.4.2, which sigs.k8s.io/yaml v1.6.0 uses). These are YAML
//! 1.1's: `0444` is octal, `yes` and `on` are true, `1_000` is a thousand. serde_yaml follows
//! YAML 1.2 and reads all three as strings.

/// The long form of `!!`: every core tag starts with it.
pub const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// A scalar after resolution, before it becomes JSON.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    /// The `<<` key of a mapping: merge the mapping (or mappings) it maps to.
    Merge,
}

/// The tags `resolve` acts on (`resolvableTag`); any other tag leaves the scalar a string.
const RESOLVABLE: &[&str] = &["str", "bool", "int", "float", "null", "timestamp"];

/// go-yaml's `yamlStyleFloat`, `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(text: &str) -> bool {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let rest = text.strip_prefix(['-', '+']).unwrap_or(text);
    let rest = if let Some(fraction) = rest.strip_prefix('.') {
        let n = digits(fraction);
        if n == 0 {
            return false;
        }
        &fraction[n..]
    } else {
        let n = digits(rest);
        if n == 0 {
            return false;
        }
        let rest = &rest[n..];
        match rest.strip_prefix('.') {
            Some(fraction) => &fraction[digits(fraction)..],
            None => rest,
        }
    };
    if rest.is_empty() {
        return true;
    }
    let Some(exponent) = rest.strip_prefix(['e', 'E']) else {
        return false;
    };
    let exponent = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
    !exponent.is_empty() && digits(exponent) == exponent.len()
}

/// A scalar as go-yaml v2's decoder reads it into an `interface{}`: a plain scalar without a
/// tag is resolved, a quoted or block one without a tag is a string (`decoder.scalar`), and a
/// tagged one is resolved against its tag. `tag` is the full tag (`tag:yaml.org,2002:int`).
pub fn scalar(text: &str, plain: bool, tag: Option<&str>) -> Result<Scalar, String> {
    match tag {
        None if !plain => Ok(Scalar::Str(text.to_owned())),
        None => Ok(resolve_untagged(text)),
        Some(tag) => resolve_tagged(text, tag),
    }
}

fn resolve_tagged(text: &str, tag: &str) -> Result<Scalar, String> {
    let Some(short) = tag.strip_prefix(CORE_TAG_PREFIX) else {
        // A local or unknown tag: go-yaml keeps the text.
        return Ok(Scalar::Str(text.to_owned()));
    };
    match short {
        "str" => return Ok(Scalar::Str(text.to_owned())),
        "binary" => return base64(text).map(Scalar::Str),
        "merge" => return Ok(Scalar::Merge),
        short if !RESOLVABLE.contains(&short) => return Ok(Scalar::Str(text.to_owned())),
        _ => {}
    }
    let resolved = if short == "timestamp" {
        if is_timestamp(text) {
            // Decoded into `interface{}`, a timestamp stays its text (decode.go, "for backward
            // compatibility reasons we set it as a string").
            return Ok(Scalar::Str(text.to_owned()));
        }
        Scalar::Str(text.to_owned())
    } else {
        resolve_untagged(text)
    };
    let matches = match (&resolved, short) {
        (Scalar::Null, "null") | (Scalar::Bool(_), "bool") | (Scalar::Float(_), "float") => true,
        (Scalar::Int(_) | Scalar::Uint(_), "int") => true,
        // `!!float 1` is the float 1 (resolve's deferred check).
        (Scalar::Int(value), "float") => return Ok(Scalar::Float(*value as f64)),
        (Scalar::Uint(value), "float") => return Ok(Scalar::Float(*value as f64)),
        _ => false,
    };
    if matches {
        Ok(resolved)
    } else {
        Err(format!(
            "cannot decode !!{} `{text}` as a !!{short} (go-yaml v2, which Kubernetes reads YAML with)",
            kind(&resolved)
        ))
    }
}

fn kind(scalar: &Scalar) -> &'static str {
    match scalar {
        Scalar::Null => "null",
        Scalar::Bool(_) => "bool",
        Scalar::Int(_) | Scalar::Uint(_) => "int",
        Scalar::Float(_) => "float",
        Scalar::Str(_) => "str",
        Scalar::Merge => "merge",
    }
}

/// `resolve("", in)`: the first character picks what the text may be.
fn resolve_untagged(text: &str) -> Scalar {
    if let Some(known) = known_word(text) {
        return known;
    }
    match text.as_bytes().first() {
        Some(b'.') => float(text).map_or_else(|| Scalar::Str(text.to_owned()), Scalar::Float),
        Some(b'+' | b'-' | b'0'..=b'9') => number(text),
        _ => Scalar::Str(text.to_owned()),
    }
}

/// `resolveMap`: the words YAML 1.1 gives a type, by exact spelling.
fn known_word(text: &str) -> Option<Scalar> {
    Some(match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Scalar::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Scalar::Bool(false)
        }
        "" | "~" | "null" | "Null" | "NULL" => Scalar::Null,
        ".nan" | ".NaN" | ".NAN" => Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Scalar::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Scalar::Float(f64::NEG_INFINITY),
        "<<" => Scalar::Merge,
        _ => return None,
    })
}

/// The digit-or-sign case. A timestamp is tried first there, but decoded into `interface{}`
/// it stays its text, which is what falling through to a string gives too.
fn number(text: &str) -> Scalar {
    let plain = text.replace('_', "");
    if let Some((negative, magnitude)) = go_parse_integer(&plain) {
        if negative {
            if magnitude <= 1u128 << 63 {
                return Scalar::Int((magnitude as i128).wrapping_neg() as i64);
            }
        } else if let Ok(value) = i64::try_from(magnitude) {
            return Scalar::Int(value);
        } else if let Ok(value) = u64::try_from(magnitude)
            && !plain.starts_with('+')
        {
            // strconv.ParseUint takes no sign.
            return Scalar::Uint(value);
        }
    }
    if yaml_style_float(&plain)
        && let Some(value) = float(&plain)
    {
        return Scalar::Float(value);
    }
    Scalar::Str(text.to_owned())
}

/// strconv.ParseFloat on text that `yamlStyleFloat` accepts (or that starts with `.`): a value
/// out of range is an error there, so the text stays a string.
fn float(text: &str) -> Option<f64> {
    if !yaml_style_float(text) {
        return None;
    }
    text.parse::<f64>().ok().filter(|value| value.is_finite())
}

/// strconv.ParseInt(text, 0, 64)'s syntax: an optional sign, then `0x`, `0o` or `0b` and
/// digits of that base, a leading `0` and octal digits, or decimal digits. Returns the sign
/// and the magnitude; whether it fits is the caller's question.
fn go_parse_integer(text: &str) -> Option<(bool, u128)> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &body[2..]),
        Some("0o") => (8, &body[2..]),
        Some("0b") => (2, &body[2..]),
        _ if body.len() > 1 && body.starts_with('0') => (8, &body[1..]),
        _ => (10, body),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u128::from_str_radix(digits, radix)
        .ok()
        .filter(|magnitude| *magnitude <= u128::from(u64::MAX))
        .map(|magnitude| (negative, magnitude))
}

/// `parseTimestamp`'s formats: a date `YYYY-M-D`, alone or followed by a time (`T`, `t` or a
/// space, then `H:M:S` and an optional fraction; after `T`/`t` a zone, `Z` or `±hh:mm`).
fn is_timestamp(text: &str) -> bool {
    let (date, time) = match text.find(['T', 't', ' ']) {
        Some(at) => (&text[..at], Some((&text[at..at + 1], &text[at + 1..]))),
        None => (text, None),
    };
    let date: Vec<&str> = date.split('-').collect();
    let numeric = |part: &str, widths: std::ops::RangeInclusive<usize>| {
        widths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
    };
    let date_ok = date.len() == 3
        && numeric(date[0], 4..=4)
        && numeric(date[1], 1..=2)
        && numeric(date[2], 1..=2)
        && (1..=12).contains(&date[1].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&date[2].parse::<u32>().unwrap_or(0));
    let Some((separator, time)) = time else {
        return date_ok;
    };
    let (clock, zoned) = if separator == " " {
        (time, true)
    } else if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, true)
    } else {
        match time.rfind(['+', '-']) {
            Some(at) => {
                let zone: Vec<&str> = time[at + 1..].split(':').collect();
                let zone_ok = zone.len() == 2 && numeric(zone[0], 2..=2) && numeric(zone[1], 2..=2);
                (&time[..at], zone_ok)
            }
            None => (time, false),
        }
    };
    let (clock, fraction) = clock.split_once('.').unwrap_or((clock, "0"));
    let clock: Vec<&str> = clock.split(':').collect();
    date_ok
        && zoned
        && clock.len() == 3
        && clock.iter().all(|part| numeric(part, 1..=2))
        && numeric(fraction, 1..=9)
}

/// `!!binary`: standard base64, line breaks allowed; the bytes become text (JSON has no bytes,
/// and Go's encoder replaces invalid UTF-8).
fn base64(text: &str) -> Result<String, String> {
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    let mut padding = 0;
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        let value = match c {
            'A'..='Z' => c as u32 - 'A' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 26,
            '0'..='9' => c as u32 - '0' as u32 + 52,
            '+' => 62,
            '/' => 63,
            '=' => {
                padding += 1;
                continue;
            }
            _ => return Err("!!binary value contains invalid base64 data".to_owned()),
        };
        if padding > 0 {
            return Err("!!binary value contains invalid base64 data".to_owned());
        }
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Whether Kubernetes reads `text`, written plain, as this very string.
pub fn plain_is_string(text: &str) -> bool {
    matches!(resolve_untagged(text), Scalar::Str(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_float_pattern_is_go_yamls() {
        for yes in ["1", "-1", "+.5", "1.", "1.5e3", "1E-3", ".5e+7", "007"] {
            assert!(yaml_style_float(yes), "{yes}");
        }
        for no in [
            "", ".", "e3", "1e", "1.5.2", "1e+", "+", "-.", "1_0", ".e1", "1e3x",
        ] {
            assert!(!yaml_style_float(no), "{no}");
        }
    }

    fn plain(text: &str) -> Scalar {
        scalar(text, true, None).unwrap()
    }

    #[test]
    fn octal_hex_binary_and_underscores_are_integers() {
        assert_eq!(plain("0444"), Scalar::Int(0o444));
        assert_eq!(plain("0644"), Scalar::Int(420));
        assert_eq!(plain("0o17"), Scalar::Int(15));
        assert_eq!(plain("0x1F"), Scalar::Int(31));
        assert_eq!(plain("-0x1F"), Scalar::Int(-31));
        assert_eq!(plain("0b101"), Scalar::Int(5));
        assert_eq!(plain("1_000"), Scalar::Int(1000));
        assert_eq!(plain("+5"), Scalar::Int(5));
        assert_eq!(plain("-9223372036854775808"), Scalar::Int(i64::MIN));
        assert_eq!(plain("18446744073709551615"), Scalar::Uint(u64::MAX));
        assert_eq!(
            plain("18446744073709551616"),
            Scalar::Float(18446744073709551616.0)
        );
    }

    #[test]
    fn not_octal_digits_fall_through_to_a_float() {
        // ParseInt("08", 0, 64) fails (8 is no octal digit); yamlStyleFloat matches.
        assert_eq!(plain("08"), Scalar::Float(8.0));
        assert_eq!(plain("1e3"), Scalar::Float(1000.0));
        assert_eq!(plain(".5"), Scalar::Float(0.5));
        assert_eq!(plain("-.5"), Scalar::Float(-0.5));
        assert_eq!(plain("1."), Scalar::Float(1.0));
        assert_eq!(plain("1e400"), Scalar::Str("1e400".to_owned()));
    }

    #[test]
    fn yaml_1_1_words() {
        for word in [
            "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True",
        ] {
            assert_eq!(plain(word), Scalar::Bool(true), "{word}");
        }
        for word in ["n", "N", "no", "NO", "off", "Off", "false", "FALSE"] {
            assert_eq!(plain(word), Scalar::Bool(false), "{word}");
        }
        for word in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(plain(word), Scalar::Null, "{word:?}");
        }
        for word in ["tRUE", "yES", "nil", "oN"] {
            assert_eq!(plain(word), Scalar::Str(word.to_owned()), "{word}");
        }
        assert!(matches!(plain(".nan"), Scalar::Float(v) if v.is_nan()));
        assert_eq!(plain("-.inf"), Scalar::Float(f64::NEG_INFINITY));
    }

    #[test]
    fn strings_stay_strings() {
        for text in [
            "2001-12-14",
            "1.2.3",
            "12:30",
            "0x",
            "-",
            "v1",
            "_1",
            "0.0.0.0/0",
        ] {
            assert_eq!(plain(text), Scalar::Str(text.to_owned()), "{text}");
        }
        assert_eq!(
            scalar("0444", false, None).unwrap(),
            Scalar::Str("0444".into())
        );
        assert_eq!(
            scalar("yes", false, None).unwrap(),
            Scalar::Str("yes".into())
        );
    }

    #[test]
    fn tags_decide_or_refuse() {
        let tagged =
            |text: &str, tag: &str| scalar(text, false, Some(&format!("{CORE_TAG_PREFIX}{tag}")));
        assert_eq!(tagged("0444", "str").unwrap(), Scalar::Str("0444".into()));
        assert_eq!(tagged("12", "int").unwrap(), Scalar::Int(12));
        assert_eq!(tagged("1", "float").unwrap(), Scalar::Float(1.0));
        assert_eq!(tagged("yes", "bool").unwrap(), Scalar::Bool(true));
        assert_eq!(tagged("aGk=", "binary").unwrap(), Scalar::Str("hi".into()));
        assert_eq!(
            tagged("2001-12-14t21:59:43.10-05:00", "timestamp").unwrap(),
            Scalar::Str("2001-12-14t21:59:43.10-05:00".into())
        );
        let error = tagged("abc", "int").unwrap_err();
        assert!(
            error.contains("cannot decode !!str `abc` as a !!int"),
            "{error}"
        );
        assert!(tagged("2001-13-14", "timestamp").is_err());
        assert_eq!(
            scalar("x", true, Some("!local")).unwrap(),
            Scalar::Str("x".into())
        );
    }
}
