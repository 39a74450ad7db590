//! What a team's monthly budget buys: the forecast of its apps, and the quota of their
//! namespaces, capped so that the cluster enforces what the forecast promised.

use crate::model::{App, Environment, HOURS_PER_MONTH, Team};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// What running an app's requests costs a month: replicas × (CPU + memory), at the
/// environment's prices.
pub fn app_monthly_requests(env: &Environment, app: &App) -> f64 {
    let replicas = f64::from(app.replicas(&env.workloads));
    let cpu = app.resources.requests.cpu.nanos() as f64 / 1e9;
    let memory = app.resources.requests.memory.nanos() as f64 / 1e9 / GIB;
    let pricing = &env.cost.pricing;
    HOURS_PER_MONTH
        * replicas
        * (cpu * pricing.cpu_per_vcpu_hour + memory * pricing.memory_per_gib_hour)
}

/// What the namespace quota's requests would cost a month if all of it ran.
fn quota_monthly_requests(env: &Environment) -> f64 {
    let quota = &env.workloads.namespace_quota.requests;
    let pricing = &env.cost.pricing;
    HOURS_PER_MONTH
        * (quota.cpu.nanos() as f64 / 1e9 * pricing.cpu_per_vcpu_hour
            + quota.memory.nanos() as f64 / 1e9 / GIB * pricing.memory_per_gib_hour)
}

/// The share of `team`'s budget an app's namespace may spend: the budget split over the team's
/// apps in proportion to what each requests (evenly when none requests anything). `None` for a
/// team without a budget.
pub fn namespace_share(env: &Environment, team: &Team, app: &App) -> Option<f64> {
    let budget = team.monthly_budget?;
    let apps: Vec<&App> = env
        .apps
        .iter()
        .filter(|candidate| candidate.team == team.name)
        .collect();
    let total: f64 = apps
        .iter()
        .map(|candidate| app_monthly_requests(env, candidate))
        .sum();
    Some(if total > 0.0 {
        budget * app_monthly_requests(env, app) / total
    } else {
        budget / apps.len().max(1) as f64
    })
}

/// How much of the platform's namespace quota an app's namespace gets: 1 when its share of
/// the team's budget pays for all of it, less when it does not, so that the quota's requests,
/// run for a month, cost at most that share.
pub fn quota_scale(env: &Environment, team: &Team, app: &App) -> f64 {
    let Some(share) = namespace_share(env, team, app) else {
        return 1.0;
    };
    let full = quota_monthly_requests(env);
    if full <= share || full == 0.0 {
        1.0
    } else {
        share / full
    }
}
