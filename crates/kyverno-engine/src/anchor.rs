//! Pattern anchors: `(key)`, `<(key)`, `X(key)`, `+(key)`, `=(key)`, `^(key)`.

/// What an anchor asks of the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorKind {
    /// `(key)`: the rest of the map applies only when this key matches.
    Condition,
    /// `<(key)`: the whole pattern applies only when this key matches.
    Global,
    /// `X(key)`: the key must be absent.
    Negation,
    /// `+(key)`: mutate-only; in a validate pattern it is an ordinary key.
    AddIfNotPresent,
    /// `=(key)`: checked only when present.
    Equality,
    /// `^(key)`: at least one list element matches.
    Existence,
}

/// A parsed anchor: its kind and the resource key it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor<'a> {
    pub kind: AnchorKind,
    pub key: &'a str,
}

/// Parses `key` as an anchor, as Kyverno does: a modifier, then the key in parentheses.
pub fn parse(text: &str) -> Option<Anchor<'_>> {
    let text = text.trim();
    let (kind, rest) = match text.as_bytes().first()? {
        b'(' => (AnchorKind::Condition, text),
        b'<' => (AnchorKind::Global, &text[1..]),
        b'X' => (AnchorKind::Negation, &text[1..]),
        b'+' => (AnchorKind::AddIfNotPresent, &text[1..]),
        b'=' => (AnchorKind::Equality, &text[1..]),
        b'^' => (AnchorKind::Existence, &text[1..]),
        _ => return None,
    };
    let key = rest.strip_prefix('(')?.strip_suffix(')')?;
    if key.is_empty() {
        return None;
    }
    Some(Anchor { kind, key })
}

/// The anchor text for `kind` around `key`.
pub fn render(kind: AnchorKind, key: &str) -> String {
    let modifier = match kind {
        AnchorKind::Condition => "",
        AnchorKind::Global => "<",
        AnchorKind::Negation => "X",
        AnchorKind::AddIfNotPresent => "+",
        AnchorKind::Equality => "=",
        AnchorKind::Existence => "^",
    };
    format!("{modifier}({key})")
}

#[cfg(test)]
mod tests {
    use super::{AnchorKind, parse};

    #[test]
    fn parses_every_modifier() {
        let cases = [
            ("(name)", AnchorKind::Condition),
            ("<(image)", AnchorKind::Global),
            ("X(hostPath)", AnchorKind::Negation),
            ("+(label)", AnchorKind::AddIfNotPresent),
            ("=(securityContext)", AnchorKind::Equality),
            ("^(containers)", AnchorKind::Existence),
        ];
        for (text, kind) in cases {
            let anchor = parse(text).unwrap();
            assert_eq!(anchor.kind, kind, "{text}");
        }
        assert_eq!(parse("=(a.b/c)").unwrap().key, "a.b/c");
    }

    #[test]
    fn plain_keys_and_empty_anchors_are_not_anchors() {
        for text in ["name", "()", "X()", "Xname", "(name", "name)"] {
            assert!(parse(text).is_none(), "{text}");
        }
    }
}
