//! Sync waves derived from dependencies.
//!
//! `wave(c) = max(earliest(c), max(wave(d) + 1 for each dependency d))`. A wave is never
//! written by hand, so it cannot contradict a dependency: a component always syncs strictly
//! after everything it depends on.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A component as the wave graph sees it.
#[derive(Clone, Copy, Debug)]
pub struct WaveNode<'a> {
    pub name: &'a str,
    pub earliest: i32,
    pub depends_on: &'a [String],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaveError {
    /// The components form a cycle; the path starts and ends with the same component.
    Cycle(Vec<String>),
    /// A dependency names no known component.
    UnknownDependency {
        component: String,
        dependency: String,
    },
    /// A dependency names a component the environment disabled.
    DisabledDependency {
        component: String,
        dependency: String,
    },
}

impl fmt::Display for WaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cycle(path) => write!(
                f,
                "dependency cycle: {}; a component cannot wait for itself, remove one of these dependencies",
                path.join(" -> ")
            ),
            Self::UnknownDependency {
                component,
                dependency,
            } => write!(
                f,
                "`{component}` depends on `{dependency}`, which is not a component of this environment"
            ),
            Self::DisabledDependency {
                component,
                dependency,
            } => write!(
                f,
                "`{component}` depends on `{dependency}`, which this environment disables; enable `{dependency}` or disable `{component}`"
            ),
        }
    }
}

/// Assigns every node its wave, or reports every unknown or disabled dependency, or a cycle.
///
/// `disabled` names components that exist but are switched off in this environment, so that
/// depending on one is reported as such rather than as an unknown name.
pub fn resolve(
    nodes: &[WaveNode<'_>],
    disabled: &BTreeSet<&str>,
) -> Result<BTreeMap<String, i32>, Vec<WaveError>> {
    let by_name: BTreeMap<&str, &WaveNode<'_>> = nodes.iter().map(|n| (n.name, n)).collect();

    let mut errors = Vec::new();
    for node in nodes {
        for dependency in node.depends_on {
            if by_name.contains_key(dependency.as_str()) {
                continue;
            }
            let component = node.name.to_owned();
            let dependency = dependency.clone();
            errors.push(if disabled.contains(dependency.as_str()) {
                WaveError::DisabledDependency {
                    component,
                    dependency,
                }
            } else {
                WaveError::UnknownDependency {
                    component,
                    dependency,
                }
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut waves = BTreeMap::new();
    let mut visiting = Vec::new();
    for name in by_name.keys() {
        wave_of(name, &by_name, &mut waves, &mut visiting).map_err(|cycle| vec![cycle])?;
    }
    Ok(waves)
}

fn wave_of(
    name: &str,
    nodes: &BTreeMap<&str, &WaveNode<'_>>,
    waves: &mut BTreeMap<String, i32>,
    visiting: &mut Vec<String>,
) -> Result<i32, WaveError> {
    if let Some(wave) = waves.get(name) {
        return Ok(*wave);
    }
    if let Some(start) = visiting.iter().position(|n| n == name) {
        let mut cycle = visiting[start..].to_vec();
        cycle.push(name.to_owned());
        return Err(WaveError::Cycle(cycle));
    }
    visiting.push(name.to_owned());
    let node = nodes[name];
    let mut wave = node.earliest;
    for dependency in node.depends_on {
        wave = wave.max(wave_of(dependency, nodes, waves, visiting)? + 1);
    }
    visiting.pop();
    waves.insert(name.to_owned(), wave);
    Ok(wave)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    fn resolve_all(
        spec: &[(&str, i32, Vec<String>)],
    ) -> Result<BTreeMap<String, i32>, Vec<WaveError>> {
        let nodes: Vec<_> = spec
            .iter()
            .map(|(name, earliest, depends_on)| WaveNode {
                name,
                earliest: *earliest,
                depends_on,
            })
            .collect();
        resolve(&nodes, &BTreeSet::new())
    }

    #[test]
    fn a_dependency_forces_a_later_wave_than_the_earliest() {
        let waves = resolve_all(&[
            ("store", 0, deps(&["operator"])),
            ("operator", 4, deps(&[])),
        ])
        .unwrap();
        assert_eq!(waves["operator"], 4);
        assert_eq!(waves["store"], 5);
    }

    #[test]
    fn an_earliest_wave_holds_when_dependencies_are_earlier() {
        let waves = resolve_all(&[("app", 3, deps(&["db"])), ("db", 0, deps(&[]))]).unwrap();
        assert_eq!(waves["app"], 3);
    }

    #[test]
    fn negative_earliest_waves_are_allowed_and_propagate() {
        let waves = resolve_all(&[
            ("argocd", -1, deps(&[])),
            ("lb", -5, deps(&[])),
            ("lb-config", -5, deps(&["lb"])),
        ])
        .unwrap();
        assert_eq!(waves["argocd"], -1);
        assert_eq!(waves["lb"], -5);
        assert_eq!(waves["lb-config"], -4);
    }

    #[test]
    fn the_longest_chain_decides() {
        let waves = resolve_all(&[
            ("a", 0, deps(&[])),
            ("b", 0, deps(&["a"])),
            ("c", 0, deps(&["b"])),
            ("d", 0, deps(&["a", "c"])),
        ])
        .unwrap();
        assert_eq!(waves["d"], 3);
    }

    #[test]
    fn a_cycle_is_reported_with_its_path() {
        let errors = resolve_all(&[
            ("a", 0, deps(&["b"])),
            ("b", 0, deps(&["c"])),
            ("c", 0, deps(&["a"])),
            ("d", 0, deps(&[])),
        ])
        .unwrap_err();
        assert_eq!(errors, vec![WaveError::Cycle(deps(&["a", "b", "c", "a"]))]);
        assert!(errors[0].to_string().contains("a -> b -> c -> a"));
    }

    #[test]
    fn a_self_dependency_is_a_cycle() {
        let errors = resolve_all(&[("a", 0, deps(&["a"]))]).unwrap_err();
        assert_eq!(errors, vec![WaveError::Cycle(deps(&["a", "a"]))]);
    }

    #[test]
    fn unknown_and_disabled_dependencies_are_all_reported() {
        let depends = deps(&["ghost", "metallb"]);
        let nodes = [WaveNode {
            name: "vault",
            earliest: 0,
            depends_on: &depends,
        }];
        let errors = resolve(&nodes, &BTreeSet::from(["metallb"])).unwrap_err();
        assert_eq!(
            errors,
            vec![
                WaveError::UnknownDependency {
                    component: "vault".into(),
                    dependency: "ghost".into()
                },
                WaveError::DisabledDependency {
                    component: "vault".into(),
                    dependency: "metallb".into()
                },
            ]
        );
        assert!(
            errors[1]
                .to_string()
                .contains("enable `metallb` or disable `vault`")
        );
    }
}
