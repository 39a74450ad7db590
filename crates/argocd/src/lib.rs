//! Argo CD managing itself.
//!
//! The `argocd` Application installs the same chart, with the same values, that the bootstrap
//! step installs by hand, so the first self-sync changes nothing.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::PodSecurityContext;
use platform_core::argocd::SyncOption;
use platform_core::component::{
    ChartContainer, ChartPod, Component, HelmChart, Layer, Replicas, TargetCluster, Toggle, tier,
};
use platform_core::hardening;
use platform_core::labels;
use platform_core::model::Environment;
use platform_core::names;
use platform_core::scanner::{self, ChartWaiver};
use platform_core::sizing::Size;
use platform_core::traffic::{GIT_PORTS, KUBERNETES_API_PORTS, Peer, PodSubset, Port, Traffic};
use serde::Serialize;

pub const CHART: HelmChart = HelmChart {
    repo_url: "https://argoproj.github.io/argo-helm",
    name: "argo-cd",
    version: "10.1.1",
    crd_groups: &["argoproj.io"],
    // argo-helm argo-cd-10.1.1: every pod carries `argo-cd.selectorLabels` (instance = release).
    pods: &[
        ChartPod::api_client("argocd-application-controller", CONTROLLER_PODS)
            .runs(&[ChartContainer::new(
                "application-controller",
                "controller.resources",
                Size::Large,
            )
            .listening(&[8082])])
            .replicas(Replicas::At {
                path: "controller.replicas",
                default: 1,
            }),
        ChartPod::api_client("argocd-server", ARGOCD_PODS)
            .runs(&[
                ChartContainer::new("server", "server.resources", Size::Small)
                    .listening(&[8080, 8083]),
            ])
            .replicas(Replicas::At {
                path: "server.replicas",
                default: 1,
            }),
        ChartPod::api_client("argocd-repo-server", ARGOCD_PODS)
            .quiet()
            .runs(&[
                ChartContainer::new("repo-server", "repoServer.resources", Size::Medium)
                    .listening(&[8081, 8084]),
                ChartContainer::init("copyutil", "repoServer.copyutil.resources", Size::Tiny),
            ])
            .replicas(Replicas::At {
                path: "repoServer.replicas",
                default: 1,
            }),
        ChartPod::api_client("argocd-redis", ARGOCD_PODS)
            .quiet()
            .runs(
                &[ChartContainer::new("redis", "redis.resources", Size::Small).listening(&[6379])],
            )
            .replicas(Replicas::One),
        ChartPod::api_client("argocd-applicationset-controller", ARGOCD_PODS)
            .runs(&[ChartContainer::new(
                "applicationset-controller",
                "applicationSet.resources",
                Size::Small,
            )
            .listening(&[7000, 8080, 8081])])
            .replicas(Replicas::At {
                path: "applicationSet.replicas",
                default: 1,
            }),
        ChartPod::api_client("argocd-notifications-controller", ARGOCD_PODS)
            .runs(&[ChartContainer::new(
                "notifications-controller",
                "notifications.resources",
                Size::Small,
            )
            .listening(&[9001])])
            .replicas(Replicas::One),
        // templates/redis-secret-init/job.yaml: pre-install, pre-upgrade (PreSync), runs
        // `argocd admin redis-initial-password`, which creates Secret `argocd-redis`.
        ChartPod::api_client("argocd-redis-secret-init", ARGOCD_PODS)
            .hook()
            .creating_secrets(&["argocd-redis"])
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
    scanner_waivers: &[
        ChartWaiver {
            check: scanner::SERVICE_ACCOUNT_TOKEN,
            objects: &[
                "StatefulSet/argocd-application-controller",
                "Deployment/argocd-server",
                "Deployment/argocd-applicationset-controller",
                "Deployment/argocd-notifications-controller",
            ],
            reason: scanner::TOKEN_OF_A_CONTROLLER,
        },
        ChartWaiver {
            check: scanner::SERVICE_ACCOUNT_TOKEN,
            objects: &["Job/argocd-redis-secret-init"],
            reason: "it creates the argocd-redis Secret through the API before Argo CD starts",
        },
        ChartWaiver::every_pod(
            scanner::HIGH_UID,
            "runs as user 999, the argocd user the Argo CD and Redis images are built with (the chart's runAsNonRoot holds); another UID would need rebuilt images",
        ),
        ChartWaiver {
            check: scanner::SECRET_IN_ENVIRONMENT,
            objects: &[
                "StatefulSet/argocd-application-controller",
                "Deployment/argocd-server",
                "Deployment/argocd-repo-server",
                "Deployment/argocd-redis",
            ],
            reason: "Argo CD and Redis read the Redis password only from REDIS_PASSWORD (and its username and sentinel siblings): the chart sets them from the argocd-redis Secret",
        },
        ChartWaiver {
            check: scanner::LIVENESS_PROBE,
            objects: &["StatefulSet/argocd-application-controller"],
            reason: "argo-cd-10.1.1 defines only a readiness probe for the application controller, and no value adds a liveness probe",
        },
        ChartWaiver {
            check: scanner::WEBHOOK_CONFIGURATION_CONTROL,
            objects: &[
                "ClusterRole/argocd-application-controller",
                "ClusterRole/argocd-server",
            ],
            reason: "Argo CD applies and prunes whatever the Applications hold, webhook configurations of the charts it installs included; the AppProjects bound what each Application may deploy",
        },
        ChartWaiver {
            check: "CKV_K8S_49",
            objects: &[
                "ClusterRole/argocd-application-controller",
                "ClusterRole/argocd-server",
            ],
            reason: "a GitOps controller syncs every kind its Applications hold, so the chart grants the controller every verb and the server get, patch and delete on every resource; the AppProjects bound what each Application may deploy",
        },
        ChartWaiver {
            check: "CKV_K8S_156",
            objects: &["ClusterRole/argocd-application-controller"],
            reason: "the chart's controller ClusterRole is every verb on every resource, as a GitOps controller needs; the AppProjects bound what each Application may deploy",
        },
        ChartWaiver {
            check: "CKV_K8S_157",
            objects: &["ClusterRole/argocd-application-controller"],
            reason: "Argo CD applies the platform's RoleBindings and ClusterRoleBindings; the AppProjects bound what each Application may deploy",
        },
        ChartWaiver {
            check: "CKV_K8S_158",
            objects: &["ClusterRole/argocd-application-controller"],
            reason: "Argo CD applies the platform's Roles and ClusterRoles; the AppProjects bound what each Application may deploy",
        },
    ],
};

const ARGOCD_PODS: &[(&str, &str)] = &[("app.kubernetes.io/instance", "argocd")];
/// The application controller, the one pod that serves the metrics (8082) Prometheus reads.
const CONTROLLER_PODS: &[(&str, &str)] = &[
    ("app.kubernetes.io/instance", "argocd"),
    (labels::NAME, "argocd-application-controller"),
];

/// The health check that makes a parent Application wait for its children.
pub const APPLICATION_HEALTH_LUA: &str = include_str!("application_health.lua");

/// Values of the argo-cd chart this platform sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    pub configs: Configs,
    pub dex: Toggle,
    /// The controller's metrics Service, which Prometheus scrapes for the alert rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<Controller>,
    pub global: Global,
    pub redis: Redis,
    pub redis_secret_init: PodContext,
    pub repo_server: RepoServer,
    pub application_set: Probed,
    pub notifications: Probed,
}

