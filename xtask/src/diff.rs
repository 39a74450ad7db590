//! `cargo xtask diff [--base REV] [--env NAME] [--format text|markdown|json] [--exit-code]`.
//!
//! Renders the environment files of `REV` (default `HEAD`) and of the working tree in memory,
//! with the current generator, and compares them object by object (`platform-diff`), with
//! who may reach whom as each side's NetworkPolicies allow. Nothing is written.

use std::collections::BTreeMap;
use std::process::ExitCode;

use platform::LoadedEnvironment;
use platform::hydrate::ChartTemplater;
use platform_checkout::Checkout;
use platform_diff::{Format, Tree};

use crate::Failure;
use crate::environments::load_all;

pub struct Options {
    pub base: String,
    pub env: Option<String>,
    pub format: Format,
    pub exit_code: bool,
}

pub fn run(checkout: &Checkout, options: &Options) -> Result<ExitCode, Failure> {
    let current = trees(checkout, &load_all(checkout, Failure::Render)?)?;
    let files = crate::revision::environment_files(checkout, &options.base)?;
    let previous = match platform::load(&files) {
        Ok(loaded) => trees(checkout, &loaded)?,
        Err(diagnostics) => return Err(Failure::Render(diagnostics)),
    };
    let mut names: Vec<&String> = current.keys().chain(previous.keys()).collect();
    names.sort();
    names.dedup();
    let mut diffs = Vec::new();
    for name in names {
        if options.env.as_ref().is_some_and(|wanted| wanted != name) {
            continue;
        }
        let diff = platform_diff::diff(name, previous.get(name), current.get(name))
            .map_err(Failure::Usage)?;
        diffs.push(diff);
    }
    if let Some(wanted) = &options.env
        && diffs.is_empty()
    {
        return Err(Failure::Usage(format!(
            "no environment `{wanted}` at {} or in the working tree",
            options.base
        )));
    }
    print!(
        "{}",
        platform_diff::render(&diffs, &options.base, options.format)
    );
    let changed = diffs.iter().any(|diff| !diff.is_empty());
    Ok(if options.exit_code && changed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Each environment rendered in memory, with its reachability; where it hydrates its
/// charts, with their objects, so that a chart's change shows object by object.
fn trees(
    checkout: &Checkout,
    loaded: &[LoadedEnvironment],
) -> Result<BTreeMap<String, Tree>, Failure> {
    let charts = crate::hydrating::charts(checkout, loaded)?;
    let templater = charts.as_ref().map(|charts| charts as &dyn ChartTemplater);
    let mut out = BTreeMap::new();
    for environment in loaded {
        let mut plan = platform::plan_located(environment).map_err(Failure::Render)?;
        platform::hydrate::hydrate(environment, &mut plan, templater).map_err(Failure::Render)?;
        let policies = platform::matrix::planned_policies(&plan);
        let reach = platform::matrix::matrix(
            platform::matrix::endpoints(&plan, environment.env.network_ranges()),
            &policies,
        )
        .allowed()
        .into_iter()
        .map(|(from, to, ports)| ((from, to), ports))
        .collect();
        let rendered = platform::render_plan(environment, plan).map_err(Failure::Render)?;
        out.insert(
            environment.name.clone(),
            Tree {
                files: rendered
                    .files
                    .iter()
                    .map(|(path, text)| (path.clone(), text.to_string()))
                    .collect(),
                reach,
            },
        );
    }
    Ok(out)
}
