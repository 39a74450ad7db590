//! Prometheus's rule files and promtool's unit-test files, as typed documents.
//!
//! The rule file is what the chart's `serverFiles."alerting_rules.yml"` holds (prometheus chart
//! 29.27.0 loads `/etc/config/alerting_rules.yml`); the test file is what `promtool test rules`
//! reads (prometheus `cmd/promtool/unittest.go`: `rule_files`, `evaluation_interval`, `tests`
//! of `interval`, `input_series`, `alert_rule_test`).

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleFile {
    pub groups: Vec<RuleGroup>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleGroup {
    pub name: String,
    pub rules: Vec<AlertingRule>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertingRule {
    pub alert: String,
    pub expr: String,
    /// How long the condition must hold before the alert fires.
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// `summary` and `description`; `{{ $labels.<name> }}` is the alert's label.
    pub annotations: BTreeMap<String, String>,
}

/// A `promtool test rules` file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TestFile {
    pub rule_files: Vec<String>,
    pub evaluation_interval: String,
    pub tests: Vec<TestGroup>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TestGroup {
    pub interval: String,
    pub input_series: Vec<InputSeries>,
    pub alert_rule_test: Vec<AlertTest>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InputSeries {
    /// A series in selector notation, `name{label="value"}`.
    pub series: String,
    /// Expanding notation: `1x30` is 31 samples of 1, one per interval.
    pub values: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertTest {
    pub eval_time: String,
    pub alertname: String,
    /// Every alert expected to fire at `eval_time`; empty: none may.
    pub exp_alerts: Vec<ExpectedAlert>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExpectedAlert {
    pub exp_labels: BTreeMap<String, String>,
    pub exp_annotations: BTreeMap<String, String>,
}

/// A series of `metric` with `labels`, written as promtool reads it.
pub fn series(metric: &str, labels: &[(&str, &str)]) -> String {
    let labels: Vec<String> = labels
        .iter()
        .map(|(name, value)| format!("{name}=\"{value}\""))
        .collect();
    format!("{metric}{{{}}}", labels.join(", "))
}

/// An annotation template with `{{ $labels.<name> }}` replaced by the alert's labels, as
/// Prometheus expands it; a label the alert lacks expands to nothing, as in Prometheus.
pub fn expand(template: &str, labels: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{ $labels.") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "{{ $labels.".len()..];
        let end = after
            .find(" }}")
            .unwrap_or_else(|| panic!("unclosed template in `{template}`"));
        if let Some(value) = labels.get(&after[..end]) {
            out.push_str(value);
        }
        rest = &after[end + " }}".len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_labels_and_leaves_missing_ones_empty() {
        let labels = BTreeMap::from([("name".to_owned(), "vault".to_owned())]);
        assert_eq!(
            expand("{{ $labels.name }} in {{ $labels.namespace }}.", &labels),
            "vault in ."
        );
    }

    #[test]
    fn series_are_written_in_selector_notation() {
        assert_eq!(
            series("up", &[("job", "vault"), ("instance", "a:1")]),
            "up{job=\"vault\", instance=\"a:1\"}"
        );
    }
}
