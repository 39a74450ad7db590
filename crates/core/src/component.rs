//! What a component is: a pure description of one Argo CD Application, produced from the
//! environment by the component's crate and turned into manifests by [`crate::application`].

use std::collections::BTreeMap;

use serde::Serialize;

use crate::argocd::{ResourceIgnoreDifferences, SyncOption};
use crate::manifest::Manifest;
use crate::sizing::Size;
use crate::traffic::Traffic;

/// The AppProject of the platform's own components.
pub const PLATFORM_PROJECT: &str = "platform";

/// A chart in a Helm repository, pinned to one exact version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HelmChart {
    pub repo_url: &'static str,
    pub name: &'static str,
    pub version: &'static str,
    /// The API groups of the CRDs the chart installs that this platform creates objects of:
    /// such an object syncs only after this chart's Application.
    pub crd_groups: &'static [&'static str],
    /// Every pod the chart runs with the values this platform gives it, hooks included, as
    /// its templates label them: what the NetworkPolicies must let through is checked for
    /// each (tests/network.rs).
    pub pods: &'static [ChartPod],
    /// The chart version at which `pods` was read from the chart's templates. A test fails
    /// while it differs from `version`: a chart bump re-reads the inventory.
    pub pods_verified_at: &'static str,
    /// The persistent volumes the chart claims with these values.
    pub volumes: &'static [ChartVolume],
    /// Values paths of the `type` of Services the values may make LoadBalancers.
    pub service_types: &'static [&'static str],
    /// Values the platform sets although the chart renders the same objects without them,
    /// each with the reason. Every other value must change what the chart renders
    /// (tests/charts.rs): one the chart does not read is a typo or a value it stopped reading.
    pub pinned_values: &'static [PinnedValue],
    /// checkov checks the chart's objects do not meet with these values, each with its reason
    /// (beside `scanner::EVERY_CHART`). CI scans the chart's real objects with these applied;
    /// a test fails on one naming an object the chart does not render.
    pub scanner_waivers: &'static [crate::scanner::ChartWaiver],
}

/// A value set on purpose where it changes nothing the chart renders today.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinnedValue {
    /// Dotted values path; a map's path pins every value under it.
    pub path: &'static str,
    pub why: &'static str,
}

/// A container of a chart's pod and the values path its `resources` are read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChartContainer {
    pub name: &'static str,
    /// Dotted values path, e.g. `server.resources`.
    pub resources: &'static str,
    /// What the platform gives it, when the component's values set nothing there.
    pub size: Size,
    /// An init container: it runs to completion before the others start, so the pod asks
    /// for the larger of it and the sum of the others, not for both.
    pub init: bool,
    /// The ports it declares (`containerPort`), as the chart renders them with the
    /// platform's values: what a NetworkPolicy may open into it.
    pub ports: &'static [u16],
}

impl ChartContainer {
    pub const fn new(name: &'static str, resources: &'static str, size: Size) -> Self {
        Self {
            name,
            resources,
            size,
            init: false,
            ports: &[],
        }
    }

    /// It listens on `ports`.
    pub const fn listening(mut self, ports: &'static [u16]) -> Self {
        self.ports = ports;
        self
    }

    /// An init container of the pod.
    pub const fn init(name: &'static str, resources: &'static str, size: Size) -> Self {
        Self {
            init: true,
            ..Self::new(name, resources, size)
        }
    }
}

/// How many of a chart's pod run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replicas {
    /// Exactly one: the chart fixes it.
    One,
    /// The number at a values path, or the chart's default there.
    At { path: &'static str, default: u32 },
    /// `replicas` while the switch at `enabled` is on (an HA mode), else one.
    WhenEnabled {
        enabled: &'static str,
        replicas: &'static str,
        default: u32,
    },
    /// One on every node (a DaemonSet).
    PerNode,
    /// A Helm hook's pod: it runs to completion at a sync and costs nothing by the month.
    Hook,
}

/// A persistent volume a chart claims for each replica of one of its pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChartVolume {
    /// The pod (its `workload` in the inventory) whose replicas each claim one.
    pub workload: &'static str,
    /// Values path of the claim's size, and the chart's default there.
    pub size: &'static str,
    pub default_size: &'static str,
    /// Values path of the switch, and the chart's default there.
    pub enabled: &'static str,
    pub enabled_default: bool,
    /// Values path of a switch that, when on, makes the chart claim nothing (a dev mode).
    pub unless: Option<&'static str>,
}

