//! Go's `time.ParseDuration`, which Kyverno uses for durations in patterns and conditions.

/// Nanoseconds of a Go duration string such as `1h30m`, `-1.5s`, `300ms` or `0`.
pub fn parse(text: &str) -> Option<f64> {
    let (negative, mut rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_end];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit_end..];
    }
    Some(if negative { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse("0"), Some(0.0));
        assert_eq!(parse("1h30m"), Some(5400e9));
        assert_eq!(parse("-1.5s"), Some(-1.5e9));
        assert_eq!(parse("300ms"), Some(300e6));
        assert_eq!(parse("8h"), Some(8.0 * 3600e9));
    }

    #[test]
    fn refuses_what_go_refuses() {
        for bad in ["", "1", "h", "1x", "1.2.3s", "latest"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
