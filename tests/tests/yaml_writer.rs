//! The YAML a render writes, straight from each object's type, is what serde_yaml writes for the
//! object's JSON form, byte for byte; and what the invariants are given of an object they read
//! by its metadata alone is what they would take of the whole object.

use std::collections::BTreeSet;

#[test]
fn every_planned_object_is_written_as_serde_yaml_writes_its_json_form() {
    let mut compared = 0;
    let mut kinds = BTreeSet::new();
    for loaded in platform_tests::load_all()
        .into_iter()
        .chain([platform_tests::two_teams()])
    {
        let plan = platform::plan_located(&loaded).expect("the environment plans");
        for manifest in plan
            .components
            .iter()
            .flat_map(|c| c.component.folder_manifests())
        {
            let json = manifest.to_json();
            assert_eq!(
                manifest.to_yaml(),
                serde_yaml::to_string(&json).unwrap(),
                "{}: {}",
                loaded.name,
                manifest.id
            );
            if !platform_validate::read_in_full(&manifest.id.kind) {
                assert_eq!(
                    platform_validate::needed_by_invariants(manifest.head()),
                    platform_validate::needed_by_invariants(json.clone()),
                    "{}: {}",
                    loaded.name,
                    manifest.id
                );
                assert_eq!(
                    manifest.head().as_object().map(|o| o.len()),
                    Some(3),
                    "{}: apiVersion, kind and metadata alone",
                    manifest.id
                );
            }
            kinds.insert(manifest.id.kind.clone());
            compared += 1;
        }
    }
    assert!(compared > 200, "only {compared} objects compared");
    for kind in [
        "Deployment",
        "NetworkPolicy",
        "ExternalSecret",
        "ClusterPolicy",
    ] {
        assert!(kinds.contains(kind), "no {kind} compared: {kinds:?}");
    }
}

/// A custom resource that Argo CD must not dry-run before its CRD exists gets the annotation
/// as it serializes, not in its metadata: the head, like the YAML, carries it.
#[test]
fn the_head_of_a_custom_resource_carries_what_it_adds_as_it_serializes() {
    let mut found = 0;
    for loaded in platform_tests::load_all() {
        let plan = platform::plan_located(&loaded).expect("the environment plans");
        for manifest in plan
            .components
            .iter()
            .flat_map(|c| c.component.folder_manifests())
        {
            let annotation =
                manifest.head()["metadata"]["annotations"]["argocd.argoproj.io/sync-options"]
                    .as_str()
                    .map(str::to_owned);
            if annotation.is_some_and(|a| a.contains("SkipDryRunOnMissingResource=true")) {
                assert!(
                    manifest
                        .to_yaml()
                        .contains("SkipDryRunOnMissingResource=true")
                );
                found += 1;
            }
        }
    }
    assert!(found > 0, "no custom resource skips its dry run");
}
