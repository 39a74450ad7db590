//! Argo CD managing itself.
//!
//! The `argocd` Application installs the same chart, with the same values, that the bootstrap
//! step installs by hand, so the first self-sync changes nothing.

use platform_core::argocd::SyncOption;
use platform_core::component::{
    ChartContainer, ChartPod, Component, HelmChart, Layer, Replicas, TargetCluster, Toggle, tier,
};
use platform_core::model::Environment;
use platform_core::names;
use platform_core::sizing::Size;
use platform_core::traffic::{GIT_PORTS, Peer, Traffic};
use serde::Serialize;

pub const CHART: HelmChart = HelmChart {
    repo_url: "https://argoproj.github.io/argo-helm",
    name: "argo-cd",
    version: "10.1.1",
    crd_groups: &["argoproj.io"],
    // argo-helm argo-cd-10.1.1: every pod carries `argo-cd.selectorLabels` (instance = release).
    pods: &[
        ChartPod::api_client("argocd-application-controller", ARGOCD_PODS)
            .runs(&[ChartContainer::new(
                "application-controller",
                "controller.resources",
                Size::Large,
            )])
            .replicas(Replicas::At {
                path: "controller.replicas",
                default: 1,
            }),
        ChartPod::api_client("argocd-server", ARGOCD_PODS)
            .runs(&[ChartContainer::new(
                "server",
                "server.resources",
                Size::Small,
            )])
            .replicas(Replicas::At {
                path: "server.replicas",
                default: 1,
            }),
        ChartPod::api_client("argocd-repo-server", ARGOCD_PODS)
            .quiet()
            .runs(&[
                ChartContainer::new("repo-server", "repoServer.resources", Size::Medium),
                ChartContainer::init("copyutil", "repoServer.copyutil.resources", Size::Tiny),
            ])
            .replicas(Replicas::At {
                path: "repoServer.replicas",
                default: 1,
            }),
        ChartPod::api_client("argocd-redis", ARGOCD_PODS)
            .quiet()
            .runs(&[ChartContainer::new("redis", "redis.resources", Size::Small)])
            .replicas(Replicas::One),
        ChartPod::api_client("argocd-applicationset-controller", ARGOCD_PODS)
            .runs(&[ChartContainer::new(
                "applicationset-controller",
                "applicationSet.resources",
                Size::Small,
            )])
            .replicas(Replicas::At {
                path: "applicationSet.replicas",
                default: 1,
            }),
        ChartPod::api_client("argocd-notifications-controller", ARGOCD_PODS)
            .runs(&[ChartContainer::new(
                "notifications-controller",
                "notifications.resources",
                Size::Small,
            )])
            .replicas(Replicas::One),
        // templates/redis-secret-init/job.yaml: pre-install, pre-upgrade.
        ChartPod::api_client("argocd-redis-secret-init", ARGOCD_PODS)
            .hook()
            .runs(&[ChartContainer::new(
                "secret-init",
                "redisSecretInit.resources",
                Size::Tiny,
            )]),
    ],
    pods_verified_at: "10.1.1",
    volumes: &[],
    service_types: &[],
    pinned_values: &[],
};

const ARGOCD_PODS: &[(&str, &str)] = &[("app.kubernetes.io/instance", "argocd")];

/// The health check that makes a parent Application wait for its children.
pub const APPLICATION_HEALTH_LUA: &str = include_str!("application_health.lua");

/// Values of the argo-cd chart this platform sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Values {
    pub configs: Configs,
    pub dex: Toggle,
    /// The controller's metrics Service, which Prometheus scrapes for the alert rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<Controller>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Controller {
    pub metrics: Toggle,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Configs {
    pub cm: ConfigMap,
}

/// Keys of `argocd-cm`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConfigMap {
    /// How often Argo CD polls Git.
    #[serde(rename = "timeout.reconciliation")]
    pub reconciliation_timeout: String,
    #[serde(rename = "resource.customizations.health.argoproj.io_Application")]
    pub application_health: String,
}

/// The chart values, shared by the self-managed Application and the bootstrap install.
pub fn values(env: &Environment) -> Values {
    Values {
        configs: Configs {
            cm: ConfigMap {
                reconciliation_timeout: env.argocd.reconciliation_timeout.as_go(),
                application_health: APPLICATION_HEALTH_LUA.to_owned(),
            },
        },
        // Logins use the built-in admin account; Dex is one more pod with nothing to do.
        dex: Toggle { enabled: false },
        controller: (env.alerting.enabled && env.prometheus.enabled).then_some(Controller {
            metrics: Toggle { enabled: true },
        }),
    }
}

/// Its controller, repo server, Redis and API server talk among themselves; it reads the API
/// of every cluster, and Git and chart repositories where the environment says they are.
fn traffic(env: &Environment) -> Traffic {
    env.repository_cidrs().iter().fold(
        Traffic::release(names::app::ARGOCD)
            .among_themselves()
            .calls_kubernetes_api(),
        |traffic, cidr| traffic.calls(Peer::External { cidr: cidr.clone() }, &GIT_PORTS),
    )
}

pub fn components(env: &Environment) -> Vec<Component> {
    if !env.argocd.enabled {
        return Vec::new();
    }
    vec![
        Component::helm(
            CHART,
            names::app::ARGOCD,
            names::namespace::ARGOCD,
            Layer::GitOps,
            &values(env),
            env.charts.argocd.as_ref(),
        )
        .earliest_wave(tier::BOOTSTRAP)
        // Argo CD manages itself where it runs; the environment's cluster may be remote.
        .cluster(TargetCluster::ArgoCd)
        .traffic(traffic(env))
        // The ApplicationSet CRD is larger than the annotation client-side apply writes.
        .sync_options(&[SyncOption::ServerSideApply]),
    ]
}
