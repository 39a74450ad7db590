//! `cargo xtask charts template`: every Helm Application's real objects, as Argo CD's
//! repo-server would template them, per environment.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use platform_checkout::Checkout;
use platform_helm::{Capabilities, Helm};
use platform_writer::{Scope, Tree};

use crate::Failure;

#[derive(Debug)]
pub struct Options {
    pub env: Option<String>,
    /// Write `<out>/<env>/<application>.yaml`; without it, print what each holds.
    pub out: Option<PathBuf>,
    /// Write what a configuration scanner should judge instead of Helm's text.
    pub for_scanners: bool,
}

pub fn run(checkout: &Checkout, options: &Options) -> Result<ExitCode, Failure> {
    let helm = Helm::locate().map_err(|missing| Failure::Usage(missing.to_string()))?;
    let mut applications = Vec::new();
    let mut left_out = std::collections::BTreeSet::new();
    for (hydrated, app) in super::charts_of(checkout, options.env.as_deref())? {
        if hydrated && options.for_scanners {
            left_out.insert(app.environment);
        } else {
            applications.push(app);
        }
    }
    for environment in left_out {
        println!(
            "{environment}: left out, it hydrates its charts: rendered/{environment}/manifests/ holds their objects"
        );
    }
    let schemas = checkout.schemas_dir(None);
    let capabilities = Capabilities::of_platform(&schemas).map_err(Failure::Io)?;
    let results =
        platform_helm::template_all(&helm, &applications, &schemas.join("charts"), &capabilities);
    let mut trees: BTreeMap<String, platform_writer::Files> = BTreeMap::new();
    let mut errors = Vec::new();
    for (app, result) in applications.iter().zip(results) {
        match result {
            Ok(templated) => {
                let hooks = templated
                    .objects
                    .iter()
                    .filter(|o| o.hook.is_some())
                    .count();
                let pods = templated
                    .objects
                    .iter()
                    .filter(|o| {
                        matches!(
                            o.kind(),
                            "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob" | "Pod"
                        )
                    })
                    .count();
                if options.out.is_none() {
                    println!(
                        "{}: {} {}: {} objects, {pods} workloads, {hooks} hooks",
                        app.id(),
                        app.chart,
                        app.version,
                        templated.objects.len()
                    );
                }
                let text = if options.for_scanners {
                    for_scanners(&app.chart, &templated)?
                } else {
                    templated.to_yaml()
                };
                trees
                    .entry(app.environment.clone())
                    .or_default()
                    .insert(format!("{}.yaml", app.name), text.into());
            }
            Err(error) => errors.push(error.to_string()),
        }
    }
    if !errors.is_empty() {
        for error in &errors {
            eprintln!("error: {error}");
        }
        return Err(Failure::Usage(format!(
            "{} Application(s) did not template (Helm {})",
            errors.len(),
            helm.version
        )));
    }
    if let Some(out) = &options.out {
        let trees: Vec<Tree<'_>> = trees
            .iter()
            .map(|(name, files)| Tree { name, files })
            .collect();
        let outcome = platform_writer::write(out, &trees, Scope::OnlyThese)
            .map_err(|e| Failure::Io(e.to_string()))?;
        println!(
            "{}: {} Applications templated by Helm {} ({} files written, {} unchanged)",
            out.display(),
            applications.len(),
            helm.version,
            outcome.written.len(),
            outcome.unchanged
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What Argo CD creates from a chart, for a scanner: the objects it syncs and the hooks it
/// runs (a hook it never runs, such as a Helm test Pod, never reaches the cluster), each
/// carrying the chart's scanner waivers as the `checkov.io/skip` annotations the platform's
/// own objects carry in `rendered/`.
fn for_scanners(chart: &str, templated: &platform_helm::Templated) -> Result<String, Failure> {
    let inventory = platform::catalog::CHARTS
        .iter()
        .find(|known| known.name == chart)
        .ok_or_else(|| Failure::Internal(format!("chart {chart} is in no component")))?;
    let mut text = String::new();
    for object in &templated.objects {
        if object
            .hook
            .as_ref()
            .is_some_and(|hook| hook.phases.is_empty())
        {
            continue;
        }
        let mut value = object.object.clone();
        platform_core::scanner::waive(
            &mut value,
            &platform_core::scanner::chart_waivers(
                inventory.scanner_waivers,
                object.kind(),
                object.name(),
            ),
        );
        let _ = writeln!(text, "---\n# Source: {}", object.source);
        text.push_str(&platform_core::yaml::to_string(&value));
    }
    Ok(text)
}
