//! The admission pre-flight: render evaluates each environment's Kyverno policies against the
//! workloads it renders, refuses (located in the environment file) what an `Enforce` rule would
//! refuse, and warns about `Audit` failures; the policies judge only the teams' namespaces.

use std::collections::BTreeMap;

use kyverno_engine::{Policy, Request, Status};
use platform::LoadedEnvironment;
use serde_json::{Value, json};

const FOREIGN_IMAGE: &str = "docker.io/library/nginx:1.27";

fn with_foreign_image(name: &str) -> LoadedEnvironment {
    let mut loaded = platform_tests::load(name);
    loaded.env.apps[0].image = FOREIGN_IMAGE.try_into().unwrap();
    assert!(
        platform_core::model::check(&loaded.env).is_empty(),
        "the model itself accepts any registry: only the policy judges it"
    );
    loaded
}

#[test]
fn an_enforce_rule_stops_render_with_an_error_at_the_apps_image_line() {
    let loaded = with_foreign_image("prod");
    let results = platform::render_checked(
        std::slice::from_ref(&loaded),
        1,
        Some(platform_tests::charts::charts()),
        &|_| {},
    );
    let errors = results
        .into_iter()
        .next()
        .unwrap()
        .expect_err("render must refuse the app");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let error = &errors[0];
    assert_eq!(error.path.as_deref(), Some("apps[0].image"));
    assert_eq!(error.file, "environments/base.yaml");
    assert!(
        error.location.is_some(),
        "the error points at a line: {error}"
    );
    assert!(error.message.contains("app finops-app in prod"), "{error}");
    assert!(
        error
            .message
            .contains("kyverno:restrict-image-registries/autogen-allowed-registries"),
        "{error}"
    );
}

#[test]
fn an_audit_rule_is_a_warning_and_the_environment_still_renders() {
    let loaded = with_foreign_image("dev");
    let results = platform::render_checked(
        std::slice::from_ref(&loaded),
        1,
        Some(platform_tests::charts::charts()),
        &|_| {},
    );
    let (tree, findings) = results
        .into_iter()
        .next()
        .unwrap()
        .expect("dev audits, it does not refuse");
    assert!(findings.is_empty(), "{findings:?}");
    let rules: Vec<&str> = tree.warnings.iter().map(|w| w.rule.as_str()).collect();
    assert_eq!(
        rules,
        ["kyverno:restrict-image-registries/autogen-allowed-registries"]
    );
    assert_eq!(
        tree.warnings[0].file,
        "dev/manifests/finops-app/deployment-finops-app.yaml"
    );
    assert_eq!(
        tree.warnings[0].pointer,
        "/spec/template/spec/containers/0/image"
    );
}

#[test]
fn every_committed_environment_passes_its_own_policies() {
    for loaded in platform_tests::load_all() {
        let results = platform::render_checked(
            std::slice::from_ref(&loaded),
            1,
            Some(platform_tests::charts::charts()),
            &|_| {},
        );
        let (tree, findings) = results.into_iter().next().unwrap().unwrap();
        assert!(findings.is_empty(), "{}: {findings:?}", loaded.name);
        assert!(
            tree.warnings.is_empty(),
            "{}: {:?}",
            loaded.name,
            tree.warnings
        );
    }
}

/// A pod that breaks every platform policy.
fn offending_pod(namespace: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "offender", "namespace": namespace},
        "spec": {"containers": [{"name": "c", "image": "docker.io/evil/miner:latest",
                                 "securityContext": {"privileged": true, "runAsNonRoot": false}}]}
    })
}

