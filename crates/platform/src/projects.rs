//! Argo CD AppProjects: one for the platform, one per team.
//!
//! The platform project may deploy anything, but only from the environment's Git repository
//! and the pinned chart repositories. A team's project may deploy only from the Git
//! repository, only into the team's namespaces, only the kinds its apps render, and no
//! cluster-scoped object but its own namespaces.

use std::collections::{BTreeMap, BTreeSet};

use platform_core::application::{RenderedPaths, metadata};
use platform_core::argocd::{
    AppProject, AppProjectSpec, ApplicationDestination, ClusterResource, GroupKind,
    SYNC_WAVE_ANNOTATION,
};
use platform_core::component::{PLATFORM_PROJECT, Source, TargetCluster};
use platform_core::manifest::ObjectRef;
use platform_core::model::Environment;
use platform_core::names;

use crate::plan::Plan;

pub fn projects(env: &Environment, plan: &Plan, paths: RenderedPaths<'_>) -> Vec<AppProject> {
    // Projects must exist before the first Application that names one.
    let wave = plan.components.iter().map(|c| c.wave).min().unwrap_or(0) - 1;
    let mut by_project: BTreeMap<&str, Vec<&platform_core::component::Component>> = BTreeMap::new();
    for planned in &plan.components {
        by_project
            .entry(planned.component.project.as_str())
            .or_default()
            .push(&planned.component);
    }
    by_project
        .into_iter()
        .map(|(name, components)| {
            let spec = if name == PLATFORM_PROJECT {
                platform_spec(env, &components)
            } else {
                team_spec(env, name, &components)
            };
            let mut metadata = metadata(&paths.argo_name(name), Some(names::namespace::ARGOCD));
            metadata.annotations = Some(BTreeMap::from([(
                SYNC_WAVE_ANNOTATION.to_owned(),
                wave.to_string(),
            )]));
            AppProject { metadata, spec }
        })
        .collect()
}

fn destination(server: &str, namespace: &str) -> ApplicationDestination {
    ApplicationDestination {
        server: Some(server.to_owned()),
        name: None,
        namespace: Some(namespace.to_owned()),
    }
}

fn platform_spec(
    env: &Environment,
    components: &[&platform_core::component::Component],
) -> AppProjectSpec {
    let mut repos = BTreeSet::from([env.git.repo_url.clone()]);
    repos.extend(components.iter().filter_map(|c| match &c.source {
        Source::Helm(release) if release.hydrated.is_none() => {
            Some(release.chart.repo_url.to_owned())
        }
        Source::Helm(_) => None,
        Source::Manifests(_) => None,
    }));
    let mut destinations = vec![destination(&env.cluster.server, "*")];
    let manages_argocd = components
        .iter()
        .any(|c| c.cluster == TargetCluster::ArgoCd);
    if manages_argocd && env.cluster.server != names::IN_CLUSTER_SERVER {
        destinations.push(destination(
            names::IN_CLUSTER_SERVER,
            names::namespace::ARGOCD,
        ));
    }
    AppProjectSpec {
        description: "The platform's own components: anything, from the pinned chart repositories and this environment's Git repository.".to_owned(),
        source_repos: repos.into_iter().collect(),
        destinations,
        cluster_resource_whitelist: vec![ClusterResource {
            group: "*".to_owned(),
            kind: "*".to_owned(),
            name: None,
        }],
        namespace_resource_whitelist: None,
    }
}

fn team_spec(
    env: &Environment,
    name: &str,
    components: &[&platform_core::component::Component],
) -> AppProjectSpec {
    let namespaces: BTreeSet<&str> = components.iter().map(|c| c.namespace.as_str()).collect();
    let mut cluster_kinds = BTreeSet::new();
    let mut namespaced_kinds = BTreeSet::new();
    for manifest in components.iter().flat_map(|c| c.folder_manifests()) {
        let ObjectRef { kind, .. } = &manifest.id;
        let group = manifest.id.group().to_owned();
        if manifest.id.namespace.is_some() {
            namespaced_kinds.insert(GroupKind {
                group,
                kind: kind.clone(),
            });
        } else {
            cluster_kinds.insert(ClusterResource {
                group,
                kind: kind.clone(),
                name: Some(manifest.id.name.clone()),
            });
        }
    }
    AppProjectSpec {
        description: format!(
            "The apps of team {}: only into its namespaces, only the kinds its apps render.",
            name.trim_start_matches("team-")
        ),
        source_repos: vec![env.git.repo_url.clone()],
        destinations: namespaces
            .iter()
            .map(|namespace| destination(&env.cluster.server, namespace))
            .collect(),
        cluster_resource_whitelist: cluster_kinds.into_iter().collect(),
        namespace_resource_whitelist: Some(namespaced_kinds.into_iter().collect()),
    }
}
