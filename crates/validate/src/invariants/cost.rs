//! Every workload and its pods carry the cost-allocation labels.

use super::*;

impl<'a> Environment<'a> {
    pub(super) fn workloads_carry_cost_labels(&mut self) {
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
            let places: BTreeSet<&str> = ["/metadata", template]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect();
            for place in places {
                let labels_value = workload
                    .object
                    .pointer(&format!("{place}/labels"))
                    .cloned()
                    .unwrap_or(Value::Null);
                for key in &self.conventions.cost_labels {
                    let value = labels_value
                        .get(key.as_str())
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if value.is_empty() {
                        self.finding(workload, &format!("{place}/labels"), "cost-labels", &labels_value, format!("missing the cost-allocation label `{key}`, so OpenCost cannot allocate this workload's cost"));
                    }
                }
            }
        }
    }
}
