//! Scalar types of the environment model that check themselves when they are parsed, so a
//! bad value is reported with the line it came from and never reaches a manifest.

use std::cmp::Ordering;
use std::fmt;

use platform_syntax::check_chart_version;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

macro_rules! checked_string {
    ($(#[$meta:meta])* $name:ident, $check:path, $schema:expr) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                $check(&value)?;
                Ok(Self(value))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = String;

            fn try_from(value: &str) -> Result<Self, Self::Error> {
                Self::try_from(value.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                let mut schema: Schema = $schema;
                // The title names the type, so a schema error can be explained by its checker.
                schema.insert("title".to_owned(), stringify!($name).into());
                schema
            }
        }
    };
}

checked_string!(
    /// A DNS-1123 label: what Kubernetes accepts as a namespace or Service name.
    DnsLabel,
    check_dns_label,
    json_schema!({
        "type": "string",
        "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        "maxLength": 63,
        "description": "A DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters."
    })
);

checked_string!(
    /// A duration such as `15s`, `1h` or `1h30m`: a whole number and a unit, repeated.
    Duration,
    check_duration,
    json_schema!({
        "type": "string",
        "pattern": "^([0-9]+(ms|s|m|h|d|w))+$",
        "description": "A positive duration: whole numbers each followed by a unit (ms, s, m, h, d, w), e.g. 15s, 1h, 1h30m."
    })
);

checked_string!(
    /// A container image reference with an explicit tag other than `latest`, or a digest.
    ImageRef,
    check_image,
    json_schema!({
        "type": "string",
        "pattern": "^(?!.*:latest$)[^\\s]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$",
        "description": "A container image with an explicit tag (not 'latest') or a sha256 digest, e.g. ghcr.io/org/app:1.4.2."
    })
);

checked_string!(
    /// A Kubernetes resource quantity such as `250m`, `1`, `128Mi` or `1.5Gi`.
    Quantity,
    check_quantity,
    json_schema!({
        "type": "string",
        "pattern": "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$",
        "description": "A Kubernetes quantity: a number with an optional suffix (m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei), e.g. 250m, 1, 128Mi."
    })
);

checked_string!(
    /// An exact chart version, `MAJOR.MINOR.PATCH` with an optional pre-release: never a range.
    ChartVersion,
    check_chart_version,
    json_schema!({
        "type": "string",
        "pattern": "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$",
        "description": "An exact chart version such as 0.34.1; ranges, `v` prefixes and `latest` are not allowed."
    })
);

/// Explains why `text` is not a valid value of the checked type named `type_name` (the
/// `title` of its schema), in the words its parser uses.
pub fn explain_invalid(type_name: Option<&str>, text: &str) -> Option<String> {
    let check: fn(&str) -> Result<(), String> = match type_name? {
        "DnsLabel" => check_dns_label,
        "Duration" => check_duration,
        "ImageRef" => check_image,
        "Quantity" => check_quantity,
        "ChartVersion" => check_chart_version,
        _ => return None,
    };
    check(text).err()
}

pub const DNS_LABEL_MAX: usize = 63;

fn check_dns_label(value: &str) -> Result<(), String> {
    let expected = "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)";
    if value.is_empty() {
        return Err(format!("empty name; expected {expected}"));
    }
    if value.len() > DNS_LABEL_MAX {
        return Err(format!(
            "`{value}` is {} characters long; expected {expected}",
            value.len()
        ));
    }
    if value.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!(
            "`{value}` has upper-case letters; expected {expected}, e.g. `{}`",
            value.to_ascii_lowercase()
        ));
    }
    let valid_chars = value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid_chars || value.starts_with('-') || value.ends_with('-') {
        return Err(format!("`{value}` is not valid; expected {expected}"));
    }
    Ok(())
}

const DURATION_UNITS: [(&str, u64); 6] = [
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
    ("w", 604_800_000),
];

impl Duration {
    /// The duration in milliseconds.
    pub fn millis(&self) -> u64 {
        parse_duration(&self.0).expect("checked when parsed")
    }

    /// The duration as Go's `time.ParseDuration` reads it, for the fields Argo CD, ESO and
    /// Kyverno parse so. Go knows no days or weeks: a duration that uses them is written in
    /// hours (`1d` as `24h`); any other is written as given.
    pub fn as_go(&self) -> String {
        if self.0.contains(['d', 'w']) {
            go_duration(self.millis())
        } else {
            self.0.clone()
        }
    }
}

impl Duration {
    /// The duration as Prometheus reads it (`model.ParseDuration`): units from the largest
    /// down, each at most once (`1w2d`, not `2d1w`). Written as given when it already reads so.
    pub fn as_prometheus(&self) -> String {
        let order = ["w", "d", "h", "m", "s", "ms"];
        let mut last = None;
        let mut in_order = true;
        let mut rest = self.0.as_str();
        while !rest.is_empty() {
            rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
            let unit = if rest.starts_with("ms") {
                "ms"
            } else {
                &rest[..1]
            };
            rest = &rest[unit.len()..];
            let position = order.iter().position(|u| *u == unit);
            in_order &= position > last;
            last = position;
        }
        if in_order {
            return self.0.clone();
        }
        in_units(
            self.millis(),
            &[
                (604_800_000, "w"),
                (86_400_000, "d"),
                (3_600_000, "h"),
                (60_000, "m"),
                (1_000, "s"),
                (1, "ms"),
            ],
        )
    }
}

