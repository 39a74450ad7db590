//! Turns components into Argo CD Applications: the child Application of each component, and
//! the root Application over all of them (app-of-apps).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::argocd::{
    Application, ApplicationDestination, ApplicationSource, ApplicationSpec, AutomatedSync,
    Backoff, DirectorySource, HelmSource, ManagedNamespaceMetadata, RetryStrategy,
    SYNC_OPTIONS_ANNOTATION, SYNC_WAVE_ANNOTATION, SyncOption, SyncPolicy,
};
use crate::component::{Component, Source, SyncMode, TargetCluster};
use crate::labels;
use crate::model::{Environment, SyncRetry};
use crate::names;

/// The AppProject of the root Application, which only creates Applications and AppProjects
/// in Argo CD's namespace: Argo CD's built-in project.
pub const ROOT_PROJECT: &str = "default";

/// Name of the app-of-apps Application.
pub const ROOT_APPLICATION: &str = "platform-root";

/// Where an environment's files live inside the Git repository Argo CD reads.
#[derive(Clone, Copy, Debug)]
pub struct RenderedPaths<'a> {
    pub env_name: &'a str,
    /// Whether the environment shares its Argo CD with others (`argocd.hub`).
    pub shared_argocd: bool,
}

impl<'a> RenderedPaths<'a> {
    pub fn new(env_name: &'a str, env: &Environment) -> Self {
        Self {
            env_name,
            shared_argocd: env.argocd.hub.is_some(),
        }
    }

    /// The name of an Argo CD object (Application, AppProject) of this environment: on a
    /// shared Argo CD, prefixed with the environment's name, since they all live in its one
    /// `argocd` namespace.
    pub fn argo_name(&self, name: &str) -> String {
        if self.shared_argocd {
            format!("{}-{name}", self.env_name)
        } else {
            name.to_owned()
        }
    }

    pub fn root(&self) -> String {
        format!("rendered/{}", self.env_name)
    }

    /// The folder of child Applications the root Application syncs.
    pub fn apps(&self) -> String {
        format!("{}/apps", self.root())
    }

    /// The folder of a path-based Application's plain manifests.
    pub fn manifests(&self, application: &str) -> String {
        format!("{}/manifests/{application}", self.root())
    }
}

/// Object metadata with a name, and a namespace for namespaced objects.
pub fn metadata(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.map(str::to_owned),
        ..ObjectMeta::default()
    }
}

/// Marks a custom resource whose CRD another Application installs, so Argo CD's dry run does
/// not fail before that CRD exists; options already set stay. Types declared with
/// `custom_resource!(..., crd: application)` call this as they serialize.
pub fn skip_dry_run_until_crd_exists(metadata: &mut ObjectMeta) {
    let option = SyncOption::SkipDryRunOnMissingResource.to_string();
    let options = metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .entry(SYNC_OPTIONS_ANNOTATION.to_owned())
        .or_default();
    if !options.split(',').any(|o| o.trim() == option) {
        if !options.is_empty() {
            options.push(',');
        }
        options.push_str(&option);
    }
}

/// The child Application of a component, in the wave the dependency graph gave it.
pub fn child_application(
    component: &Component,
    wave: i32,
    env: &Environment,
    paths: RenderedPaths<'_>,
) -> Application {
    let mut metadata = application_metadata(&paths.argo_name(&component.name), &component.labels);
    metadata.annotations = Some(BTreeMap::from([(
        SYNC_WAVE_ANNOTATION.to_owned(),
        wave.to_string(),
    )]));
    if component.cluster == TargetCluster::ArgoCd {
        // The Application that manages the Argo CD it runs in: with the finalizer, deleting or
        // renaming it would delete Argo CD, and with it every other Application's controller.
        metadata.finalizers = None;
    }

    let folder = || ApplicationSource {
        directory: component
            .folder_per_namespace
            .then_some(DirectorySource { recurse: true }),
        ..git_source(env, paths.manifests(&component.name))
    };
    let (source, sources) = match &component.source {
        // A hydrated chart's objects are files of the folder, like the platform's own.
        Source::Helm(release) if release.hydrated.is_some() => (Some(folder()), Vec::new()),
        Source::Helm(release) => {
            let chart = ApplicationSource {
                repo_url: release.chart.repo_url.to_owned(),
                path: None,
                chart: Some(release.chart.name.to_owned()),
                target_revision: release.version.clone(),
                helm: Some(HelmSource {
                    release_name: Some(release.release_name.clone()),
                    values_object: Some(release.values.clone()),
                }),
                directory: None,
            };
            if component.extra_manifests.is_empty() {
                (Some(chart), Vec::new())
            } else {
                (None, vec![chart, folder()])
            }
        }
        Source::Manifests(_) => (Some(folder()), Vec::new()),
    };

    let sync_options = sync_options(component);

    Application {
        metadata,
        spec: ApplicationSpec {
            project: paths.argo_name(&component.project),
            source,
            sources,
            destination: ApplicationDestination {
                server: Some(match component.cluster {
                    TargetCluster::Environment => env.cluster.server.clone(),
                    TargetCluster::ArgoCd => names::IN_CLUSTER_SERVER.to_owned(),
                }),
                name: None,
                namespace: Some(component.namespace.clone()),
            },
            sync_policy: Some(SyncPolicy {
                automated: automated(component.sync),
                managed_namespace_metadata: sync_options
                    .contains(&SyncOption::CreateNamespace)
                    .then(|| managed_namespace(component, env))
                    .flatten(),
                sync_options,
                retry: env.argocd.sync_retry.as_ref().map(retry),
            }),
            ignore_differences: component.ignore_differences.clone(),
        },
    }
}

