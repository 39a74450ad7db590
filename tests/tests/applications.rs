//! The app-of-apps of the local environment, as Argo CD will read it.

use std::collections::BTreeMap;
use std::fs;

use platform_tests::{SchemaSet, load, objects, render, schemas_dir};
use serde_json::Value;

fn dev_applications() -> BTreeMap<String, Value> {
    let rendered = render(&load("dev"));
    objects(&rendered)
        .into_iter()
        .filter_map(|(path, object)| {
            let name = path.strip_prefix("apps/")?.strip_suffix(".yaml")?;
            (!name.contains('/')).then(|| (name.to_owned(), object))
        })
        .collect()
}

/// An Application's sources: `spec.source`, or each of `spec.sources`.
fn sources(app: &Value) -> Vec<&Value> {
    match app["spec"]["sources"].as_array() {
        Some(sources) => sources.iter().collect(),
        None => vec![&app["spec"]["source"]],
    }
}

fn wave(app: &Value) -> i64 {
    app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
        .as_str()
        .expect("every child Application has a wave")
        .parse()
        .expect("waves are integers")
}

#[test]
fn dev_has_exactly_the_platform_applications_in_their_waves() {
    let waves: BTreeMap<String, i64> = dev_applications()
        .iter()
        .map(|(name, app)| {
            assert_eq!(
                app["metadata"]["name"],
                name.as_str(),
                "file name matches the Application"
            );
            (name.clone(), wave(app))
        })
        .collect();
    let expected: BTreeMap<String, i64> = [
        ("argocd", -1),
        ("metallb", -1),
        ("metallb-config", 0),
        ("vault", 0),
        ("external-secrets", 1),
        ("kyverno", 1),
        ("prometheus", 1),
        ("alertmanager", 1),
        ("vault-config", 2),
        ("security-policies", 2),
        ("opencost", 2),
        ("tenant-finops", 2),
        ("finops-app", 3),
        // Its datasource (wave 1) and the store its admin login is read through (wave 2).
        ("grafana", 3),
    ]
    .into_iter()
    .map(|(name, wave)| (name.to_owned(), wave))
    .collect();
    assert_eq!(waves, expected);
}

#[test]
fn only_kyverno_syncs_by_hand() {
    for (name, app) in dev_applications() {
        let automated = &app["spec"]["syncPolicy"]["automated"];
        if name == "kyverno" {
            assert!(automated.is_null(), "kyverno must not sync automatically");
            let options = app["spec"]["syncPolicy"]["syncOptions"].to_string();
            assert!(options.contains("ServerSideApply=true"), "{options}");
        } else {
            assert_eq!(automated["prune"], true, "{name} prunes");
            assert_eq!(automated["selfHeal"], true, "{name} self-heals");
        }
    }
}

#[test]
fn every_helm_source_pins_a_chart_version_that_exists_upstream() {
    let mut helm_sources = 0;
    for (name, app) in dev_applications() {
        let Some(source) = sources(&app).into_iter().find(|s| s["chart"].is_string()) else {
            continue;
        };
        let chart = source["chart"].as_str().unwrap();
        helm_sources += 1;
        let version = source["targetRevision"].as_str().unwrap();
        let is_exact = version.split('.').count() == 3
            && version
                .split('.')
                .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()));
        assert!(is_exact, "{name} pins `{version}`, not an exact version");
        let chart_yaml =
            fs::read_to_string(schemas_dir().join("charts").join(chart).join("Chart.yaml"))
                .unwrap_or_else(|e| panic!("{name}: no upstream Chart.yaml for {chart}: {e}"));
        let upstream: serde_yaml::Value = serde_yaml::from_str(&chart_yaml).unwrap();
        assert_eq!(
            upstream["version"].as_str().map(str::trim),
            Some(version),
            "{name} pins {chart} {version}, upstream has {:?}",
            upstream["version"]
        );
    }
    assert_eq!(
        helm_sources, 9,
        "argocd, metallb, vault, external-secrets, kyverno, prometheus, opencost, alertmanager, grafana"
    );
}

