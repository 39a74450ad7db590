//! User applications: one Argo CD Application per `apps` entry, in its team's project, holding
//! the app's ServiceAccount, Deployment, Service and ExternalSecrets. Its namespace, quota,
//! secret store and NetworkPolicies are the platform's: the team's tenant Application. Every object is built to pass the
//! platform's own policies: non-root, no privilege escalation, read-only root filesystem,
//! requests and limits, a pinned image, and the cost-allocation labels.

mod workload;

use std::collections::BTreeMap;

use platform_core::component::{Component, Layer, Source, tier};
use platform_core::labels;
use platform_core::manifest::Manifest;
use platform_core::model::{App, Environment, Team};
use platform_core::names;
use platform_core::traffic::{Peer, Port, Traffic};

pub use workload::objects;

pub fn components(env: &Environment) -> Vec<Component> {
    env.apps
        .iter()
        .filter_map(|app| {
            // An app of an undeclared team is reported by the model's checks.
            let team = env.team(&app.team)?;
            Some(component(env, app, team))
        })
        .collect()
}

fn component(env: &Environment, app: &App, team: &Team) -> Component {
    let manifests: Vec<Manifest> = objects(env, app, team);
    let tenant = names::tenant_app(team.name.as_str());
    let mut depends_on = vec![tenant.as_str()];
    if env.policies.enabled {
        // Admit the app only once the policies that govern it are in place.
        depends_on.push(names::app::SECURITY_POLICIES);
    }
    Component::new(
        app.name.as_str(),
        app.namespace().as_str(),
        Layer::Applications,
        Source::Manifests(manifests),
    )
    .labels(labels::cost_allocation(
        team.name.as_str(),
        team.cost_center.as_str(),
    ))
    .earliest_wave(tier::APPLICATIONS)
    .depends_on(&depends_on)
    .project(&names::team_scoped(team.name.as_str()))
    .traffic(traffic(app))
    .network_policies_shipped_by(&tenant)
}

/// An app's pods, the apps and addresses it calls, and the API if it asked for it.
fn traffic(app: &App) -> Traffic {
    let mut traffic = Traffic {
        pods: selector(app),
        ..Traffic::default()
    };
    for call in &app.calls {
        traffic = traffic.calls_component(call.app.as_str(), &[Port::tcp(call.port)]);
    }
    for egress in &app.egress {
        let ports: Vec<Port> = egress.ports.iter().map(|p| Port::tcp(*p)).collect();
        traffic = traffic.calls(
            Peer::External {
                cidr: egress.cidr.clone(),
            },
            &ports,
        );
    }
    if app.api_access {
        traffic = traffic.calls_kubernetes_api();
    }
    traffic
}

/// The labels that select an app's pods, and nothing else's.
pub fn selector(app: &App) -> BTreeMap<String, String> {
    BTreeMap::from([(labels::NAME.to_owned(), app.name.to_string())])
}

/// Labels every object of an app carries: its identity and its cost allocation.
pub fn app_labels(app: &App, team: &Team) -> BTreeMap<String, String> {
    let mut labels = labels::cost_allocation(team.name.as_str(), team.cost_center.as_str());
    labels.insert(labels::NAME.to_owned(), app.name.to_string());
    labels.insert(labels::PART_OF.to_owned(), labels::PLATFORM.to_owned());
    labels.insert(labels::MANAGED_BY.to_owned(), labels::MANAGER.to_owned());
    labels
}
