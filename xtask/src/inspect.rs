//! Read-only views of one environment: `cargo xtask graph` and `cargo xtask netpol`.

use std::process::ExitCode;

use platform::LoadedEnvironment;
use platform_checkout::Checkout;

use crate::Failure;
use crate::environments::load_one;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
    Json,
}

fn planned(loaded: &LoadedEnvironment) -> Result<platform::Plan, Failure> {
    platform::plan_located(loaded).map_err(Failure::Input)
}

pub fn graph(checkout: &Checkout, name: &str, format: GraphFormat) -> Result<ExitCode, Failure> {
    let loaded = load_one(checkout, name, Failure::Input)?;
    let plan = planned(&loaded)?;
    let applications = platform::docs::applications(&plan, &loaded);
    let text = match format {
        GraphFormat::Mermaid => platform_docs::graph::mermaid(&applications),
        GraphFormat::Dot => platform_docs::graph::dot(name, &applications),
        GraphFormat::Json => platform_docs::graph::json(name, &applications),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

pub fn netpol(checkout: &Checkout, name: &str) -> Result<ExitCode, Failure> {
    let loaded = load_one(checkout, name, Failure::Input)?;
    let plan = planned(&loaded)?;
    let policies = platform::matrix::planned_policies(&plan);
    if policies.is_empty() {
        println!(
            "{name} renders no NetworkPolicies (network.policies is off): every pod may reach every pod"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let endpoints = platform::matrix::endpoints(&plan, loaded.env.network_ranges());
    let matrix = platform::matrix::matrix(endpoints, &policies);
    println!(
        "# {name}: reachability evaluated from {} rendered NetworkPolicies (both egress and ingress must allow)",
        policies.len()
    );
    print!("{}", matrix.allowed_text());
    println!(
        "# every other pair of the {} endpoints is denied",
        matrix.endpoints.len()
    );
    Ok(ExitCode::SUCCESS)
}