#[test]
fn path_sources_point_at_the_rendered_manifests_in_the_environment_repository() {
    let env = load("dev");
    let rendered = render(&env);
    let mut path_sources = 0;
    for (name, app) in dev_applications() {
        let Some(source) = sources(&app).into_iter().find(|s| s["path"].is_string()) else {
            continue;
        };
        path_sources += 1;
        let path = source["path"].as_str().unwrap();
        assert_eq!(path, format!("rendered/dev/manifests/{name}"));
        assert_eq!(source["repoURL"], env.env.git.repo_url.as_str());
        let prefix = format!("manifests/{name}/");
        assert!(
            rendered.files.keys().any(|file| file.starts_with(&prefix)),
            "{name} points at an empty folder"
        );
    }
    assert!(
        path_sources >= 4,
        "only {path_sources} path sources were checked"
    );
}

#[test]
fn every_rendered_object_validates_against_its_upstream_schema() {
    let mut schemas = SchemaSet::default();
    let mut checked = 0;
    for env in platform_tests::load_all() {
        for (path, object) in objects(&render(&env)) {
            let errors = schemas
                .validate(&object)
                .unwrap_or_else(|e| panic!("{}/{path}: {e}", env.name));
            assert!(
                errors.is_empty(),
                "{}/{path}:\n{}",
                env.name,
                errors.join("\n")
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} objects checked");
}

#[test]
fn a_misspelt_application_field_is_rejected_by_the_schema() {
    let mut app = dev_applications().remove("vault").unwrap();
    app["spec"]["syncPolicy"]["automated"]["selfheal"] = Value::Bool(true);
    let errors = SchemaSet::default().validate(&app).unwrap();
    assert!(errors.iter().any(|e| e.contains("selfheal")), "{errors:?}");
}

/// Every field path of a schemars schema, following `$ref`s into its `$defs`.
fn field_paths(schema: &Value, node: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Some(reference) = node["$ref"].as_str() {
        let target = schema.pointer(reference.trim_start_matches('#')).unwrap();
        return field_paths(schema, target, prefix, out);
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        for branch in node[combinator].as_array().into_iter().flatten() {
            field_paths(schema, branch, prefix, out);
        }
    }
    if let Some(items) = node.get("items") {
        field_paths(schema, items, &format!("{prefix}[]"), out);
    }
    for (name, property) in node["properties"].as_object().into_iter().flatten() {
        let path = format!("{prefix}.{name}");
        out.push(path.clone());
        field_paths(schema, property, &path, out);
    }
}

/// The upstream schema node at a field path such as `.source.helm.releaseName`.
fn upstream_node<'a>(mut node: &'a Value, path: &str) -> Option<&'a Value> {
    for segment in path.split('.').skip(1) {
        let (name, items) = match segment.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (segment, false),
        };
        node = node["properties"].get(name)?;
        if items {
            node = node.get("items")?;
        }
    }
    Some(node)
}

fn assert_invents_no_field(ours: &Value, crd_file: &str) -> usize {
    let crd: Value =
        serde_json::from_str(&fs::read_to_string(schemas_dir().join(crd_file)).unwrap()).unwrap();
    let upstream_spec = &crd["properties"]["spec"];
    assert!(
        upstream_node(upstream_spec, ".definitelyNotAField").is_none(),
        "the lookup can fail"
    );
    let mut paths = Vec::new();
    field_paths(ours, ours, "", &mut paths);
    for path in &paths {
        // valuesObject is free-form upstream (preserve-unknown-fields): stop below it.
        if path.contains(".valuesObject.") {
            continue;
        }
        assert!(
            upstream_node(upstream_spec, path).is_some(),
            "{crd_file}: spec{path} does not exist upstream"
        );
    }
    paths.len()
}

#[test]
fn the_typed_argo_cd_specs_invent_no_field() {
    let application = serde_json::to_value(schemars::schema_for!(
        platform_core::argocd::ApplicationSpec
    ))
    .unwrap();
    let checked =
        assert_invents_no_field(&application, "crds/argoproj.io/application_v1alpha1.json");
    assert!(checked > 20, "only {checked} fields walked");
    let project =
        serde_json::to_value(schemars::schema_for!(platform_core::argocd::AppProjectSpec)).unwrap();
    assert!(assert_invents_no_field(&project, "crds/argoproj.io/appproject_v1alpha1.json") > 8);
}

