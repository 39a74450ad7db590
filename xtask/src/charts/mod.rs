//! `cargo xtask charts`: the vendored charts under `schemas/charts/`, imported from upstream
//! and templated by the real Helm as Argo CD would.

pub mod import;
pub mod template;

use platform_checkout::Checkout;
use platform_helm::HelmApplication;

use crate::Failure;

/// Every chart of every environment (or of `only`), as Argo CD would template it, whether
/// the environment hydrates it or leaves it to Argo CD.
pub fn helm_applications(
    checkout: &Checkout,
    only: Option<&str>,
) -> Result<Vec<HelmApplication>, Failure> {
    Ok(charts_of(checkout, only)?
        .into_iter()
        .map(|(_, app)| app)
        .collect())
}

/// Each chart of [`helm_applications`], and whether its environment hydrates it (commits its
/// objects under rendered/).
pub fn charts_of(
    checkout: &Checkout,
    only: Option<&str>,
) -> Result<Vec<(bool, HelmApplication)>, Failure> {
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
        let hydrated = environment.env.argocd.hydrate;
        found.extend(
            platform::hydrate::helm_releases(environment)
                .map_err(Failure::Render)?
                .into_iter()
                .map(|app| (hydrated, app)),
        );
    }
    Ok(found)
}
