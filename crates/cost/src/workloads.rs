//! What an Application runs: containers, replicas, volumes and LoadBalancers, from its
//! manifests and its Helm values.

use std::collections::BTreeMap;

use platform_core::component::{ChartVolume, HelmChart, Replicas};
use platform_core::model::Quantity;
use platform_core::sizing::value_at;
use serde::Serialize;
use serde_json::Value;

/// CPU cores and GiB of memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Usage {
    pub cpu_cores: f64,
    pub memory_gib: f64,
}

impl Usage {
    fn add(&mut self, other: Usage, times: f64) {
        self.cpu_cores += other.cpu_cores * times;
        self.memory_gib += other.memory_gib * times;
    }
}

#[derive(Debug, Default)]
pub(crate) struct Spend {
    pub requests: Usage,
    pub limits: Usage,
    pub storage_gib: f64,
    pub load_balancers: u32,
    /// The cost-allocation labels its workloads carry, for an Application whose namespace
    /// the tree does not label.
    pub labels: BTreeMap<String, String>,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// A quantity's value in its unit (cores, bytes); 0 for what does not parse.
fn amount(value: Option<&Value>) -> Option<f64> {
    let text = match value? {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        _ => return None,
    };
    Quantity::try_from(text.as_str())
        .ok()
        .map(|quantity| quantity.nanos() as f64 / 1e9)
}

/// Requests and limits of one container's `resources`; a missing limit counts at the request.
fn container(resources: &Value) -> (Usage, Usage) {
    let usage = |section: &str| Usage {
        cpu_cores: amount(resources.get(section).and_then(|list| list.get("cpu"))).unwrap_or(0.0),
        memory_gib: amount(resources.get(section).and_then(|list| list.get("memory")))
            .unwrap_or(0.0)
            / GIB,
    };
    let requests = usage("requests");
    let mut limits = usage("limits");
    if limits.cpu_cores == 0.0 {
        limits.cpu_cores = requests.cpu_cores;
    }
    if limits.memory_gib == 0.0 {
        limits.memory_gib = requests.memory_gib;
    }
    (requests, limits)
}

pub(crate) fn of_application<'o>(
    application: &Value,
    manifests: impl Iterator<Item = &'o Value>,
    charts: &[HelmChart],
    nodes: u32,
) -> Spend {
    let mut spend = Spend::default();
    let spec = &application["spec"];
    let sources: Vec<&Value> = match spec["sources"].as_array() {
        Some(sources) => sources.iter().collect(),
        None => vec![&spec["source"]],
    };
    for source in sources {
        let Some(chart) = source["chart"]
            .as_str()
            .and_then(|name| charts.iter().find(|chart| chart.name == name))
        else {
            continue;
        };
        helm_release(chart, &source["helm"]["valuesObject"], nodes, &mut spend);
    }
    for manifest in manifests {
        object(manifest, nodes, &mut spend);
    }
    spend
}

fn switch(values: &Value, path: &str, default: bool) -> bool {
    value_at(values, path)
        .and_then(Value::as_bool)
        .unwrap_or(default)
}

fn replicas(values: &Value, replicas: Replicas, nodes: u32) -> f64 {
    let number = |path: &str, default: u32| {
        value_at(values, path)
            .and_then(Value::as_f64)
            .unwrap_or(f64::from(default))
    };
    match replicas {
        Replicas::One => 1.0,
        Replicas::At { path, default } => number(path, default),
        Replicas::WhenEnabled {
            enabled,
            replicas,
            default,
        } => {
            if switch(values, enabled, false) {
                number(replicas, default)
            } else {
                1.0
            }
        }
        Replicas::PerNode => f64::from(nodes),
        Replicas::Hook => 0.0,
    }
}

/// What a pod asks for, as the scheduler counts it: the larger of the sum of its containers
/// and the largest of its init containers, which run one at a time before them.
#[derive(Default)]
struct PodUsage {
    running: (Usage, Usage),
    init: (Usage, Usage),
}

