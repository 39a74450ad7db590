//! Kyverno, which admits or rejects pods, and `security-policies`, the ClusterPolicies it
//! enforces.

pub mod cluster_policy;
pub mod policies;

use std::collections::BTreeMap;

use platform_core::argocd::{ResourceIgnoreDifferences, SyncOption};
use platform_core::component::{
    ChartContainer, ChartPod, Component, HelmChart, Layer, PinnedValue, Replicas, Source, SyncMode,
    tier,
};
use platform_core::manifest::Manifest;
use platform_core::model::Environment;
use platform_core::names;
use platform_core::scanner::{self, ChartWaiver};
use platform_core::sizing::Size;
use platform_core::traffic::{PodSubset, Port, Traffic};
use serde::Serialize;

/// The admission controller's webhook port.
const WEBHOOK_PORT: u16 = 9443;

pub const CHART: HelmChart = HelmChart {
    repo_url: "https://kyverno.github.io/kyverno/",
    name: "kyverno",
    version: "3.9.0",
    crd_groups: &["kyverno.io"],
    // kyverno-chart-3.9.0 `kyverno.matchLabels.common`; the hooks' pods carry only what
    // crds.migration.podLabels and webhooksCleanup.podLabels give them (set below).
    pods: &[
        ChartPod::api_client("kyverno-admission-controller", CONTROLLER_PODS)
            .serving_webhook(WEBHOOK_PORT)
            .runs(&[
                ChartContainer::new(
                    "kyverno",
                    "admissionController.container.resources",
                    Size::Medium,
                )
                .listening(&[8000, 9443]),
                ChartContainer::init(
                    "kyverno-pre",
                    "admissionController.initContainer.resources",
                    Size::Tiny,
                ),
            ])
            .replicas(Replicas::At {
                path: "admissionController.replicas",
                default: 1,
            }),
        ChartPod::api_client("kyverno-background-controller", CONTROLLER_PODS)
            .runs(&[ChartContainer::new(
                "controller",
                "backgroundController.resources",
                Size::Small,
            )
            .listening(&[8000, 9443])])
            .replicas(Replicas::At {
                path: "backgroundController.replicas",
                default: 1,
            }),
        ChartPod::api_client("kyverno-cleanup-controller", CONTROLLER_PODS)
            .serving_webhook(WEBHOOK_PORT)
            .runs(&[
                ChartContainer::new("controller", "cleanupController.resources", Size::Small)
                    .listening(&[8000, 9443]),
            ])
            .replicas(Replicas::At {
                path: "cleanupController.replicas",
                default: 1,
            }),
        ChartPod::api_client("kyverno-reports-controller", CONTROLLER_PODS)
            .runs(&[
                ChartContainer::new("controller", "reportsController.resources", Size::Small)
                    .listening(&[8000, 9443]),
            ])
            .replicas(Replicas::At {
                path: "reportsController.replicas",
                default: 1,
            }),
        // templates/hooks/post-upgrade-migrate-resources.yaml: container `kyverno-cli`.
        ChartPod::api_client("kyverno-migrate-resources", KYVERNO_PODS)
            .hook()
            .runs(&[ChartContainer::new(
                "kyverno-cli",
                "crds.migration.podResources",
                Size::Tiny,
            )]),
        // templates/hooks/pre-delete-remove-webhooks.yaml names the Job `<release>-rm-webhooks`.
        ChartPod::api_client("kyverno-rm-webhooks", KYVERNO_PODS)
            .hook()
            .runs(&[ChartContainer::new(
                "kubectl",
                "webhooksCleanup.resources",
                Size::Tiny,
            )]),
        ChartPod::api_client("kyverno-scale-to-zero", KYVERNO_PODS)
            .hook()
            .runs(&[ChartContainer::new(
                "kubectl",
                "webhooksCleanup.resources",
                Size::Tiny,
            )]),
    ],
    pods_verified_at: "3.9.0",
    volumes: &[],
    service_types: &[],
    pinned_values: &[PinnedValue {
        path: "features.backgroundScan.backgroundScanInterval",
        why: "the environment file owns the background scan interval, even where it equals the chart's 1h",
    }],
    scanner_waivers: &[
        ChartWaiver::every_pod(
            scanner::POD_SECURITY_CONTEXT,
            scanner::CONTAINERS_CARRY_THE_CONTEXT,
        ),
        ChartWaiver::every_pod(
            scanner::SERVICE_ACCOUNT_TOKEN,
            "Kyverno's controllers and its hook Jobs (migrating resources, scaling to zero, removing webhooks) all act through the API",
        ),
        ChartWaiver {
            check: scanner::LIVENESS_PROBE,
            objects: &[
                "Deployment/kyverno-background-controller",
                "Deployment/kyverno-reports-controller",
            ],
            reason: "kyverno-3.9.0 defines no probes for the background and reports controllers, and no value adds one; they serve no traffic",
        },
        ChartWaiver {
            check: scanner::READINESS_PROBE,
            objects: &[
                "Deployment/kyverno-background-controller",
                "Deployment/kyverno-reports-controller",
            ],
            reason: "kyverno-3.9.0 defines no probes for the background and reports controllers, and no value adds one; they serve no traffic",
        },
        ChartWaiver {
            check: scanner::WEBHOOK_CONFIGURATION_CONTROL,
            objects: &[
                "ClusterRole/kyverno:admission-controller:core",
                "ClusterRole/kyverno:cleanup-controller:core",
            ],
            reason: scanner::KEEPS_ITS_OWN_WEBHOOKS,
        },
        ChartWaiver {
            check: "CKV_K8S_49",
            objects: &["ClusterRole/kyverno:migrate-resources"],
            reason: "the upgrade hook rewrites stored objects of every Kyverno kind to the new storage version, whichever exist",
        },
    ],
};