/// Milliseconds in Go's notation: hours, minutes, seconds, milliseconds.
fn go_duration(millis: u64) -> String {
    in_units(
        millis,
        &[(3_600_000, "h"), (60_000, "m"), (1_000, "s"), (1, "ms")],
    )
}

/// `millis` in `units` (their size in milliseconds, largest first), each unit only where it
/// is not zero; the first unit takes everything above it (`216h` in hours, `1w2d` in weeks).
fn in_units(millis: u64, units: &[(u64, &str)]) -> String {
    let mut rest = millis;
    let mut text = String::new();
    for (size, unit) in units {
        let amount = rest / size;
        rest %= size;
        if amount > 0 {
            text.push_str(&format!("{amount}{unit}"));
        }
    }
    text
}

fn parse_duration(value: &str) -> Result<u64, String> {
    let expected = "a positive duration such as 15s, 1h or 1h30m (units: ms, s, m, h, d, w)";
    if value.is_empty() {
        return Err(format!("empty duration; expected {expected}"));
    }
    let mut rest = value;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err(format!("`{value}` is not a duration; expected {expected}"));
        }
        let amount: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{value}` is too large; expected {expected}"))?;
        rest = &rest[digits..];
        // Longest unit first, so `ms` is not read as `m` followed by garbage.
        let (unit, factor) = DURATION_UNITS
            .iter()
            .filter(|(unit, _)| rest.starts_with(unit))
            .max_by_key(|(unit, _)| unit.len())
            .ok_or_else(|| format!("`{value}` has no valid unit; expected {expected}"))?;
        rest = &rest[unit.len()..];
        total = amount
            .checked_mul(*factor)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(|| format!("`{value}` is too large; expected {expected}"))?;
    }
    if total == 0 {
        return Err(format!("`{value}` is zero; expected {expected}"));
    }
    Ok(total)
}

fn check_duration(value: &str) -> Result<(), String> {
    parse_duration(value).map(drop)
}

fn check_image(value: &str) -> Result<(), String> {
    let expected = "an image with an explicit tag or digest, e.g. `ghcr.io/org/app:1.4.2`";
    if value.is_empty() || value.chars().any(char::is_whitespace) {
        return Err(format!(
            "`{value}` is not an image reference; expected {expected}"
        ));
    }
    if value.contains("@sha256:") {
        return Ok(());
    }
    // A ':' after the last '/' is a tag; one before it belongs to a registry host:port.
    let last_segment = value.rsplit('/').next().unwrap_or(value);
    match last_segment.split_once(':') {
        None => Err(format!(
            "`{value}` has no tag, so every node may pull a different image; expected {expected}"
        )),
        Some((_, "latest")) => Err(format!(
            "`{value}` uses the mutable tag `latest`; expected {expected}"
        )),
        Some((_, "")) => Err(format!("`{value}` has an empty tag; expected {expected}")),
        Some(_) => Ok(()),
    }
}

/// Multipliers of the quantity suffixes, in nano-units so that `1m` CPU and `1Ki` bytes are
/// both whole numbers and quantities compare exactly.
const QUANTITY_SUFFIXES: [(&str, u128); 14] = [
    ("m", 1_000_000),
    ("", 1_000_000_000),
    ("k", 1_000_000_000_000),
    ("M", 1_000_000_000_000_000),
    ("G", 1_000_000_000_000_000_000),
    ("T", 1_000_000_000_000_000_000_000),
    ("P", 1_000_000_000_000_000_000_000_000),
    ("E", 1_000_000_000_000_000_000_000_000_000),
    ("Ki", 1_024 * 1_000_000_000),
    ("Mi", 1_048_576 * 1_000_000_000),
    ("Gi", 1_073_741_824 * 1_000_000_000),
    ("Ti", 1_099_511_627_776 * 1_000_000_000),
    ("Pi", 1_125_899_906_842_624 * 1_000_000_000),
    ("Ei", 1_152_921_504_606_846_976 * 1_000_000_000),
];

impl Quantity {
    /// The quantity in nano-units (nano-cores for CPU, nano-bytes for memory).
    pub fn nanos(&self) -> u128 {
        parse_quantity(&self.0).expect("checked when parsed")
    }
}

impl Quantity {
    pub fn cmp_value(&self, other: &Self) -> Ordering {
        self.nanos().cmp(&other.nanos())
    }
}

fn parse_quantity(value: &str) -> Result<u128, String> {
    let expected = "a Kubernetes quantity such as 250m, 1, 0.5, 128Mi or 1Gi";
    let number_len = value.len()
        - value
            .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.')
            .len();
    let (number, suffix) = value.split_at(number_len);
    let multiplier = QUANTITY_SUFFIXES
        .iter()
        .find(|(s, _)| *s == suffix)
        .map(|(_, m)| *m)
        .ok_or_else(|| format!("`{value}` has an unknown unit `{suffix}`; expected {expected}"))?;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits_ok = !whole.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && fraction.chars().all(|c| c.is_ascii_digit())
        && !(number.contains('.') && fraction.is_empty());
    if !digits_ok {
        return Err(format!("`{value}` is not a quantity; expected {expected}"));
    }
    let too_large = || format!("`{value}` is too large; expected {expected}");
    let mantissa: u128 = format!("{whole}{fraction}")
        .parse()
        .map_err(|_| too_large())?;
    let scale = 10u128
        .checked_pow(u32::try_from(fraction.len()).map_err(|_| too_large())?)
        .ok_or_else(too_large)?;
    let nanos = mantissa.checked_mul(multiplier).ok_or_else(too_large)?;
    if nanos % scale != 0 {
        return Err(format!(
            "`{value}` is finer than Kubernetes can represent; expected {expected}"
        ));
    }
    if nanos == 0 {
        return Err(format!("`{value}` is zero; expected a positive quantity"));
    }
    Ok(nanos / scale)
}

fn check_quantity(value: &str) -> Result<(), String> {
    parse_quantity(value).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        assert!(DnsLabel::try_from("finops-app").is_ok());
    }

    #[test]
    fn days_and_weeks_become_hours_for_go_and_other_durations_stay_as_written() {
        for (written, go) in [
            ("1d", "24h"),
            ("1w2d", "216h"),
            ("1d1h30m15s250ms", "25h30m15s250ms"),
            ("90m", "90m"),
            ("180s", "180s"),
        ] {
            assert_eq!(
                Duration::try_from(written).unwrap().as_go(),
                go,
                "{written}"
            );
        }
    }

    #[test]
    fn prometheus_durations_put_their_units_in_order() {
        for (written, prometheus) in [
            ("15d", "15d"),
            ("1w2d", "1w2d"),
            ("2d1w", "1w2d"),
            ("30m1h", "1h30m"),
            ("90m", "90m"),
            ("1h1h", "2h"),
        ] {
            assert_eq!(
                Duration::try_from(written).unwrap().as_prometheus(),
                prometheus,
                "{written}"
            );
        }
    }

    #[test]
    fn every_suffix_the_schema_allows_parses() {
        for suffix in [
            "m", "", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
        ] {
            assert!(
                Quantity::try_from(format!("1{suffix}").as_str()).is_ok(),
                "the schema's pattern allows `1{suffix}`, so the parser must too"
            );
        }
        assert!(DnsLabel::try_from("a").is_ok());
        for bad in ["", "-a", "a-", "Finops", "a_b", "a.b", &"a".repeat(64)] {
            assert!(DnsLabel::try_from(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(Duration::try_from("15s").unwrap().millis(), 15_000);
        assert_eq!(Duration::try_from("1h30m").unwrap().millis(), 5_400_000);
        assert_eq!(Duration::try_from("250ms").unwrap().millis(), 250);
        for bad in ["", "3x", "-1h", "1", "h", "0s", "1h 30m"] {
            assert!(Duration::try_from(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn quantities_compare_across_units() {
        let q = |s: &str| Quantity::try_from(s).unwrap();
        assert_eq!(q("500m").cmp_value(&q("0.5")), Ordering::Equal);
        assert_eq!(q("1Gi").cmp_value(&q("1024Mi")), Ordering::Equal);
        assert_eq!(q("1G").cmp_value(&q("1Gi")), Ordering::Less);
        assert_eq!(q("128Mi").cmp_value(&q("100M")), Ordering::Greater);
        for bad in ["", "1.", ".5", "12XB", "-1", "0", "0.0000000001"] {
            assert!(Quantity::try_from(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn chart_versions_are_exact() {
        for good in ["0.34.1", "10.1.1", "1.0.0-rc.1"] {
            assert!(ChartVersion::try_from(good).is_ok(), "{good:?} refused");
        }
        for bad in [
            "", "1.2", "v1.2.3", "^1.2.3", "1.2.x", "01.2.3", "latest", "1.2.3-",
        ] {
            assert!(ChartVersion::try_from(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn images_need_a_pinned_tag() {
        assert!(ImageRef::try_from("ghcr.io/org/app:1.4.2").is_ok());
        assert!(ImageRef::try_from("registry:5000/app:1").is_ok());
        assert!(ImageRef::try_from(format!("app@sha256:{}", "a".repeat(64))).is_ok());
        for bad in ["app", "app:latest", "registry:5000/app", "app:"] {
            assert!(ImageRef::try_from(bad).is_err(), "{bad:?} accepted");
        }
    }
}
