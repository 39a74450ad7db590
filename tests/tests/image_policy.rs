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
    let policy = component_kyverno::policies::all(&platform_tests::load("dev").env.policies, &[])
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

#[test]
fn the_policies_govern_exactly_the_namespaces_the_platform_creates_for_teams() {
    use platform_core::labels::{TENANT, TENANT_VALUE};
    for loaded in platform_tests::load_all() {
        let objects = platform_tests::objects(&platform_tests::render(&loaded));
        let mut tenants = 0;
        for (path, object) in &objects {
            let label = |labels: &Value| labels[TENANT].as_str().map(str::to_owned);
            match object["kind"].as_str() {
                Some("Namespace") => {
                    assert_eq!(
                        label(&object["metadata"]["labels"]).as_deref(),
                        Some(TENANT_VALUE),
                        "{}: {path}",
                        loaded.name
                    );
                    tenants += 1;
                }
                Some("Application") => {
                    let managed =
                        &object["spec"]["syncPolicy"]["managedNamespaceMetadata"]["labels"];
                    assert_eq!(
                        label(managed),
                        None,
                        "{}: {path}: a platform namespace is a tenant",
                        loaded.name
                    );
                }
                Some("ClusterPolicy") => {
                    for rule in object["spec"]["rules"].as_array().unwrap() {
                        let any = rule["match"]["any"].as_array().unwrap();
                        assert_eq!(any.len(), 1, "{path}");
                        // Every rule selects tenants; a team's billing rule only its own.
                        let mut selector = any[0]["resources"]["namespaceSelector"]["matchLabels"]
                            .as_object()
                            .unwrap()
                            .clone();
                        if let Some(team) = selector.remove("team") {
                            assert_eq!(
                                rule["name"],
                                format!("cost-allocation-labels-{}", team.as_str().unwrap()),
                                "{path}"
                            );
                        }
                        assert_eq!(
                            Value::Object(selector),
                            serde_json::json!({ TENANT: TENANT_VALUE }),
                            "{path}"
                        );
                        assert!(
                            any[0]["resources"]["namespaces"].is_null(),
                            "{path}: no list of names"
                        );
                        assert!(
                            rule["exclude"].is_null(),
                            "{path}: no exclude list to keep up to date"
                        );
                    }
                }
                _ => {}
            }
        }
        assert_eq!(tenants, loaded.env.apps.len(), "{}", loaded.name);

        // Evaluated as Kyverno would, every policy's namespace selector takes in the tenant
        // namespaces (a team's billing rule its own team's only) and leaves the platform's and
        // an add-on's it has never heard of alone.
        let rules: Vec<Value> = objects
            .values()
            .filter(|o| o["kind"] == "ClusterPolicy")
            .flat_map(|policy| policy["spec"]["rules"].as_array().unwrap().clone())
            .collect();
        let wanted = |rule: &Value| {
            rule["match"]["any"][0]["resources"]["namespaceSelector"]["matchLabels"]
                .as_object()
                .unwrap()
                .clone()
        };
        let governing = |namespace_labels: &Value| -> Vec<String> {
            rules
                .iter()
                .filter(|rule| {
                    wanted(rule)
                        .iter()
                        .all(|(key, value)| &namespace_labels[key] == value)
                })
                .map(|rule| rule["name"].as_str().unwrap().to_owned())
                .collect()
        };
        let selects = |namespace_labels: &Value| !governing(namespace_labels).is_empty();
        for (path, object) in &objects {
            match object["kind"].as_str() {
                Some("Namespace") => {
                    let labels = &object["metadata"]["labels"];
                    let expected: Vec<String> = rules
                        .iter()
                        .filter(|rule| {
                            wanted(rule)
                                .get("team")
                                .is_none_or(|team| team == &labels["team"])
                        })
                        .map(|rule| rule["name"].as_str().unwrap().to_owned())
                        .collect();
                    assert_eq!(governing(labels), expected, "{path}");
                }
                // A platform component's namespace, as Argo CD creates it (a tenant
                // Application renders its Namespace objects, checked above).
                Some("Application")
                    if object["spec"]["project"] == "platform"
                        && !path.starts_with("apps/tenant-") =>
                {
                    let mut labels =
                        object["spec"]["syncPolicy"]["managedNamespaceMetadata"]["labels"].clone();
                    if labels.is_null() {
                        labels = serde_json::json!({});
                    }
                    labels["kubernetes.io/metadata.name"] =
                        object["spec"]["destination"]["namespace"].clone();
                    assert!(!selects(&labels), "{path}: its namespace is governed");
                }
                _ => {}
            }
        }
        for add_on in ["ingress-nginx", "calico-system", "cert-manager-addon"] {
            let labels = serde_json::json!({ "kubernetes.io/metadata.name": add_on });
            assert!(
                !selects(&labels),
                "an add-on's namespace `{add_on}` is governed"
            );
        }
    }
}