const KYVERNO_PODS: &[(&str, &str)] = &[("app.kubernetes.io/instance", "kyverno")];
/// Its four controllers, which serve the webhooks (9443) and metrics (8000); the hook Jobs'
/// pods carry only the release label (kyverno-chart-3.9.0 `kyverno.labels.common`, which
/// only the controllers get).
const CONTROLLER_PODS: &[(&str, &str)] = &[
    ("app.kubernetes.io/instance", "kyverno"),
    ("app.kubernetes.io/part-of", "kyverno"),
];

/// Values of the kyverno chart this platform sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    pub features: Features,
    pub admission_controller: AdmissionController,
    pub crds: Crds,
    pub webhooks_cleanup: HookPods,
}

/// Flags the chart passes to every controller.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    pub background_scan: BackgroundScan,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackgroundScan {
    /// Set from the environment file, which owns it, even where it equals the chart's 1h.
    pub background_scan_interval: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AdmissionController {
    pub replicas: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Crds {
    pub migration: HookPods,
}

/// The pods of the chart's Helm hooks (the post-upgrade CRD migration, the pre-delete webhook
/// cleanup), which carry no labels unless given some (chart 3.9.0,
/// `templates/hooks/*.yaml`). Argo CD runs `post-upgrade` hooks as PostSync ones. Unlabelled,
/// no NetworkPolicy but default-deny selects them: they cannot reach the API, every sync
/// ends Failed, and a failed pre-delete hook leaves `failurePolicy: Fail` webhooks behind.
/// Labelled as the release, Kyverno's own policies (API server, DNS) admit them.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookPods {
    pub pod_labels: BTreeMap<String, String>,
}

/// The chart's ClusterRoles built by aggregation, whose rules the API server fills in.
const AGGREGATED_CLUSTER_ROLES: [&str; 4] = [
    "kyverno:admission-controller",
    "kyverno:background-controller",
    "kyverno:cleanup-controller",
    "kyverno:reports-controller",
];

pub fn components(env: &Environment) -> Vec<Component> {
    if !env.policies.enabled {
        return Vec::new();
    }
    // The hooks' pods get the labels the inventory (and so the NetworkPolicies) expects.
    let hook_pods = HookPods {
        pod_labels: KYVERNO_PODS
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    };
    let values = Values {
        features: Features {
            background_scan: BackgroundScan {
                background_scan_interval: env.policies.background_scan_interval.as_go(),
            },
        },
        admission_controller: AdmissionController {
            replicas: env.policies.admission_replicas,
        },
        crds: Crds {
            migration: hook_pods.clone(),
        },
        webhooks_cleanup: hook_pods,
    };
    let kyverno = Component::helm(
        CHART,
        names::app::KYVERNO,
        names::namespace::KYVERNO,
        Layer::SecurityAndPolicy,
        &values,
        env.charts.kyverno.as_ref(),
    )
    .earliest_wave(tier::OPERATORS)
    // An admission controller that can block every pod is upgraded by a person who watches.
    .sync(SyncMode::Manual)
    // Kyverno's egress is the Kubernetes API only; the API server calls its admission
    // webhooks.
    .traffic(
        Traffic::release(names::app::KYVERNO)
            .calls_kubernetes_api()
            .webhooks(&[Port::tcp(WEBHOOK_PORT)])
            .listening_on(
                &[
                    Port::tcp(WEBHOOK_PORT),
                    Port::tcp(names::KYVERNO_METRICS.port),
                ],
                &PodSubset::labelled(&CONTROLLER_PODS[1..]),
            ),
    )
    // Kyverno's CRDs are too large for client-side apply's last-applied annotation.
    .sync_options(&[
        SyncOption::ServerSideApply,
        SyncOption::RespectIgnoreDifferences,
    ])
    // Kyverno manages its webhook configurations and CA bundles at run time, and its
    // aggregated ClusterRoles are filled in by the API server.
    .ignore_differences(vec![
        ResourceIgnoreDifferences::jq(
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
            &[".webhooks[]?.clientConfig.caBundle", ".webhooks[]?.rules"],
        ),
        ResourceIgnoreDifferences::jq(
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration",
            &[".webhooks[]?.clientConfig.caBundle", ".webhooks[]?.rules"],
        ),
        ResourceIgnoreDifferences::jq(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            &[".spec.conversion.webhook.clientConfig.caBundle"],
        ),
    ])
    .ignore_differences(
        AGGREGATED_CLUSTER_ROLES
            .iter()
            .map(|name| {
                ResourceIgnoreDifferences::pointers(
                    "rbac.authorization.k8s.io",
                    "ClusterRole",
                    &["/rules"],
                )
                .named(name)
            })
            .collect(),
    );

    let policies = Component::new(
        names::app::SECURITY_POLICIES,
        names::namespace::KYVERNO,
        Layer::SecurityAndPolicy,
        Source::Manifests(
            policies::all(&env.policies, &env.teams)
                .into_iter()
                .map(Manifest::new)
                .collect(),
        ),
    )
    .earliest_wave(tier::CONFIGURATION)
    .depends_on(&[names::app::KYVERNO]);

    vec![kyverno, policies]
}
