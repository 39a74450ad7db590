//! Hydration (`argocd.hydrate`): every Helm component's chart templated at render time, as
//! Argo CD's repo-server would template it at sync time, and its objects kept as the
//! component's, so they are written to its folder and its Application syncs them from Git.
//!
//! Templating runs Helm, a process over the vendored charts: the caller supplies it as a
//! [`ChartTemplater`] (the xtask: the real Helm over `schemas/charts/`), so this crate stays a
//! pure function of what it is given.

use platform_core::application::RenderedPaths;
use platform_core::component::{ChartManifest, Hydrated, Source};
use platform_core::manifest::Manifest;
use platform_core::scanner::{ChartWaiver, chart_waivers, waive};
use platform_environments::{Diagnostic, LoadedEnvironment};
use platform_helm::{ChartObject, HelmApplication, TemplateError, Templated};

use crate::plan::Plan;

/// Templates charts as Argo CD's repo-server does, one result per release, in order.
pub trait ChartTemplater: Sync {
    fn template(&self, releases: &[HelmApplication]) -> Vec<Result<Templated, TemplateError>>;

    /// What templates them, as each hydrated file names it: `Helm v4.3.1`.
    fn templated_by(&self) -> String;
}

/// Replaces, in an environment that hydrates, every Helm component's chart by its objects.
/// Errors name the Application and what to change: no templater given, a chart that does
/// not template, a chart object Git must not hold (a Secret with data).
pub fn hydrate(
    loaded: &LoadedEnvironment,
    plan: &mut Plan,
    templater: Option<&dyn ChartTemplater>,
) -> Result<(), Vec<Diagnostic>> {
    let env = &loaded.env;
    if !env.argocd.hydrate {
        return Ok(());
    }
    let (at, releases): (Vec<usize>, Vec<HelmApplication>) =
        planned_releases(loaded, plan).into_iter().unzip();
    if releases.is_empty() {
        return Ok(());
    }
    let Some(templater) = templater else {
        return Err(vec![loaded.diagnostic(
            Some("argocd.hydrate"),
            "the environment hydrates its charts, which needs Helm to template them; none was given".to_owned(),
        )]);
    };
    let mut errors = Vec::new();
    for ((index, release), templated) in at
        .into_iter()
        .zip(&releases)
        .zip(templater.template(&releases))
    {
        let objects = match templated {
            Ok(templated) => templated.objects,
            Err(error) => {
                errors.push(loaded.diagnostic(Some("argocd.hydrate"), error.to_string()));
                continue;
            }
        };
        let Source::Helm(helm) = &plan.components[index].component.source else {
            unreachable!("only Helm components are templated");
        };
        match manifests(release, helm.chart.scanner_waivers, objects) {
            Ok(objects) => {
                if let Source::Helm(helm) = &mut plan.components[index].component.source {
                    helm.hydrated = Some(Hydrated {
                        templated_by: templater.templated_by(),
                        objects,
                    });
                }
            }
            Err(mut refused) => {
                errors.extend(
                    refused
                        .drain(..)
                        .map(|message| loaded.diagnostic(Some("argocd.hydrate"), message)),
                );
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Every chart an environment deploys, as Argo CD's repo-server templates it, whether the
/// environment hydrates its charts or leaves them to Argo CD: what `cargo xtask charts` and
/// the tests template.
pub fn helm_releases(loaded: &LoadedEnvironment) -> Result<Vec<HelmApplication>, Vec<Diagnostic>> {
    let plan = crate::plan_located(loaded)?;
    Ok(planned_releases(loaded, &plan)
        .into_iter()
        .map(|(_, release)| release)
        .collect())
}

/// Each Helm component of the plan, by its index, as a Helm Application.
fn planned_releases(loaded: &LoadedEnvironment, plan: &Plan) -> Vec<(usize, HelmApplication)> {
    let paths = RenderedPaths::new(&loaded.name, &loaded.env);
    let mut releases = Vec::new();
    for (index, planned) in plan.components.iter().enumerate() {
        let component = &planned.component;
        if let Source::Helm(release) = &component.source {
            releases.push((
                index,
                HelmApplication {
                    environment: loaded.name.clone(),
                    name: paths.argo_name(&component.name),
                    repo_url: release.chart.repo_url.to_owned(),
                    chart: release.chart.name.to_owned(),
                    version: release.version.clone(),
                    release_name: release.release_name.clone(),
                    namespace: component.namespace.clone(),
                    values: release.values.clone(),
                },
            ));
        }
    }
    releases
}

/// The real Helm over the vendored charts.
impl ChartTemplater for platform_helm::VendoredCharts {
    fn template(&self, releases: &[HelmApplication]) -> Vec<Result<Templated, TemplateError>> {
        self.template_all(releases)
    }

    fn templated_by(&self) -> String {
        format!("Helm {}", self.helm().version)
    }
}

/// The objects Argo CD would apply or run, as manifests: a hook of no phase Argo CD runs
/// (`test`) is left out, as Argo CD leaves it out; a Secret with data is refused. Each
/// carries the chart's scanner waivers that concern it, as the platform's own objects do.
fn manifests(
    release: &HelmApplication,
    waivers: &[ChartWaiver],
    objects: Vec<ChartObject>,
) -> Result<Vec<ChartManifest>, Vec<String>> {
    let mut manifests = Vec::new();
    let mut refused = Vec::new();
    for object in objects {
        if object
            .hook
            .as_ref()
            .is_some_and(|hook| hook.phases.is_empty())
        {
            continue;
        }
        if let Some(message) = secret_value(release, &object) {
            refused.push(message);
            continue;
        }
        let mut value = object.object;
        let waived = chart_waivers(
            waivers,
            value["kind"].as_str().unwrap_or_default(),
            value["metadata"]["name"].as_str().unwrap_or_default(),
        );
        waive(&mut value, &waived);
        match Manifest::foreign(value) {
            Ok(manifest) => manifests.push(ChartManifest {
                template: object.source,
                manifest,
            }),
            Err(error) => refused.push(format!(
                "{}: {} renders {error}",
                release.name, object.source
            )),
        }
    }
    if refused.is_empty() {
        Ok(manifests)
    } else {
        Err(refused)
    }
}

/// Why a chart object may not be committed: a Secret that carries data (a generated password,
/// a TLS key), which Git must never hold.
fn secret_value(release: &HelmApplication, object: &ChartObject) -> Option<String> {
    if object.kind() != "Secret" {
        return None;
    }
    let filled = |field: &str| match &object.object[field] {
        serde_json::Value::Null => false,
        serde_json::Value::Object(values) => !values.is_empty(),
        _ => true,
    };
    let fields: Vec<&str> = ["data", "stringData"]
        .into_iter()
        .filter(|field| filled(field))
        .collect();
    (!fields.is_empty()).then(|| {
        format!(
            "{}: chart {} {} renders Secret {} with {} ({}): a hydrated environment commits every object to Git, which holds no secret value; turn it off in the chart's values, or have the value come from Vault through an ExternalSecret",
            release.name,
            release.chart,
            release.version,
            object.name(),
            fields.join(" and "),
            object.source
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release() -> HelmApplication {
        HelmApplication {
            environment: "prod".to_owned(),
            name: "prod-grafana".to_owned(),
            repo_url: "https://grafana.github.io/helm-charts".to_owned(),
            chart: "grafana".to_owned(),
            version: "12.11.1".to_owned(),
            release_name: "grafana".to_owned(),
            namespace: "grafana".to_owned(),
            values: serde_json::Value::Null,
        }
    }

    fn object(value: serde_json::Value, hook: Option<platform_helm::Hook>) -> ChartObject {
        ChartObject {
            source: "grafana/templates/secret.yaml".to_owned(),
            text: String::new(),
            object: value,
            hook,
        }
    }

    #[test]
    fn a_secret_with_data_is_refused_naming_its_template() {
        let secret = object(
            serde_json::json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "grafana"}, "data": {"admin-password": "c2VjcmV0"}}),
            None,
        );
        let refused = manifests(&release(), &[], vec![secret]).expect_err("a secret value");
        assert_eq!(refused.len(), 1);
        assert!(
            refused[0].contains("grafana/templates/secret.yaml"),
            "{}",
            refused[0]
        );
        assert!(
            refused[0].contains("Secret grafana with data"),
            "{}",
            refused[0]
        );
        // An empty Secret (filled in the cluster) is committed.
        let empty = object(
            serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "filled-later"}}),
            None,
        );
        assert_eq!(manifests(&release(), &[], vec![empty]).unwrap().len(), 1);
    }

    #[test]
    fn a_hook_argocd_never_runs_is_left_out_and_one_it_runs_kept() {
        let job = |name: &str| serde_json::json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}});
        let never = platform_helm::Hook {
            helm: "test".to_owned(),
            phases: Vec::new(),
        };
        let post_sync = platform_helm::Hook {
            helm: "post-install".to_owned(),
            phases: vec!["PostSync"],
        };
        let kept = manifests(
            &release(),
            &[],
            vec![
                object(job("test-connection"), Some(never)),
                object(job("migrate"), Some(post_sync)),
            ],
        )
        .unwrap();
        let names: Vec<&str> = kept.iter().map(|m| m.manifest.id.name.as_str()).collect();
        assert_eq!(names, ["migrate"]);
    }

    #[test]
    fn a_chart_pod_carries_the_waivers_that_concern_it_and_nothing_else_does() {
        let waivers = [ChartWaiver {
            check: "CKV_K8S_155",
            objects: &["ClusterRole/grafana"],
            reason: "keeps its own webhooks",
        }];
        let deployment = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "grafana", "annotations": {"kept": "yes"}}});
        let role = serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole", "metadata": {"name": "grafana"}});
        let map = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "grafana"}});
        let kept = manifests(
            &release(),
            &waivers,
            vec![
                object(deployment, None),
                object(role, None),
                object(map, None),
            ],
        )
        .unwrap();
        let annotations = |i: usize| kept[i].manifest.to_json()["metadata"]["annotations"].clone();
        let on_pods = annotations(0);
        assert_eq!(on_pods["kept"], "yes");
        assert!(
            on_pods["checkov.io/skip1"]
                .as_str()
                .is_some_and(|skip| skip.starts_with(platform_core::scanner::IMAGE_BY_TAG)),
            "{on_pods}"
        );
        assert!(
            annotations(1)["checkov.io/skip1"]
                .as_str()
                .is_some_and(|skip| skip.starts_with("CKV_K8S_155=")),
            "{}",
            annotations(1)
        );
        assert!(annotations(2).is_null(), "{}", annotations(2));
    }
}