/// The pod context of every Argo CD pod (the chart sets containers' contexts only): non-root,
/// as the images run as user 999, under the runtime's seccomp profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Global {
    pub security_context: PodSecurityContext,
    pub network_policy: ChartNetworkPolicies,
}

/// argo-cd-10.1.1 creates a NetworkPolicy per component by default (`values.yaml:119-121`,
/// `global.networkPolicy.create: true`), and `argocd-server/networkpolicy.yaml` admits any
/// pod on every port. The platform's own policies (`netpol`, from the traffic graph) are the
/// only ones: a chart's policy would add to what they allow, unseen by the checks.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartNetworkPolicies {
    pub create: bool,
}

/// The pre-sync Job that writes Redis's password reads `global` for nothing: its own context.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodContext {
    pub security_context: PodSecurityContext,
}

/// Redis is a cache that never calls the API (the inventory's `quiet`): no token in its pod,
/// and the chart's probes (off by default) on.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Redis {
    pub automount_service_account_token: bool,
    pub liveness_probe: Toggle,
    pub readiness_probe: Toggle,
}

/// The repo server only reads Git and serves manifests over gRPC (`quiet`): no token.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoServer {
    pub automount_service_account_token: bool,
}

/// A controller whose chart ships probes switched off (argo-cd-10.1.1: a TCP check of its
/// probe or metrics port): on, so a hung controller is restarted and not routed to.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probed {
    pub liveness_probe: Toggle,
    pub readiness_probe: Toggle,
}

impl Probed {
    fn on() -> Self {
        Self {
            liveness_probe: Toggle { enabled: true },
            readiness_probe: Toggle { enabled: true },
        }
    }
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
        global: Global {
            security_context: hardening::pod_as_image_user(ARGOCD_USER),
            network_policy: ChartNetworkPolicies { create: false },
        },
        redis: Redis {
            automount_service_account_token: false,
            liveness_probe: Toggle { enabled: true },
            readiness_probe: Toggle { enabled: true },
        },
        redis_secret_init: PodContext {
            security_context: hardening::pod_as_image_user(ARGOCD_USER),
        },
        repo_server: RepoServer {
            automount_service_account_token: false,
        },
        application_set: Probed::on(),
        notifications: Probed::on(),
    }
}

/// The user Argo CD's image runs as (argo-cd `Dockerfile`, `ARGOCD_USER_ID=999`).
const ARGOCD_USER: i64 = 999;

/// Its controller, repo server, Redis and API server talk among themselves; it reads the API
/// of the cluster it runs in and of every cluster it deploys to (each environment of its hub,
/// at its `cluster.server`'s port), and Git and chart repositories where the environment
/// says they are.
fn traffic(env: &Environment) -> Traffic {
    let own_api = env.network_ranges().api_server;
    let mut traffic = Traffic::release(names::app::ARGOCD)
        .among_themselves()
        .calls_kubernetes_api()
        .listening_on(
            &[Port::tcp(names::ARGOCD_METRICS.port)],
            &PodSubset::labelled(&CONTROLLER_PODS[1..]),
        );
    let mut deployed_to: BTreeSet<(&str, u16)> = BTreeSet::new();
    for served in &env.argocd.serves {
        for cidr in &served.api_server_cidrs {
            let reached = own_api.contains(cidr)
                && KUBERNETES_API_PORTS.contains(&Port::tcp(served.api_port));
            if !reached {
                deployed_to.insert((cidr, served.api_port));
            }
        }
    }
    for (cidr, port) in deployed_to {
        traffic = traffic.calls(
            Peer::External {
                cidr: cidr.to_owned(),
            },
            &[Port::tcp(port)],
        );
    }
    env.repository_cidrs()
        .iter()
        .fold(traffic, |traffic, cidr| {
            traffic.calls(Peer::External { cidr: cidr.clone() }, &GIT_PORTS)
        })
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
