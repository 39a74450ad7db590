//! `cargo xtask charts`: the vendored charts under `schemas/charts/`, imported from upstream
//! and templated by the real Helm as Argo CD would.

pub mod import;
pub mod template;

use platform_checkout::Checkout;
use platform_helm::HelmApplication;

use crate::Failure;

/// Every Helm source of every environment's Applications, rendered in memory.
pub fn helm_applications(
    checkout: &Checkout,
    only: Option<&str>,
) -> Result<Vec<HelmApplication>, Failure> {
    let loaded = match only {
        Some(name) => vec![crate::environments::load_one(
            checkout,
            name,
            Failure::Input,
        )?],
        None => crate::environments::load_all(checkout, Failure::Input)?,
    };
    let mut found = Vec::new();
    for environment in &loaded {
        let rendered = platform::render(environment).map_err(Failure::Render)?;
        found.extend(
            platform_helm::applications(&environment.name, &rendered.files)
                .map_err(Failure::Internal)?,
        );
    }
    Ok(found)
}
