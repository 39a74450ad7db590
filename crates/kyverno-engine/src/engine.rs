//! Applies a policy's validate rules to one resource and answers in Kyverno's vocabulary.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Value, json};

use crate::conditions;
use crate::matching::{self, Target};
use crate::pattern::{self, Mismatch};
use crate::policy::{ForEach, Policy, Rule, Validation};
use crate::pss;
use crate::variables::{Scope, substitute, substitute_string, substituted};

/// Kyverno's rule statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Pass,
    Fail,
    Skip,
    Error,
}

impl fmt::Display for Status {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Error => "error",
        })
    }
}

/// One rule's answer for one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleResult {
    pub rule: String,
    pub status: Status,
    pub message: String,
    /// Where a pattern failed (`/spec/containers/0/image/`), when it did.
    pub path: Option<String>,
    /// Whether a failure blocks admission (`Enforce`) rather than being reported (`Audit`).
    pub enforce: bool,
}

/// A rule's answer before it is named: status, message, and where a pattern failed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdict {
    status: Status,
    message: String,
    path: Option<String>,
}

impl Verdict {
    fn new(status: Status, message: String) -> Verdict {
        Verdict {
            status,
            message,
            path: None,
        }
    }
}

/// The admission request around the resource.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: &'a str,
    /// Labels of the resource's namespace, for `namespaceSelector`.
    pub namespace_labels: Option<&'a BTreeMap<String, String>>,
    /// Variables given from outside (a test's values), by dotted name: they stand in for what
    /// only a cluster knows (context entries, user info) and override what the engine derives.
    pub values: BTreeMap<String, Value>,
    /// Variables given for one rule only (by the rule's name; its generated rules share them).
    pub rule_values: BTreeMap<String, BTreeMap<String, Value>>,
}

impl Default for Request<'_> {
    fn default() -> Self {
        Request {
            operation: "CREATE",
            namespace_labels: None,
            values: BTreeMap::new(),
            rule_values: BTreeMap::new(),
        }
    }
}

/// The variables Kyverno gives a rule: the request, `images`, and the caller's values.
fn request_scope(
    resource: &Value,
    namespace: &str,
    operation: &str,
    values: &BTreeMap<String, Value>,
) -> Scope {
    // An UPDATE or DELETE offline has no stored object: Kyverno's CLI uses the resource itself.
    let old_object = if operation.eq_ignore_ascii_case("CREATE") {
        Value::Null
    } else {
        resource.clone()
    };
    let mut data = json!({
        "request": {
            "operation": operation,
            "object": resource,
            "oldObject": old_object,
            "namespace": namespace,
        }
    });
    if let Some(images) = crate::images::of(resource) {
        data["images"] = images;
    }
    for (name, value) in values {
        set_dotted(&mut data, name, value.clone());
    }
    Scope::new(data)
}

/// Sets `a.b.c` in `data`, creating objects on the way.
fn set_dotted(data: &mut Value, name: &str, value: Value) {
    let mut current = data;
    let mut parts = name.split('.').peekable();
    while let Some(part) = parts.next() {
        if !current.is_object() {
            *current = json!({});
        }
        let Some(map) = current.as_object_mut() else {
            return;
        };
        if parts.peek().is_none() {
            map.insert(part.to_owned(), value);
            return;
        }
        current = map.entry(part.to_owned()).or_insert_with(|| json!({}));
    }
}

/// Every validate rule of `policy` (with generated rules) that selects `resource`, and its result.
/// Rules that do not select the resource are absent: Kyverno reports them as skipped. To apply
/// one policy to many resources, prepare it once with [`PreparedPolicy`].
pub fn evaluate(policy: &Policy, resource: &Value, request: &Request<'_>) -> Vec<RuleResult> {
    PreparedPolicy::new(policy.clone()).evaluate(resource, request)
}

/// A policy with its generated rules, parsed once.
#[derive(Debug, Clone)]
pub struct PreparedPolicy {
    policy: Policy,
    rules: Vec<Result<Rule, (String, String)>>,
}

