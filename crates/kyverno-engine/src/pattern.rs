//! A `validate.pattern` against a resource: structure, anchors and the skip/fail/error verdict.
//!
//! Semantics follow Kyverno's documentation of anchors: a conditional `(key)` that does not match
//! skips its map (and the rule, when nothing else applied); a global `<(key)` that does not match
//! skips the rule; `X(key)` fails when the key is present; `=(key)` checks only a present key;
//! `^(key)` needs one matching list element. A list pattern's first map applies to every element.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Map, Value};

use crate::anchor::{self, AnchorKind};
use crate::go_value::{sprint, type_name};
use crate::{leaf, wildcard};

const NEGATION_MISMATCH: &str = "negation anchor matched in resource";
const CONDITIONAL_MISMATCH: &str = "conditional anchor mismatch";
const GLOBAL_MISMATCH: &str = "global anchor mismatch";

/// The verdict of a pattern that did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// An anchor's condition was not met: the rule does not apply.
    Skip(String),
    /// The resource breaks the pattern at `path`.
    Fail { path: String, message: String },
    /// The pattern could not be applied (a conditional key was missing where another part failed).
    Error(String),
}

/// Why an element did not validate; `Anchor` and `Plain` are errors raised at this level,
/// `Nested` wraps the combined skips of a level below (Kyverno's PatternError).
#[derive(Debug, Clone)]
enum Problem {
    Anchor { kind: AnchorError, message: String },
    Nested { message: String },
    Plain(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnchorError {
    Conditional,
    Global,
    Negation,
}

impl Problem {
    fn message(&self) -> &str {
        match self {
            Problem::Anchor { message, .. }
            | Problem::Nested { message, .. }
            | Problem::Plain(message) => message,
        }
    }

    fn is_skip(&self) -> bool {
        match self {
            Problem::Anchor { kind, .. } => {
                matches!(kind, AnchorError::Conditional | AnchorError::Global)
            }
            other => {
                let message = other.message();
                message.contains(CONDITIONAL_MISMATCH) || message.contains(GLOBAL_MISMATCH)
            }
        }
    }

    fn is_negation(&self) -> bool {
        match self {
            Problem::Anchor { kind, .. } => *kind == AnchorError::Negation,
            other => other.message().contains(NEGATION_MISMATCH),
        }
    }

    fn anchor(kind: AnchorError, prefix: &str, message: &str) -> Problem {
        Problem::Anchor {
            kind,
            message: format!("{prefix}: {message}"),
        }
    }
}

type Outcome = Result<(), (String, Problem)>;

/// Which anchored keys were found somewhere in the resource (Kyverno's anchor map).
#[derive(Debug, Default)]
struct AnchorsSeen(BTreeMap<String, bool>);

impl AnchorsSeen {
    fn record(&mut self, pattern: &Map<String, Value>, resource: &Map<String, Value>) {
        for key in pattern.keys() {
            let Some(anchor) = anchor::parse(key) else {
                continue;
            };
            if !matches!(
                anchor.kind,
                AnchorKind::Condition | AnchorKind::Existence | AnchorKind::Negation
            ) {
                continue;
            }
            let seen = self.0.entry(key.clone()).or_insert(false);
            if !*seen && resource.contains_key(anchor.key) {
                *seen = true;
            }
        }
    }

    fn keys_are_missing(&self) -> bool {
        self.0.iter().any(|(key, seen)| {
            !seen && anchor::parse(key).is_none_or(|anchor| anchor.kind != AnchorKind::Negation)
        })
    }
}

/// Applies `pattern` to `resource`.
pub fn check(resource: &Value, pattern: &Value) -> Result<(), Mismatch> {
    let mut seen = AnchorsSeen::default();
    let Err((path, problem)) = element(resource, pattern, "/", &mut seen) else {
        return Ok(());
    };
    if problem.is_skip() {
        return Err(Mismatch::Skip(problem.message().to_owned()));
    }
    if problem.is_negation() {
        return Err(Mismatch::Fail {
            path,
            message: problem.message().to_owned(),
        });
    }
    if seen.keys_are_missing() || path.is_empty() {
        return Err(Mismatch::Error(problem.message().to_owned()));
    }
    Err(Mismatch::Fail {
        path,
        message: problem.message().to_owned(),
    })
}

fn element(resource: &Value, pattern: &Value, path: &str, seen: &mut AnchorsSeen) -> Outcome {
    match pattern {
        Value::Object(pattern_map) => {
            let Value::Object(resource_map) = resource else {
                return Err((
                    path.to_owned(),
                    Problem::Plain(format!(
                        "pattern and resource have different structures. Path: {path}. Expected map[string]interface {{}}, found {}",
                        type_name(resource)
                    )),
                ));
            };
            seen.record(pattern_map, resource_map);
            map(resource_map, pattern_map, path, seen)
        }
        Value::Array(pattern_items) => {
            let Value::Array(resource_items) = resource else {
                return Err((
                    path.to_owned(),
                    Problem::Plain(format!(
                        "validation rule failed at path {path}, resource does not satisfy the expected overlay pattern"
                    )),
                ));
            };
            array(resource_items, pattern_items, path, seen)
        }
        scalar => {
            let mismatch = || {
                Err((
                    path.to_owned(),
                    Problem::Plain(format!(
                        "resource value '{}' does not match '{}' at path {path}",
                        sprint(resource),
                        sprint(scalar)
                    )),
                ))
            };
            match resource {
                Value::Array(items) => {
                    if items.iter().all(|item| leaf::matches(item, scalar)) {
                        Ok(())
                    } else {
                        mismatch()
                    }
                }
                single if leaf::matches(single, scalar) => Ok(()),
                _ => mismatch(),
            }
        }
    }
}

fn map(
    resource: &Map<String, Value>,
    pattern: &Map<String, Value>,
    path: &str,
    seen: &mut AnchorsSeen,
) -> Outcome {
    let expanded = expand_metadata_wildcards(pattern, resource);
    let pattern = expanded.as_ref().unwrap_or(pattern);

    let mut anchored: Vec<&String> = Vec::new();
    let mut plain: Vec<&String> = Vec::new();
    for key in pattern.keys() {
        match anchor::parse(key).map(|anchor| anchor.kind) {
            Some(
                AnchorKind::Condition
                | AnchorKind::Existence
                | AnchorKind::Equality
                | AnchorKind::Negation,
            ) => anchored.push(key),
            _ => plain.push(key),
        }
    }
    anchored.sort();

    let mut skips: Vec<Problem> = Vec::new();
    let mut applied = 0usize;
    for key in anchored {
        if let Err((error_path, problem)) =
            key_handler(key, &pattern[key.as_str()], resource, path, seen)
        {
            if problem.is_skip() {
                skips.push(problem);
                continue;
            }
            // A failure next to a conditional anchor that did not match does not count.
            if !skips.iter().any(is_own_level) {
                return Err((error_path, problem));
            }
            continue;
        }
        applied += 1;
    }
    if !skips.is_empty() && (applied == 0 || skips.iter().any(is_own_level)) {
        return Err((path.to_owned(), combined_skip(&skips)));
    }

    plain.sort();
    let mut ordered: VecDeque<&String> = VecDeque::new();
    for key in plain {
        let value = &pattern[key.as_str()];
        let global = anchor::parse(key).is_some_and(|anchor| anchor.kind == AnchorKind::Global);
        if global || has_nested_anchors(value) {
            ordered.push_front(key);
        } else {
            ordered.push_back(key);
        }
    }
    for key in ordered {
        key_handler(key, &pattern[key.as_str()], resource, path, seen)?;
    }
    Ok(())
}

fn is_own_level(problem: &Problem) -> bool {
    !matches!(problem, Problem::Nested { .. })
}

fn combined_skip(skips: &[Problem]) -> Problem {
    let messages: Vec<&str> = skips.iter().map(Problem::message).collect();
    Problem::Nested {
        message: messages.join("; "),
    }
}

fn has_nested_anchors(pattern: &Value) -> bool {
    match pattern {
        Value::Object(map) => {
            map.keys().any(|key| {
                anchor::parse(key).is_some_and(|anchor| {
                    matches!(
                        anchor.kind,
                        AnchorKind::Condition
                            | AnchorKind::Existence
                            | AnchorKind::Equality
                            | AnchorKind::Negation
                            | AnchorKind::Global
                    )
                })
            }) || map.values().any(has_nested_anchors)
        }
        Value::Array(items) => items.iter().any(has_nested_anchors),
        _ => false,
    }
}

fn key_handler(
    key: &str,
    pattern: &Value,
    resource: &Map<String, Value>,
    path: &str,
    seen: &mut AnchorsSeen,
) -> Outcome {
    let parsed = anchor::parse(key).filter(|anchor| anchor.kind != AnchorKind::AddIfNotPresent);
    let Some(anchor) = parsed else {
        let current = format!("{path}{key}/");
        let present = resource.get(key).filter(|value| !value.is_null());
        if pattern.as_str() == Some("*") {
            return match present {
                Some(_) => Ok(()),
                None => Err((
                    path.to_owned(),
                    Problem::Plain(format!("{path}/{key} not found")),
                )),
            };
        }
        return element(
            resource.get(key).unwrap_or(&Value::Null),
            pattern,
            &current,
            seen,
        );
    };
    let current = format!("{path}{}/", anchor.key);
    let value = resource.get(anchor.key);
    match anchor.kind {
        AnchorKind::Negation => match value {
            Some(_) => Err((
                current.clone(),
                Problem::anchor(
                    AnchorError::Negation,
                    NEGATION_MISMATCH,
                    &format!("{current} is not allowed"),
                ),
            )),
            None => Ok(()),
        },
        AnchorKind::Equality => match value {
            Some(value) => element(value, pattern, &current, seen),
            None => Ok(()),
        },
        AnchorKind::Condition => match value {
            Some(value) => {
                element(value, pattern, &current, seen).map_err(|(error_path, problem)| {
                    (
                        error_path,
                        Problem::anchor(
                            AnchorError::Conditional,
                            CONDITIONAL_MISMATCH,
                            problem.message(),
                        ),
                    )
                })
            }
            None => Err((
                current,
                Problem::anchor(
                    AnchorError::Conditional,
                    CONDITIONAL_MISMATCH,
                    "conditional anchor key doesn't exist in the resource",
                ),
            )),
        },
        AnchorKind::Global => match value {
            Some(value) => {
                element(value, pattern, &current, seen).map_err(|(error_path, problem)| {
                    (
                        error_path,
                        Problem::anchor(AnchorError::Global, GLOBAL_MISMATCH, problem.message()),
                    )
                })
            }
            None => Ok(()),
        },
        AnchorKind::Existence => match value {
            None => Ok(()),
            Some(Value::Array(items)) => {
                let Value::Array(pattern_items) = pattern else {
                    return Err((
                        current,
                        Problem::Plain(
                            "invalid pattern type: Pattern has to be of list to compare against resource".to_owned(),
                        ),
                    ));
                };
                for pattern_item in pattern_items {
                    if !pattern_item.is_object() {
                        return Err((
                            current,
                            Problem::Plain(
                                "invalid pattern type: Pattern has to be of type map to compare against items in resource"
                                    .to_owned(),
                            ),
                        ));
                    }
                    let found = items.iter().enumerate().any(|(index, item)| {
                        element(item, pattern_item, &format!("{current}{index}/"), seen).is_ok()
                    });
                    if !found {
                        return Err((
                            current.clone(),
                            Problem::Plain(format!(
                                "existence anchor validation failed at path {current}"
                            )),
                        ));
                    }
                }
                Ok(())
            }
            Some(other) => Err((
                current,
                Problem::Plain(format!(
                    "invalid resource type {}: Existence ^ () anchor can be used only on list/array type resource",
                    type_name(other)
                )),
            )),
        },
        AnchorKind::AddIfNotPresent => unreachable!("filtered above"),
    }
}

fn array(resource: &[Value], pattern: &[Value], path: &str, seen: &mut AnchorsSeen) -> Outcome {
    let Some(first) = pattern.first() else {
        return Err((
            path.to_owned(),
            Problem::Plain("pattern Array empty".to_owned()),
        ));
    };
    match first {
        Value::Object(_) => each_applies(resource.iter().map(|item| (item, first)), path, seen),
        Value::Array(_) => {
            if resource.len() < pattern.len() {
                return Err((
                    String::new(),
                    Problem::Plain(format!(
                        "validate Array failed, array length mismatch, resource Array len is {} and pattern Array len is {}",
                        resource.len(),
                        pattern.len()
                    )),
                ));
            }
            each_applies(resource.iter().zip(pattern), path, seen)
        }
        scalar => element(&Value::Array(resource.to_vec()), scalar, path, seen),
    }
}

/// Validates each (resource, pattern) pair of a list: the first failure fails the list; a list
/// whose every element was skipped (and that had any) is skipped.
fn each_applies<'v>(
    pairs: impl Iterator<Item = (&'v Value, &'v Value)>,
    path: &str,
    seen: &mut AnchorsSeen,
) -> Outcome {
    let mut skips = Vec::new();
    let mut applied = 0usize;
    for (index, (item, pattern)) in pairs.enumerate() {
        match element(item, pattern, &format!("{path}{index}/"), seen) {
            Ok(()) => applied += 1,
            Err((_, problem)) if problem.is_skip() => skips.push(problem),
            Err(failure) => return Err(failure),
        }
    }
    if applied == 0 && !skips.is_empty() {
        return Err((path.to_owned(), combined_skip(&skips)));
    }
    Ok(())
}

/// Wildcard keys under `metadata.labels` and `metadata.annotations` name the resource's keys they
/// match (Kyverno expands them before comparing); `None` when the pattern has none to expand.
fn expand_metadata_wildcards(
    pattern: &Map<String, Value>,
    resource: &Map<String, Value>,
) -> Option<Map<String, Value>> {
    let (metadata_key, Value::Object(pattern_metadata)) = keyed(pattern, "metadata")? else {
        return None;
    };
    let Some(Value::Object(resource_metadata)) = resource.get("metadata") else {
        return None;
    };
    let mut new_metadata = pattern_metadata.clone();
    let mut changed = false;
    for tag in ["labels", "annotations"] {
        let Some((tag_key, Value::Object(pattern_tags))) = keyed(pattern_metadata, tag) else {
            continue;
        };
        let Some(Value::Object(resource_tags)) = resource_metadata.get(tag) else {
            continue;
        };
        let mut expanded = Map::new();
        for (key, value) in pattern_tags {
            // Kyverno keeps only string values when it expands this map.
            if !value.is_string() {
                continue;
            }
            let (kind, bare) = match anchor::parse(key) {
                Some(anchor) => (Some(anchor.kind), anchor.key),
                None => (None, key.as_str()),
            };
            let new_key = if wildcard::contains_wildcard(key) {
                let found = resource_tags
                    .keys()
                    .find(|candidate| wildcard::matches(bare, candidate));
                match (found, kind) {
                    (Some(found), Some(kind)) => anchor::render(kind, found),
                    (Some(found), None) => found.clone(),
                    (None, Some(kind)) => anchor::render(kind, bare),
                    (None, None) => key.clone(),
                }
            } else {
                key.clone()
            };
            expanded.insert(new_key, value.clone());
        }
        new_metadata.insert(tag_key.to_owned(), Value::Object(expanded));
        changed = true;
    }
    if !changed {
        return None;
    }
    let mut new_pattern = pattern.clone();
    new_pattern.insert(metadata_key.to_owned(), Value::Object(new_metadata));
    Some(new_pattern)
}

/// The entry whose key is `tag`, plainly or inside an anchor.
fn keyed<'a>(map: &'a Map<String, Value>, tag: &str) -> Option<(&'a str, &'a Value)> {
    map.iter()
        .find(|(key, _)| {
            key.as_str() == tag || anchor::parse(key).is_some_and(|anchor| anchor.key == tag)
        })
        .map(|(key, value)| (key.as_str(), value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn verdict(resource: Value, pattern: Value) -> &'static str {
        match check(&resource, &pattern) {
            Ok(()) => "pass",
            Err(Mismatch::Skip(_)) => "skip",
            Err(Mismatch::Fail { .. }) => "fail",
            Err(Mismatch::Error(_)) => "error",
        }
    }

    fn pod(containers: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": containers}})
    }

    #[test]
    fn list_pattern_applies_to_every_element() {
        let pattern = json!({"spec": {"containers": [{"image": "!*:latest"}]}});
        assert_eq!(
            verdict(
                pod(json!([{"image": "a:1"}, {"image": "b:2"}])),
                pattern.clone()
            ),
            "pass"
        );
        assert_eq!(
            verdict(
                pod(json!([{"image": "a:1"}, {"image": "b:latest"}])),
                pattern
            ),
            "fail"
        );
    }

    #[test]
    fn missing_required_field_fails_with_its_path() {
        let pattern = json!({"spec": {"containers": [{"resources": {"limits": {"cpu": "?*"}}}]}});
        match check(&pod(json!([{"name": "a"}])), &pattern) {
            Err(Mismatch::Fail { path, .. }) => assert_eq!(path, "/spec/containers/0/resources/"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn conditional_anchor_skips_when_unmet_and_applies_when_met() {
        let pattern =
            json!({"spec": {"containers": [{"(image)": "*:latest", "imagePullPolicy": "Always"}]}});
        assert_eq!(
            verdict(pod(json!([{"image": "a:1"}])), pattern.clone()),
            "skip"
        );
        assert_eq!(
            verdict(
                pod(json!([{"image": "a:latest", "imagePullPolicy": "Always"}])),
                pattern.clone()
            ),
            "pass"
        );
        assert_eq!(
            verdict(
                pod(json!([{"image": "a:latest", "imagePullPolicy": "IfNotPresent"}])),
                pattern.clone()
            ),
            "fail"
        );
        // One element applies, the other is skipped: the rule passes.
        assert_eq!(
            verdict(
                pod(json!([{"image": "a:1"}, {"image": "a:latest", "imagePullPolicy": "Always"}])),
                pattern
            ),
            "pass"
        );
    }

    #[test]
    fn conditional_anchor_missing_key_skips() {
        let pattern = json!({"metadata": {"labels": {"(team)": "?*"}}, "spec": {"x": 1}});
        let resource = json!({"metadata": {"labels": {}}, "spec": {"x": 2}});
        // A conditional anchor that does not hold skips the rule even from a nested map.
        assert_eq!(verdict(resource, pattern), "skip");
        let nested = json!({"spec": {"(hostNetwork)": true, "hostPort": 0}});
        assert_eq!(verdict(json!({"spec": {"hostPort": 80}}), nested), "skip");
    }

    #[test]
    fn equality_anchor_checks_only_present_keys() {
        let pattern = json!({"spec": {"=(hostPID)": false}});
        assert_eq!(verdict(json!({"spec": {}}), pattern.clone()), "pass");
        assert_eq!(
            verdict(json!({"spec": {"hostPID": false}}), pattern.clone()),
            "pass"
        );
        assert_eq!(verdict(json!({"spec": {"hostPID": true}}), pattern), "fail");
    }

    #[test]
    fn negation_anchor_fails_when_present() {
        let pattern = json!({"spec": {"=(volumes)": [{"X(hostPath)": "null"}]}});
        assert_eq!(
            verdict(
                json!({"spec": {"volumes": [{"name": "a", "emptyDir": {}}]}}),
                pattern.clone()
            ),
            "pass"
        );
        assert_eq!(
            verdict(
                json!({"spec": {"volumes": [{"name": "a", "hostPath": {"path": "/"}}]}}),
                pattern
            ),
            "fail"
        );
    }

    #[test]
    fn existence_anchor_needs_one_matching_element() {
        let pattern = json!({"spec": {"^(containers)": [{"image": "nginx:*"}]}});
        assert_eq!(
            verdict(
                pod(json!([{"image": "busybox:1"}, {"image": "nginx:1"}])),
                pattern.clone()
            ),
            "pass"
        );
        assert_eq!(
            verdict(pod(json!([{"image": "busybox:1"}])), pattern),
            "fail"
        );
    }

    #[test]
    fn global_anchor_skips_the_whole_rule() {
        let pattern = json!({"spec": {"containers": [{"<(image)": "corp.io/*"}], "imagePullSecrets": [{"name": "regcred"}]}});
        assert_eq!(
            verdict(pod(json!([{"image": "docker.io/x"}])), pattern.clone()),
            "skip"
        );
        let mut resource = pod(json!([{"image": "corp.io/x"}]));
        assert_eq!(verdict(resource.clone(), pattern.clone()), "fail");
        resource["spec"]["imagePullSecrets"] = json!([{"name": "regcred"}]);
        assert_eq!(verdict(resource, pattern), "pass");
    }

    #[test]
    fn star_requires_presence() {
        let pattern = json!({"metadata": {"labels": {"team": "*"}}});
        assert_eq!(
            verdict(
                json!({"metadata": {"labels": {"team": "a"}}}),
                pattern.clone()
            ),
            "pass"
        );
        assert_eq!(
            verdict(json!({"metadata": {"labels": {}}}), pattern),
            "fail"
        );
    }

    #[test]
    fn wildcard_label_keys_expand_against_the_resource() {
        let pattern = json!({"metadata": {"labels": {"app.kubernetes.io/*": "?*"}}});
        assert_eq!(
            verdict(
                json!({"metadata": {"labels": {"app.kubernetes.io/name": "x"}}}),
                pattern.clone()
            ),
            "pass"
        );
        assert_eq!(
            verdict(json!({"metadata": {"labels": {"other": "x"}}}), pattern),
            "fail"
        );
    }

    #[test]
    fn structure_mismatch_fails() {
        assert_eq!(
            verdict(json!({"spec": "x"}), json!({"spec": {"a": 1}})),
            "fail"
        );
        assert_eq!(
            verdict(json!({"spec": {"a": 1}}), json!({"spec": [{"a": 1}]})),
            "fail"
        );
    }

    #[test]
    fn empty_list_passes_a_list_pattern() {
        assert_eq!(
            verdict(
                pod(json!([])),
                json!({"spec": {"containers": [{"image": "x"}]}})
            ),
            "pass"
        );
    }
}