#[test]
fn bootstrap_installs_argo_cd_with_exactly_the_self_managed_values() {
    for env in platform_tests::load_all() {
        let rendered = render(&env);
        if !env.env.argocd.enabled {
            assert!(
                !rendered.files.contains_key("bootstrap/argocd-values.yaml"),
                "{}: installs an Argo CD another environment manages",
                env.name
            );
            continue;
        }
        let values: Value =
            serde_yaml::from_str(&rendered.files["bootstrap/argocd-values.yaml"]).unwrap();
        assert_eq!(
            values,
            platform_tests::chart_values(&env, "argocd"),
            "{}",
            env.name
        );
        let health =
            values["configs"]["cm"]["resource.customizations.health.argoproj.io_Application"]
                .as_str()
                .unwrap();
        assert!(
            health.contains("obj.status.sync.status"),
            "the health check waits for Synced"
        );
        assert_eq!(values["configs"]["cm"]["timeout.reconciliation"], "180s");
    }
}

#[test]
fn the_self_managed_argocd_application_keeps_argocd_when_it_is_deleted() {
    for loaded in platform_tests::load_all() {
        let objects = objects(&render(&loaded));
        for (path, object) in objects.iter().filter(|(p, o)| {
            p.starts_with("apps/") && !p.starts_with("apps/projects/") && o["kind"] == "Application"
        }) {
            let finalizers = &object["metadata"]["finalizers"];
            if path == "apps/argocd.yaml" {
                assert!(
                    finalizers.is_null(),
                    "{}: deleting {path} would delete Argo CD",
                    loaded.name
                );
            } else {
                assert_eq!(
                    finalizers[0], "resources-finalizer.argocd.argoproj.io",
                    "{}: {path}",
                    loaded.name
                );
            }
        }
    }
}

#[test]
fn metallb_runs_no_bgp_speaker_and_kyverno_s_hook_pods_are_admitted_by_its_policies() {
    let dev = objects(&render(&load("dev")));
    let metallb = &dev["apps/metallb.yaml"];
    let values = sources(metallb)
        .into_iter()
        .find(|s| s["chart"] == "metallb")
        .map(|s| s["helm"]["valuesObject"].clone())
        .unwrap();
    assert_eq!(
        values["frrk8s"]["enabled"], false,
        "frr-k8s is on by default in 0.16.1"
    );

    let kyverno = sources(&dev["apps/kyverno.yaml"])
        .into_iter()
        .find(|s| s["chart"] == "kyverno")
        .map(|s| s["helm"]["valuesObject"].clone())
        .unwrap();
    let api = &dev["manifests/kyverno/networkpolicy-allow-kyverno-to-kubernetes-api.yaml"];
    let selector = api["spec"]["podSelector"]["matchLabels"]
        .as_object()
        .unwrap();
    assert!(!selector.is_empty());
    for hook in ["/crds/migration/podLabels", "/webhooksCleanup/podLabels"] {
        let labels = kyverno
            .pointer(hook)
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{hook} unset: the hook pod has no labels"));
        for (key, value) in selector {
            assert_eq!(
                labels.get(key),
                Some(value),
                "{hook}: the API egress policy does not select the hook pod"
            );
        }
    }
}

#[test]
fn environments_on_one_hub_name_their_argo_cd_objects_apart_and_one_manages_it() {
    let environments = platform_tests::load_all();
    let mut names: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut hubs: BTreeMap<String, Vec<(String, bool)>> = BTreeMap::new();
    for loaded in &environments {
        let Some(hub) = &loaded.env.argocd.hub else {
            continue;
        };
        hubs.entry(hub.to_string())
            .or_default()
            .push((loaded.name.clone(), loaded.env.argocd.enabled));
        for (path, object) in objects(&render(loaded)) {
            let kind = object["kind"].as_str().unwrap().to_owned();
            if kind != "Application" && kind != "AppProject" {
                continue;
            }
            let name = object["metadata"]["name"].as_str().unwrap().to_owned();
            assert!(
                name.starts_with(&format!("{}-", loaded.name)),
                "{}: {path} is `{name}`",
                loaded.name
            );
            if kind == "Application" {
                let project = object["spec"]["project"].as_str().unwrap();
                assert!(
                    project == "default" || project.starts_with(&format!("{}-", loaded.name)),
                    "{}: {path} in project {project}",
                    loaded.name
                );
            }
            if let Some(other) = names.insert((kind.clone(), name.clone()), loaded.name.clone()) {
                panic!(
                    "{kind} `{name}` is rendered by both {other} and {}",
                    loaded.name
                );
            }
        }
    }
    assert!(!hubs.is_empty(), "staging and prod share a hub");
    for (hub, members) in hubs {
        assert!(members.len() >= 2, "{hub}: {members:?}");
        let managers: Vec<&(String, bool)> =
            members.iter().filter(|(_, manages)| *manages).collect();
        assert_eq!(managers.len(), 1, "{hub}: {members:?}");
    }
    let dev = objects(&render(&load("dev")));
    assert_eq!(
        dev["apps/vault.yaml"]["metadata"]["name"], "vault",
        "a lone Argo CD keeps plain names"
    );
}

