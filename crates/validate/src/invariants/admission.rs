//! Admission pre-flight: what Kyverno would say of each workload, before Argo CD applies it.
//!
//! Every Kyverno policy an environment renders is evaluated against every workload the same
//! environment renders (Pods and the pod templates of controllers and CronJobs), with the labels
//! the environment gives each namespace (its Namespace objects and the Applications'
//! `managedNamespaceMetadata`). A failing `Enforce` rule is a finding: the API server would
//! refuse the object and its wave would never complete. A failing `Audit` rule is a warning:
//! Kyverno admits the object and reports it. Rule names read `kyverno:<policy>/<rule>`.
//! Objects Helm renders from a chart inside the cluster are not in the tree and not checked.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use kyverno_engine::{Policy, PreparedPolicy, Request, Status};
use platform_memo::{Fingerprinter, Generations, write_json};
use serde_json::Value;

use super::{Environment, WORKLOADS};
use crate::report::Finding;
use crate::tree::RenderedObject;

/// Admission verdicts kept between checks, by the workload's file, with what they judged:
/// the environment's policies (with their files, by fingerprint), the workload's object and
/// its namespace's labels. What Kyverno says of a workload reads nothing else, so a kept
/// verdict is the one evaluating would give.
#[derive(Debug, Default)]
pub struct AdmissionMemo {
    verdicts: Mutex<Generations<String, Arc<Verdicts>>>,
}

impl AdmissionMemo {
    /// Ends a check: the verdicts it did not ask for are dropped.
    pub fn advance(&self) {
        self.lock().advance();
    }

    /// How many verdicts the last check that ended reused and how many it evaluated.
    pub fn last_counts(&self) -> (usize, usize) {
        self.lock().last_counts()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations<String, Arc<Verdicts>>> {
        // A check that panicked leaves only whole entries behind.
        self.verdicts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What Kyverno says of one workload: the findings of `Enforce` rules and the warnings of
/// `Audit` rules.
#[derive(Debug, Default)]
struct Verdicts {
    refused: Vec<Finding>,
    reported: Vec<Finding>,
}

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
        // Taken while findings are pushed, and put back at the end.
        let namespace_labels = std::mem::take(&mut self.namespace_labels);
        let workloads: Vec<&RenderedObject> = self
            .objects
            .iter()
            .filter(|o| WORKLOADS.iter().any(|(kind, _)| *kind == o.kind()))
            .copied()
            .collect();
        let policies_read = self.admission_memo.map(|_| {
            let mut read = Fingerprinter::new();
            for (object, _) in &policies {
                read.add(&object.file).add_json(&object.object);
            }
            read.fingerprint()
        });
        let mut input = Vec::new();
        for workload in workloads {
            let labels = workload
                .namespace()
                .and_then(|namespace| namespace_labels.get(namespace));
            let judge = || Arc::new(verdicts(&policies, workload, labels));
            let verdicts = match (self.admission_memo, &policies_read) {
                (Some(memo), Some(policies_read)) => {
                    input.clear();
                    input.extend_from_slice(&policies_read.to_bytes());
                    write_json(&mut input, &labels);
                    write_json(&mut input, &workload.object);
                    memo.lock()
                        .get_or_compute(workload.file.clone(), &input, judge)
                }
                _ => judge(),
            };
            self.findings.extend(verdicts.refused.iter().cloned());
            self.warnings.extend(verdicts.reported.iter().cloned());
        }
        self.namespace_labels = namespace_labels;
    }
}

/// What every policy says of `workload`, in a namespace labelled `labels`.
fn verdicts(
    policies: &[(&RenderedObject, PreparedPolicy)],
    workload: &RenderedObject,
    labels: Option<&BTreeMap<String, String>>,
) -> Verdicts {
    let request = Request {
        namespace_labels: labels,
        ..Request::default()
    };
    let mut verdicts = Verdicts::default();
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
                verdicts.refused.push(finding);
            } else {
                verdicts.reported.push(finding);
            }
        }
    }
    verdicts
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
