//! Every workload and its pods carry the cost-allocation labels, or their namespace does.
//! OpenCost labels a pod's cost with its node's, then its namespace's, then its own labels
//! (opencost `pkg/costmodel/allocation_helpers.go`, `applyLabels`): a chart's pods, which
//! carry none, are allocated by the namespace the platform labels.

use super::*;

impl<'a> Environment<'a> {
    pub(super) fn workloads_carry_cost_labels(&mut self) {
        // Taken while findings are pushed, and put back for the checks after this one.
        let namespace_labels = std::mem::take(&mut self.namespace_labels);
        let workloads: Vec<(&RenderedObject, &str)> = self
            .objects
            .iter()
            .filter_map(|o| {
                WORKLOADS
                    .iter()
                    .find(|(k, _)| *k == o.kind())
                    .map(|(_, t)| (*o, *t))
            })
            .collect();
        for (workload, template) in workloads {
            let from_namespace = workload
                .namespace()
                .and_then(|namespace| namespace_labels.get(namespace));
            let places: BTreeSet<&str> = ["/metadata", template]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect();
            for place in places {
                let labels_value = workload
                    .object
                    .pointer(&format!("{place}/labels"))
                    .unwrap_or(&Value::Null);
                for key in &self.conventions.cost_labels {
                    let value = labels_value
                        .get(key.as_str())
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let allocated_by_namespace = from_namespace
                        .and_then(|labels| labels.get(key.as_str()))
                        .is_some_and(|value| !value.is_empty());
                    if value.is_empty() && !allocated_by_namespace {
                        self.finding(workload, &format!("{place}/labels"), "cost-labels", labels_value, format!("missing the cost-allocation label `{key}`, so OpenCost cannot allocate this workload's cost"));
                    }
                }
            }
        }
        self.namespace_labels = namespace_labels;
    }
}
