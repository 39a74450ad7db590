//! Environments that share one Argo CD (`argocd.hub`): exactly one of them manages it, and
//! it is told every environment it deploys.

use std::collections::BTreeMap;

use platform_core::model::ServedEnvironment;
use platform_environments::{Diagnostic, EnvironmentFile, LoadedEnvironment};

/// Parses, layers and checks every file ([`platform_environments::load`]), and tells each
/// environment that runs Argo CD which environments it deploys.
pub fn load(files: &[EnvironmentFile]) -> Result<Vec<LoadedEnvironment>, Vec<Diagnostic>> {
    let mut loaded = platform_environments::load(files)?;
    resolve(&mut loaded, &[]);
    Ok(loaded)
}

/// Like [`load`], but types and checks only the environments `wanted` names, and the others
/// of a hub one of them manages: its Argo CD deploys them too, so they must load.
pub fn load_matching(
    files: &[EnvironmentFile],
    wanted: impl Fn(&str) -> bool,
) -> Result<Vec<LoadedEnvironment>, Vec<Diagnostic>> {
    let mut loaded = platform_environments::load_matching(files, &wanted)?;
    let manages_a_hub = loaded
        .iter()
        .any(|e| e.env.argocd.enabled && e.env.argocd.hub.is_some());
    let others = if manages_a_hub {
        platform_environments::load_matching(files, |name| !wanted(name))?
    } else {
        Vec::new()
    };
    resolve(&mut loaded, &others);
    Ok(loaded)
}

/// Every environment an alert route names sends alerts to its Alertmanager: it is one of the
/// hub's that the environment's Argo CD deploys (only a hub's alerts name their
/// environment). A hub that no environment, or several, manage is reported by
/// [`check_hubs`] instead: its routes cannot be judged.
fn routed_environments_exist(
    loaded: &[LoadedEnvironment],
    unmanaged: &[String],
) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for environment in loaded {
        if let Some(hub) = &environment.env.argocd.hub
            && unmanaged.contains(&hub.to_string())
        {
            continue;
        }
        let labelled: Vec<&str> = environment
            .env
            .argocd
            .serves
            .iter()
            .filter(|served| served.shared)
            .map(|served| served.name.as_str())
            .collect();
        for (i, route) in environment.env.alerting.routes.iter().enumerate() {
            for (j, name) in route.environments.iter().enumerate() {
                if labelled.contains(&name.as_str()) {
                    continue;
                }
                let expected = if labelled.is_empty() {
                    "no alert of this Alertmanager names an environment: only the environment that manages a hub's Argo CD receives alerts by environment".to_owned()
                } else {
                    format!("expected one of: {}", labelled.join(", "))
                };
                errors.push(environment.diagnostic(
                    Some(&format!("alerting.routes[{i}].environments[{j}]")),
                    format!("environment `{name}` raises no alert here; {expected}"),
                ));
            }
        }
    }
    errors
}

/// Sets `argocd.serves` of each environment of `loaded` that runs Argo CD: itself alone, or,
/// if it manages a hub, every environment on that hub, of `others` and itself, by name. [`load`]
/// does this; an environment changed in code afterwards is resolved again with this.
pub fn resolve(loaded: &mut [LoadedEnvironment], others: &[LoadedEnvironment]) {
    // Each hub's environments as its Argo CD sees them, by name: `loaded` first, so that an
    // environment changed in code wins over the copy of it in `others`.
    let mut hubs: BTreeMap<String, BTreeMap<&str, ServedEnvironment>> = BTreeMap::new();
    for environment in others.iter().chain(loaded.iter()) {
        if let Some(hub) = &environment.env.argocd.hub {
            hubs.entry(hub.to_string()).or_default().insert(
                &environment.name,
                ServedEnvironment::of(&environment.name, &environment.env),
            );
        }
    }
    let serves: Vec<Vec<ServedEnvironment>> = loaded
        .iter()
        .map(|environment| {
            let argocd = &environment.env.argocd;
            match (&argocd.hub, argocd.enabled) {
                (_, false) => Vec::new(),
                (None, true) => vec![ServedEnvironment::of(&environment.name, &environment.env)],
                (Some(hub), true) => hubs[hub.as_str()].values().cloned().collect(),
            }
        })
        .collect();
    for (environment, serves) in loaded.iter_mut().zip(serves) {
        environment.env.argocd.serves = serves;
    }
}

/// Every hub that no environment, or more than one, manages, and every alert route naming
/// an environment whose alerts do not reach it. Checked across environments, so only when
/// all of them are loaded.
pub fn check_hubs(environments: &[LoadedEnvironment]) -> Vec<Diagnostic> {
    let mut hubs: BTreeMap<String, Vec<&LoadedEnvironment>> = BTreeMap::new();
    for environment in environments {
        if let Some(hub) = &environment.env.argocd.hub {
            hubs.entry(hub.to_string()).or_default().push(environment);
        }
    }
    let mut diagnostics = Vec::new();
    let mut unmanaged = Vec::new();
    for (hub, members) in hubs {
        let names: Vec<&str> = members.iter().map(|e| e.name.as_str()).collect();
        let managers: Vec<&&LoadedEnvironment> =
            members.iter().filter(|e| e.env.argocd.enabled).collect();
        if managers.len() != 1 {
            unmanaged.push(hub.clone());
        }
        match managers.as_slice() {
            [_] => {}
            [] => diagnostics.extend(members.iter().map(|e| {
                e.diagnostic(
                    Some("argocd.hub"),
                    format!(
                        "no environment of hub `{hub}` ({}) manages its Argo CD; expected `argocd.enabled: true` in exactly one of them",
                        names.join(", ")
                    ),
                )
            })),
            several => diagnostics.extend(several.iter().map(|e| {
                e.diagnostic(
                    Some("argocd.enabled"),
                    format!(
                        "{} environments of hub `{hub}` manage its Argo CD ({}), and their `argocd` Applications would undo each other; expected `argocd.enabled: true` in exactly one",
                        several.len(),
                        several.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
            })),
        }
    }
    diagnostics.extend(routed_environments_exist(environments, &unmanaged));
    diagnostics
}
