//! The monthly cost of a rendered environment, before Argo CD applies it.
//!
//! What each Application runs is read from what the environment renders: the containers of
//! its manifests (Deployments, StatefulSets, DaemonSets, Pods) and, for a Helm source, the
//! containers, replicas, volumes and Service types the chart's inventory says its values set
//! (`core::component::HelmChart`). Each is priced with the environment's `cost.pricing` as
//! OpenCost bills it (`core::billing`: a 730th of the monthly price, to six decimals): CPU
//! and memory at requests (the forecast) and at limits (the
//! ceiling), times replicas, for the 730 hours of a month; persistent volumes per GiB-month;
//! LoadBalancer Services per hour. Run-to-completion pods (Jobs, CronJobs, Helm hooks) are
//! not a monthly cost and are left out. An Application's cost is booked to the team and cost
//! center of the namespace it deploys into.

mod workloads;

use std::collections::BTreeMap;

use platform_core::billing::Billed;
use platform_core::component::HelmChart;
use platform_core::model::CostSettings;
use serde::Serialize;
use serde_json::Value;

pub use workloads::Usage;

/// An amount of money as every report shows it: to the cent.
pub fn money(amount: f64) -> String {
    format!("{amount:.2}")
}

/// What one Application costs a month.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AppCost {
    pub application: String,
    pub team: String,
    pub cost_center: String,
    /// CPU cores and GiB of memory requested, all replicas together.
    pub requests: Usage,
    /// CPU cores and GiB of memory its limits allow; a container without a limit counts at
    /// its request.
    pub limits: Usage,
    pub storage_gib: f64,
    pub load_balancers: u32,
    /// At requests: what the cluster reserves for it.
    pub monthly: f64,
    /// At limits: the most it can use.
    pub ceiling: f64,
}

/// A team's share of an environment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TeamCost {
    pub team: String,
    pub cost_center: String,
    pub applications: usize,
    pub monthly: f64,
    pub ceiling: f64,
}

/// An environment's forecast.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Forecast {
    pub environment: String,
    pub currency: String,
    pub applications: Vec<AppCost>,
}

impl Forecast {
    pub fn monthly(&self) -> f64 {
        self.applications.iter().map(|app| app.monthly).sum()
    }

    pub fn ceiling(&self) -> f64 {
        self.applications.iter().map(|app| app.ceiling).sum()
    }

    /// Teams in name order, each with its cost center.
    pub fn teams(&self) -> Vec<TeamCost> {
        let mut teams: BTreeMap<(&str, &str), TeamCost> = BTreeMap::new();
        for app in &self.applications {
            let entry = teams
                .entry((&app.team, &app.cost_center))
                .or_insert_with(|| TeamCost {
                    team: app.team.clone(),
                    cost_center: app.cost_center.clone(),
                    applications: 0,
                    monthly: 0.0,
                    ceiling: 0.0,
                });
            entry.applications += 1;
            entry.monthly += app.monthly;
            entry.ceiling += app.ceiling;
        }
        teams.into_values().collect()
    }
}

/// Where the environment's objects are: paths relative to its folder (`apps/<name>.yaml`,
/// `manifests/<app>/…`), as `platform::render` produces them: owned, or shared as a render
/// holds them.
pub fn forecast<O: std::borrow::Borrow<Value>>(
    environment: &str,
    objects: &[(String, O)],
    charts: &[HelmChart],
    cost: &CostSettings,
) -> Forecast {
    let namespace_labels =
        platform_validate::namespace_labels(objects.iter().map(|(_, object)| object.borrow()));
    // Each Application's manifests, by the folder they are in: one pass, however many apps.
    let mut manifests: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for (path, object) in objects {
        let object = object.borrow();
        if let Some((application, _)) = path
            .strip_prefix("manifests/")
            .and_then(|rest| rest.split_once('/'))
        {
            manifests.entry(application).or_default().push(object);
        }
    }
    let billed = Billed::of(&cost.pricing);
    let mut applications = Vec::new();
    for (path, object) in objects {
        let object = object.borrow();
        let Some(name) = path
            .strip_prefix("apps/")
            .and_then(|rest| rest.strip_suffix(".yaml"))
        else {
            continue;
        };
        if object["kind"] != "Application" || name.contains('/') {
            continue;
        }
        let owned = manifests.get(name).map(Vec::as_slice).unwrap_or_default();
        let spend = workloads::of_application(object, owned.iter().copied(), charts, cost.nodes);
        let destination = object["spec"]["destination"]["namespace"]
            .as_str()
            .unwrap_or_default();
        let labels = namespace_labels.get(destination);
        let label = |key: &str| {
            labels
                .and_then(|labels| labels.get(key))
                .cloned()
                .or_else(|| spend.labels.get(key).cloned())
                .unwrap_or_else(|| "unallocated".to_owned())
        };
        let price = |usage: &Usage| {
            billed.monthly(
                usage.cpu_cores,
                usage.memory_gib,
                spend.storage_gib,
                f64::from(spend.load_balancers),
            )
        };
        applications.push(AppCost {
            application: name.to_owned(),
            team: label("team"),
            cost_center: label("cost-center"),
            monthly: price(&spend.requests),
            ceiling: price(&spend.limits),
            requests: spend.requests,
            limits: spend.limits,
            storage_gib: spend.storage_gib,
            load_balancers: spend.load_balancers,
        });
    }
    applications.sort_by(|a, b| a.application.cmp(&b.application));
    Forecast {
        environment: environment.to_owned(),
        currency: cost.currency.clone(),
        applications,
    }
}