impl PreparedPolicy {
    pub fn new(policy: Policy) -> PreparedPolicy {
        let rules = crate::autogen::rules(&policy)
            .into_iter()
            .map(|raw| {
                let name = raw
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                serde_json::from_value::<Rule>(raw)
                    .map_err(|error| (name, format!("invalid rule: {error}")))
            })
            .collect();
        PreparedPolicy { policy, rules }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// What a rule that is not a validate rule does (`mutate`, `generate`, `verifyImages`), if
    /// `rule` names one (or one generated from it) and it selects `resource`: the evaluator
    /// does not answer for it, and says so rather than guessing.
    pub fn unsupported(
        &self,
        rule: &str,
        resource: &Value,
        request: &Request<'_>,
    ) -> Option<&'static str> {
        let names = [
            rule.to_owned(),
            format!("autogen-{rule}"),
            format!("autogen-cronjob-{rule}"),
        ];
        self.rules
            .iter()
            .filter_map(|rule| rule.as_ref().ok())
            .find_map(|candidate| {
                if !names.contains(&candidate.name) || candidate.validate.is_some() {
                    return None;
                }
                let kind = if candidate.mutate.is_some() {
                    "mutate"
                } else if candidate.generate.is_some() {
                    "generate"
                } else if candidate.verify_images.is_some() {
                    "verifyImages"
                } else {
                    return None;
                };
                let target = Target {
                    resource,
                    operation: request.operation,
                    namespace_labels: request.namespace_labels,
                };
                matching::rule_applies(
                    &candidate.match_resources,
                    candidate.exclude.as_ref(),
                    &target,
                )
                .then_some(kind)
            })
    }

    /// Like [`evaluate`].
    pub fn evaluate(&self, resource: &Value, request: &Request<'_>) -> Vec<RuleResult> {
        self.evaluate_sharing(resource, request, &OnceCell::new())
    }

    /// Applies each of `policies` to one resource, building the rules' variables once for all
    /// of them.
    pub fn evaluate_each<'p>(
        policies: impl IntoIterator<Item = &'p PreparedPolicy>,
        resource: &Value,
        request: &Request<'_>,
    ) -> Vec<(&'p PreparedPolicy, Vec<RuleResult>)> {
        let shared = OnceCell::new();
        policies
            .into_iter()
            .map(|policy| (policy, policy.evaluate_sharing(resource, request, &shared)))
            .collect()
    }

    /// `shared` holds the variables of the rules given no values of their own, for this
    /// resource and request only.
    fn evaluate_sharing(
        &self,
        resource: &Value,
        request: &Request<'_>,
        shared: &OnceCell<Scope>,
    ) -> Vec<RuleResult> {
        let policy = &self.policy;
        let namespace = resource
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if policy.kind == "Policy" {
            let policy_namespace = policy.metadata.namespace.as_deref().unwrap_or("default");
            if namespace != policy_namespace {
                return Vec::new();
            }
        }
        let mut results = Vec::new();
        for rule in &self.rules {
            let rule = match rule {
                Ok(rule) => rule,
                Err((name, message)) => {
                    results.push(RuleResult {
                        rule: name.clone(),
                        status: Status::Error,
                        message: message.clone(),
                        path: None,
                        enforce: policy.enforces(None),
                    });
                    continue;
                }
            };
            let Some(validation) = &rule.validate else {
                continue;
            };
            let base_name = rule
                .name
                .strip_prefix("autogen-cronjob-")
                .or_else(|| rule.name.strip_prefix("autogen-"))
                .unwrap_or(&rule.name);
            let own_values = request.rule_values.get(base_name);
            let mut values = std::borrow::Cow::Borrowed(&request.values);
            if let Some(given) = own_values {
                values.to_mut().extend(given.clone());
            }
            let operation = values
                .get("request.operation")
                .and_then(Value::as_str)
                .unwrap_or(request.operation)
                .to_owned();
            let target = Target {
                resource,
                operation: &operation,
                namespace_labels: request.namespace_labels,
            };
            if !matching::rule_applies(&rule.match_resources, rule.exclude.as_ref(), &target) {
                continue;
            }
            let own_scope;
            let scope = if own_values.is_some() {
                own_scope = request_scope(resource, namespace, &operation, &values);
                &own_scope
            } else {
                shared.get_or_init(|| request_scope(resource, namespace, &operation, &values))
            };
            let verdict = if rule.context.is_empty() {
                validate_rule(rule, validation, resource, scope, &values)
            } else {
                match load_context(&rule.context, scope, &values) {
                    Ok(rule_scope) => {
                        validate_rule(rule, validation, resource, &rule_scope, &values)
                    }
                    Err(error) => {
                        Verdict::new(Status::Error, format!("failed to load context: {error}"))
                    }
                }
            };
            results.push(RuleResult {
                rule: rule.name.clone(),
                status: verdict.status,
                message: verdict.message,
                path: verdict.path,
                enforce: policy.enforces(validation.failure_action.as_deref()),
            });
        }
        results
    }
}

