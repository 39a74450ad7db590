//! The image-tag policy's expressions, checked for what they accept and refuse. The regular
//! expressions run here through the JSON Schema `pattern` keyword (ECMA-262; the expressions
//! use only what RE2, Kyverno's engine, reads the same way).

use component_kyverno::policies::{LATEST_IMAGE, TAGGED_IMAGE};
use serde_json::{Value, json};

fn matches(regex: &str, image: &str) -> bool {
    let schema = json!({"type": "string", "pattern": regex});
    jsonschema::validator_for(&schema)
        .unwrap()
        .is_valid(&json!(image))
}

#[test]
fn an_image_needs_a_tag_after_its_last_slash_or_a_digest() {
    let digest = format!("@sha256:{}", "ab".repeat(32));
    for tagged in [
        "nginx:1.27".to_owned(),
        "ghcr.io/example-org/finops-app:1.0.0".to_owned(),
        "registry:5000/app:1.0".to_owned(),
        "registry:5000/org/app:1.0".to_owned(),
        format!("registry:5000/org/app:1.0{digest}"),
        format!("ghcr.io/org/app{digest}"),
    ] {
        assert!(matches(TAGGED_IMAGE, &tagged), "{tagged} refused");
    }
    for untagged in [
        "nginx",
        "ghcr.io/org/app",
        "registry:5000/app",
        "registry:5000/org/app",
        "app:",
    ] {
        assert!(!matches(TAGGED_IMAGE, untagged), "{untagged} accepted");
    }
}

#[test]
fn latest_is_found_wherever_the_registry_is() {
    for latest in [
        "nginx:latest",
        "registry:5000/app:latest",
        "ghcr.io/org/app:latest",
    ] {
        assert!(matches(LATEST_IMAGE, latest), "{latest} not caught");
    }
    for pinned in [
        "nginx:1.27",
        "latest/app:1.0",
        "registry:5000/latest:1.0",
        "app:latest-1",
    ] {
        assert!(!matches(LATEST_IMAGE, pinned), "{pinned} taken for latest");
    }
}

#[test]
fn both_rules_look_at_every_kind_of_container() {
    let policy = component_kyverno::policies::all(&platform_tests::load("dev").env.policies)
        .into_iter()
        .find(|p| p.metadata.name.as_deref() == Some("disallow-latest-tag"))
        .unwrap();
    let policy: Value = serde_json::to_value(&policy).unwrap();
    for rule in policy["spec"]["rules"].as_array().unwrap() {
        let key = rule["validate"]["deny"]["conditions"]["any"][0]["key"]
            .as_str()
            .unwrap();
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            assert!(key.contains(list), "{}: {key}", rule["name"]);
        }
        assert!(key.starts_with("{{ ") && key.ends_with(" }}"));
        assert!(
            !key[2..key.len() - 2].contains("}}"),
            "a `}}}}` inside ends the variable early"
        );
    }
}