impl PodUsage {
    fn add_container(&mut self, resources: &Value, init: bool) {
        let (requests, limits) = container(resources);
        if init {
            let larger = |a: &mut Usage, b: Usage| {
                a.cpu_cores = a.cpu_cores.max(b.cpu_cores);
                a.memory_gib = a.memory_gib.max(b.memory_gib);
            };
            larger(&mut self.init.0, requests);
            larger(&mut self.init.1, limits);
        } else {
            self.running.0.add(requests, 1.0);
            self.running.1.add(limits, 1.0);
        }
    }

    fn charge(&self, spend: &mut Spend, count: f64) {
        let effective = |running: Usage, init: Usage| Usage {
            cpu_cores: running.cpu_cores.max(init.cpu_cores),
            memory_gib: running.memory_gib.max(init.memory_gib),
        };
        spend
            .requests
            .add(effective(self.running.0, self.init.0), count);
        spend
            .limits
            .add(effective(self.running.1, self.init.1), count);
    }
}

fn helm_release(chart: &HelmChart, values: &Value, nodes: u32, spend: &mut Spend) {
    for pod in chart.pods {
        let count = replicas(values, pod.replicas, nodes);
        let mut usage = PodUsage::default();
        for container_spec in pod.containers {
            let resources = value_at(values, container_spec.resources)
                .cloned()
                .unwrap_or(Value::Null);
            usage.add_container(&resources, container_spec.init);
        }
        usage.charge(spend, count);
    }
    for volume in chart.volumes {
        spend.storage_gib += volume_gib(chart, volume, values, nodes);
    }
    spend.load_balancers += chart
        .service_types
        .iter()
        .filter(|path| value_at(values, path).and_then(Value::as_str) == Some("LoadBalancer"))
        .count() as u32;
}

fn volume_gib(chart: &HelmChart, volume: &ChartVolume, values: &Value, nodes: u32) -> f64 {
    if !switch(values, volume.enabled, volume.enabled_default)
        || volume
            .unless
            .is_some_and(|path| switch(values, path, false))
    {
        return 0.0;
    }
    let size = value_at(values, volume.size)
        .cloned()
        .unwrap_or_else(|| Value::String(volume.default_size.to_owned()));
    let per_replica = amount(Some(&size)).unwrap_or(0.0) / GIB;
    let count = chart
        .pods
        .iter()
        .find(|pod| pod.workload == volume.workload)
        .map_or(1.0, |pod| replicas(values, pod.replicas, nodes));
    per_replica * count
}

fn object(manifest: &Value, nodes: u32, spend: &mut Spend) {
    let kind = manifest["kind"].as_str().unwrap_or_default();
    let pod_spec = match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => {
            &manifest["spec"]["template"]["spec"]
        }
        "Pod" => &manifest["spec"],
        "PersistentVolumeClaim" => {
            spend.storage_gib +=
                amount(manifest.pointer("/spec/resources/requests/storage")).unwrap_or(0.0) / GIB;
            return;
        }
        "Service" => {
            if manifest["spec"]["type"] == "LoadBalancer" {
                spend.load_balancers += 1;
            }
            return;
        }
        _ => return,
    };
    let count = match kind {
        "DaemonSet" => f64::from(nodes),
        "Pod" => 1.0,
        _ => manifest["spec"]["replicas"].as_f64().unwrap_or(1.0),
    };
    let mut usage = PodUsage::default();
    for (field, init) in [("initContainers", true), ("containers", false)] {
        for container_spec in pod_spec[field].as_array().into_iter().flatten() {
            usage.add_container(&container_spec["resources"], init);
        }
    }
    usage.charge(spend, count);
    for claim in manifest["spec"]["volumeClaimTemplates"]
        .as_array()
        .into_iter()
        .flatten()
    {
        spend.storage_gib +=
            amount(claim.pointer("/spec/resources/requests/storage")).unwrap_or(0.0) / GIB * count;
    }
    let labels = &manifest["metadata"]["labels"];
    for key in ["team", "cost-center"] {
        if let Some(value) = labels[key].as_str() {
            spend
                .labels
                .entry(key.to_owned())
                .or_insert_with(|| value.to_owned());
        }
    }
}
