//! The platform's two dashboards: what things cost (from OpenCost's metrics, by team, cost
//! center, namespace and app) and whether the platform is well (Argo CD, ESO, Kyverno, Vault,
//! Prometheus's targets). Panels of components an environment does not run are left out.

use std::collections::BTreeMap;

use platform_core::cost_queries;
use platform_core::model::Environment;

use crate::dashboard::{
    Dashboard, DatasourceRef, FieldConfig, FieldDefaults, GridPos, MappingResult, Panel, PanelKind,
    Target, TimeRange, ValueMapping,
};

/// The uid of the provisioned Prometheus datasource, which every panel names.
pub const PROMETHEUS_UID: &str = "prometheus";

/// Grafana's dashboard schema version the JSON is written in (Grafana 11-13 read it).
const SCHEMA_VERSION: u32 = 39;

/// Currencies Grafana formats with a unit of its own (`currency<ISO code>`, grafana-data
/// `valueFormats/categories.ts`).
const GRAFANA_CURRENCIES: [&str; 14] = [
    "USD", "GBP", "EUR", "JPY", "RUB", "UAH", "BRL", "DKK", "ISK", "NOK", "SEK", "CZK", "CHF",
    "PLN",
];

/// The panel unit of an amount in `currency` (ISO 4217, as `cost.currency` and OpenCost's
/// `currencyCode` hold it): Grafana's own currency unit where it has one, else the code after
/// the number (Grafana's custom unit `suffix:`).
pub fn currency_unit(currency: &str) -> String {
    if GRAFANA_CURRENCIES.contains(&currency) {
        format!("currency{currency}")
    } else {
        format!("suffix: {currency}")
    }
}

pub fn prometheus() -> DatasourceRef {
    DatasourceRef {
        kind: "prometheus".to_owned(),
        uid: PROMETHEUS_UID.to_owned(),
    }
}

/// A panel builder that lays panels out left to right, two rows of equal height per line.
struct Layout {
    panels: Vec<Panel>,
    x: u32,
    y: u32,
}

/// The dashboard grid is 24 columns wide.
const GRID_WIDTH: u32 = 24;
const PANEL_HEIGHT: u32 = 8;

