//! Field by field: the changes between two versions of one object, and what they mean.

use serde::Serialize;
use serde_json::Value;

use crate::ObjectId;

/// One field: its path (`spec.template.spec.containers[web].image`), before and after.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Every leaf that differs. Lists whose items all have a `name` are matched by name, as
/// Kubernetes merges containers, volumes, env and ports; other lists by position.
pub fn compare(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk("", Some(before), Some(after), &mut out);
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn named(items: &[Value]) -> Option<Vec<&str>> {
    items
        .iter()
        .map(|item| item.get("name").and_then(Value::as_str))
        .collect()
}

fn walk(path: &str, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (before, after) {
        (Some(Value::Object(old)), Some(Value::Object(new))) => {
            let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                walk(&join(path, key), old.get(key), new.get(key), out);
            }
        }
        (Some(Value::Array(old)), Some(Value::Array(new))) => match (named(old), named(new)) {
            (Some(old_names), Some(new_names)) if !old.is_empty() || !new.is_empty() => {
                let mut names: Vec<&str> = old_names.iter().chain(&new_names).copied().collect();
                names.sort_unstable();
                names.dedup();
                for name in names {
                    let find = |items: &'_ [Value], names: &[&str]| {
                        names
                            .iter()
                            .position(|n| *n == name)
                            .map(|i| items[i].clone())
                    };
                    let (was, is) = (find(old, &old_names), find(new, &new_names));
                    walk(&format!("{path}[{name}]"), was.as_ref(), is.as_ref(), out);
                }
            }
            _ => {
                for index in 0..old.len().max(new.len()) {
                    walk(
                        &format!("{path}[{index}]"),
                        old.get(index),
                        new.get(index),
                        out,
                    );
                }
            }
        },
        (was, is) if was != is => out.push(FieldChange {
            path: path.to_owned(),
            before: was.cloned(),
            after: is.cloned(),
        }),
        _ => {}
    }
}

fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "unset".to_owned(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// What a reviewer must not miss about one object's change.
pub fn highlights(
    id: &ObjectId,
    before: Option<&Value>,
    after: Option<&Value>,
    changes: &[FieldChange],
) -> Vec<String> {
    let mut out = Vec::new();
    let changed = |prefix: &'static str| {
        changes
            .iter()
            .filter(move |change| change.path.starts_with(prefix))
    };
    match id.kind.as_str() {
        "Application" => {
            let wave = |object: Option<&Value>| {
                object
                    .map(|o| text(o.pointer("/metadata/annotations/argocd.argoproj.io~1sync-wave")))
            };
            if before.is_some() && after.is_some() && wave(before) != wave(after) {
                out.push(format!(
                    "sync wave {} → {}",
                    wave(before).unwrap_or_default(),
                    wave(after).unwrap_or_default()
                ));
            }
            for change in changed("spec.syncPolicy") {
                out.push(format!(
                    "sync policy: {} {} → {}",
                    change.path,
                    text(change.before.as_ref()),
                    text(change.after.as_ref())
                ));
            }
        }
        "NetworkPolicy" => match (before, after) {
            (None, _) => out.push("NetworkPolicy added: see the reachability it opens".to_owned()),
            (_, None) => {
                out.push("NetworkPolicy removed: see the reachability it closes".to_owned())
            }
            _ if changes.iter().any(|change| change.path.starts_with("spec")) => {
                out.push("NetworkPolicy changed: see the reachability it changes".to_owned());
            }
            _ => {}
        },
        "AppProject" => {
            for change in changed("spec") {
                out.push(format!(
                    "permission: {} {} → {}",
                    change.path,
                    text(change.before.as_ref()),
                    text(change.after.as_ref())
                ));
            }
            if before.is_none() || after.is_none() {
                out.push(format!(
                    "AppProject {} {}",
                    id.name,
                    if before.is_none() { "added" } else { "removed" }
                ));
            }
        }
        "ExternalSecret" => {
            let paths = |object: Option<&Value>| -> Vec<String> {
                object
                    .and_then(|o| o.pointer("/spec/data"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|entry| entry.pointer("/remoteRef/key").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            };
            let (was, is) = (paths(before), paths(after));
            if was != is {
                out.push(format!(
                    "Vault paths read: [{}] → [{}]",
                    was.join(", "),
                    is.join(", ")
                ));
            }
        }
        "ClusterPolicy" | "Policy" => {
            for change in changes.iter().filter(|c| {
                c.path.ends_with("failureAction") || c.path.ends_with("validationFailureAction")
            }) {
                out.push(format!(
                    "Kyverno {}: {} → {}",
                    change.path,
                    text(change.before.as_ref()),
                    text(change.after.as_ref())
                ));
            }
            if before.is_none() || after.is_none() {
                out.push(format!(
                    "Kyverno policy {} {}",
                    id.name,
                    if before.is_none() { "added" } else { "removed" }
                ));
            }
        }
        "ClusterSecretStore" | "SecretStore" => {
            for change in changed("spec.provider") {
                out.push(format!(
                    "secret store: {} {} → {}",
                    change.path,
                    text(change.before.as_ref()),
                    text(change.after.as_ref())
                ));
            }
        }
        _ => {}
    }
    // Vault policies travel as `.hcl` files in ConfigMaps (the bootstrap job's).
    for change in changes
        .iter()
        .filter(|change| change.path.ends_with(".hcl"))
    {
        let name = change
            .path
            .rsplit_once("data.")
            .map_or(change.path.as_str(), |(_, key)| key);
        let what = match (&change.before, &change.after) {
            (None, _) => "added",
            (_, None) => "removed",
            _ => "changed",
        };
        out.push(format!("Vault policy {name} {what}"));
    }
    out
}

/// The lines of a multi-line text that one side has and the other has not, in order: how a
/// script or a configuration file inside a value reads in a review.
pub fn line_changes(before: &str, after: &str) -> Vec<String> {
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    // Longest common subsequence, so a moved block reads as moved lines, not as everything.
    let mut table = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            table[i][j] = if old[i] == new[j] {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            i += 1;
            j += 1;
        } else if j < new.len() && (i == old.len() || table[i][j + 1] >= table[i + 1][j]) {
            out.push(format!("+ {}", new[j]));
            j += 1;
        } else {
            out.push(format!("- {}", old[i]));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn named_lists_are_matched_by_name_whatever_their_order() {
        let before = json!({"spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]}});
        let after = json!({"spec": {"containers": [{"name": "b", "image": "y:2"}, {"name": "a", "image": "x:1"}]}});
        let changes = compare(&before, &after);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].path, "spec.containers[b].image");
        assert_eq!(
            (changes[0].before.clone(), changes[0].after.clone()),
            (Some(json!("y:1")), Some(json!("y:2")))
        );
    }

    #[test]
    fn a_text_value_changes_line_by_line() {
        let lines = line_changes("a\nb\nc\n", "a\nc\nd\n");
        assert_eq!(lines, ["- b", "+ d"]);
    }

    #[test]
    fn unnamed_lists_by_position_and_keys_added_or_removed() {
        let changes = compare(
            &json!({"a": [1, 2], "b": 1}),
            &json!({"a": [1, 3, 4], "c": 2}),
        );
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["a[1]", "a[2]", "b", "c"]);
    }
}
