//! What a team's monthly budget buys: the forecast of its apps, and the quota of their
//! namespaces, capped so that the cluster enforces what the forecast promised.

use crate::billing::Billed;
use crate::model::{App, Environment, Team};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// What running an app's requests costs a month: replicas × (CPU + memory), at the
/// environment's prices.
pub fn app_monthly_requests(env: &Environment, app: &App) -> f64 {
    let replicas = f64::from(app.replicas(&env.workloads));
    let cpu = app.resources.requests.cpu.nanos() as f64 / 1e9;
    let memory = app.resources.requests.memory.nanos() as f64 / 1e9 / GIB;
    replicas * Billed::of(&env.cost.pricing).monthly(cpu, memory, 0.0, 0.0)
}

/// What the namespace quota's requests would cost a month if all of it ran.
fn quota_monthly_requests(env: &Environment) -> f64 {
    let quota = &env.workloads.namespace_quota.requests;
    Billed::of(&env.cost.pricing).monthly(
        quota.cpu.nanos() as f64 / 1e9,
        quota.memory.nanos() as f64 / 1e9 / GIB,
        0.0,
        0.0,
    )
}

/// A team's budget and what its apps request, read once for all of its namespaces.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TeamBudget {
    budget: Option<f64>,
    /// What all the team's apps request a month.
    requested: f64,
    apps: usize,
}

impl TeamBudget {
    /// `apps` are the team's apps.
    pub fn of(env: &Environment, team: &Team, apps: &[&App]) -> TeamBudget {
        TeamBudget {
            budget: team.monthly_budget,
            requested: apps.iter().map(|app| app_monthly_requests(env, app)).sum(),
            apps: apps.len(),
        }
    }

    /// The share of the budget an app's namespace may spend: the budget split over the team's
    /// apps in proportion to what each requests (evenly when none requests anything). `None`
    /// for a team without a budget.
    pub fn namespace_share(&self, env: &Environment, app: &App) -> Option<f64> {
        let budget = self.budget?;
        Some(if self.requested > 0.0 {
            budget * app_monthly_requests(env, app) / self.requested
        } else {
            budget / self.apps.max(1) as f64
        })
    }

    /// How much of the platform's namespace quota an app's namespace gets: 1 when its share
    /// of the team's budget pays for all of it, less when it does not, so that the quota's
    /// requests, run for a month, cost at most that share.
    pub fn quota_scale(&self, env: &Environment, app: &App) -> f64 {
        let Some(share) = self.namespace_share(env, app) else {
            return 1.0;
        };
        let full = quota_monthly_requests(env);
        if full <= share || full == 0.0 {
            1.0
        } else {
            share / full
        }
    }
}
