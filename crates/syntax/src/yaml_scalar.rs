//! When a YAML scalar may be written plain, and what serde_yaml reads a plain scalar as: the
//! rules the generator's YAML writer (`core::yaml`) and the validator's reader agree on, from
//! serde_yaml 0.9 (`Serializer::serialize_str`, `de::visit_untagged_scalar`) and libyaml's
//! `yaml_emitter_analyze_scalar` as unsafe-libyaml 0.2 ports it (block context, unlimited
//! width).

/// Whether libyaml's analysis alone allows `text` plain in block context: exact.
pub fn plain_by_its_characters(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    if !bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        return false;
    }
    if first == b' ' || bytes[bytes.len() - 1] == b' ' {
        return false;
    }
    if text.starts_with("---") || text.starts_with("...") {
        return false;
    }
    if b"#,[]{}&*!|>'\"%@`".contains(&first) {
        return false;
    }
    let blank_after = |i: usize| bytes.get(i + 1).is_none_or(|b| *b == b' ');
    if matches!(first, b'-' | b'?' | b':') && blank_after(0) {
        return false;
    }
    for (i, b) in bytes.iter().enumerate() {
        if *b == b':' && blank_after(i) {
            return false;
        }
        if *b == b'#' && i > 0 && bytes[i - 1] == b' ' {
            return false;
        }
    }
    true
}

/// Whether serde_yaml quotes `text` because, written plain, it would read back as something
/// other than this string, so its serializer asks for single quotes: a null, a boolean, an
/// integer (decimal, or `0x`, `0o`, `0b`, signed or not, up to 128 bits), digits with a
/// leading zero (a string in YAML 1.2, quoted all the same), or a finite float as Rust parses
/// one, or `.inf`, `-.inf`, `.nan` in their three spellings. Exact: serde_yaml 0.9's
/// `visit_untagged_scalar` and `InferScalarStyle`, rule for rule.
pub fn typed(text: &str) -> bool {
    const WORDS: [&str; 10] = [
        "null", "Null", "NULL", "~", "true", "True", "TRUE", "false", "False", "FALSE",
    ];
    // Only a word, or what starts like a number, reads back as another type: Rust's float
    // syntax also takes `inf` and `nan`, which serde_yaml refuses as not finite.
    if !matches!(
        text.as_bytes().first(),
        Some(b'0'..=b'9' | b'+' | b'-' | b'.')
    ) {
        return WORDS.contains(&text);
    }
    WORDS.contains(&text)
        || unsigned_integer(text)
        || negative_integer(text)
        || digits_but_not_number(text)
        || float(text)
}

/// Digits after a leading zero (`007`, `-01`): a string to YAML 1.2, quoted by serde_yaml.
fn digits_but_not_number(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    digits.len() > 1 && digits.starts_with('0') && digits[1..].bytes().all(|b| b.is_ascii_digit())
}

fn unsigned_integer(text: &str) -> bool {
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = unsigned.strip_prefix(prefix) {
            if rest.starts_with(['+', '-']) {
                return false;
            }
            if u128::from_str_radix(rest, radix).is_ok() {
                return true;
            }
        }
    }
    !unsigned.starts_with(['+', '-'])
        && !digits_but_not_number(text)
        && unsigned.parse::<u128>().is_ok()
}

fn negative_integer(text: &str) -> bool {
    for (prefix, radix) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
        if let Some(rest) = text.strip_prefix(prefix)
            && i128::from_str_radix(&format!("-{rest}"), radix).is_ok()
        {
            return true;
        }
    }
    !digits_but_not_number(text) && text.parse::<i128>().is_ok()
}

fn float(text: &str) -> bool {
    if digits_but_not_number(text) {
        return false;
    }
    let unsigned = match text.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return false,
        Some(rest) => rest,
        None => text,
    };
    matches!(unsigned, ".inf" | ".Inf" | ".INF")
        || matches!(text, "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN")
        || unsigned.parse::<f64>().is_ok_and(f64::is_finite)
}
