//! cert-manager: issues and renews the certificates of Vault's TLS. It runs where Vault does
//! (HA mode); a dev-mode Vault on kind serves plain HTTP and needs none.

use platform_core::argocd::SyncOption;
use platform_core::component::{
    ChartContainer, ChartPod, Component, HelmChart, Layer, Replicas, Toggle, tier,
};
use platform_core::model::Environment;
use platform_core::names;
use platform_core::scanner::{self, ChartWaiver};
use platform_core::sizing::Size;
use platform_core::traffic::{PodSubset, Port, Traffic};
use serde::Serialize;

pub const CHART: HelmChart = HelmChart {
    repo_url: "https://charts.jetstack.io",
    name: "cert-manager",
    // Published with a `v`, unlike the other charts.
    version: "v1.21.1",
    crd_groups: &["cert-manager.io"],
    // cert-manager v1.21.1: controller, cainjector, webhook, and the startupapicheck
    // post-install hook, each with `app.kubernetes.io/instance: <release>`.
    pods: &[
        ChartPod::api_client(
            "cert-manager",
            &[INSTANCE, ("app.kubernetes.io/component", "controller")],
        )
        .runs(&[
            ChartContainer::new("cert-manager-controller", "resources", Size::Small)
                .listening(&[9402, 9403]),
        ])
        .replicas(Replicas::At {
            path: "replicaCount",
            default: 1,
        }),
        ChartPod::api_client(
            "cert-manager-cainjector",
            &[INSTANCE, ("app.kubernetes.io/component", "cainjector")],
        )
        .runs(&[ChartContainer::new(
            "cert-manager-cainjector",
            "cainjector.resources",
            Size::Small,
        )
        .listening(&[9402])])
        .replicas(Replicas::At {
            path: "cainjector.replicaCount",
            default: 1,
        }),
        ChartPod::api_client(
            "cert-manager-webhook",
            &[INSTANCE, ("app.kubernetes.io/component", "webhook")],
        )
        .serving_webhook(WEBHOOK_PORT)
        .runs(&[
            ChartContainer::new("cert-manager-webhook", "webhook.resources", Size::Small)
                .listening(&[6080, 9402, 10250]),
        ])
        .replicas(Replicas::At {
            path: "webhook.replicaCount",
            default: 1,
        }),
        ChartPod::api_client("cert-manager-startupapicheck", CERT_MANAGER_PODS)
            .hook()
            .runs(&[ChartContainer::new(
                "cert-manager-startupapicheck",
                "startupapicheck.resources",
                Size::Tiny,
            )]),
    ],
    pods_verified_at: "v1.21.1",
    volumes: &[],
    service_types: &[],
    pinned_values: &[],
    scanner_waivers: &[
        ChartWaiver {
            check: scanner::SERVICE_ACCOUNT_TOKEN,
            objects: &[
                "Deployment/cert-manager",
                "Deployment/cert-manager-cainjector",
                "Deployment/cert-manager-webhook",
            ],
            reason: scanner::TOKEN_OF_A_CONTROLLER,
        },
        ChartWaiver {
            check: scanner::SERVICE_ACCOUNT_TOKEN,
            objects: &["Job/cert-manager-startupapicheck"],
            reason: "it checks through the API that cert-manager's webhook answers before the install counts as done",
        },
        ChartWaiver::every_pod(scanner::HIGH_UID, scanner::UID_OF_THE_IMAGE),
        ChartWaiver {
            check: scanner::LIVENESS_PROBE,
            objects: &["Deployment/cert-manager-cainjector"],
            reason: "cert-manager v1.21.1 defines no probe for cainjector, and no value adds one; it serves no traffic",
        },
        ChartWaiver {
            check: scanner::READINESS_PROBE,
            objects: &[
                "Deployment/cert-manager",
                "Deployment/cert-manager-cainjector",
            ],
            reason: "leader-elected controllers that serve no traffic (only metrics): readiness routes nothing; the chart gives the controller a liveness probe",
        },
        ChartWaiver {
            check: scanner::WEBHOOK_CONFIGURATION_CONTROL,
            objects: &["ClusterRole/cert-manager-cainjector"],
            reason: "cainjector's one job is writing CA bundles into webhook configurations and CRDs",
        },
    ],
};

const INSTANCE: (&str, &str) = ("app.kubernetes.io/instance", "cert-manager");
const CERT_MANAGER_PODS: &[(&str, &str)] = &[INSTANCE];
/// v1.21.1 labels each workload `app.kubernetes.io/component`; the startupapicheck hook
/// serves nothing.
const COMPONENT: &str = "app.kubernetes.io/component";

/// The webhook's port (chart value `webhook.securePort`, 10250 by default in v1.21.1), which
/// the API server calls to validate Issuers and Certificates.
const WEBHOOK_PORT: u16 = 10250;

/// Values of the cert-manager chart this platform sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Values {
    /// The chart installs no CRDs by default (`crds.enabled: false`); here the Application
    /// that runs cert-manager brings them, so that Vault's Certificates sync after it.
    pub crds: Toggle,
}

pub fn components(env: &Environment) -> Vec<Component> {
    if !env.vault_tls() {
        return Vec::new();
    }
    vec![
        Component::helm(
            CHART,
            names::app::CERT_MANAGER,
            names::namespace::CERT_MANAGER,
            Layer::Secrets,
            &Values {
                crds: Toggle { enabled: true },
            },
            env.charts.cert_manager.as_ref(),
        )
        .earliest_wave(tier::BOOTSTRAP)
        // The controller, cainjector, webhook and the startupapicheck hook (all labelled with
        // the release) talk to the API only; the API server calls the webhook.
        .traffic(
            Traffic::release(names::app::CERT_MANAGER)
                .calls_kubernetes_api()
                .webhooks(&[Port::tcp(WEBHOOK_PORT)])
                .listening_on(
                    &[Port::tcp(WEBHOOK_PORT)],
                    &PodSubset::labelled(&[(COMPONENT, "webhook")]),
                )
                .listening_on(
                    &[Port::tcp(names::CERT_MANAGER_METRICS_PORT)],
                    &PodSubset::one_of(COMPONENT, &["controller", "cainjector", "webhook"]),
                ),
        )
        // The CRDs are larger than client-side apply's last-applied annotation allows.
        .sync_options(&[SyncOption::ServerSideApply]),
    ]
}