/// Adds a rule's `context` entries to the scope. A `variable` entry is computed; an entry only a
/// cluster can answer (`apiCall`, `configMap`, `imageRegistry`, `globalReference`) must be given
/// in the values, else the rule cannot be evaluated offline.
fn load_context(
    entries: &[Value],
    scope: &Scope,
    values: &BTreeMap<String, Value>,
) -> Result<Scope, String> {
    let mut scope = scope.clone();
    for entry in entries {
        let name = entry
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if values
            .keys()
            .any(|key| key == name || key.starts_with(&format!("{name}.")))
        {
            continue;
        }
        let Some(variable) = entry.get("variable") else {
            let source = entry
                .as_object()
                .and_then(|map| map.keys().find(|key| *key != "name").cloned())
                .unwrap_or_default();
            return Err(format!(
                "context entry {name:?} ({source}) needs a cluster; give its value in the test's values"
            ));
        };
        let jmes_path = match variable.get("jmesPath").and_then(Value::as_str) {
            Some(path) => Some(
                substitute_string(path, &scope)
                    .map_err(|error| error.to_string())?
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ),
            None => None,
        };
        let value = match (variable.get("value"), jmes_path) {
            (Some(raw), path) => substitute(raw, &scope)
                .map_err(|error| error.to_string())
                .and_then(|value| match path {
                    Some(path) => crate::jmes::query(&path, &crate::jmes::to_variable(&value))
                        .map_err(|error| error.to_string()),
                    None => Ok(value),
                }),
            (None, Some(path)) => scope.query(&path).map_err(|error| error.to_string()),
            (None, None) => Ok(Value::Null),
        };
        let value = match (value, variable.get("default")) {
            (Ok(Value::Null) | Err(_), Some(default)) => {
                substitute(default, &scope).map_err(|error| error.to_string())?
            }
            (Ok(value), _) => value,
            (Err(error), None) => return Err(error),
        };
        scope = scope.with(name, value);
    }
    Ok(scope)
}

fn validate_rule(
    rule: &Rule,
    validation: &Validation,
    resource: &Value,
    scope: &Scope,
    values: &BTreeMap<String, Value>,
) -> Verdict {
    match conditions::evaluate(rule.preconditions.as_ref(), scope) {
        Err(error) => {
            return Verdict::new(
                Status::Error,
                format!("failed to evaluate preconditions: {error}"),
            );
        }
        Ok((false, message)) => {
            return Verdict::new(Status::Skip, join(&["preconditions not met", &message]));
        }
        Ok((true, _)) => {}
    }
    let checks = Checks {
        rule: &rule.name,
        message: validation.message.as_deref().unwrap_or_default(),
        pattern: validation.pattern.as_ref(),
        any_pattern: validation.any_pattern.as_ref(),
        deny: validation
            .deny
            .as_ref()
            .map(|deny| deny.conditions.as_ref()),
        foreach: validation.foreach.as_deref(),
        values,
    };
    if let Some(pod_security) = &validation.pod_security {
        let (status, message) = pss::evaluate(pod_security, resource, &rule.name);
        return Verdict::new(status, message);
    }
    checks.run(resource, scope).unwrap_or(Verdict::new(
        Status::Skip,
        "rule skipped: no element applied".to_owned(),
    ))
}

