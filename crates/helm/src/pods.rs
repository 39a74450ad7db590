//! The pods a chart's objects run, read from the workloads Helm rendered: what the
//! NetworkPolicies, the cost forecast and the admission pre-flight must be right about.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::output::{ChartObject, Templated};

/// A pod template of a workload Helm rendered.
#[derive(Clone, Debug, PartialEq)]
pub struct Pod {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `CronJob` or `Pod`.
    pub kind: String,
    /// The workload's name.
    pub workload: String,
    pub labels: BTreeMap<String, String>,
    /// Annotations of the pod template (`prometheus.io/scrape` and the like).
    pub annotations: BTreeMap<String, String>,
    pub host_network: bool,
    /// The Argo CD phases a hook's pod runs at; `None` for a workload Argo CD syncs.
    pub hook: Option<Vec<&'static str>>,
    /// `spec.replicas` as rendered (absent: Kubernetes' default of one).
    pub replicas: Option<i64>,
    pub service_account: Option<String>,
    /// `automountServiceAccountToken` of the pod, if it sets one.
    pub automount_token: Option<bool>,
    /// Init containers first, then containers, each in the template's order.
    pub containers: Vec<Container>,
    /// A StatefulSet's claim templates: name and requested size.
    pub volume_claims: Vec<(String, String)>,
    /// The PersistentVolumeClaims its volumes mount (`persistentVolumeClaim.claimName`).
    pub mounted_claims: Vec<String>,
}

/// A container of a pod.
#[derive(Clone, Debug, PartialEq)]
pub struct Container {
    pub name: String,
    pub init: bool,
    /// `containerPort`s, in the template's order.
    pub ports: Vec<u16>,
    /// The ports that have a name, by name: what a Service's named `targetPort` means.
    pub named_ports: BTreeMap<String, u16>,
    /// `resources` as rendered (`Null` when the container has none).
    pub resources: Value,
}

impl Pod {
    /// Whether Argo CD runs this pod at all: a hook of no phase Argo CD knows (`test`) never
    /// runs.
    pub fn runs(&self) -> bool {
        self.hook.as_ref().is_none_or(|phases| !phases.is_empty())
    }
}

/// Every pod template of the chart's workloads, in Helm's order.
pub fn pods(templated: &Templated) -> Vec<Pod> {
    templated.objects.iter().filter_map(pod_of).collect()
}

fn pod_of(object: &ChartObject) -> Option<Pod> {
    let kind = object.kind();
    let spec = &object.object["spec"];
    let (template, replicas) = match kind {
        "Deployment" | "StatefulSet" => (&spec["template"], spec["replicas"].as_i64()),
        "DaemonSet" | "Job" => (&spec["template"], None),
        "CronJob" => (&spec["jobTemplate"]["spec"]["template"], None),
        "Pod" => (&object.object, None),
        _ => return None,
    };
    let pod_spec = &template["spec"];
    let containers = [("initContainers", true), ("containers", false)]
        .into_iter()
        .flat_map(|(field, init)| {
            pod_spec[field]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |c| Container {
                    name: c["name"].as_str().unwrap_or_default().to_owned(),
                    init,
                    ports: c["ports"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|p| p["containerPort"].as_u64())
                        .filter_map(|p| u16::try_from(p).ok())
                        .collect(),
                    named_ports: c["ports"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|p| {
                            let number = u16::try_from(p["containerPort"].as_u64()?).ok()?;
                            Some((p["name"].as_str()?.to_owned(), number))
                        })
                        .collect(),
                    resources: c["resources"].clone(),
                })
        })
        .collect();
    let text_map = |map: &Value| -> BTreeMap<String, String> {
        map.as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect()
    };
    let labels = text_map(&template["metadata"]["labels"]);
    let annotations = text_map(&template["metadata"]["annotations"]);
    let volume_claims = spec["volumeClaimTemplates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|claim| {
            (
                claim["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                claim["spec"]["resources"]["requests"]["storage"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let mounted_claims = pod_spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|volume| volume["persistentVolumeClaim"]["claimName"].as_str())
        .map(str::to_owned)
        .collect();
    Some(Pod {
        kind: kind.to_owned(),
        workload: object.name().to_owned(),
        labels,
        annotations,
        host_network: pod_spec["hostNetwork"].as_bool().unwrap_or(false),
        hook: object.hook.as_ref().map(|hook| hook.phases.clone()),
        replicas,
        service_account: pod_spec["serviceAccountName"].as_str().map(str::to_owned),
        automount_token: pod_spec["automountServiceAccountToken"].as_bool(),
        containers,
        volume_claims,
        mounted_claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_of_every_kind_give_their_pod_template() {
        let stdout = "---\n# Source: c/templates/a.yaml\nkind: StatefulSet\nmetadata: {name: s}\nspec:\n  replicas: 3\n  template:\n    metadata: {labels: {app: s}}\n    spec:\n      serviceAccountName: sa\n      initContainers: [{name: init}]\n      containers:\n      - name: main\n        ports: [{containerPort: 8200}, {containerPort: 8201}]\n        resources: {limits: {cpu: '1'}}\n  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: {resources: {requests: {storage: 10Gi}}}\n---\n# Source: c/templates/b.yaml\nkind: CronJob\nmetadata: {name: cj}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          hostNetwork: true\n          containers: [{name: run}]\n---\n# Source: c/templates/t.yaml\nkind: Pod\nmetadata:\n  name: t\n  annotations: {helm.sh/hook: test}\nspec:\n  containers: [{name: t}]\n---\n# Source: c/templates/svc.yaml\nkind: Service\nmetadata: {name: svc}\n";
        let pods = pods(&crate::output::parse(stdout).unwrap());
        assert_eq!(pods.len(), 3);
        let set = &pods[0];
        assert_eq!(
            (set.replicas, set.service_account.as_deref()),
            (Some(3), Some("sa"))
        );
        assert_eq!(
            set.containers
                .iter()
                .map(|c| (c.name.as_str(), c.init))
                .collect::<Vec<_>>(),
            [("init", true), ("main", false)]
        );
        assert_eq!(set.containers[1].ports, [8200, 8201]);
        assert_eq!(set.volume_claims, [("data".to_owned(), "10Gi".to_owned())]);
        assert!(pods[1].host_network && pods[1].runs());
        assert!(!pods[2].runs());
    }
}
