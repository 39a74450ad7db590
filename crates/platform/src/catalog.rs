//! Every component crate, asked in turn for its components. This is the one place that knows
//! them all; each crate knows only itself and the core.

use platform_core::component::Component;
use platform_core::model::Environment;

/// The components an environment enables, in catalog order.
pub fn components(env: &Environment) -> Vec<Component> {
    let crates: [fn(&Environment) -> Vec<Component>; 8] = [
        component_argocd::components,
        component_metallb::components,
        component_vault::components,
        component_eso::components,
        component_kyverno::components,
        component_prometheus::components,
        component_opencost::components,
        component_apps::components,
    ];
    crates
        .iter()
        .flat_map(|components| components(env))
        .collect()
}
