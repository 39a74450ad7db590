//! Grafana: one place to see what the platform costs and whether it is well, without a
//! port-forward per UI or hand-written PromQL.
//!
//! Prometheus is provisioned as the default datasource (uid `prometheus`); the dashboards are
//! generated from typed Rust ([`dashboards`]) into a ConfigMap the chart mounts under a file
//! provider (grafana chart 12.11.1 `dashboardsConfigMaps`, mounted at
//! `/var/lib/grafana/dashboards/<provider>`), so no sidecar watches the API. The admin login
//! is read from Vault by an ExternalSecret (`admin.existingSecret`); Grafana never starts with
//! the chart's generated password, and nothing of it is in Git.

pub mod dashboard;
pub mod dashboards;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use platform_core::application::metadata;
use platform_core::component::{
    ChartContainer, ChartPod, ChartVolume, Component, HelmChart, Layer, PinnedValue, Replicas,
    Toggle, tier,
};
use platform_core::eso::{PlatformSecretKey, platform_external_secret};
use platform_core::manifest::Manifest;
use platform_core::model::Environment;
use platform_core::names;
use platform_core::scanner::{self, ChartWaiver};
use platform_core::sizing::Size;
use platform_core::traffic::{Port, Traffic};
use serde::Serialize;

pub const CHART: HelmChart = HelmChart {
    repo_url: "https://grafana-community.github.io/helm-charts",
    name: "grafana",
    version: "12.11.1",
    crd_groups: &[],
    // grafana-12.11.1 `deployment.yaml`, `grafana.selectorLabels`: one Deployment named after
    // the release. With the dashboard and datasource sidecars off, nothing in it calls the
    // API; the test pod (`testFramework`) and the image renderer are off.
    // Without persistence the chart adds no init-chown-data container.
    pods: &[ChartPod::api_client("grafana", GRAFANA_PODS)
        .quiet()
        .runs(&[
            ChartContainer::new("grafana", "resources", Size::Small).listening(&[3000, 6060, 9094])
        ])
        .replicas(Replicas::At {
            path: "replicas",
            default: 1,
        })],
    pods_verified_at: "12.11.1",
    volumes: &[ChartVolume {
        workload: "grafana",
        size: "persistence.size",
        default_size: "10Gi",
        enabled: "persistence.enabled",
        enabled_default: false,
        unless: None,
    }],
    service_types: &["service.type"],
    pinned_values: &[
        PinnedValue {
            path: "admin.userKey",
            why: "the keys the ExternalSecret writes into the admin Secret; the chart's defaults today",
        },
        PinnedValue {
            path: "admin.passwordKey",
            why: "the keys the ExternalSecret writes into the admin Secret; the chart's defaults today",
        },
        PinnedValue {
            path: "testFramework.enabled",
            why: "the test pod is a Helm test hook, which Argo CD never runs and the vendored chart leaves out; off for any other renderer",
        },
    ],
    scanner_waivers: &[
        ChartWaiver {
            check: scanner::HIGH_UID,
            objects: &["Deployment/grafana"],
            reason: "runs as user 472, the grafana user of the Grafana image, as the chart pins it; another UID would need a rebuilt image",
        },
        ChartWaiver {
            check: scanner::SECRET_IN_ENVIRONMENT,
            objects: &["Deployment/grafana"],
            reason: "the chart hands Grafana its admin login from the grafana-admin Secret (an ExternalSecret from Vault) as GF_SECURITY_ADMIN_USER and GF_SECURITY_ADMIN_PASSWORD, the way Grafana reads it",
        },
        ChartWaiver {
            check: scanner::READ_ONLY_ROOT,
            objects: &["Deployment/grafana"],
            reason: "Grafana writes its database and plugins under /var/lib/grafana (a volume) and temporary files elsewhere in its image; grafana-12.11.1 leaves its root writable, and so does the platform until a running Grafana is checked read-only",
        },
    ],
};

const GRAFANA_PODS: &[(&str, &str)] = &[("app.kubernetes.io/instance", "grafana")];

/// The Secret with the admin login, and its keys (the chart's `admin.userKey` and
/// `admin.passwordKey` defaults, also the fields of the Vault secret).
pub const ADMIN_SECRET: &str = "grafana-admin";
pub const ADMIN_USER_KEY: &str = "admin-user";
pub const ADMIN_PASSWORD_KEY: &str = "admin-password";

/// The file provider the dashboards are provisioned under, and their ConfigMap.
pub const DASHBOARD_PROVIDER: &str = "platform";
pub const DASHBOARDS_CONFIG_MAP: &str = "grafana-dashboards";

