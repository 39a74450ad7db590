//! Components with their waves: what gets rendered, in which order Argo CD syncs it.

use std::collections::BTreeSet;

use platform_core::component::Component;
use platform_core::model::Environment;
use platform_core::names;
use platform_core::waves::{self, WaveNode};

use crate::catalog;

#[derive(Clone, Debug, PartialEq)]
pub struct PlannedComponent {
    pub component: Component,
    pub wave: i32,
}

/// The environment's components, ordered by wave, then name.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub components: Vec<PlannedComponent>,
}

impl Plan {
    pub fn get(&self, name: &str) -> Option<&PlannedComponent> {
        self.components.iter().find(|c| c.component.name == name)
    }
}

/// Derives every component's wave from its dependencies. Errors name the components
/// involved: duplicates, unknown or disabled dependencies, and cycles.
pub fn plan(env: &Environment) -> Result<Plan, Vec<String>> {
    plan_components(catalog::components(env))
}

/// [`plan`] over an explicit list of components, for callers that add or replace some.
pub fn plan_components(components: Vec<Component>) -> Result<Plan, Vec<String>> {
    let mut seen = BTreeSet::new();
    let duplicates: Vec<String> = components
        .iter()
        .filter(|c| !seen.insert(c.name.as_str()))
        .map(|c| {
            format!(
                "two Applications are named `{}`; an app may not share its name with another app or a platform component ({})",
                c.name,
                names::app::ALL.join(", ")
            )
        })
        .collect();
    if !duplicates.is_empty() {
        return Err(duplicates);
    }

    let disabled: BTreeSet<&str> = names::app::ALL
        .iter()
        .copied()
        .filter(|name| !seen.contains(name))
        .collect();
    let nodes: Vec<WaveNode<'_>> = components
        .iter()
        .map(|c| WaveNode {
            name: &c.name,
            earliest: c.earliest_wave,
            depends_on: &c.depends_on,
        })
        .collect();
    let waves = waves::resolve(&nodes, &disabled)
        .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>())?;

    let mut components: Vec<PlannedComponent> = components
        .into_iter()
        .map(|component| PlannedComponent {
            wave: waves[&component.name],
            component,
        })
        .collect();
    components.sort_by(|a, b| (a.wave, &a.component.name).cmp(&(b.wave, &b.component.name)));
    Ok(Plan { components })
}
