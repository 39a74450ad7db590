//! Label keys, and the one definition of the cost-allocation labels.
//!
//! Team and cost-center labels are how OpenCost allocates cost. User workloads carry them,
//! the Kyverno policy requires them, and OpenCost is configured to read them: all three take
//! the keys from here, so they cannot drift apart.

use std::collections::BTreeMap;

/// The team that owns a workload.
pub const TEAM: &str = "team";
/// The cost center a workload's spend is booked to.
pub const COST_CENTER: &str = "cost-center";
/// Every label a workload must carry for cost allocation, in the order they are documented.
pub const COST_ALLOCATION: [&str; 2] = [TEAM, COST_CENTER];

pub const NAME: &str = "app.kubernetes.io/name";
pub const INSTANCE: &str = "app.kubernetes.io/instance";
pub const PART_OF: &str = "app.kubernetes.io/part-of";
/// The label of the alerts a hub's Argo CD raises for each of its environments, naming it.
pub const ENVIRONMENT: &str = "environment";
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// `app.kubernetes.io/part-of` of everything the platform itself runs.
pub const PLATFORM: &str = "finops-platform";
/// `app.kubernetes.io/managed-by` of everything this generator renders for Argo CD.
pub const MANAGER: &str = "argocd";

/// Label of every namespace the platform creates for a team's app: the security policies
/// govern exactly the namespaces that carry it, so the platform's own and any add-on a
/// cluster runs (CNI, ingress controller, …) are left alone without a list to keep.
pub const TENANT: &str = "finops-platform.io/tenant";
pub const TENANT_VALUE: &str = "true";

/// Annotation on a workload naming, comma-separated, the Secrets it reads that a person
/// creates by hand (bootstrap credentials), and that therefore no object in Git produces.
pub const MANUAL_SECRETS_ANNOTATION: &str = "finops-platform.io/manual-secrets";

/// The cost-allocation labels of a team.
pub fn cost_allocation(team: &str, cost_center: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (TEAM.to_owned(), team.to_owned()),
        (COST_CENTER.to_owned(), cost_center.to_owned()),
    ])
}
