//! Teams whose forecast exceeds their monthly budget: an error where the environment enforces
//! budgets (`cost.enforce_budgets`), a warning elsewhere; each at the team's budget line.

use platform_cost::Forecast;
use platform_environments::{Diagnostic, LoadedEnvironment};

use platform_cost::money;

/// `(errors, warnings)`.
pub fn check(
    loaded: &LoadedEnvironment,
    forecast: &Forecast,
) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let env = &loaded.env;
    let mut over = Vec::new();
    for (index, team) in env.teams.iter().enumerate() {
        let Some(budget) = team.monthly_budget else {
            continue;
        };
        let mut apps: Vec<_> = forecast
            .applications
            .iter()
            .filter(|app| app.team == team.name.as_str())
            .collect();
        let spend: f64 = apps.iter().map(|app| app.monthly).sum();
        if spend <= budget {
            continue;
        }
        apps.sort_by(|a, b| {
            b.monthly
                .total_cmp(&a.monthly)
                .then_with(|| a.application.cmp(&b.application))
        });
        let largest: Vec<String> = apps
            .iter()
            .take(3)
            .map(|app| format!("{} {}", app.application, money(app.monthly)))
            .collect();
        let currency = &forecast.currency;
        over.push(loaded.diagnostic(
            Some(&format!("teams[{index}].monthly_budget")),
            format!(
                "team {} is forecast at {} {currency} a month in {} (at requests; largest: {}), over its monthly budget of {} {currency} by {}; expected a budget of at least {} or smaller requests or fewer replicas",
                team.name,
                money(spend),
                loaded.name,
                largest.join(", "),
                money(budget),
                money(spend - budget),
                money(spend)
            ),
        ));
    }
    if env.cost.enforce_budgets {
        (over, Vec::new())
    } else {
        (Vec::new(), over)
    }
}
