//! Hydrated environments (`argocd.hydrate`): every chart templated at render time by the real
//! Helm from the vendored chart, its objects committed one file each, and the Applications
//! reading nothing but this Git repository.

use std::collections::{BTreeMap, BTreeSet};

use platform::LoadedEnvironment;
use platform_helm::VendoredCharts;
use serde_json::Value;

/// The real Helm, uncached: these tests are about what it templates.
fn charts() -> Option<VendoredCharts> {
    Some(
        VendoredCharts::new(
            platform_tests::helm()?.clone(),
            &platform_tests::schemas_dir(),
        )
        .unwrap(),
    )
}

/// An environment with `argocd.hydrate` on, whatever its file says.
fn hydrating(name: &str) -> LoadedEnvironment {
    let mut loaded = platform_tests::load(name);
    loaded.env.argocd.hydrate = true;
    loaded
}

fn rendered(loaded: &LoadedEnvironment, charts: &VendoredCharts) -> platform::RenderedEnvironment {
    platform::render_with(loaded, Some(charts)).unwrap_or_else(|errors| {
        panic!(
            "{} does not hydrate:\n{}",
            loaded.name,
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

#[test]
fn a_hydrated_environments_applications_read_only_this_repository() {
    let Some(charts) = charts() else { return };
    for name in ["dev", "prod"] {
        let loaded = hydrating(name);
        let objects = platform_tests::objects(&rendered(&loaded, &charts));
        let repo = loaded.env.git.repo_url.as_str();
        for (path, object) in &objects {
            match object["kind"].as_str() {
                Some("Application") => {
                    let sources: Vec<&Value> = object["spec"]["sources"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .chain(
                            object["spec"]["source"]
                                .as_object()
                                .map(|_| &object["spec"]["source"]),
                        )
                        .collect();
                    assert_eq!(sources.len(), 1, "{name}: {path}: {sources:?}");
                    assert_eq!(sources[0]["repoURL"], repo, "{name}: {path}");
                    assert!(sources[0]["chart"].is_null(), "{name}: {path}");
                }
                Some("AppProject") => {
                    assert_eq!(
                        object["spec"]["sourceRepos"],
                        serde_json::json!([repo]),
                        "{name}: {path}: a chart repository is still trusted"
                    );
                }
                _ => {}
            }
        }
    }
}

/// Each Helm Application's folder holds exactly the objects Helm renders from the vendored
/// chart with its values (those Argo CD would apply or run: not `test` hooks), hooks with
/// their `helm.sh/hook` annotations, which Argo CD honours on plain manifests too
/// (gitops-engine `pkg/sync/hook/hook.go`, `IsHook` and `Types` read Helm's).
#[test]
fn a_hydrated_folder_holds_what_helm_renders_and_no_secret_value() {
    let Some(charts) = charts() else { return };
    let Some(releases) = platform_tests::chart_releases() else {
        return;
    };
    let loaded = hydrating("prod");
    let files = rendered(&loaded, &charts).files;
    let objects: BTreeMap<String, Value> = files
        .iter()
        .filter(|(path, _)| path.starts_with("manifests/"))
        .map(|(path, text)| (path.clone(), serde_yaml::from_str(text).unwrap()))
        .collect();
    let mut compared = 0;
    for release in releases.iter().filter(|r| r.app.environment == "prod") {
        let app = release.app.name.strip_prefix("prod-").unwrap();
        let folder = format!("manifests/{app}/");
        let in_git: BTreeSet<(String, String)> = objects
            .iter()
            .filter(|(path, _)| path.starts_with(&folder))
            .map(|(_, o)| {
                (
                    o["kind"].as_str().unwrap().to_owned(),
                    o["metadata"]["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for object in &release.templated.objects {
            let applied = object
                .hook
                .as_ref()
                .is_none_or(|hook| !hook.phases.is_empty());
            let key = (object.kind().to_owned(), object.name().to_owned());
            assert_eq!(
                in_git.contains(&key),
                applied,
                "{}: {key:?} (hook {:?})",
                release.app.name,
                object.hook
            );
            compared += usize::from(applied);
        }
    }
    assert!(compared > 100, "only {compared} chart objects compared");
    for (path, object) in &objects {
        if object["kind"] == "Secret" {
            for field in ["data", "stringData"] {
                assert!(
                    object[field]
                        .as_object()
                        .is_none_or(serde_json::Map::is_empty),
                    "{path}: a Secret with {field} in Git"
                );
            }
        }
    }
    let hooks = objects
        .values()
        .filter(|o| o["metadata"]["annotations"]["helm.sh/hook"].is_string())
        .count();
    assert!(hooks >= 3, "Kyverno's and cert-manager's hooks: {hooks}");
}

#[test]
fn hydration_is_deterministic_and_needs_helm_only_where_it_is_on() {
    let Some(charts) = charts() else { return };
    let loaded = hydrating("prod");
    assert_eq!(
        rendered(&loaded, &charts).files,
        rendered(&loaded, &charts).files,
        "two hydrations differ"
    );
    let errors = platform::render_with(&loaded, None).expect_err("Helm is needed");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].path.as_deref(), Some("argocd.hydrate"));
    assert!(
        errors[0].message.contains("needs Helm"),
        "{}",
        errors[0].message
    );
    // An environment that does not hydrate renders without Helm, as before.
    let dev = platform_tests::load("dev");
    assert!(!dev.env.argocd.hydrate);
    platform::render_with(&dev, None).unwrap();
}

/// What the invariants and the admission pre-flight say of hydrated prod, as `render` checks
/// it: the charts' real objects break none.
#[test]
fn hydrated_prod_passes_the_invariants_and_the_pre_flight() {
    let Some(charts) = charts() else { return };
    let loaded = hydrating("prod");
    let results =
        platform::render_checked(std::slice::from_ref(&loaded), 1, Some(&charts), &|_| {});
    match &results[0] {
        Ok((_, findings)) => assert!(findings.is_empty(), "{findings:#?}"),
        Err(errors) => panic!("{errors:#?}"),
    }
}

/// Grafana's chart, left to its defaults, generates an admin password into a Secret
/// (grafana 12.x `templates/secret.yaml`, rendered unless `admin.existingSecret` is set):
/// hydrating refuses it, naming the template. The platform's values point Grafana at the
/// Secret ESO fills from Vault, and no committed Secret holds a value.
#[test]
fn a_chart_that_would_commit_a_generated_secret_is_refused_naming_its_template() {
    let Some(charts) = charts() else { return };
    let loaded = platform_tests::load("prod");
    let mut plan = platform::plan_located(&loaded).unwrap();
    let grafana = plan
        .components
        .iter_mut()
        .find(|planned| planned.component.name == "grafana")
        .unwrap();
    let platform_core::component::Source::Helm(release) = &mut grafana.component.source else {
        panic!("grafana is a chart");
    };
    release.values["admin"]
        .as_object_mut()
        .unwrap()
        .remove("existingSecret");
    let errors = platform::hydrate::hydrate(&loaded, &mut plan, Some(&charts))
        .expect_err("a generated password");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let message = &errors[0].message;
    assert!(
        message.contains("prod-grafana")
            && message.contains("grafana/templates/secret.yaml")
            && message.contains("Secret grafana with data"),
        "{message}"
    );
    assert_eq!(errors[0].path.as_deref(), Some("argocd.hydrate"));
}

/// The committed sovereign environments hydrate, dev does not: both modes are rendered and
/// tested. In rendered/ as committed, a hydrated environment's Applications and AppProjects
/// name no chart repository.
#[test]
fn staging_and_prod_are_committed_hydrated_and_dev_is_not() {
    for loaded in platform_tests::load_all() {
        assert_eq!(
            loaded.env.argocd.hydrate,
            loaded.name != "dev",
            "{}",
            loaded.name
        );
        let folder = platform_tests::workspace_root()
            .join("rendered")
            .join(&loaded.name)
            .join("apps");
        let committed = platform_checkout::read_tree(&folder).unwrap();
        let charts = committed
            .files
            .values()
            .filter(|text| text.contains("\n    chart: ") || text.contains("\n  - chart: "))
            .count();
        if loaded.env.argocd.hydrate {
            assert_eq!(
                charts, 0,
                "{}: an Application still names a chart",
                loaded.name
            );
            for text in committed.files.values() {
                for repository in platform::catalog::CHARTS.iter().map(|c| c.repo_url) {
                    assert!(!text.contains(repository), "{}: {repository}", loaded.name);
                }
            }
        } else {
            assert!(charts > 5, "{}: {charts} chart sources", loaded.name);
        }
    }
}
