//! Admission pre-flight: what Kyverno would say of each workload, before Argo CD applies it.
//!
//! Every Kyverno policy an environment renders is evaluated against every workload the same
//! environment renders (Pods and the pod templates of controllers and CronJobs), with the labels
//! the environment gives each namespace (its Namespace objects and the Applications'
//! `managedNamespaceMetadata`). A failing `Enforce` rule is a finding: the API server would
//! refuse the object and its wave would never complete. A failing `Audit` rule is a warning:
//! Kyverno admits the object and reports it. Rule names read `kyverno:<policy>/<rule>`.
//! Objects Helm renders from a chart inside the cluster are not in the tree and not checked.

use kyverno_engine::{Policy, PreparedPolicy, Request, Status};
use serde_json::Value;

use super::{Environment, WORKLOADS};
use crate::report::Finding;
use crate::tree::RenderedObject;

impl Environment<'_> {
    pub(super) fn workloads_pass_admission(&mut self) {
        let policies: Vec<(&RenderedObject, PreparedPolicy)> = self
            .objects
            .iter()
            .filter(|o| o.api_version().starts_with("kyverno.io/"))
            .filter_map(|o| match Policy::from_value(&o.object) {
                Ok(policy) => policy.map(|policy| (*o, PreparedPolicy::new(policy))),
                Err(_) => None,
            })
            .collect();
        if policies.is_empty() {
            return;
        }
        let namespace_labels =
            crate::tree::namespace_labels(self.objects.iter().map(|o| &o.object));
        let workloads: Vec<&RenderedObject> = self
            .objects
            .iter()
            .filter(|o| WORKLOADS.iter().any(|(kind, _)| *kind == o.kind()))
            .copied()
            .collect();
        for workload in workloads {
            let labels = workload
                .namespace()
                .and_then(|namespace| namespace_labels.get(namespace));
            let request = Request {
                namespace_labels: labels,
                ..Request::default()
            };
            let prepared = policies.iter().map(|(_, policy)| policy);
            for ((policy_object, _), (policy, results)) in policies.iter().zip(
                PreparedPolicy::evaluate_each(prepared, &workload.object, &request),
            ) {
                for result in results {
                    if !matches!(result.status, Status::Fail | Status::Error) {
                        continue;
                    }
                    let verdict = if result.enforce {
                        "would be refused by Kyverno (Enforce)"
                    } else {
                        "breaks an Audit rule; Kyverno admits it and reports it"
                    };
                    let cannot = if result.status == Status::Error {
                        " (the rule could not be evaluated)"
                    } else {
                        ""
                    };
                    let finding = Finding::new(
                        &workload.file,
                        &result.path.as_deref().map(pointer).unwrap_or_default(),
                        &format!("kyverno:{}/{}", policy.policy().metadata.name, result.rule),
                        &Value::String(format!("{} {}", workload.kind(), workload.name())),
                        format!(
                            "{} {} {verdict}{cannot}: {} (policy in {})",
                            workload.kind(),
                            workload.name(),
                            result.message,
                            policy_object.file
                        ),
                    );
                    if result.enforce {
                        self.findings.push(finding);
                    } else {
                        self.warnings.push(finding);
                    }
                }
            }
        }
    }
}

/// Kyverno's failure path (`/spec/template/spec/containers/0/image/`) as a JSON pointer.
fn pointer(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        trimmed.to_owned()
    }
}
