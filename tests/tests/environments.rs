//! The environment files themselves: editor schema, layering, and how the three differ.

use platform_tests::{SchemaSet, environment_files, load, workspace_root};
use serde_json::Value;

const SCHEMA_LINE: &str = "# yaml-language-server: $schema=./schema.json";

#[test]
fn every_environment_file_names_the_editor_schema_and_validates_against_it() {
    let schema_path = workspace_root().join("environments/schema.json");
    let mut schemas = SchemaSet::default();
    let validator = schemas.validator(&schema_path).unwrap();
    let files = environment_files();
    assert_eq!(files.len(), 4, "base, dev, staging, prod");
    for file in files {
        assert_eq!(
            file.contents.lines().next(),
            Some(SCHEMA_LINE),
            "{}",
            file.path
        );
        let layer: Value = serde_yaml::from_str(&file.contents).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&layer)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", file.path);
    }
}

#[test]
fn the_editor_schema_rejects_what_the_renderer_rejects_in_a_layer() {
    let mut schemas = SchemaSet::default();
    let validator = schemas
        .validator(&workspace_root().join("environments/schema.json"))
        .unwrap();
    for (layer, what) in [
        ("extends: base\nclustr: {}\n", "unknown field"),
        ("policies: {failure_action: Audti}\n", "enum"),
        ("apps: [{name: Finops}]\n", "DNS label"),
        ("workloads: {replicas: -1}\n", "negative replicas"),
    ] {
        let layer: Value = serde_yaml::from_str(layer).unwrap();
        assert!(!validator.is_valid(&layer), "{what} accepted");
    }
    let partial: Value =
        serde_yaml::from_str("extends: base\nvault: {mode: ha, ui: null}\n").unwrap();
    assert!(
        validator.is_valid(&partial),
        "a partial layer with a null removal is valid"
    );
}

#[test]
fn the_environments_differ_exactly_as_intended() {
    let (dev, staging, prod) = (load("dev").env, load("staging").env, load("prod").env);

    assert!(dev.metallb.enabled && !staging.metallb.enabled && !prod.metallb.enabled);
    use platform_core::model::{ClusterProvider, FailureAction, VaultMode};
    assert_eq!(dev.cluster.provider, ClusterProvider::Kind);
    assert_eq!(staging.cluster.provider, ClusterProvider::Remote);
    assert_eq!(dev.vault.mode, VaultMode::Dev);
    assert_eq!(
        (staging.vault.mode, prod.vault.mode),
        (VaultMode::Ha, VaultMode::Ha)
    );
    assert_eq!(dev.policies.failure_action, FailureAction::Audit);
    assert_eq!(staging.policies.failure_action, FailureAction::Enforce);
    assert_eq!(prod.policies.failure_action, FailureAction::Enforce);
    let replicas = |env: &platform_core::model::Environment| env.apps[0].replicas(&env.workloads);
    assert_eq!(
        (replicas(&dev), replicas(&staging), replicas(&prod)),
        (1, 2, 3)
    );
    assert!(!staging.workloads.pod_disruption_budget && prod.workloads.pod_disruption_budget);
    assert!(staging.argocd.sync_retry.is_none() && prod.argocd.sync_retry.is_some());
    assert_eq!(staging.git.target_revision, "main");
    assert!(prod.git.target_revision.starts_with("release-"));
    // What they share comes from base.yaml once.
    assert_eq!(dev.teams, prod.teams);
    assert_eq!(dev.secrets, staging.secrets);
}

#[test]
fn base_is_never_rendered_on_its_own() {
    let names: Vec<String> = platform_tests::load_all()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["dev", "prod", "staging"]);
}
