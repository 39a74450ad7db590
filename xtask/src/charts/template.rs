//! `cargo xtask charts template`: every Helm Application's real objects, as Argo CD's
//! repo-server would template them, per environment.

use std::collections::BTreeMap;
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
}

pub fn run(checkout: &Checkout, options: &Options) -> Result<ExitCode, Failure> {
    let helm = Helm::locate().map_err(|missing| Failure::Usage(missing.to_string()))?;
    let applications = super::helm_applications(checkout, options.env.as_deref())?;
    let schemas = checkout.schemas_dir(None);
    let capabilities = Capabilities::of_platform(&schemas).map_err(Failure::Io)?;
    let results =
        platform_helm::template_all(&helm, &applications, &schemas.join("charts"), &capabilities);
    let mut trees: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
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
                trees
                    .entry(app.environment.clone())
                    .or_default()
                    .insert(format!("{}.yaml", app.name), templated.to_yaml());
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