#[test]
fn policies_judge_the_teams_namespaces_and_never_the_platforms() {
    for loaded in platform_tests::load_all() {
        let rendered = platform_tests::render(&loaded);
        let objects = platform_tests::objects(&rendered);
        let policies: Vec<Policy> = objects
            .values()
            .filter_map(|object| Policy::from_value(object).unwrap())
            .collect();
        assert!(
            policies.len() >= 6,
            "{}: {} policies",
            loaded.name,
            policies.len()
        );
        // The labels each namespace gets: rendered Namespaces and what Applications set on
        // the namespaces they create.
        let mut labels: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for object in objects.values() {
            let as_map = |value: &Value| -> BTreeMap<String, String> {
                serde_json::from_value(value.clone()).unwrap_or_default()
            };
            if object["kind"] == "Namespace" {
                labels.insert(
                    object["metadata"]["name"].as_str().unwrap().to_owned(),
                    as_map(&object["metadata"]["labels"]),
                );
            } else if object["kind"] == "Application"
                && let Some(namespace) = object["spec"]["destination"]["namespace"].as_str()
            {
                labels
                    .entry(namespace.to_owned())
                    .or_default()
                    .extend(as_map(
                        &object["spec"]["syncPolicy"]["managedNamespaceMetadata"]["labels"],
                    ));
            }
        }
        for namespace in platform_core::names::namespace::PLATFORM.iter().copied() {
            let namespace_labels = labels.get(namespace).cloned().unwrap_or_default();
            let request = Request {
                namespace_labels: Some(&namespace_labels),
                ..Request::default()
            };
            for policy in &policies {
                let results = kyverno_engine::evaluate(policy, &offending_pod(namespace), &request);
                assert!(
                    results.is_empty(),
                    "{}: {} judges the platform's namespace {namespace}: {results:?}",
                    loaded.name,
                    policy.metadata.name
                );
            }
        }
        let app_namespace = loaded.env.apps[0].namespace();
        let tenant = labels
            .get(app_namespace.as_str())
            .cloned()
            .unwrap_or_default();
        let request = Request {
            namespace_labels: Some(&tenant),
            ..Request::default()
        };
        for policy in &policies {
            let results =
                kyverno_engine::evaluate(policy, &offending_pod(app_namespace.as_str()), &request);
            assert!(
                results.iter().any(|result| result.status == Status::Fail),
                "{}: {} lets the offender into {app_namespace}: {results:?}",
                loaded.name,
                policy.metadata.name
            );
        }
    }
}

/// A pod in a team's namespace is billed to that team: one labelled for another team (or its
/// cost center) fails `require-cost-allocation-labels`, since OpenCost would bill it by its
/// own labels while the dashboards and budgets bill its namespace's. The team's own labels
/// pass, in every team's namespace, as Kyverno's engine evaluates the rendered policy.
#[test]
fn a_pod_labelled_for_another_team_than_its_namespaces_is_refused() {
    let loaded = platform_tests::two_teams();
    let objects = platform_tests::objects(&platform_tests::render(&loaded));
    let policy = objects
        .values()
        .filter_map(|object| Policy::from_value(object).unwrap())
        .find(|p| p.metadata.name == "require-cost-allocation-labels")
        .expect("the cost-allocation policy");
    let namespaces: Vec<&Value> = objects
        .values()
        .filter(|o| o["kind"] == "Namespace" && o["metadata"]["labels"]["team"].is_string())
        .collect();
    assert!(namespaces.len() >= 2, "finops' and billing's namespaces");
    for namespace in namespaces {
        let name = namespace["metadata"]["name"].as_str().unwrap();
        let labels: BTreeMap<String, String> =
            serde_json::from_value(namespace["metadata"]["labels"].clone()).unwrap();
        let team = &labels["team"];
        let request = Request {
            namespace_labels: Some(&labels),
            ..Request::default()
        };
        let pod = |team: &str, cost_center: &str| {
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "namespace": name,
                             "labels": {"team": team, "cost-center": cost_center}},
                "spec": {"containers": [{"name": "c", "image": "ghcr.io/example-org/app:1.0"}]}
            })
        };
        let failed = |pod: &Value| {
            kyverno_engine::evaluate(&policy, pod, &request)
                .iter()
                .any(|r| r.status == Status::Fail)
        };
        assert!(
            !failed(&pod(team, &labels["cost-center"])),
            "{name}: its own team refused"
        );
        for other in loaded.env.teams.iter().filter(|t| t.name.as_str() != team) {
            assert!(
                failed(&pod(other.name.as_str(), other.cost_center.as_str())),
                "{name} ({team}) admits a pod billed to {}",
                other.name
            );
            assert!(
                failed(&pod(team, other.cost_center.as_str())),
                "{name} ({team}) admits a pod billed to cost center {}",
                other.cost_center
            );
        }
    }
}
