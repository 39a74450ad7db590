//! One app namespace: the Namespace with its labels, its quota and container defaults, and,
//! where its app reads secrets, the service account ESO presents to Vault on its behalf.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    LimitRange, LimitRangeItem, LimitRangeSpec, Namespace, ResourceQuota, ResourceQuotaSpec,
    ServiceAccount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use platform_core::application::metadata;
use platform_core::budget::TeamBudget;
use platform_core::eso::token_request_grant;
use platform_core::labels;
use platform_core::manifest::Manifest;
use platform_core::model::{App, Environment, ResourceAmounts, Team};
use platform_core::names;

/// The Pod Security Standard every app namespace enforces: the platform's pods meet
/// `restricted`, so a pod that does not is refused by the API server itself, whether or not
/// Kyverno is up.
const POD_SECURITY_ENFORCE: (&str, &str) = ("pod-security.kubernetes.io/enforce", "restricted");

pub const QUOTA: &str = "team-quota";
pub const LIMITS: &str = "container-defaults";

/// The platform's objects of one app's namespace.
pub fn objects(env: &Environment, team: &Team, budget: &TeamBudget, app: &App) -> Vec<Manifest> {
    let namespace = app.namespace().as_str();
    let labels = team_labels(team);
    let named = |name: &str| ObjectMeta {
        labels: Some(labels.clone()),
        ..metadata(name, Some(namespace))
    };
    let mut namespace_labels = labels.clone();
    namespace_labels.insert(labels::TENANT.to_owned(), labels::TENANT_VALUE.to_owned());
    namespace_labels.insert(
        POD_SECURITY_ENFORCE.0.to_owned(),
        POD_SECURITY_ENFORCE.1.to_owned(),
    );
    let mut objects = vec![
        Manifest::new(Namespace {
            metadata: ObjectMeta {
                labels: Some(namespace_labels),
                ..metadata(namespace, None)
            },
            ..Namespace::default()
        }),
        Manifest::new(quota(env, budget.quota_scale(env, app), named(QUOTA))),
        Manifest::new(limit_range(env, named(LIMITS))),
    ];
    if !app.secrets.is_empty() {
        objects.push(Manifest::new(ServiceAccount {
            metadata: named(names::TEAM_VAULT_SERVICE_ACCOUNT),
            // Only ESO requests its tokens, through the TokenRequest API; no pod runs as it.
            automount_service_account_token: Some(false),
            ..ServiceAccount::default()
        }));
        let (role, binding) =
            token_request_grant(namespace, names::TEAM_VAULT_SERVICE_ACCOUNT, &labels);
        objects.push(Manifest::new(role));
        objects.push(Manifest::new(binding));
    }
    objects
}

/// What every object of a team's tenancy carries: its cost allocation, and who manages it.
pub fn team_labels(team: &Team) -> BTreeMap<String, String> {
    let mut labels = labels::cost_allocation(team.name.as_str(), team.cost_center.as_str());
    labels.insert(labels::PART_OF.to_owned(), labels::PLATFORM.to_owned());
    labels.insert(labels::MANAGED_BY.to_owned(), labels::MANAGER.to_owned());
    labels
}

/// The platform's namespace quota, scaled by what the team's budget pays for (`scale` ≤ 1):
/// the cluster then refuses pods past what the forecast promised.
fn quota(env: &Environment, scale: f64, metadata: ObjectMeta) -> ResourceQuota {
    let quota = &env.workloads.namespace_quota;
    let mut hard = BTreeMap::new();
    for (prefix, amounts) in [("requests", &quota.requests), ("limits", &quota.limits)] {
        let (cpu, memory) = if scale < 1.0 {
            let millicores = (amounts.cpu.nanos() as f64 / 1e6 * scale).floor();
            let mebibytes = (amounts.memory.nanos() as f64 / 1e9 / 1_048_576.0 * scale).floor();
            (format!("{millicores}m"), format!("{mebibytes}Mi"))
        } else {
            (amounts.cpu.to_string(), amounts.memory.to_string())
        };
        hard.insert(format!("{prefix}.cpu"), Quantity(cpu));
        hard.insert(format!("{prefix}.memory"), Quantity(memory));
    }
    hard.insert("pods".to_owned(), Quantity(quota.pods.to_string()));
    ResourceQuota {
        metadata,
        spec: Some(ResourceQuotaSpec {
            hard: Some(hard),
            ..ResourceQuotaSpec::default()
        }),
        ..ResourceQuota::default()
    }
}

fn limit_range(env: &Environment, metadata: ObjectMeta) -> LimitRange {
    let defaults = &env.workloads.container_defaults;
    LimitRange {
        metadata,
        spec: Some(LimitRangeSpec {
            limits: vec![LimitRangeItem {
                type_: "Container".to_owned(),
                default_request: Some(quantities(&defaults.requests)),
                default: Some(quantities(&defaults.limits)),
                ..LimitRangeItem::default()
            }],
        }),
    }
}

fn quantities(amounts: &ResourceAmounts) -> BTreeMap<String, Quantity> {
    BTreeMap::from([
        ("cpu".to_owned(), Quantity(amounts.cpu.to_string())),
        ("memory".to_owned(), Quantity(amounts.memory.to_string())),
    ])
}
