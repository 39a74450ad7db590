//! Hydration (`argocd.hydrate`): every Helm component's chart templated at render time, as
//! Argo CD's repo-server would template it at sync time, and its objects kept as the
//! component's, so they are written to its folder and its Application syncs them from Git.
//!
//! Templating runs Helm, a process over the vendored charts: the caller supplies it as a
//! [`ChartTemplater`] (the xtask: the real Helm over `schemas/charts/`), so this crate stays a
//! pure function of what it is given.

use platform_core::application::RenderedPaths;
use platform_core::component::Source;
use platform_core::manifest::Manifest;
use platform_environments::{Diagnostic, LoadedEnvironment};
use platform_helm::{ChartObject, HelmApplication, TemplateError, Templated};

use crate::plan::Plan;

/// Templates charts as Argo CD's repo-server does, one result per release, in order.
pub trait ChartTemplater: Sync {
    fn template(&self, releases: &[HelmApplication]) -> Vec<Result<Templated, TemplateError>>;
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
    let paths = RenderedPaths::new(&loaded.name, env);
    let mut at = Vec::new();
    let mut releases = Vec::new();
    for (index, planned) in plan.components.iter().enumerate() {
        let component = &planned.component;
        if let Source::Helm(release) = &component.source {
            at.push(index);
            releases.push(HelmApplication {
                environment: loaded.name.clone(),
                name: paths.argo_name(&component.name),
                repo_url: release.chart.repo_url.to_owned(),
                chart: release.chart.name.to_owned(),
                version: release.version.clone(),
                release_name: release.release_name.clone(),
                namespace: component.namespace.clone(),
                values: release.values.clone(),
            });
        }
    }
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
        match manifests(release, objects) {
            Ok(manifests) => {
                if let Source::Helm(helm) = &mut plan.components[index].component.source {
                    helm.hydrated = Some(manifests);
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

/// The objects Argo CD would apply or run, as manifests: a hook of no phase Argo CD runs
/// (`test`) is left out, as Argo CD leaves it out; a Secret with data is refused.
fn manifests(
    release: &HelmApplication,
    objects: Vec<ChartObject>,
) -> Result<Vec<Manifest>, Vec<String>> {
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
        match Manifest::foreign(object.object) {
            Ok(manifest) => manifests.push(manifest),
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
    let filled = |field: &str| {
        object.object[field]
            .as_object()
            .is_some_and(|values| !values.is_empty())
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
        let refused = manifests(&release(), vec![secret]).expect_err("a secret value");
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
        assert_eq!(manifests(&release(), vec![empty]).unwrap().len(), 1);
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
            vec![
                object(job("test-connection"), Some(never)),
                object(job("migrate"), Some(post_sync)),
            ],
        )
        .unwrap();
        let names: Vec<&str> = kept.iter().map(|m| m.id.name.as_str()).collect();
        assert_eq!(names, ["migrate"]);
    }
}
