//! Tenancy: what the platform, not the team, owns of each team's part of the cluster.
//!
//! One Application per team with apps, `tenant-<team>`, in the platform's project, synced
//! before the apps: each app namespace with its labels (team, cost center, the tenant label
//! the security policies select by, the restricted Pod Security level), a ResourceQuota and a
//! LimitRange; the team's ClusterSecretStore, open to the team's namespaces only; and, added
//! by the platform, every NetworkPolicy of those namespaces. A team's own project may create
//! none of these, so a team cannot widen its network, raise its quota or read another team's
//! secrets by editing what it deploys.

mod namespace;
mod secrets;

use platform_core::budget::TeamBudget;
use platform_core::component::{Component, Layer, Source, tier};
use platform_core::labels;
use platform_core::manifest::Manifest;
use platform_core::model::{App, Environment, Team};
use platform_core::names;

pub use secrets::team_store;

pub fn components(env: &Environment) -> Vec<Component> {
    env.teams
        .iter()
        .filter_map(|team| component(env, team))
        .collect()
}

/// A team's tenancy, or none for a team without apps.
fn component(env: &Environment, team: &Team) -> Option<Component> {
    let apps: Vec<&App> = env
        .apps
        .iter()
        .filter(|app| app.team == team.name)
        .collect();
    let first = apps.first()?.namespace().as_str();
    let budget = TeamBudget::of(env, team, &apps);
    let mut manifests: Vec<Manifest> = apps
        .iter()
        .flat_map(|app| namespace::objects(env, team, &budget, app))
        .collect();
    manifests.extend(secrets::objects(env, team));
    let mut depends_on = Vec::new();
    if manifests.iter().any(|m| m.id.kind == "ClusterSecretStore") {
        // The store's kind is ESO's CRD, and it logs into Vault.
        depends_on.extend([names::app::EXTERNAL_SECRETS, names::app::VAULT]);
    }
    Some(
        Component::new(
            &names::tenant_app(team.name.as_str()),
            first,
            Layer::Applications,
            Source::Manifests(manifests),
        )
        .labels(labels::cost_allocation(
            team.name.as_str(),
            team.cost_center.as_str(),
        ))
        .earliest_wave(tier::CONFIGURATION)
        .depends_on(&depends_on)
        // A team with several apps gets the same objects in each of their namespaces.
        .folder_per_namespace(),
    )
}
