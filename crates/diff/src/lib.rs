//! What a change does to an environment, object by object, for the people who review it.
//!
//! Two renders of one environment (its files, and who may reach whom) are compared by object
//! identity (group, kind, namespace, name), not line by line: each object is added, removed,
//! changed (field by field, lists of named items matched by name as Kubernetes merges them) or
//! moved between Applications or waves. Changes are grouped by sync wave and Application, and
//! what a reviewer must not miss is called out: wave and sync-policy changes, reachability
//! gained or lost, AppProject permissions, Vault paths and policies, Kyverno enforcement. A tree
//! that holds a Secret's `data` or `stringData` is refused: a diff never prints a secret.

mod fields;
mod report;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

pub use fields::FieldChange;
pub use report::{Format, render};

/// One render of an environment.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    /// Files by path relative to the environment's folder.
    pub files: BTreeMap<String, String>,
    /// Allowed connections: (from, to) → the ports, as the rendered NetworkPolicies allow them.
    pub reach: BTreeMap<(String, String), String>,
}

/// An object's identity in the cluster.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectId {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(formatter, "{} {}", self.kind, self.name)
        } else {
            write!(formatter, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// Where an object is delivered: its Application and that Application's wave.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Placement {
    pub wave: i64,
    pub application: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Added,
    Removed,
    Changed,
    Moved,
}

/// What happened to one object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObjectChange {
    pub id: ObjectId,
    pub status: Status,
    pub before: Option<Placement>,
    pub after: Option<Placement>,
    pub fields: Vec<FieldChange>,
    /// What reviewers must not miss, in words.
    pub highlights: Vec<String>,
}

impl ObjectChange {
    /// Where it is grouped: where it is now, or where it was.
    pub fn placement(&self) -> &Placement {
        self.after
            .as_ref()
            .or(self.before.as_ref())
            .expect("an object is somewhere")
    }
}

/// What a change does to one environment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EnvironmentDiff {
    pub environment: String,
    pub objects: Vec<ObjectChange>,
    /// Connections allowed now and not before, or no longer, or on other ports.
    pub reach: Vec<String>,
    /// Files that are not Kubernetes objects (Vault policies, scripts, Helm values), by path.
    pub files: Vec<String>,
}

impl EnvironmentDiff {
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty() && self.reach.is_empty() && self.files.is_empty()
    }
}

struct Parsed {
    objects: BTreeMap<ObjectId, (Placement, Value)>,
    others: BTreeMap<String, String>,
}

const NON_OBJECT: &[&str] = &["README.md"];

