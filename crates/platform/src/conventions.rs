//! What the validator needs to know of this platform, handed to it so that it knows no
//! component itself.

use platform_core::labels;
use platform_validate::Conventions;

use crate::catalog::CHARTS;

pub fn conventions() -> Conventions {
    Conventions {
        cost_labels: labels::COST_ALLOCATION
            .iter()
            .map(|l| (*l).to_owned())
            .collect(),
        manual_secrets_annotation: Some(labels::MANUAL_SECRETS_ANNOTATION.to_owned()),
        crd_providers: CHARTS
            .iter()
            .flat_map(|chart| {
                chart
                    .crd_groups
                    .iter()
                    .map(|group| ((*group).to_owned(), chart.name.to_owned()))
            })
            .collect(),
        platform_only_kinds: [
            "NetworkPolicy",
            "ResourceQuota",
            "LimitRange",
            "Role",
            "RoleBinding",
            "SecretStore",
            "Secret",
        ]
        .iter()
        .map(|k| (*k).to_owned())
        .collect(),
        chart_resources: CHARTS
            .iter()
            .map(|chart| {
                let mut paths: Vec<String> = chart
                    .pods
                    .iter()
                    .flat_map(|pod| pod.containers)
                    .map(|container| container.resources.to_owned())
                    .collect();
                paths.sort();
                paths.dedup();
                (chart.name.to_owned(), paths)
            })
            .collect(),
        secrets_created_by: CHARTS
            .iter()
            .flat_map(|chart| chart.pods)
            .flat_map(|pod| {
                pod.creates_secrets
                    .iter()
                    .map(|secret| (pod.workload.to_owned(), (*secret).to_owned()))
            })
            .collect(),
    }
}