/// The environment that manages a hub's Argo CD is told every environment of the hub, the
/// same whether all environments load or only it does (`render --env prod`); one that only
/// uses the hub's Argo CD, and a lone Argo CD, serve nothing else.
#[test]
fn a_hubs_manager_knows_every_environment_it_deploys_however_it_is_loaded() {
    let all = platform_tests::load_all();
    let files = platform_tests::environment_files();
    for loaded in &all {
        let alone = platform::load_matching(&files, |name| name == loaded.name)
            .unwrap()
            .remove(0);
        assert_eq!(
            alone.env.argocd.serves, loaded.env.argocd.serves,
            "{}",
            loaded.name
        );
        let served: Vec<&str> = loaded
            .env
            .argocd
            .serves
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        let expected: Vec<&str> = match (&loaded.env.argocd.hub, loaded.env.argocd.enabled) {
            (_, false) => Vec::new(),
            (None, true) => vec![loaded.name.as_str()],
            (Some(hub), true) => all
                .iter()
                .filter(|e| e.env.argocd.hub.as_ref() == Some(hub))
                .map(|e| e.name.as_str())
                .collect(),
        };
        assert_eq!(served, expected, "{}", loaded.name);
    }
    let prod = all.iter().find(|e| e.name == "prod").unwrap();
    let staging = prod
        .env
        .argocd
        .serves
        .iter()
        .find(|s| s.name == "staging")
        .unwrap();
    assert_eq!((staging.api_port, staging.shared), (6443, true));
    assert_eq!(staging.argo_name("platform"), "staging-platform");
}

#[test]
fn an_api_server_url_with_a_port_that_is_none_is_refused_at_cluster_server() {
    use platform_core::model::{Cluster, ClusterProvider};
    let at = |server: &str| {
        Cluster {
            provider: ClusterProvider::Remote,
            name: "c".try_into().unwrap(),
            server: server.to_owned(),
        }
        .api_port()
    };
    assert_eq!(at("https://kubernetes.default.svc"), Some(443));
    assert_eq!(at("https://k8s.example.org:6443"), Some(6443));
    assert_eq!(at("https://k8s.example.org:6443/path"), Some(6443));
    assert_eq!(at("https://[2001:db8::1]:8443"), Some(8443));
    assert_eq!(at("https://[2001:db8::1]"), Some(443));
    for bad in [
        "https://k8s.example.org:",
        "https://k8s.example.org:0",
        "https://k8s.example.org:70000",
        "https://k8s.example.org:64x3",
        "http://k8s.example.org",
    ] {
        assert_eq!(at(bad), None, "{bad}");
    }
    let files: Vec<_> = platform_tests::environment_files()
        .into_iter()
        .map(|mut file| {
            if file.name() == "staging" {
                file.contents = file.contents.replace(
                    "https://staging.k8s.example.org:6443",
                    "https://staging.k8s.example.org:65536",
                );
            }
            file
        })
        .collect();
    let errors = platform::load(&files).expect_err("no such port");
    let error = errors
        .iter()
        .find(|e| e.path.as_deref() == Some("cluster.server"))
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert_eq!(error.file, "environments/staging.yaml");
    assert!(
        error.message.contains("from 1 to 65535"),
        "{}",
        error.message
    );
    assert!(error.location.is_some(), "points at the line");
}
