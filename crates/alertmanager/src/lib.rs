//! Alertmanager: receives what Prometheus's alert rules fire, groups it, and routes it by
//! team and severity to the receivers the environment declares.
//!
//! A receiver's credential (a Slack webhook URL, a PagerDuty routing key, a webhook's bearer
//! token) is read from Vault by an ExternalSecret into the Secret `alertmanager-receivers`,
//! which the pod mounts; the configuration in Git names only the files (`api_url_file`,
//! `routing_key_file`, `credentials_file`, read by Alertmanager at each notification). Those
//! fields exist in Alertmanager 0.25 (Debian's `amtool`, which checks this configuration in
//! CI) and in the chart's 0.34.

use k8s_openapi::api::core::v1::{PodSecurityContext, SecurityContext};
use platform_core::component::{
    ChartContainer, ChartPod, ChartVolume, Component, HelmChart, Layer, PinnedValue, Replicas, tier,
};
use platform_core::eso::{PlatformSecretKey, platform_external_secret};
use platform_core::hardening;
use platform_core::manifest::Manifest;
use platform_core::model::{AlertReceiver, Environment, ReceiverKind};
use platform_core::names;
use platform_core::sizing::Size;
use platform_core::traffic::{Peer, Port, Traffic};
use serde::Serialize;

pub const CHART: HelmChart = HelmChart {
    repo_url: "https://prometheus-community.github.io/helm-charts",
    name: "alertmanager",
    version: "1.42.0",
    crd_groups: &[],
    // alertmanager-1.42.0 `statefulset.yaml`, `alertmanager.selectorLabels`: one StatefulSet
    // named after the release; it does not call the API.
    // `configmapReload.enabled` is off by default: no reloader sidecar.
    pods: &[ChartPod::api_client("alertmanager", ALERTMANAGER_PODS)
        .quiet()
        .runs(&[ChartContainer::new("alertmanager", "resources", Size::Small).listening(&[9093])])
        .replicas(Replicas::At {
            path: "replicaCount",
            default: 1,
        })],
    pods_verified_at: "1.42.0",
    volumes: &[ChartVolume {
        workload: "alertmanager",
        size: "persistence.size",
        default_size: "50Mi",
        enabled: "persistence.enabled",
        enabled_default: true,
        unless: None,
    }],
    service_types: &["service.type"],
    pinned_values: &[
        PinnedValue {
            path: "config.enabled",
            why: "the chart ignores the whole configuration below when this is off; its default today",
        },
        PinnedValue {
            path: "config.route",
            why: "the route is the platform's, written whole: its group_interval equals the chart's default today, and a chart bump must not change how alerts are grouped",
        },
    ],
    scanner_waivers: &[],
};

const ALERTMANAGER_PODS: &[(&str, &str)] = &[("app.kubernetes.io/instance", "alertmanager")];

/// The Secret that holds every receiver's credential, one key per receiver.
pub const RECEIVERS_SECRET: &str = "alertmanager-receivers";
/// Where the pod finds it: beside, not under, the chart's configuration mount
/// (`/etc/alertmanager`), which is a read-only ConfigMap volume.
pub const RECEIVERS_MOUNT: &str = "/etc/alertmanager-receivers";
/// The receiver of alerts no route takes, when the environment names none: it sends nothing.
pub const NULL_RECEIVER: &str = "null";
/// Receivers' endpoints are HTTPS.
const HTTPS: u16 = 443;

/// Values of the alertmanager chart this platform sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    pub config: Config,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_secret_mounts: Vec<SecretMount>,
    /// Alertmanager never calls the Kubernetes API: no token in its pod.
    pub automount_service_account_token: bool,
    /// Added to the chart's pod context (`fsGroup: 65534`): the runtime's seccomp profile.
    pub pod_security_context: PodSecurityContext,
    /// The chart's container context (user 65534, non-root) and no privilege escalation, no
    /// capability, a read-only root filesystem: Alertmanager writes only to its data volume.
    pub security_context: SecurityContext,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretMount {
    pub name: String,
    pub mount_path: String,
    pub secret_name: String,
    pub read_only: bool,
}

