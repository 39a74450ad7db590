//! Components with their waves: what gets rendered, in which order Argo CD syncs it.

use std::collections::BTreeSet;
use std::fmt;

use platform_core::component::Component;
use platform_core::model::Environment;
use platform_core::names;
use platform_core::waves::{self, WaveError, WaveNode};

use crate::{catalog, network};

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

/// Why an environment cannot be planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// Two components would be Applications of the same name.
    Duplicate {
        name: String,
    },
    Wave(WaveError),
    /// A component declares a connection to a component that runs no pods here.
    Dangling {
        component: String,
        peer: String,
    },
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Duplicate { name } => write!(
                f,
                "two Applications are named `{name}`; an app may not share its name with another app or a platform component ({})",
                names::app::ALL.join(", ")
            ),
            Self::Wave(error) => error.fmt(f),
            Self::Dangling { component, peer } => write!(
                f,
                "`{component}` declares a connection to `{peer}`, which runs no pods in this environment"
            ),
        }
    }
}

/// Derives every component's wave from its dependencies. Errors name the components
/// involved: duplicates, unknown or disabled dependencies, and cycles.
pub fn plan(env: &Environment) -> Result<Plan, Vec<PlanError>> {
    let mut plan = plan_components(catalog::components(env))?;
    if env.network.policies {
        let mut components: Vec<&mut Component> = plan
            .components
            .iter_mut()
            .map(|c| &mut c.component)
            .collect();
        network::attach(&mut components, env).map_err(|dangling| {
            dangling
                .into_iter()
                .map(|edge| PlanError::Dangling {
                    component: edge.component,
                    peer: edge.peer,
                })
                .collect::<Vec<_>>()
        })?;
    }
    Ok(plan)
}

/// [`plan`] over an explicit list of components, for callers that add or replace some.
pub fn plan_components(components: Vec<Component>) -> Result<Plan, Vec<PlanError>> {
    let mut seen = BTreeSet::new();
    let duplicates: Vec<PlanError> = components
        .iter()
        .filter(|c| !seen.insert(c.name.as_str()))
        .map(|c| PlanError::Duplicate {
            name: c.name.clone(),
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
        .map_err(|errors| errors.into_iter().map(PlanError::Wave).collect::<Vec<_>>())?;

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
