//! A team's secret store: one ClusterSecretStore, `team-<team>`, that only the team's app
//! namespaces may use, logging into Vault as the team's role with the token of the
//! `vault-secrets` service account of the ExternalSecret's own namespace.
//!
//! Four fences stand between a team and another team's secret, each enough on its own: the
//! store's conditions admit only the team's namespaces; ESO presents the token of the
//! ExternalSecret's own namespace; Vault's role accepts only the team's namespaces; the
//! role's policy reads only the paths the team's apps declare.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use platform_core::application::metadata;
use platform_core::eso::{
    ClusterSecretStore, ClusterSecretStoreSpec, ServiceAccountRef, StoreCondition, vault_provider,
};
use platform_core::manifest::Manifest;
use platform_core::model::{Environment, Team};
use platform_core::names;

use crate::namespace::team_labels;

/// The name of a team's store (and of its Vault role and policy).
pub fn team_store(team: &Team) -> String {
    names::team_scoped(team.name.as_str())
}

pub fn objects(env: &Environment, team: &Team) -> Vec<Manifest> {
    let namespaces: Vec<String> = env
        .secret_namespaces(&team.name)
        .map(ToString::to_string)
        .collect();
    if namespaces.is_empty() || !env.secrets.enabled {
        return Vec::new();
    }
    let store = ClusterSecretStore {
        metadata: ObjectMeta {
            labels: Some(team_labels(team)),
            ..metadata(&team_store(team), None)
        },
        spec: ClusterSecretStoreSpec {
            provider: vault_provider(
                env,
                &team_store(team),
                ServiceAccountRef {
                    name: names::TEAM_VAULT_SERVICE_ACCOUNT.to_owned(),
                    namespace: None,
                },
            ),
            conditions: vec![StoreCondition { namespaces }],
        },
    };
    vec![Manifest::new(store)]
}