/// Alertmanager's configuration (`alertmanager.yml`); `enabled` is the chart's switch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Config {
    pub enabled: bool,
    pub route: Route,
    pub receivers: Vec<Receiver>,
    pub inhibit_rules: Vec<InhibitRule>,
    /// None: the chart's default points at template files nobody ships.
    pub templates: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Route {
    pub receiver: String,
    pub group_by: Vec<String>,
    pub group_wait: String,
    pub group_interval: String,
    pub repeat_interval: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<ChildRoute>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChildRoute {
    pub receiver: String,
    pub matchers: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Receiver {
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slack_configs: Vec<SlackConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pagerduty_configs: Vec<PagerdutyConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub webhook_configs: Vec<WebhookConfig>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SlackConfig {
    pub api_url_file: String,
    pub channel: String,
    pub send_resolved: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PagerdutyConfig {
    pub routing_key_file: String,
    pub send_resolved: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebhookConfig {
    pub url: String,
    pub send_resolved: bool,
    pub http_config: HttpConfig,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HttpConfig {
    pub authorization: Authorization,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Authorization {
    #[serde(rename = "type")]
    pub kind: String,
    pub credentials_file: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InhibitRule {
    pub source_matchers: Vec<String>,
    pub target_matchers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub equal: Vec<String>,
}

/// A matcher on `label` for any of `values`: equality for one, an anchored regex for more.
fn matcher(label: &str, values: &[&str]) -> String {
    match values {
        [one] => format!("{label}=\"{one}\""),
        many => format!("{label}=~\"{}\"", many.join("|")),
    }
}

/// The file the pod reads a receiver's credential from.
pub fn credential_file(receiver: &AlertReceiver) -> String {
    format!("{RECEIVERS_MOUNT}/{}", receiver.name)
}

fn receiver(declared: &AlertReceiver) -> Receiver {
    let file = credential_file(declared);
    let mut receiver = Receiver {
        name: declared.name.to_string(),
        slack_configs: Vec::new(),
        pagerduty_configs: Vec::new(),
        webhook_configs: Vec::new(),
    };
    match declared.kind {
        ReceiverKind::Slack => receiver.slack_configs.push(SlackConfig {
            api_url_file: file,
            channel: declared.channel.clone().unwrap_or_default(),
            send_resolved: true,
        }),
        ReceiverKind::Pagerduty => receiver.pagerduty_configs.push(PagerdutyConfig {
            routing_key_file: file,
            send_resolved: true,
        }),
        ReceiverKind::Webhook => receiver.webhook_configs.push(WebhookConfig {
            url: declared.url.clone().unwrap_or_default(),
            send_resolved: true,
            http_config: HttpConfig {
                authorization: Authorization {
                    kind: "Bearer".to_owned(),
                    credentials_file: file,
                },
            },
        }),
    }
    receiver
}

/// The label a hub's Argo CD alerts name their environment by.
pub const ENVIRONMENT_LABEL: &str = platform_core::labels::ENVIRONMENT;

/// Alertmanager's configuration, from the environment's receivers and routes.
pub fn config(env: &Environment) -> Config {
    let alerting = &env.alerting;
    let mut receivers: Vec<Receiver> = alerting.receivers.iter().map(receiver).collect();
    let default = match &alerting.default_receiver {
        Some(name) => name.to_string(),
        None => {
            receivers.insert(
                0,
                Receiver {
                    name: NULL_RECEIVER.to_owned(),
                    slack_configs: Vec::new(),
                    pagerduty_configs: Vec::new(),
                    webhook_configs: Vec::new(),
                },
            );
            NULL_RECEIVER.to_owned()
        }
    };
    let routes = alerting
        .routes
        .iter()
        .map(|route| {
            let mut matchers = Vec::new();
            if !route.teams.is_empty() {
                let teams: Vec<&str> = route.teams.iter().map(|t| t.as_str()).collect();
                matchers.push(matcher(platform_core::labels::TEAM, &teams));
            }
            if !route.severities.is_empty() {
                let severities: Vec<&str> = route.severities.iter().map(|s| s.as_str()).collect();
                matchers.push(matcher("severity", &severities));
            }
            if !route.environments.is_empty() {
                let environments: Vec<&str> =
                    route.environments.iter().map(|e| e.as_str()).collect();
                matchers.push(matcher(ENVIRONMENT_LABEL, &environments));
            }
            ChildRoute {
                receiver: route.receiver.to_string(),
                matchers,
            }
        })
        .collect();
    Config {
        enabled: true,
        route: Route {
            receiver: default,
            // A hub's environments fire the same Argo CD alerts apart.
            group_by: vec![
                "alertname".to_owned(),
                platform_core::labels::TEAM.to_owned(),
                ENVIRONMENT_LABEL.to_owned(),
            ],
            group_wait: "30s".to_owned(),
            group_interval: "5m".to_owned(),
            repeat_interval: "4h".to_owned(),
            routes,
        },
        receivers,
        inhibit_rules: vec![
            // A sealed or unreachable Vault explains every ExternalSecret that stops syncing:
            // page for Vault, not once per secret.
            InhibitRule {
                source_matchers: vec![matcher("alertname", &["VaultDown", "VaultSealed"])],
                target_matchers: vec![matcher("alertname", &["ExternalSecretNotReady"])],
                equal: Vec::new(),
            },
            // A critical alert silences the warnings of the same alert and team.
            InhibitRule {
                source_matchers: vec![matcher("severity", &["critical"])],
                target_matchers: vec![matcher("severity", &["warning"])],
                equal: vec![
                    "alertname".to_owned(),
                    platform_core::labels::TEAM.to_owned(),
                ],
            },
        ],
        templates: Vec::new(),
    }
}

pub fn values(env: &Environment) -> Values {
    let extra_secret_mounts = if env.alerting.receivers.is_empty() {
        Vec::new()
    } else {
        vec![SecretMount {
            name: "receivers".to_owned(),
            mount_path: RECEIVERS_MOUNT.to_owned(),
            secret_name: RECEIVERS_SECRET.to_owned(),
            read_only: true,
        }]
    };
    Values {
        config: config(env),
        extra_secret_mounts,
        automount_service_account_token: false,
        pod_security_context: hardening::runtime_default_seccomp(),
        security_context: SecurityContext {
            run_as_non_root: None,
            ..hardening::container()
        },
    }
}

/// Every receiver's credential, each from its own Vault secret.
fn receivers_secret(env: &Environment) -> Option<Manifest> {
    if env.alerting.receivers.is_empty() {
        return None;
    }
    let keys = env
        .alerting
        .receivers
        .iter()
        .map(|receiver| PlatformSecretKey {
            secret_key: receiver.name.to_string(),
            key: receiver.secret.clone(),
            property: receiver.kind.secret_field().to_owned(),
        })
        .collect();
    Some(Manifest::new(platform_external_secret(
        env,
        RECEIVERS_SECRET,
        names::ALERTMANAGER.namespace,
        keys,
    )))
}

/// Prometheus calls it (declared by Prometheus); it calls its receivers on 443, at the
/// addresses the environment declares, and nothing else.
fn traffic(env: &Environment) -> Traffic {
    let mut cidrs: Vec<&String> = env
        .alerting
        .receivers
        .iter()
        .flat_map(|receiver| &receiver.egress_cidrs)
        .collect();
    cidrs.sort();
    cidrs.dedup();
    cidrs.into_iter().fold(
        Traffic::release(names::app::ALERTMANAGER),
        |traffic, cidr| traffic.calls(Peer::External { cidr: cidr.clone() }, &[Port::tcp(HTTPS)]),
    )
}

pub fn components(env: &Environment) -> Vec<Component> {
    if !(env.alerting.enabled && env.prometheus.enabled) {
        return Vec::new();
    }
    let mut alertmanager = Component::helm(
        CHART,
        names::app::ALERTMANAGER,
        names::ALERTMANAGER.namespace,
        Layer::MonitoringAndCost,
        &values(env),
        env.charts.alertmanager.as_ref(),
    )
    .earliest_wave(tier::OPERATORS)
    .traffic(traffic(env));
    if let Some(secret) = receivers_secret(env) {
        // The receivers' Secret is read through the platform's store.
        alertmanager = alertmanager.depends_on(&[names::app::VAULT_CONFIG]);
        alertmanager.extra_manifests.push(secret);
    }
    vec![alertmanager]
}