impl Layout {
    fn new() -> Self {
        Self {
            panels: Vec::new(),
            x: 0,
            y: 0,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        kind: PanelKind,
        width: u32,
        title: &str,
        description: &str,
        unit: &str,
        queries: &[(&str, String)],
        instant: bool,
    ) -> &mut Panel {
        if self.x + width > GRID_WIDTH {
            self.x = 0;
            self.y += PANEL_HEIGHT;
        }
        let id = u32::try_from(self.panels.len()).expect("few panels") + 1;
        let ref_ids = ["A", "B", "C", "D"];
        self.panels.push(Panel {
            id,
            kind,
            title: title.to_owned(),
            description: description.to_owned(),
            grid_pos: GridPos {
                x: self.x,
                y: self.y,
                w: width,
                h: PANEL_HEIGHT,
            },
            datasource: prometheus(),
            targets: queries
                .iter()
                .zip(ref_ids)
                .map(|((legend, expr), ref_id)| Target {
                    ref_id: ref_id.to_owned(),
                    datasource: prometheus(),
                    expr: expr.clone(),
                    legend_format: (*legend).to_owned(),
                    instant,
                })
                .collect(),
            field_config: FieldConfig {
                defaults: FieldDefaults {
                    unit: unit.to_owned(),
                    mappings: Vec::new(),
                },
            },
        });
        self.x += width;
        self.panels.last_mut().expect("just pushed")
    }
}

pub fn cost(env: &Environment) -> Dashboard {
    let money = currency_unit(&env.cost.currency);
    let mut layout = Layout::new();
    let all_pods = format!("sum({})", cost_queries::pod_hourly_cost());
    let by_team = cost_queries::hourly_cost_by_team("");
    let by_cost_center = cost_queries::hourly_cost_by_cost_center();
    let by_namespace = format!("sum by (namespace) ({})", cost_queries::pod_hourly_cost());
    let by_app = cost_queries::hourly_cost_by_app();
    let monthly = |hourly: &str| cost_queries::monthly(hourly);
    let to_date = |hourly: &str| cost_queries::over_dashboard_range(hourly);
    let run_rate_note = format!(
        "OpenCost's hourly cost of the pods' CPU and memory allocation, × {} hours.",
        cost_queries::HOURS_PER_MONTH
    );
    let to_date_note = "The hourly cost summed hour by hour over the dashboard's range (this month so far by default).";
    let stat = PanelKind::Stat;
    let bars = PanelKind::Bargauge;
    layout.add(
        stat,
        6,
        "Monthly run rate",
        &run_rate_note,
        &money,
        &[("cluster", monthly(&all_pods))],
        true,
    );
    layout.add(
        stat,
        6,
        "Month to date",
        to_date_note,
        &money,
        &[("cluster", to_date(&all_pods))],
        true,
    );
    layout.add(
        bars,
        12,
        "Monthly run rate by team",
        &run_rate_note,
        &money,
        &[("{{team}}", monthly(&by_team))],
        true,
    );
    layout.add(
        bars,
        12,
        "Month to date by team",
        to_date_note,
        &money,
        &[("{{team}}", to_date(&by_team))],
        true,
    );
    layout.add(
        bars,
        12,
        "Monthly run rate by cost center",
        &run_rate_note,
        &money,
        &[("{{cost_center}}", monthly(&by_cost_center))],
        true,
    );
    layout.add(
        bars,
        12,
        "Month to date by cost center",
        to_date_note,
        &money,
        &[("{{cost_center}}", to_date(&by_cost_center))],
        true,
    );
    layout.add(
        bars,
        12,
        "Monthly run rate by namespace",
        &run_rate_note,
        &money,
        &[("{{namespace}}", monthly(&by_namespace))],
        true,
    );
    layout.add(
        bars,
        12,
        "Monthly run rate by app",
        &run_rate_note,
        &money,
        &[("{{app}}", monthly(&by_app))],
        true,
    );
    let budgets: Vec<String> = env
        .teams
        .iter()
        .filter_map(|team| {
            team.monthly_budget
                .map(|budget| format!("{}: {budget}", team.name))
        })
        .collect();
    let budget_note = if budgets.is_empty() {
        "No team declares a monthly budget.".to_owned()
    } else {
        format!("Monthly budgets: {}.", budgets.join(", "))
    };
    layout.add(
        PanelKind::Timeseries,
        24,
        "Hourly cost by team",
        &budget_note,
        &money,
        &[("{{team}}", by_team.clone())],
        false,
    );
    Dashboard {
        uid: "finops-cost".to_owned(),
        title: "FinOps: cost by team, cost center, namespace and app".to_owned(),
        tags: vec!["finops".to_owned(), "cost".to_owned()],
        editable: false,
        schema_version: SCHEMA_VERSION,
        time: TimeRange {
            from: "now/M".to_owned(),
            to: "now".to_owned(),
        },
        refresh: "15m".to_owned(),
        panels: layout.panels,
    }
}

pub fn platform_health(env: &Environment) -> Dashboard {
    let mut layout = Layout::new();
    let bars = PanelKind::Bargauge;
    if env.argocd.enabled {
        layout.add(
            bars,
            8,
            "Applications by sync status",
            "Argo CD's `argocd_app_info`.",
            "none",
            &[(
                "{{sync_status}}",
                "count by (sync_status) (argocd_app_info)".to_owned(),
            )],
            true,
        );
        layout.add(
            bars,
            8,
            "Applications by health status",
            "Argo CD's `argocd_app_info`.",
            "none",
            &[(
                "{{health_status}}",
                "count by (health_status) (argocd_app_info)".to_owned(),
            )],
            true,
        );
        layout.add(
            PanelKind::Table,
            8,
            "Applications not healthy",
            "Each Application whose health is not Healthy.",
            "none",
            &[(
                "{{name}}",
                "argocd_app_info{health_status!=\"Healthy\"}".to_owned(),
            )],
            true,
        );
    }
    if env.secrets.enabled {
        layout.add(
            bars,
            8,
            "ExternalSecrets by Ready condition",
            "ESO's `externalsecret_status_condition`: True is synced from Vault.",
            "none",
            &[(
                "Ready={{status}}",
                "count by (status) (externalsecret_status_condition{condition=\"Ready\"} == 1)"
                    .to_owned(),
            )],
            true,
        );
    }
    if env.policies.enabled {
        layout.add(PanelKind::Timeseries, 8, "Kyverno policy results", "Rule results per policy (pass, fail, warn, error, skip).", "none", &[("{{policy_name}} {{rule_result}}", "sum by (policy_name, rule_result) (increase(kyverno_policy_results_total[$__rate_interval]))".to_owned())], false);
        layout.add(PanelKind::Timeseries, 8, "Kyverno admission denials", "Requests Kyverno's webhook rejected, by namespace.", "none", &[("{{resource_namespace}}", "sum by (resource_namespace) (increase(kyverno_admission_requests_total{request_allowed=\"false\"}[$__rate_interval]))".to_owned())], false);
    }
    if env.vault.enabled {
        let panel = layout.add(
            PanelKind::Stat,
            8,
            "Vault servers",
            "Vault's `vault_core_unsealed`, per server.",
            "none",
            &[("{{instance}}", "vault_core_unsealed".to_owned())],
            true,
        );
        panel.field_config.defaults.mappings = vec![ValueMapping {
            kind: "value".to_owned(),
            options: BTreeMap::from([
                (
                    "0".to_owned(),
                    MappingResult {
                        text: "sealed".to_owned(),
                        color: "red".to_owned(),
                    },
                ),
                (
                    "1".to_owned(),
                    MappingResult {
                        text: "unsealed".to_owned(),
                        color: "green".to_owned(),
                    },
                ),
            ]),
        }];
    }
    layout.add(
        bars,
        8,
        "Prometheus targets up, by job",
        "The share of each job's targets Prometheus scraped at its last attempt.",
        "percentunit",
        &[(
            "{{job}}",
            "sum by (job) (up) / count by (job) (up)".to_owned(),
        )],
        true,
    );
    Dashboard {
        uid: "platform-health".to_owned(),
        title: "Platform health".to_owned(),
        tags: vec!["platform".to_owned()],
        editable: false,
        schema_version: SCHEMA_VERSION,
        time: TimeRange {
            from: "now-6h".to_owned(),
            to: "now".to_owned(),
        },
        refresh: "1m".to_owned(),
        panels: layout.panels,
    }
}

/// Every dashboard, by file name in the dashboards' ConfigMap.
pub fn all(env: &Environment) -> Vec<(String, Dashboard)> {
    let mut dashboards = Vec::new();
    if env.opencost.enabled {
        dashboards.push(("finops-cost.json".to_owned(), cost(env)));
    }
    dashboards.push(("platform-health.json".to_owned(), platform_health(env)));
    dashboards
}

#[cfg(test)]
mod tests {
    use super::currency_unit;

    #[test]
    fn grafanas_own_currency_units_else_the_code_after_the_amount() {
        assert_eq!(currency_unit("EUR"), "currencyEUR");
        assert_eq!(currency_unit("CHF"), "currencyCHF");
        assert_eq!(currency_unit("CAD"), "suffix: CAD");
    }
}
