//! `cargo xtask diff`: a change's effect object by object, against a Git revision, in a
//! scratch repository: added, removed, changed and moved objects, and reachability gained.

use std::fs;
use std::path::Path;

use serde_json::Value;

mod common;
use common::{committed_repository_copy, git, xtask_at};

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// A committed copy of the environments, then: finops-app handed to a new team (its
/// namespace moves to that team's tenancy, finops's tenancy goes), allowed out to the
/// internet on 443, and dev's replicas doubled.
fn changed_repository(name: &str) -> std::path::PathBuf {
    let root = committed_repository_copy(name);
    let base = root.join("environments/base.yaml");
    edit(
        &base,
        "  - name: finops\n    cost_center: cc-finops\n",
        "  - name: finops\n    cost_center: cc-finops\n  - name: billing\n    cost_center: cc-billing\n",
    );
    edit(
        &base,
        "    team: finops\n",
        "    team: billing\n    egress:\n      - cidr: 0.0.0.0/0\n        ports: [443]\n",
    );
    edit(
        &root.join("environments/dev.yaml"),
        "workloads:\n  replicas: 1\n",
        "workloads:\n  replicas: 2\n",
    );
    root
}

#[test]
fn a_change_is_shown_object_by_object_grouped_by_wave_and_application() {
    let root = changed_repository("diff-change");
    let output = xtask_at(
        &root,
        &["diff", "--base", "HEAD", "--env", "dev", "--format", "json"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let diffs: Value = serde_json::from_slice(&output.stdout).unwrap();
    let dev = &diffs[0];
    assert_eq!(dev["environment"], "dev");
    let objects = dev["objects"].as_array().unwrap();
    let find = |kind: &str, name: &str| {
        objects
            .iter()
            .find(|o| o["id"]["kind"] == kind && o["id"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name} in {objects:#?}"))
    };
    // Added and removed: the tenancies of the new team and of the one left without apps.
    let added = find("ClusterSecretStore", "team-billing");
    assert_eq!(added["status"], "added");
    assert_eq!(added["after"]["application"], "tenant-billing");
    let removed = find("ClusterSecretStore", "team-finops");
    assert_eq!(removed["status"], "removed");
    assert_eq!(removed["before"]["application"], "tenant-finops");
    // Moved: the app's namespace, now delivered by the new team's tenancy.
    let namespace = find("Namespace", "finops-app");
    assert_eq!(namespace["status"], "moved");
    assert_eq!(namespace["before"]["application"], "tenant-finops");
    assert_eq!(namespace["after"]["application"], "tenant-billing");
    // Changed: field by field, containers matched by name.
    let deployment = find("Deployment", "finops-app");
    assert_eq!(deployment["status"], "changed");
    let fields = deployment["fields"].as_array().unwrap();
    let field = |path: &str| {
        fields
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("no {path} in {fields:#?}"))
    };
    assert_eq!(
        (
            field("spec.replicas")["before"].clone(),
            field("spec.replicas")["after"].clone()
        ),
        (Value::from(1), Value::from(2))
    );
    assert_eq!(field("metadata.labels.team")["after"], "billing");
    // Grouped by wave, then Application.
    let order: Vec<(i64, String)> = objects
        .iter()
        .map(|o| {
            let placement = if o["after"].is_null() {
                &o["before"]
            } else {
                &o["after"]
            };
            (
                placement["wave"].as_i64().unwrap(),
                placement["application"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    // Reachability the new egress opens, as the rendered NetworkPolicies allow it.
    let reach: Vec<&str> = dev["reach"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        reach.contains(&"finops-app may now reach internet on 443/TCP"),
        "{reach:?}"
    );
    // Objects that did not change are not listed.
    assert!(
        objects.iter().all(|o| o["id"]["name"] != "vault"),
        "{objects:#?}"
    );

    let text = xtask_at(&root, &["diff", "--env", "dev"]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains(
            "! Namespace finops-app: moved from tenant-finops (wave 2) to tenant-billing (wave 2)"
        ) || text.contains("moved from tenant-finops"),
        "{text}"
    );
    assert!(text.contains("spec.replicas: 1 → 2"), "{text}");
    let markdown = xtask_at(&root, &["diff", "--env", "dev", "--format", "markdown"]);
    let markdown = String::from_utf8(markdown.stdout).unwrap();
    assert!(
        markdown.contains("## Rendered changes against `HEAD`")
            && markdown.contains("⚠️ finops-app may now reach internet on 443/TCP"),
        "{markdown}"
    );
}

#[test]
fn exit_code_says_whether_anything_changed_and_nothing_is_written() {
    let root = changed_repository("diff-exit");
    assert_eq!(xtask_at(&root, &["diff"]).status.code(), Some(0));
    assert_eq!(
        xtask_at(&root, &["diff", "--exit-code"]).status.code(),
        Some(1)
    );
    git(&root, &["checkout", "-q", "--", "environments"]);
    let unchanged = xtask_at(&root, &["diff", "--exit-code"]);
    assert_eq!(unchanged.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&unchanged.stdout).contains("No rendered object changes"));
    assert!(!root.join("rendered").exists());
}

/// In an environment that hydrates its charts, a chart's value changed in the environment
/// file shows as the chart's own objects that change, field by field: here prod's Prometheus
/// retention, which the chart writes into the server's arguments.
#[test]
fn a_hydrated_charts_value_shows_as_the_objects_helm_changes() {
    if !common::helm_is_installed() {
        return;
    }
    let root = committed_repository_copy("diff-hydrated");
    edit(
        &root.join("environments/prod.yaml"),
        "prometheus:\n  retention: 30d\n",
        "prometheus:\n  retention: 15d\n",
    );
    let output = xtask_at(&root, &["diff", "--env", "prod", "--format", "json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let diffs: Value = serde_json::from_slice(&output.stdout).unwrap();
    let objects = diffs[0]["objects"].as_array().unwrap();
    let changed: Vec<(&str, &str)> = objects
        .iter()
        .map(|o| {
            (
                o["id"]["kind"].as_str().unwrap(),
                o["id"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        changed.contains(&("Deployment", "prometheus-server")),
        "{changed:?}"
    );
    // The Application itself carries no values any more: nothing of it changes.
    assert!(
        !changed.contains(&("Application", "prod-prometheus")),
        "{changed:?}"
    );
    let text = xtask_at(&root, &["diff", "--env", "prod"]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("--storage.tsdb.retention.time=30d")
            && text.contains("--storage.tsdb.retention.time=15d"),
        "{text}"
    );
}