/// What a rule (or one `foreach` level) checks.
struct Checks<'a> {
    rule: &'a str,
    message: &'a str,
    pattern: Option<&'a Value>,
    any_pattern: Option<&'a Value>,
    deny: Option<Option<&'a Value>>,
    foreach: Option<&'a [ForEach]>,
    /// The values given from outside, for `context` entries inside `foreach`.
    values: &'a BTreeMap<String, Value>,
}

impl Checks<'_> {
    /// `None` when a `foreach` found nothing to apply to.
    fn run(&self, subject: &Value, scope: &Scope) -> Option<Verdict> {
        if let Some(conditions) = self.deny {
            return Some(self.deny(conditions, scope));
        }
        if self.pattern.is_some() || self.any_pattern.is_some() {
            return Some(self.patterns(subject, scope));
        }
        if let Some(loops) = self.foreach {
            return self.foreach(loops, scope);
        }
        // A check this evaluator does not implement (CEL, manifests) is not a pass.
        Some(Verdict::new(
            Status::Error,
            format!(
                "rule {}: this kind of validation (CEL, manifest signatures) is not evaluated offline",
                self.rule
            ),
        ))
    }

    fn deny(&self, conditions: Option<&Value>, scope: &Scope) -> Verdict {
        // `deny: {}` has no conditions: the request is always denied.
        let empty = json!({});
        match conditions::evaluate(Some(conditions.unwrap_or(&empty)), scope) {
            Err(error) => Verdict::new(
                Status::Error,
                format!("failed to check deny conditions: {error}"),
            ),
            Ok((false, _)) => Verdict::new(
                Status::Pass,
                format!("validation rule '{}' passed.", self.rule),
            ),
            Ok((true, message)) => {
                if self.message.is_empty() && message.is_empty() {
                    return Verdict::new(
                        Status::Fail,
                        format!("validation error: rule {} failed", self.rule),
                    );
                }
                let text = join(&[self.message, &message]);
                let resolved = match substitute_string(&text, scope) {
                    Ok(Value::String(resolved)) => resolved,
                    Ok(_) => "the produced message didn't resolve to a string, check your policy definition.".to_owned(),
                    Err(_) => message,
                };
                Verdict::new(Status::Fail, resolved)
            }
        }
    }

    fn user_message(&self, scope: &Scope) -> Option<String> {
        if self.message.is_empty() {
            return None;
        }
        match substitute_string(self.message, scope) {
            Ok(Value::String(text)) => Some(text),
            _ => Some(self.message.to_owned()),
        }
    }

    fn patterns(&self, subject: &Value, scope: &Scope) -> Verdict {
        if let Some(pattern) = self.pattern {
            let pattern = match substituted(pattern, scope) {
                Ok(pattern) => pattern,
                Err(error) => {
                    return Verdict::new(
                        Status::Error,
                        format!("variable substitution failed: {error}"),
                    );
                }
            };
            return match pattern::check(subject, &pattern) {
                Ok(()) => Verdict::new(
                    Status::Pass,
                    format!("validation rule '{}' passed.", self.rule),
                ),
                Err(Mismatch::Skip(message)) => Verdict::new(Status::Skip, message),
                Err(Mismatch::Fail { path, .. }) => Verdict {
                    path: Some(path.clone()),
                    ..Verdict::new(Status::Fail, self.failure_message(scope, &path))
                },
                Err(Mismatch::Error(message)) => Verdict::new(
                    Status::Error,
                    format!(
                        "validation error: rule {} execution error: {message}",
                        self.rule
                    ),
                ),
            };
        }
        let any = match substituted(self.any_pattern.unwrap_or(&Value::Null), scope) {
            Ok(any) => any,
            Err(error) => {
                return Verdict::new(
                    Status::Error,
                    format!("variable substitution failed: {error}"),
                );
            }
        };
        let Value::Array(patterns) = any.as_ref() else {
            return Verdict::new(
                Status::Error,
                "failed to deserialize anyPattern, expected type array".to_owned(),
            );
        };
        let mut failed = Vec::new();
        let mut skipped = Vec::new();
        for (index, pattern) in patterns.iter().enumerate() {
            match pattern::check(subject, pattern) {
                Ok(()) => {
                    return Verdict::new(
                        Status::Pass,
                        format!(
                            "validation rule '{}' anyPattern[{index}] passed.",
                            self.rule
                        ),
                    );
                }
                Err(Mismatch::Skip(message)) => {
                    skipped.push(format!("rule {}[{index}] skipped: {message}", self.rule))
                }
                Err(Mismatch::Fail { path, .. }) => {
                    failed.push(format!("rule {}[{index}] failed at path {path}", self.rule))
                }
                Err(Mismatch::Error(message)) => {
                    failed.push(format!("rule {}[{index}] failed: {message}", self.rule))
                }
            }
        }
        if !failed.is_empty() {
            let errors = failed.join(" ");
            let message = match self.user_message(scope) {
                None => format!("validation error: {errors}"),
                Some(text) if text.ends_with('.') => format!("validation error: {text} {errors}"),
                Some(text) => format!("validation error: {text}. {errors}"),
            };
            return Verdict::new(Status::Fail, message);
        }
        if !skipped.is_empty() {
            return Verdict::new(Status::Skip, skipped.join(" "));
        }
        Verdict::new(Status::Pass, self.message.to_owned())
    }

    fn failure_message(&self, scope: &Scope, path: &str) -> String {
        match self.user_message(scope) {
            None => format!("validation error: rule {} failed at path {path}", self.rule),
            Some(mut text) => {
                if !text.ends_with('.') {
                    text.push('.');
                }
                format!(
                    "validation error: {text} rule {} failed at path {path}",
                    self.rule
                )
            }
        }
    }

    fn foreach(&self, loops: &[ForEach], scope: &Scope) -> Option<Verdict> {
        let mut applied = 0usize;
        let mut list_error = None;
        for each in loops {
            let elements = match scope.query(
                each.list
                    .trim()
                    .trim_start_matches("{{")
                    .trim_end_matches("}}")
                    .trim(),
            ) {
                Ok(Value::Array(elements)) => elements,
                Ok(Value::Null) | Err(crate::jmes::QueryError::NotFound(_)) => continue,
                Ok(other) => {
                    list_error = Some(format!("list did not resolve to an array: {other}"));
                    continue;
                }
                Err(error) => {
                    list_error = Some(error.to_string());
                    continue;
                }
            };
            for (index, element) in elements.iter().enumerate() {
                if element.is_null() {
                    continue;
                }
                let element_scope = scope
                    .with("element", element.clone())
                    .with("elementIndex", json!(index));
                let element_scope = match load_context(&each.context, &element_scope, self.values) {
                    Ok(loaded) => loaded,
                    Err(error) => {
                        return Some(Verdict::new(
                            Status::Error,
                            format!("failed to load context: {error}"),
                        ));
                    }
                };
                match conditions::evaluate(each.preconditions.as_ref(), &element_scope) {
                    Err(_) | Ok((false, _)) => continue,
                    Ok((true, _)) => {}
                }
                let nested = Checks {
                    rule: self.rule,
                    message: self.message,
                    pattern: each.pattern.as_ref(),
                    any_pattern: each.any_pattern.as_ref(),
                    deny: each.deny.as_ref().map(|deny| deny.conditions.as_ref()),
                    foreach: each.foreach.as_deref(),
                    values: self.values,
                };
                // A pattern applies to the element itself when it is an object (element scope).
                let subject =
                    if each.element_scope.unwrap_or(element.is_object()) && element.is_object() {
                        element.clone()
                    } else {
                        scope.data()["request"]["object"].clone()
                    };
                match nested.run(&subject, &element_scope) {
                    None => continue,
                    Some(verdict) => match verdict.status {
                        Status::Skip => continue,
                        Status::Pass => applied += 1,
                        _ => {
                            return Some(Verdict {
                                message: format!("validation failure: {}", verdict.message),
                                ..verdict
                            });
                        }
                    },
                }
            }
        }
        if applied == 0 {
            return list_error.map(|error| {
                Verdict::new(Status::Error, format!("failed to evaluate list: {error}"))
            });
        }
        Some(Verdict::new(Status::Pass, "rule passed".to_owned()))
    }
}

fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|part| !part.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("; ")
}
