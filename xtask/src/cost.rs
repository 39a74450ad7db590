//! `cargo xtask cost [--env NAME] [--format text|json|markdown] [--base REV] [--fail-above N]`.
//!
//! Renders the environments in memory (nothing is written) and prints what each costs a month
//! at its prices, per team and cost center and per Application. With `--base REV`, the
//! environment files of that Git revision are rendered in memory too (read with `git show`; no
//! checkout) and the difference is printed: per environment, team and Application, with the
//! Applications added and removed and the total monthly change.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use platform::LoadedEnvironment;
use platform::hydrate::ChartTemplater;
use platform_checkout::Checkout;
use platform_cost::{AppCost, Forecast, money};

use crate::Failure;
use crate::environments::{load_all, load_one};
use crate::table::Table;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

pub struct Options {
    pub env: Option<String>,
    pub format: Format,
    pub base: Option<String>,
    pub fail_above: Option<f64>,
}

pub fn run(checkout: &Checkout, options: &Options) -> Result<ExitCode, Failure> {
    let loaded = match &options.env {
        Some(name) => vec![load_one(checkout, name, Failure::Render)?],
        None => load_all(checkout, Failure::Render)?,
    };
    let current = forecasts(checkout, &loaded)?;
    let Some(base) = &options.base else {
        print!("{}", report(&current, options.format));
        return Ok(ExitCode::SUCCESS);
    };
    let files = crate::revision::environment_files(checkout, base)?;
    let previous = match platform::load(&files) {
        Ok(loaded) => forecasts(checkout, &loaded)?,
        Err(diagnostics) => return Err(Failure::Render(diagnostics)),
    };
    let previous: Vec<Forecast> = previous
        .into_iter()
        .filter(|forecast| {
            options
                .env
                .as_ref()
                .is_none_or(|name| &forecast.environment == name)
        })
        .collect();
    let delta = Delta::new(&previous, &current);
    print!("{}", delta.report(base, options.format));
    if let Some(limit) = options.fail_above
        && delta.total_increase() > limit
    {
        eprintln!(
            "the monthly cost rises by {:.2}, more than --fail-above {limit:.2}",
            delta.total_increase()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Each environment's forecast, from its real containers where it hydrates its charts.
fn forecasts(checkout: &Checkout, loaded: &[LoadedEnvironment]) -> Result<Vec<Forecast>, Failure> {
    let charts = crate::hydrating::charts(checkout, loaded)?;
    let templater = charts.as_ref().map(|charts| charts as &dyn ChartTemplater);
    let mut out = Vec::new();
    for environment in loaded {
        let rendered = platform::render_with(environment, templater).map_err(Failure::Render)?;
        out.push(rendered.forecast);
    }
    Ok(out)
}

fn signed(amount: f64) -> String {
    if amount >= 0.005 {
        format!("+{amount:.2}")
    } else if amount <= -0.005 {
        format!("{amount:.2}")
    } else {
        "0.00".to_owned()
    }
}

fn report(forecasts: &[Forecast], format: Format) -> String {
    if format == Format::Json {
        let value: Vec<_> = forecasts
            .iter()
            .map(|forecast| {
                serde_json::json!({
                    "environment": forecast.environment,
                    "currency": forecast.currency,
                    "monthly": forecast.monthly(),
                    "ceiling": forecast.ceiling(),
                    "teams": forecast.teams(),
                    "applications": forecast.applications,
                })
            })
            .collect();
        return serde_json::to_string_pretty(&value).expect("a forecast is JSON") + "\n";
    }
    let mut out = String::new();
    for forecast in forecasts {
        let currency = &forecast.currency;
        let mut teams = Table::new(&["team", "cost center", "apps", "monthly", "ceiling"]);
        for team in forecast.teams() {
            teams.row(vec![
                team.team,
                team.cost_center,
                team.applications.to_string(),
                money(team.monthly),
                money(team.ceiling),
            ]);
        }
        teams.row(vec![
            "total".into(),
            String::new(),
            forecast.applications.len().to_string(),
            money(forecast.monthly()),
            money(forecast.ceiling()),
        ]);
        let mut apps = Table::new(&[
            "application",
            "team",
            "cpu",
            "memory GiB",
            "storage GiB",
            "LBs",
            "monthly",
            "ceiling",
        ]);
        for app in &forecast.applications {
            apps.row(vec![
                app.application.clone(),
                app.team.clone(),
                format!("{:.3}", app.requests.cpu_cores),
                format!("{:.3}", app.requests.memory_gib),
                format!("{:.2}", app.storage_gib),
                app.load_balancers.to_string(),
                money(app.monthly),
                money(app.ceiling),
            ]);
        }
        let title = format!(
            "{}: {} {currency} a month at requests, {} at limits",
            forecast.environment,
            money(forecast.monthly()),
            money(forecast.ceiling())
        );
        match format {
            Format::Markdown => {
                let _ = write!(
                    out,
                    "### {title}\n\n{}\n{}\n",
                    teams.markdown(),
                    apps.markdown()
                );
            }
            _ => {
                let _ = write!(out, "{title}\n\n{}\n{}\n", teams.text(), apps.text());
            }
        }
    }
    out
}

/// Two sets of forecasts, compared by environment, team and Application.
struct Delta<'a> {
    environments: Vec<(String, String, Option<&'a Forecast>, Option<&'a Forecast>)>,
}

impl<'a> Delta<'a> {
    fn new(previous: &'a [Forecast], current: &'a [Forecast]) -> Self {
        let mut names: Vec<&str> = previous
            .iter()
            .chain(current)
            .map(|f| f.environment.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        let environments = names
            .into_iter()
            .map(|name| {
                let before = previous.iter().find(|f| f.environment == name);
                let after = current.iter().find(|f| f.environment == name);
                let currency = after
                    .or(before)
                    .map(|f| f.currency.clone())
                    .unwrap_or_default();
                (name.to_owned(), currency, before, after)
            })
            .collect();
        Self { environments }
    }

    fn total_increase(&self) -> f64 {
        self.environments
            .iter()
            .map(|(_, _, before, after)| {
                after.map_or(0.0, |f| f.monthly()) - before.map_or(0.0, |f| f.monthly())
            })
            .sum()
    }

    fn report(&self, base: &str, format: Format) -> String {
        let mut json = Vec::new();
        let mut out = String::new();
        for (name, currency, before, after) in &self.environments {
            let apps = |forecast: Option<&Forecast>| -> BTreeMap<String, AppCost> {
                forecast
                    .map(|f| {
                        f.applications
                            .iter()
                            .map(|a| (a.application.clone(), a.clone()))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let (old, new) = (apps(*before), apps(*after));
            let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
            names.sort_unstable();
            names.dedup();
            let mut rows = Vec::new();
            for app in names {
                let (was, is) = (old.get(app), new.get(app));
                let change = is.map_or(0.0, |a| a.monthly) - was.map_or(0.0, |a| a.monthly);
                let status = match (was, is) {
                    (None, Some(_)) => "added",
                    (Some(_), None) => "removed",
                    _ if change.abs() >= 0.005 => "changed",
                    _ => continue,
                };
                let team = is.or(was).map(|a| a.team.clone()).unwrap_or_default();
                rows.push((
                    app.clone(),
                    team,
                    status,
                    was.map(|a| a.monthly),
                    is.map(|a| a.monthly),
                    change,
                ));
            }
            let mut teams: BTreeMap<String, (f64, f64)> = BTreeMap::new();
            for app in old.values() {
                teams.entry(app.team.clone()).or_default().0 += app.monthly;
            }
            for app in new.values() {
                teams.entry(app.team.clone()).or_default().1 += app.monthly;
            }
            let total_before = before.map_or(0.0, |f| f.monthly());
            let total_after = after.map_or(0.0, |f| f.monthly());
            if format == Format::Json {
                json.push(serde_json::json!({
                    "environment": name,
                    "currency": currency,
                    "before": total_before,
                    "after": total_after,
                    "change": total_after - total_before,
                    "teams": teams.iter().map(|(team, (b, a))| serde_json::json!({"team": team, "before": b, "after": a, "change": a - b})).collect::<Vec<_>>(),
                    "applications": rows.iter().map(|(app, team, status, b, a, change)| serde_json::json!({"application": app, "team": team, "status": status, "before": b, "after": a, "change": change})).collect::<Vec<_>>(),
                }));
                continue;
            }
            let mut title = format!(
                "{name}: {} {currency} a month against {base}'s {} ({})",
                money(total_after),
                money(total_before),
                signed(total_after - total_before)
            );
            // A change of currency is a change of prices: the amounts are not comparable as such.
            if let (Some(before), Some(after)) = (before, after)
                && before.currency != after.currency
            {
                let _ = write!(
                    title,
                    "; {base} priced in {}, now {}",
                    before.currency, after.currency
                );
            }
            let mut team_table = Table::new(&["team", "before", "after", "change"]);
            for (team, (b, a)) in &teams {
                if (a - b).abs() >= 0.005 {
                    team_table.row(vec![team.clone(), money(*b), money(*a), signed(a - b)]);
                }
            }
            let mut app_table =
                Table::new(&["application", "team", "status", "before", "after", "change"]);
            for (app, team, status, b, a, change) in &rows {
                app_table.row(vec![
                    app.clone(),
                    team.clone(),
                    (*status).to_owned(),
                    b.map_or_else(|| "-".to_owned(), money),
                    a.map_or_else(|| "-".to_owned(), money),
                    signed(*change),
                ]);
            }
            let unchanged = rows.is_empty();
            match format {
                Format::Markdown => {
                    let _ = write!(out, "### {title}\n\n");
                    if unchanged {
                        out.push_str("No change.\n\n");
                    } else {
                        let _ =
                            write!(out, "{}\n{}\n", team_table.markdown(), app_table.markdown());
                    }
                }
                _ => {
                    let _ = write!(out, "{title}\n\n");
                    if unchanged {
                        out.push_str("no change\n\n");
                    } else {
                        let _ = write!(out, "{}\n{}\n", team_table.text(), app_table.text());
                    }
                }
            }
        }
        if format == Format::Json {
            return serde_json::to_string_pretty(&json).expect("a delta is JSON") + "\n";
        }
        let _ = writeln!(
            out,
            "Total monthly change: {}",
            signed(self.total_increase())
        );
        out
    }
}