/// A pod a chart runs, and what it needs of the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChartPod {
    /// The workload, as the chart names it after the release.
    pub workload: &'static str,
    /// Labels of the pod (those NetworkPolicies could select by).
    pub labels: &'static [(&'static str, &'static str)],
    /// Runs on the node's network, which NetworkPolicies do not govern.
    pub host_network: bool,
    /// Talks to the Kubernetes API.
    pub calls_api: bool,
    /// Serves an admission or conversion webhook the API server calls, on this port.
    pub webhook_port: Option<u16>,
    /// A Helm hook's pod (Argo CD runs it as a sync hook).
    pub hook: bool,
    /// Its containers (init containers too), each with the values path of its resources.
    pub containers: &'static [ChartContainer],
    /// How many run.
    pub replicas: Replicas,
    /// Secrets it creates in its namespace when it runs (a hook Job's), which the pods that
    /// read them wait for.
    pub creates_secrets: &'static [&'static str],
}

impl ChartPod {
    /// A pod labelled with its release (`app.kubernetes.io/instance`), as every chart here
    /// labels its pods, that talks to the API.
    pub const fn api_client(
        workload: &'static str,
        labels: &'static [(&'static str, &'static str)],
    ) -> Self {
        Self {
            workload,
            labels,
            host_network: false,
            calls_api: true,
            webhook_port: None,
            hook: false,
            containers: &[],
            replicas: Replicas::At {
                path: "replicas",
                default: 1,
            },
            creates_secrets: &[],
        }
    }

    /// It creates these Secrets in its namespace when it runs.
    pub const fn creating_secrets(mut self, secrets: &'static [&'static str]) -> Self {
        self.creates_secrets = secrets;
        self
    }

    /// Its containers and where the chart reads their resources.
    pub const fn runs(mut self, containers: &'static [ChartContainer]) -> Self {
        self.containers = containers;
        self
    }

    pub const fn replicas(mut self, replicas: Replicas) -> Self {
        self.replicas = replicas;
        self
    }

    pub const fn serving_webhook(mut self, port: u16) -> Self {
        self.webhook_port = Some(port);
        self
    }

    pub const fn hook(mut self) -> Self {
        self.hook = true;
        self.replicas = Replicas::Hook;
        self
    }

    /// A pod that needs no API (a cache, a Git reader).
    pub const fn quiet(mut self) -> Self {
        self.calls_api = false;
        self
    }

    pub const fn on_host_network(mut self) -> Self {
        self.host_network = true;
        self
    }
}

/// A chart value that switches a part of the chart on or off: `{enabled: bool}`, the shape
/// most charts use for their optional parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Toggle {
    pub enabled: bool,
}

/// One Argo CD Application and everything it deploys.
#[derive(Clone, Debug, PartialEq)]
pub struct Component {
    /// The Application's name; unique in an environment.
    pub name: String,
    /// The namespace the Application deploys into.
    pub namespace: String,
    /// The cluster the Application deploys into.
    pub cluster: TargetCluster,
    /// Layer of the platform the component belongs to, for documentation and diagrams.
    pub layer: Layer,
    /// Labels of the Application object, beyond the ones every Application carries.
    pub labels: BTreeMap<String, String>,
    /// Components that must be synced and healthy before this one starts.
    pub depends_on: Vec<String>,
    /// The earliest sync wave the component may run in; dependencies can only push it later.
    pub earliest_wave: i32,
    pub source: Source,
    pub sync: SyncMode,
    pub sync_options: Vec<SyncOption>,
    pub ignore_differences: Vec<ResourceIgnoreDifferences>,
    /// The pods it runs and the connections they open.
    pub traffic: Traffic,
    /// The AppProject it belongs to.
    pub project: String,
    /// The component whose Application ships this one's NetworkPolicies, when not its own: a
    /// team's app's policies ship with the platform's tenant Application, so that a team
    /// cannot widen its own network by editing what it deploys.
    pub network_policies_shipped_by: Option<String>,
    /// Files its namespaced objects under a folder per namespace (`<namespace>/<kind>-<name>.yaml`),
    /// for a component that renders the same objects into several namespaces.
    pub folder_per_namespace: bool,
    /// Objects beside the component's source: its own (a bootstrap hook) and those the
    /// platform adds (its NetworkPolicies). A Helm component with some becomes a two-source
    /// Application: the chart, and its folder under `manifests/`.
    pub extra_manifests: Vec<Manifest>,
}

