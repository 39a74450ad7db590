//! `cargo xtask cost`: the forecast per team and Application, and the change against a Git
//! revision, computed in memory from a scratch repository's environment files.

use std::fs;
use std::path::Path;

use serde_json::Value;

mod common;
use common::{committed_repository_copy, xtask_at};

fn json(root: &Path, args: &[&str]) -> Value {
    let output = xtask_at(root, args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// dev's `workloads.replicas`, which finops-app takes, doubled.
fn double_dev_replicas(root: &Path) {
    let dev = root.join("environments/dev.yaml");
    let text = fs::read_to_string(&dev).unwrap();
    assert!(
        text.contains("workloads:\n  replicas: 1\n"),
        "dev's replicas moved"
    );
    fs::write(
        &dev,
        text.replace("workloads:\n  replicas: 1\n", "workloads:\n  replicas: 2\n"),
    )
    .unwrap();
}

#[test]
fn doubling_an_apps_replicas_changes_exactly_that_app_by_its_replicas_cost() {
    let root = committed_repository_copy("cost-base");
    let before = json(&root, &["cost", "--format", "json"]);
    double_dev_replicas(&root);
    let delta = json(&root, &["cost", "--base", "HEAD", "--format", "json"]);
    let environments = delta.as_array().unwrap();
    assert_eq!(environments.len(), 3);
    // One replica of finops-app (100m, 128Mi) at base.yaml's prices, for 730 hours.
    let one_replica = 730.0 * (0.1 * 0.028 + 128.0 / 1024.0 * 0.0035);
    for environment in environments {
        let name = environment["environment"].as_str().unwrap();
        let apps = environment["applications"].as_array().unwrap();
        let forecast = before
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["environment"] == name)
            .unwrap();
        assert!(
            (environment["before"].as_f64().unwrap() - forecast["monthly"].as_f64().unwrap()).abs()
                < 1e-9
        );
        let change = environment["change"].as_f64().unwrap();
        if name != "dev" {
            assert!(apps.is_empty(), "{name}: {apps:?}");
            assert_eq!(change, 0.0, "{name}");
            continue;
        }
        assert_eq!(apps.len(), 1, "{apps:?}");
        assert_eq!(apps[0]["application"], "finops-app");
        assert_eq!(apps[0]["team"], "finops");
        assert_eq!(apps[0]["status"], "changed");
        assert!(
            (apps[0]["change"].as_f64().unwrap() - one_replica).abs() < 1e-9,
            "{apps:?}"
        );
        assert!((change - one_replica).abs() < 1e-9);
        let finops = environment["teams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["team"] == "finops")
            .unwrap();
        assert!((finops["change"].as_f64().unwrap() - one_replica).abs() < 1e-9);
    }

    let markdown = xtask_at(&root, &["cost", "--base", "HEAD", "--format", "markdown"]);
    let text = String::from_utf8(markdown.stdout).unwrap();
    assert!(
        text.contains("| application | team | status | before | after | change |"),
        "{text}"
    );
    assert!(text.contains("| finops-app | finops | changed |"), "{text}");
    assert!(
        text.contains("### prod:") && text.contains("No change."),
        "{text}"
    );

    let strict = xtask_at(&root, &["cost", "--base", "HEAD", "--fail-above", "1"]);
    assert_eq!(
        strict.status.code(),
        Some(1),
        "the cost rises by {one_replica:.2}"
    );
    let lenient = xtask_at(&root, &["cost", "--base", "HEAD", "--fail-above", "5"]);
    assert_eq!(lenient.status.code(), Some(0));
    // Nothing was rendered or written.
    assert!(!root.join("rendered").exists());
}

#[test]
fn an_unknown_revision_is_bad_input() {
    let root = committed_repository_copy("cost-bad-revision");
    let output = xtask_at(&root, &["cost", "--base", "no-such-revision"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no-such-revision"), "{stderr}");
}
