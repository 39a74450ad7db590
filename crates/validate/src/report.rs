//! Findings and how they are shown to people and to machines.

use std::fmt;

use serde::Serialize;

/// Every rule a finding can name, besides `schema:<keyword>` and `values-schema:<keyword>`
/// (the JSON Schema keyword an object or a chart's values break) and `kyverno:<policy>/<rule>`
/// (a Kyverno rule a workload breaks). The tests break each one.
pub const RULES: &[&str] = &[
    "yaml",
    "object",
    "schema:missing",
    "schema:unreadable",
    "values-key",
    "values:unknown-chart",
    "values:chart-version",
    "values:unreadable",
    "root-application",
    "repo-url",
    "sync-wave",
    "app-path",
    "app-repo",
    "helm-pinned",
    "helm-resources",
    "secret-values",
    "namespace",
    "crd-order",
    "crd-dry-run",
    "secret-store",
    "secret-store-scope",
    "secret-path",
    "wave-deadlock",
    "unique-object",
    "cost-labels",
    "app-project",
    "project-destination",
    "project-resource",
    "project-scope",
];

/// One failure: where it is, which rule it breaks, and the value that breaks it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    /// The file, relative to the tree's root, e.g. `dev/apps/vault.yaml`.
    pub file: String,
    /// JSON pointer inside the object, e.g. `/spec/source/targetRevision`; empty for the whole object.
    pub pointer: String,
    /// The rule: `schema:<keyword>`, `values-schema:<keyword>`, `values-key`, or an invariant's name.
    pub rule: String,
    /// The offending value, as JSON.
    pub value: String,
    pub message: String,
}

impl Finding {
    pub fn new(
        file: &str,
        pointer: &str,
        rule: &str,
        value: &serde_json::Value,
        message: String,
    ) -> Self {
        let mut value = value.to_string();
        if value.len() > 200 {
            let cut = (0..=200)
                .rev()
                .find(|i| value.is_char_boundary(*i))
                .unwrap_or(0);
            value.truncate(cut);
            value.push('…');
        }
        Self {
            file: file.to_owned(),
            pointer: pointer.to_owned(),
            rule: rule.to_owned(),
            value,
            message,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(
            f,
            "{} {pointer} [{}] {} (value: {})",
            self.file, self.rule, self.message, self.value
        )
    }
}

/// All findings of a run, sorted by file and pointer; and warnings, which do not fail it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub objects: usize,
    pub findings: Vec<Finding>,
    /// What is admitted but reported: a workload breaking a Kyverno rule in `Audit` mode.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Finding>,
}

impl Report {
    pub fn new(mut findings: Vec<Finding>, objects: usize) -> Self {
        findings.sort();
        findings.dedup();
        Self {
            objects,
            findings,
            warnings: Vec::new(),
        }
    }

    pub fn with_warnings(mut self, mut warnings: Vec<Finding>) -> Self {
        warnings.sort();
        warnings.dedup();
        self.warnings = warnings;
        self
    }

    pub fn is_ok(&self) -> bool {
        self.findings.is_empty()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report is JSON")
    }
}