fn parse(tree: &Tree) -> Result<Parsed, String> {
    let mut waves: BTreeMap<String, i64> = BTreeMap::new();
    let mut objects = BTreeMap::new();
    let mut others = BTreeMap::new();
    let mut pending = Vec::new();
    for (path, text) in &tree.files {
        if NON_OBJECT.contains(&path.as_str()) {
            continue;
        }
        let object: Option<Value> = if path.ends_with(".yaml") || path.ends_with(".yml") {
            serde_yaml::from_str(text).ok()
        } else {
            None
        };
        let Some(object) =
            object.filter(|o| o.get("apiVersion").is_some() && o.get("kind").is_some())
        else {
            others.insert(path.clone(), text.clone());
            continue;
        };
        // A chart's Secret the cluster fills in (`stringData: null`, as argo-cd renders its
        // own) holds nothing to hide.
        let holds_values = |field: &str| match object.get(field) {
            None | Some(Value::Null) => false,
            Some(Value::Object(values)) => !values.is_empty(),
            Some(_) => true,
        };
        if object["kind"] == "Secret" && (holds_values("data") || holds_values("stringData")) {
            return Err(format!(
                "{path} holds a Secret with data or stringData; the diff never shows secret values (and no secret belongs in Git)"
            ));
        }
        let application = application_of(path);
        if object["kind"] == "Application" && path.starts_with("apps/") {
            let wave = object["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
                .as_str()
                .and_then(|w| w.parse().ok())
                .unwrap_or(0);
            waves.insert(application.clone(), wave);
        }
        pending.push((application, object));
    }
    for (application, object) in pending {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let id = ObjectId {
            group: api_version
                .rsplit_once('/')
                .map_or("", |(group, _)| group)
                .to_owned(),
            kind: object["kind"].as_str().unwrap_or_default().to_owned(),
            namespace: object["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            name: object["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        };
        let wave = waves.get(&application).copied().unwrap_or(-1);
        objects.insert(id, (Placement { wave, application }, object));
    }
    Ok(Parsed { objects, others })
}

/// The Application a file belongs to: `apps/<app>.yaml` and `manifests/<app>/…` to `<app>`;
/// the root Application and bootstrap files to `bootstrap`.
fn application_of(path: &str) -> String {
    let mut parts = path.split('/');
    match (parts.next(), parts.next()) {
        (Some("apps"), Some(file)) if !file.is_empty() && parts.clone().next().is_none() => {
            file.trim_end_matches(".yaml").to_owned()
        }
        (Some("apps"), Some("projects")) => "projects".to_owned(),
        (Some("manifests"), Some(app)) => app.to_owned(),
        _ => "bootstrap".to_owned(),
    }
}

/// Compares two renders of `environment`; either may be absent (an environment added or
/// removed). Refuses a tree that holds secret values.
pub fn diff(
    environment: &str,
    before: Option<&Tree>,
    after: Option<&Tree>,
) -> Result<EnvironmentDiff, String> {
    let empty = Tree::default();
    let old = parse(before.unwrap_or(&empty))?;
    let new = parse(after.unwrap_or(&empty))?;
    let mut ids: Vec<&ObjectId> = old.objects.keys().chain(new.objects.keys()).collect();
    ids.sort();
    ids.dedup();
    let mut objects = Vec::new();
    for id in ids {
        let change = match (old.objects.get(id), new.objects.get(id)) {
            (None, Some((placement, object))) => ObjectChange {
                id: id.clone(),
                status: Status::Added,
                before: None,
                after: Some(placement.clone()),
                fields: Vec::new(),
                highlights: fields::highlights(id, None, Some(object), &[]),
            },
            (Some((placement, object)), None) => ObjectChange {
                id: id.clone(),
                status: Status::Removed,
                before: Some(placement.clone()),
                after: None,
                fields: Vec::new(),
                highlights: fields::highlights(id, Some(object), None, &[]),
            },
            (Some((was, old_object)), Some((is, new_object))) => {
                let changes = fields::compare(old_object, new_object);
                if changes.is_empty() && was == is {
                    continue;
                }
                let mut highlights =
                    fields::highlights(id, Some(old_object), Some(new_object), &changes);
                // An Application's own wave is one of its fields (highlighted as such), not a move.
                let moved = was.application != is.application
                    || (was.wave != is.wave
                        && !(id.kind == "Application" && id.group == "argoproj.io"));
                if moved {
                    highlights.insert(
                        0,
                        format!(
                            "moved from {} (wave {}) to {} (wave {})",
                            was.application, was.wave, is.application, is.wave
                        ),
                    );
                }
                ObjectChange {
                    id: id.clone(),
                    status: if moved {
                        Status::Moved
                    } else {
                        Status::Changed
                    },
                    before: Some(was.clone()),
                    after: Some(is.clone()),
                    fields: changes,
                    highlights,
                }
            }
            (None, None) => continue,
        };
        objects.push(change);
    }
    objects.sort_by(|a, b| {
        a.placement()
            .cmp(b.placement())
            .then_with(|| a.id.cmp(&b.id))
    });

    let empty_reach = BTreeMap::new();
    let (old_reach, new_reach) = (
        before.map_or(&empty_reach, |tree| &tree.reach),
        after.map_or(&empty_reach, |tree| &tree.reach),
    );
    let mut reach = Vec::new();
    let mut pairs: Vec<&(String, String)> = old_reach.keys().chain(new_reach.keys()).collect();
    pairs.sort();
    pairs.dedup();
    for pair in pairs {
        let (from, to) = pair;
        match (old_reach.get(pair), new_reach.get(pair)) {
            (None, Some(ports)) => reach.push(format!("{from} may now reach {to} on {ports}")),
            (Some(ports), None) => {
                reach.push(format!("{from} may no longer reach {to} (was {ports})"))
            }
            (Some(was), Some(is)) if was != is => {
                reach.push(format!("{from} may reach {to} on {is} (was {was})"))
            }
            _ => {}
        }
    }

    let mut files: Vec<String> = old
        .others
        .keys()
        .chain(new.others.keys())
        .cloned()
        .collect();
    files.sort();
    files.dedup();
    files.retain(|path| old.others.get(path) != new.others.get(path));

    Ok(EnvironmentDiff {
        environment: environment.to_owned(),
        objects,
        reach,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Tree {
        Tree {
            files: files
                .iter()
                .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
                .collect(),
            reach: BTreeMap::new(),
        }
    }

    #[test]
    fn a_tree_with_secret_values_is_refused() {
        let secret = tree(&[(
            "manifests/a/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\ndata: {password: aHVudGVyMg==}\n",
        )]);
        let error = diff("dev", None, Some(&secret)).unwrap_err();
        assert!(error.contains("never shows secret values"), "{error}");
        assert!(!error.contains("aHVudGVyMg"));
    }

    #[test]
    fn waves_come_from_the_owning_application() {
        let app = |wave: &str| {
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\n  namespace: argocd\n  annotations: {{argocd.argoproj.io/sync-wave: '{wave}'}}\n"
            )
        };
        let config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n";
        let before = tree(&[("apps/a.yaml", &app("1")), ("manifests/a/c.yaml", config)]);
        let after = tree(&[("apps/a.yaml", &app("2")), ("manifests/a/c.yaml", config)]);
        let result = diff("dev", Some(&before), Some(&after)).unwrap();
        let of = |kind: &str| result.objects.iter().find(|o| o.id.kind == kind).unwrap();
        assert_eq!(of("Application").status, Status::Changed);
        assert!(
            of("Application")
                .highlights
                .contains(&"sync wave 1 → 2".to_owned()),
            "{:?}",
            of("Application").highlights
        );
        assert_eq!(of("ConfigMap").status, Status::Moved);
        assert!(of("ConfigMap").highlights[0].contains("(wave 1) to a (wave 2)"));
    }
}