/// The app-of-apps: syncs every child Application in `rendered/<env>/apps/`, wave by wave.
pub fn root_application(env: &Environment, paths: RenderedPaths<'_>) -> Application {
    let metadata = application_metadata(&paths.argo_name(ROOT_APPLICATION), &BTreeMap::new());
    let mut source = git_source(env, paths.apps());
    // Child Applications at the top, their AppProjects in `apps/projects/`.
    source.directory = Some(DirectorySource { recurse: true });
    Application {
        metadata,
        spec: ApplicationSpec {
            project: ROOT_PROJECT.to_owned(),
            source: Some(source),
            sources: Vec::new(),
            // Applications are objects of the cluster Argo CD runs in, whatever cluster
            // they deploy to.
            destination: ApplicationDestination {
                server: Some(names::IN_CLUSTER_SERVER.to_owned()),
                name: None,
                namespace: Some(names::namespace::ARGOCD.to_owned()),
            },
            sync_policy: Some(SyncPolicy {
                automated: automated(SyncMode::Automated),
                sync_options: Vec::new(),
                retry: env.argocd.sync_retry.as_ref().map(retry),
                managed_namespace_metadata: None,
            }),
            ignore_differences: Vec::new(),
        },
    }
}

/// Metadata every Application carries: Argo CD's namespace, the platform label, and the
/// finalizer that makes deleting an Application from Git delete what it deployed rather than
/// orphan it.
fn application_metadata(name: &str, extra_labels: &BTreeMap<String, String>) -> ObjectMeta {
    let mut labels = BTreeMap::from([(labels::PART_OF.to_owned(), labels::PLATFORM.to_owned())]);
    labels.extend(extra_labels.clone());
    ObjectMeta {
        labels: Some(labels),
        finalizers: Some(vec![names::RESOURCES_FINALIZER.to_owned()]),
        ..metadata(name, Some(names::namespace::ARGOCD))
    }
}

fn git_source(env: &Environment, path: String) -> ApplicationSource {
    ApplicationSource {
        repo_url: env.git.repo_url.clone(),
        path: Some(path),
        chart: None,
        target_revision: env.git.target_revision.clone(),
        helm: None,
        directory: None,
    }
}

fn automated(mode: SyncMode) -> Option<AutomatedSync> {
    match mode {
        SyncMode::Automated => Some(AutomatedSync {
            prune: true,
            self_heal: true,
        }),
        SyncMode::Manual => None,
    }
}

fn retry(retry: &SyncRetry) -> RetryStrategy {
    RetryStrategy {
        limit: i64::from(retry.limit),
        backoff: Backoff {
            duration: go_duration(retry.backoff.millis()),
            factor: i64::from(retry.factor),
            max_duration: go_duration(retry.max_backoff.millis()),
        },
    }
}

/// Argo CD parses durations with Go, which knows no days or weeks.
fn go_duration(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        format!("{}s", millis / 1000)
    } else {
        format!("{millis}ms")
    }
}

/// The cost-allocation labels of a namespace Argo CD creates for a platform component: the
/// platform's own team and cost center, so its cost is allocated like any app's.
fn managed_namespace(component: &Component, env: &Environment) -> Option<ManagedNamespaceMetadata> {
    if component.project != crate::component::PLATFORM_PROJECT {
        return None;
    }
    let labels = env.platform_cost_labels();
    (!labels.is_empty()).then_some(ManagedNamespaceMetadata { labels })
}

/// The sync options of a component's Application. Argo CD's controller applies a sync with
/// the options of the *operation* (argo-cd v3.4.4 `controller/sync.go`); only auto-sync and
/// the API server (CLI, UI) copy them from the spec, so a sync started any other way must
/// carry these itself.
pub fn sync_options(component: &Component) -> Vec<SyncOption> {
    let mut options = component.sync_options.clone();
    if !creates_own_namespace(component) {
        options.push(SyncOption::CreateNamespace);
    }
    options.sort();
    options.dedup();
    options
}

/// A path-based component that renders its destination Namespace needs no
/// `CreateNamespace=true`; nor does a team's app, whose namespace the platform creates (its
/// tenant Application) and which its project may not create. Any other component does.
fn creates_own_namespace(component: &Component) -> bool {
    component.project != crate::component::PLATFORM_PROJECT
        || component
            .folder_manifests()
            .any(|m| m.id.kind == "Namespace" && m.id.name == component.namespace)
}