impl Component {
    /// A component with no dependencies, automated sync and no extra options, to refine.
    pub fn new(name: &str, namespace: &str, layer: Layer, source: Source) -> Self {
        Self {
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            cluster: TargetCluster::Environment,
            layer,
            labels: BTreeMap::new(),
            depends_on: Vec::new(),
            earliest_wave: 0,
            source,
            sync: SyncMode::Automated,
            sync_options: Vec::new(),
            ignore_differences: Vec::new(),
            traffic: Traffic::default(),
            project: PLATFORM_PROJECT.to_owned(),
            network_policies_shipped_by: None,
            folder_per_namespace: false,
            extra_manifests: Vec::new(),
        }
    }

    /// A component that installs `chart` as a release named after the component, with the
    /// component's typed values, at the environment's version of the chart if it sets one.
    pub fn helm<V: Serialize>(
        chart: HelmChart,
        name: &str,
        namespace: &str,
        layer: Layer,
        values: &V,
        version: Option<&crate::model::ChartVersion>,
    ) -> Self {
        let release = HelmRelease::new(chart, name, values).with_version(version);
        Self::new(name, namespace, layer, Source::Helm(Box::new(release)))
    }

    pub fn traffic(mut self, traffic: Traffic) -> Self {
        self.traffic = traffic;
        self
    }

    pub fn project(mut self, project: &str) -> Self {
        self.project = project.to_owned();
        self
    }

    pub fn network_policies_shipped_by(mut self, component: &str) -> Self {
        self.network_policies_shipped_by = Some(component.to_owned());
        self
    }

    pub fn folder_per_namespace(mut self) -> Self {
        self.folder_per_namespace = true;
        self
    }

    /// Where a manifest of this component's folder is written, relative to the folder.
    pub fn file_path(&self, manifest: &Manifest) -> String {
        match &manifest.id.namespace {
            Some(namespace) if self.folder_per_namespace => {
                format!("{namespace}/{}", manifest.file_name())
            }
            _ => manifest.file_name(),
        }
    }

    /// The component whose Application carries this one's NetworkPolicies.
    pub fn network_policy_owner(&self) -> &str {
        self.network_policies_shipped_by
            .as_deref()
            .unwrap_or(&self.name)
    }

    /// Every object this component's folder under `manifests/` holds.
    /// Every object this component's folder under `manifests/` holds: a hydrated chart's
    /// first, then the platform's own.
    pub fn folder_manifests(&self) -> impl Iterator<Item = &Manifest> {
        let (own, chart): (&[Manifest], &[ChartManifest]) = match &self.source {
            Source::Manifests(manifests) => (manifests, &[]),
            Source::Helm(release) => (
                &[],
                release
                    .hydrated
                    .as_ref()
                    .map_or(&[][..], |hydrated| &hydrated.objects),
            ),
        };
        chart
            .iter()
            .map(|object| &object.manifest)
            .chain(own)
            .chain(&self.extra_manifests)
    }

    /// The objects of [`Component::folder_manifests`], in the same order, by value.
    pub fn into_folder_manifests(self) -> impl Iterator<Item = Manifest> {
        let own = match self.source {
            Source::Manifests(manifests) => manifests,
            Source::Helm(release) => release
                .hydrated
                .map(|hydrated| {
                    hydrated
                        .objects
                        .into_iter()
                        .map(|object| object.manifest)
                        .collect()
                })
                .unwrap_or_default(),
        };
        own.into_iter().chain(self.extra_manifests)
    }

    pub fn cluster(mut self, cluster: TargetCluster) -> Self {
        self.cluster = cluster;
        self
    }

    pub fn depends_on(mut self, names: &[&str]) -> Self {
        self.depends_on
            .extend(names.iter().map(|n| (*n).to_owned()));
        self
    }

    pub fn labels(mut self, labels: BTreeMap<String, String>) -> Self {
        self.labels.extend(labels);
        self
    }

    pub fn earliest_wave(mut self, wave: i32) -> Self {
        self.earliest_wave = wave;
        self
    }

    pub fn sync(mut self, sync: SyncMode) -> Self {
        self.sync = sync;
        self
    }

    pub fn sync_options(mut self, options: &[SyncOption]) -> Self {
        self.sync_options.extend_from_slice(options);
        self
    }

    pub fn ignore_differences(mut self, rules: Vec<ResourceIgnoreDifferences>) -> Self {
        self.ignore_differences.extend(rules);
        self
    }
}

