//! Environments that share one Argo CD (`argocd.hub`): exactly one of them manages it.

use std::collections::BTreeMap;

use platform_environments::{Diagnostic, LoadedEnvironment};

/// Every hub that no environment, or more than one, manages. Checked across environments, so
/// only when all of them are loaded.
pub fn check_hubs(environments: &[LoadedEnvironment]) -> Vec<Diagnostic> {
    let mut hubs: BTreeMap<String, Vec<&LoadedEnvironment>> = BTreeMap::new();
    for environment in environments {
        if let Some(hub) = &environment.env.argocd.hub {
            hubs.entry(hub.to_string()).or_default().push(environment);
        }
    }
    let mut diagnostics = Vec::new();
    for (hub, members) in hubs {
        let names: Vec<&str> = members.iter().map(|e| e.name.as_str()).collect();
        let managers: Vec<&&LoadedEnvironment> =
            members.iter().filter(|e| e.env.argocd.enabled).collect();
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
    diagnostics
}
