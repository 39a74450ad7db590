//! `kyverno test` suites (`cli.kyverno.io/v1alpha1` Test), scored the way the Kyverno CLI does.
//!
//! Each (result entry × resource name) is one case: it agrees when the engine's status for that
//! policy and rule (or its `autogen-`/`autogen-cronjob-` rule) equals the expected result; a rule
//! that does not select the resource answers `skip`; a named resource that is not there disagrees.
//! This module reads documents; the caller reads files.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::engine::{PreparedPolicy, Request, Status};
use crate::policy::Policy;

/// A test file.
#[derive(Debug, Clone, Deserialize)]
pub struct TestFile {
    #[serde(default)]
    pub metadata: Option<TestMetadata>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub policies: Vec<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub variables: Option<String>,
    #[serde(default)]
    pub results: Vec<ExpectedResult>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TestMetadata {
    pub name: String,
}

impl TestFile {
    pub fn name(&self) -> &str {
        self.metadata
            .as_ref()
            .map(|metadata| metadata.name.as_str())
            .or(self.name.as_deref())
            .unwrap_or("unnamed")
    }
}

/// One `results` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct ExpectedResult {
    pub policy: String,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub result: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// The `variables` document's parts the evaluator uses.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    #[serde(default)]
    pub namespace_selector: Vec<NamespaceLabels>,
    #[serde(default)]
    pub global_values: BTreeMap<String, Value>,
    #[serde(default)]
    pub policies: Vec<PolicyValues>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NamespaceLabels {
    pub name: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PolicyValues {
    pub name: String,
    #[serde(default)]
    pub resources: Vec<ResourceValues>,
    #[serde(default)]
    pub rules: Vec<ResourceValues>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ResourceValues {
    pub name: String,
    #[serde(default)]
    pub values: BTreeMap<String, Value>,
}

/// One scored case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub policy: String,
    pub rule: String,
    pub resource: String,
    pub kind: String,
    pub expected: String,
    pub got: String,
    pub message: String,
}

impl Case {
    pub fn agrees(&self) -> bool {
        self.expected == self.got
    }
}

/// Scores a test's expected results against the policies and resources it names.
pub fn run(
    test: &TestFile,
    policy_documents: &[Value],
    resources: &[Value],
    values: &Values,
) -> Result<Vec<Case>, String> {
    let mut policies: Vec<Policy> = Vec::new();
    for document in policy_documents {
        if let Some(policy) = Policy::from_value(document)? {
            policies.push(policy);
        }
    }
    let namespace_labels: BTreeMap<&str, &BTreeMap<String, String>> = values
        .namespace_selector
        .iter()
        .map(|entry| (entry.name.as_str(), &entry.labels))
        .collect();
    let mut cases = Vec::new();
    for expected in &test.results {
        let expected_status = expected
            .result
            .as_deref()
            .or(expected.status.as_deref())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let names: Vec<&str> = expected
            .resources
            .iter()
            .map(String::as_str)
            .chain(expected.resource.as_deref())
            .collect();
        let (policy_namespace, policy_name) = match expected.policy.split_once('/') {
            Some((namespace, name)) => (Some(namespace), name),
            None => (None, expected.policy.as_str()),
        };
        let policy = policies.iter().find(|policy| {
            policy.metadata.name == policy_name
                && policy_namespace
                    .is_none_or(|namespace| policy.metadata.namespace.as_deref() == Some(namespace))
        });
        for name in names {
            let mut case = Case {
                policy: expected.policy.clone(),
                rule: expected.rule.clone(),
                resource: name.to_owned(),
                kind: expected.kind.clone().unwrap_or_default(),
                expected: expected_status.clone(),
                got: String::new(),
                message: String::new(),
            };
            let Some(policy) = policy else {
                case.got = "missing policy".to_owned();
                cases.push(case);
                continue;
            };
            let Some(resource) = find_resource(resources, name, expected) else {
                case.got = "missing resource".to_owned();
                cases.push(case);
                continue;
            };
            let namespace = resource
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default");
            let (given, rule_values) = values_for(values, &policy.metadata.name, name);
            let operation = given
                .get("request.operation")
                .and_then(Value::as_str)
                .unwrap_or("CREATE")
                .to_owned();
            let request = Request {
                operation: &operation,
                namespace_labels: namespace_labels.get(namespace).copied(),
                values: given,
                rule_values,
            };
            let prepared = PreparedPolicy::new(policy.clone());
            let results = prepared.evaluate(resource, &request);
            let wanted = [
                expected.rule.clone(),
                format!("autogen-{}", expected.rule),
                format!("autogen-cronjob-{}", expected.rule),
            ];
            match results.iter().find(|result| wanted.contains(&result.rule)) {
                Some(result) => {
                    case.got = result.status.to_string();
                    case.message = result.message.clone();
                }
                None => match prepared.unsupported(&expected.rule, resource, &request) {
                    Some(kind) => case.got = format!("unsupported ({kind})"),
                    None => case.got = Status::Skip.to_string(),
                },
            }
            cases.push(case);
        }
    }
    Ok(cases)
}

/// The variables a test gives one resource (global values, then the resource's own; later
/// wins), and those it gives each rule.
fn values_for(
    values: &Values,
    policy: &str,
    resource: &str,
) -> (
    BTreeMap<String, Value>,
    BTreeMap<String, BTreeMap<String, Value>>,
) {
    let mut shared = values.global_values.clone();
    let mut per_rule = BTreeMap::new();
    for entry in values.policies.iter().filter(|entry| entry.name == policy) {
        for rule in &entry.rules {
            per_rule.insert(rule.name.clone(), rule.values.clone());
        }
        for given in entry
            .resources
            .iter()
            .filter(|given| given.name == resource)
        {
            shared.extend(given.values.clone());
        }
    }
    (shared, per_rule)
}

fn find_resource<'a>(
    resources: &'a [Value],
    name: &str,
    expected: &ExpectedResult,
) -> Option<&'a Value> {
    let (namespace, bare) = match name.split_once('/') {
        Some((namespace, bare)) => (Some(namespace), bare),
        None => (expected.namespace.as_deref(), name),
    };
    let kind_of = |resource: &Value| {
        resource
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    resources.iter().find(|resource| {
        resource.pointer("/metadata/name").and_then(Value::as_str) == Some(bare)
            && expected.kind.as_deref().is_none_or(|kind| {
                kind_of(resource) == kind || kind.ends_with(&format!("/{}", kind_of(resource)))
            })
            && namespace.is_none_or(|namespace| {
                resource
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("default")
                    == namespace
            })
    })
}

/// Every YAML document of a multi-document text, as JSON.
pub fn documents(text: &str) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let value = serde_yaml::Value::deserialize(document).map_err(|error| error.to_string())?;
        if value.is_null() {
            continue;
        }
        let json: Value = serde_json::to_value(&value).map_err(|error| error.to_string())?;
        match json {
            Value::Object(ref map) if map.get("kind").and_then(Value::as_str) == Some("List") => {
                out.extend(
                    map.get("items")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: disallow-latest}
spec:
  validationFailureAction: Enforce
  rules:
  - name: no-latest
    match: {any: [{resources: {kinds: [Pod]}}]}
    validate:
      message: latest is not allowed
      pattern: {spec: {containers: [{image: "!*:latest"}]}}
"#;

    const RESOURCES: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: good}
spec: {containers: [{name: a, image: "nginx:1.27"}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec: {template: {spec: {containers: [{name: a, image: "nginx:latest"}]}}}
---
apiVersion: v1
kind: Service
metadata: {name: svc}
spec: {}
"#;

    const TEST: &str = r#"
apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata: {name: t}
policies: [policy.yaml]
resources: [resources.yaml]
results:
- {policy: disallow-latest, rule: no-latest, kind: Pod, resources: [good], result: pass}
- {policy: disallow-latest, rule: no-latest, kind: Deployment, resources: [bad], result: fail}
- {policy: disallow-latest, rule: no-latest, kind: Service, resources: [svc], result: skip}
- {policy: disallow-latest, rule: no-latest, kind: Pod, resources: [absent], result: pass}
"#;

    #[test]
    fn scores_pass_fail_skip_and_missing_resources() {
        let test: TestFile = serde_yaml::from_str(TEST).unwrap();
        let cases = run(
            &test,
            &documents(POLICY).unwrap(),
            &documents(RESOURCES).unwrap(),
            &Values::default(),
        )
        .unwrap();
        let got: Vec<(&str, &str, bool)> = cases
            .iter()
            .map(|case| (case.resource.as_str(), case.got.as_str(), case.agrees()))
            .collect();
        assert_eq!(
            got,
            [
                ("good", "pass", true),
                ("bad", "fail", true),
                ("svc", "skip", true),
                ("absent", "missing resource", false)
            ]
        );
    }
}