/// Which cluster an Application deploys into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetCluster {
    /// The environment's cluster, `cluster.server`.
    Environment,
    /// The cluster Argo CD itself runs in, whichever the environment's is.
    ArgoCd,
}

/// Where an Application's manifests come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A Helm chart, rendered by Argo CD with the given values (boxed: a release, with its
    /// chart's inventory, is many times the size of the other variant).
    Helm(Box<HelmRelease>),
    /// Plain manifests this generator writes to `rendered/<env>/manifests/<app>/`.
    Manifests(Vec<Manifest>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct HelmRelease {
    pub chart: HelmChart,
    /// The version deployed: the chart's pin, unless the environment overrides it.
    pub version: String,
    pub release_name: String,
    pub values: serde_json::Value,
    /// The chart's objects, templated at render time (`argocd.hydrate`): the Application then
    /// syncs them from Git, one file each, and needs no chart repository. `None`: Argo CD's
    /// repo-server templates the chart at sync time.
    pub hydrated: Option<Hydrated>,
}

/// A chart's objects as Helm templated them at render time.
#[derive(Clone, Debug, PartialEq)]
pub struct Hydrated {
    /// The Helm that templated them, as it names itself: `Helm v4.3.1`.
    pub templated_by: String,
    /// In Helm's order.
    pub objects: Vec<ChartManifest>,
}

/// One object of a hydrated chart, and the template it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartManifest {
    /// Helm's `# Source:`: `<chart>/templates/<file>`.
    pub template: String,
    pub manifest: Manifest,
}

impl HelmRelease {
    /// A release of `chart` with values from the component's typed values struct.
    /// Every container the chart's inventory lists gets requests and limits of its size where
    /// the component's values set none.
    pub fn new<V: Serialize>(chart: HelmChart, release_name: &str, values: &V) -> Self {
        let mut values = serde_json::to_value(values)
            .unwrap_or_else(|error| panic!("values of {} do not serialize: {error}", chart.name));
        for container in chart.pods.iter().flat_map(|pod| pod.containers) {
            if crate::sizing::value_at(&values, container.resources).is_none() {
                let resources =
                    serde_json::to_value(container.size.resources()).expect("resources serialize");
                assert!(
                    crate::sizing::set_at(&mut values, container.resources, resources),
                    "{}: values hold a non-map on the way to {}",
                    chart.name,
                    container.resources
                );
            }
        }
        Self {
            chart,
            version: chart.version.to_owned(),
            release_name: release_name.to_owned(),
            values,
            hydrated: None,
        }
    }

    /// Deploys `version` instead of the chart's pin, when the environment sets one. A chart
    /// published with `v`-prefixed versions (cert-manager's) gets the prefix: environment files
    /// write every version the same way.
    pub fn with_version(mut self, version: Option<&crate::model::ChartVersion>) -> Self {
        if let Some(version) = version {
            let prefix = if self.chart.version.starts_with('v') {
                "v"
            } else {
                ""
            };
            self.version = format!("{prefix}{version}");
        }
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    /// Argo CD applies every change in Git, prunes what was removed and reverts drift.
    Automated,
    /// Argo CD only reports drift; a person syncs.
    Manual,
}

/// The platform layers, in the order diagrams show them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    GitOps,
    Networking,
    Secrets,
    SecurityAndPolicy,
    MonitoringAndCost,
    Applications,
}

impl Layer {
    pub fn title(self) -> &'static str {
        match self {
            Self::GitOps => "GitOps",
            Self::Networking => "Networking",
            Self::Secrets => "Secrets",
            Self::SecurityAndPolicy => "Security and policy",
            Self::MonitoringAndCost => "Monitoring and cost",
            Self::Applications => "Applications",
        }
    }
}

/// Earliest waves by tier. A component states the tier it belongs to; its dependencies then
/// push it as late as they must.
pub mod tier {
    /// Argo CD itself and cluster plumbing other components need to come up at all.
    pub const BOOTSTRAP: i32 = -1;
    /// Foundations: secrets storage and network configuration.
    pub const FOUNDATION: i32 = 0;
    /// Operators and platform services.
    pub const OPERATORS: i32 = 1;
    /// Configuration of the operators: stores, policies, cost reporting.
    pub const CONFIGURATION: i32 = 2;
    /// User applications.
    pub const APPLICATIONS: i32 = 3;
}