/// Values of the grafana chart this platform sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    pub admin: Admin,
    pub datasources: BTreeMap<String, DatasourcesFile>,
    pub dashboard_providers: BTreeMap<String, ProvidersFile>,
    pub dashboards_config_maps: BTreeMap<String, String>,
    #[serde(rename = "grafana.ini")]
    pub grafana_ini: GrafanaIni,
    pub test_framework: Toggle,
    /// No Role: without the sidecars Grafana reads nothing from the API.
    pub rbac: Rbac,
    /// And so no token in its pod either.
    pub automount_service_account_token: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Admin {
    pub existing_secret: String,
    pub user_key: String,
    pub password_key: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasourcesFile {
    pub api_version: u32,
    pub datasources: Vec<Datasource>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Datasource {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub uid: String,
    pub url: String,
    pub access: String,
    pub is_default: bool,
    pub editable: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvidersFile {
    pub api_version: u32,
    pub providers: Vec<Provider>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    pub name: String,
    pub org_id: u32,
    pub folder: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub disable_deletion: bool,
    pub allow_ui_updates: bool,
    pub options: ProviderOptions,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProviderOptions {
    pub path: String,
}

/// Sections of `grafana.ini` the platform sets; Helm merges them over the chart's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GrafanaIni {
    pub analytics: Analytics,
}

/// A sovereign platform does not call home: no update checks, no usage reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analytics {
    pub check_for_updates: bool,
    pub check_for_plugin_updates: bool,
    pub reporting_enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rbac {
    pub create: bool,
}

pub fn values(_env: &Environment) -> Values {
    let prometheus = names::PROMETHEUS;
    Values {
        admin: Admin {
            existing_secret: ADMIN_SECRET.to_owned(),
            user_key: ADMIN_USER_KEY.to_owned(),
            password_key: ADMIN_PASSWORD_KEY.to_owned(),
        },
        datasources: BTreeMap::from([(
            "datasources.yaml".to_owned(),
            DatasourcesFile {
                api_version: 1,
                datasources: vec![Datasource {
                    name: "Prometheus".to_owned(),
                    kind: "prometheus".to_owned(),
                    uid: dashboards::PROMETHEUS_UID.to_owned(),
                    url: prometheus.url("http"),
                    access: "proxy".to_owned(),
                    is_default: true,
                    editable: false,
                }],
            },
        )]),
        dashboard_providers: BTreeMap::from([(
            "dashboardproviders.yaml".to_owned(),
            ProvidersFile {
                api_version: 1,
                providers: vec![Provider {
                    name: DASHBOARD_PROVIDER.to_owned(),
                    org_id: 1,
                    folder: "Platform".to_owned(),
                    kind: "file".to_owned(),
                    disable_deletion: true,
                    allow_ui_updates: false,
                    options: ProviderOptions {
                        path: format!("/var/lib/grafana/dashboards/{DASHBOARD_PROVIDER}"),
                    },
                }],
            },
        )]),
        dashboards_config_maps: BTreeMap::from([(
            DASHBOARD_PROVIDER.to_owned(),
            DASHBOARDS_CONFIG_MAP.to_owned(),
        )]),
        grafana_ini: GrafanaIni {
            analytics: Analytics {
                check_for_updates: false,
                check_for_plugin_updates: false,
                reporting_enabled: false,
            },
        },
        test_framework: Toggle { enabled: false },
        rbac: Rbac { create: false },
        automount_service_account_token: false,
    }
}

/// The dashboards' ConfigMap: one JSON file per dashboard.
pub fn dashboards_config_map(env: &Environment) -> ConfigMap {
    let data = dashboards::all(env)
        .into_iter()
        .map(|(file, dashboard)| {
            let json = serde_json::to_string_pretty(&dashboard)
                .unwrap_or_else(|error| panic!("dashboard {file} does not serialize: {error}"));
            (file, json)
        })
        .collect();
    ConfigMap {
        metadata: metadata(DASHBOARDS_CONFIG_MAP, Some(names::GRAFANA.namespace)),
        data: Some(data),
        ..ConfigMap::default()
    }
}

fn admin_secret(env: &Environment) -> Manifest {
    let key = |field: &str| PlatformSecretKey {
        secret_key: field.to_owned(),
        key: env.grafana.admin_secret.clone(),
        property: field.to_owned(),
    };
    Manifest::new(platform_external_secret(
        env,
        ADMIN_SECRET,
        names::GRAFANA.namespace,
        vec![key(ADMIN_USER_KEY), key(ADMIN_PASSWORD_KEY)],
    ))
}

pub fn components(env: &Environment) -> Vec<Component> {
    if !env.grafana.enabled {
        return Vec::new();
    }
    let mut grafana = Component::helm(
        CHART,
        names::app::GRAFANA,
        names::GRAFANA.namespace,
        Layer::MonitoringAndCost,
        &values(env),
        env.charts.grafana.as_ref(),
    )
    .earliest_wave(tier::CONFIGURATION)
    // Its datasource, and the platform store its admin login is read through.
    .depends_on(&[names::app::PROMETHEUS, names::app::VAULT_CONFIG])
    .traffic(Traffic::release(names::app::GRAFANA).calls_component(
        names::app::PROMETHEUS,
        &[Port::tcp(names::PROMETHEUS_SERVER_POD_PORT)],
    ));
    grafana.extra_manifests.push(admin_secret(env));
    grafana
        .extra_manifests
        .push(Manifest::new(dashboards_config_map(env)));
    vec![grafana]
}
