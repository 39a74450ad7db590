//! The charts as the real Helm renders them: every Helm Application of every environment
//! templated from the vendored chart with Argo CD's arguments, and what the platform wrote by
//! hand about each chart (its inventory in `HelmChart`) checked against those objects.
//!
//! Without Helm these tests say so and check nothing; under `CI` a missing Helm fails them.

use std::collections::{BTreeMap, BTreeSet};

use platform::catalog::CHARTS;
use platform_core::component::{ChartPod, HelmChart, Replicas};
use platform_core::sizing::value_at;
use platform_helm::Pod;
use platform_tests::{ChartRelease, chart_releases};
use serde_json::Value;

fn chart_of(release: &ChartRelease) -> &'static HelmChart {
    CHARTS
        .iter()
        .find(|chart| chart.name == release.app.chart)
        .unwrap_or_else(|| {
            panic!(
                "{}: chart {} is not in the catalog",
                release.app.id(),
                release.app.chart
            )
        })
}

/// The pods Argo CD runs: a hook of no Argo CD phase (Helm's `test`) never runs.
fn running_pods(release: &ChartRelease) -> Vec<Pod> {
    platform_helm::pods(&release.templated)
        .into_iter()
        .filter(Pod::runs)
        .collect()
}

/// Whether Kubernetes mounts a token into the pod: its own `automountServiceAccountToken`,
/// else its service account's (the release's, or `default`), else yes.
fn token_mounted(release: &ChartRelease, pod: &Pod) -> bool {
    let account = pod.service_account.as_deref().unwrap_or("default");
    let of_account = release
        .templated
        .objects
        .iter()
        .find(|o| o.kind() == "ServiceAccount" && o.name() == account)
        .and_then(|o| o.object["automountServiceAccountToken"].as_bool());
    pod.automount_token.or(of_account).unwrap_or(true)
}

/// A quantity as Kubernetes compares it: `"1"`, `1` and `"1000m"` are the same CPU.
fn quantity(value: &Value) -> Option<u128> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        _ => return None,
    };
    platform_core::model::Quantity::try_from(text.as_str())
        .ok()
        .map(|q| q.nanos())
}

/// `resources` as a comparable map: section → resource → nanos.
fn resources(value: &Value) -> BTreeMap<String, BTreeMap<String, Option<u128>>> {
    let mut sections = BTreeMap::new();
    for section in ["requests", "limits"] {
        if let Some(list) = value.get(section).and_then(Value::as_object) {
            sections.insert(
                section.to_owned(),
                list.iter()
                    .map(|(name, amount)| (name.clone(), quantity(amount)))
                    .collect(),
            );
        }
    }
    sections
}

/// How many of `pod` the inventory says run, with these values; `None` for one per node.
fn expected_replicas(pod: &ChartPod, values: &Value) -> Option<i64> {
    let number = |path: &str, default: u32| {
        value_at(values, path)
            .and_then(Value::as_i64)
            .unwrap_or(i64::from(default))
    };
    match pod.replicas {
        Replicas::One | Replicas::Hook => Some(1),
        Replicas::At { path, default } => Some(number(path, default)),
        Replicas::WhenEnabled {
            enabled,
            replicas,
            default,
        } => Some(
            if value_at(values, enabled).and_then(Value::as_bool) == Some(true) {
                number(replicas, default)
            } else {
                1
            },
        ),
        Replicas::PerNode => None,
    }
}

/// Every way the inventory of `release`'s chart differs from the pods Helm rendered.
fn inventory_differences(release: &ChartRelease) -> Vec<String> {
    let chart = chart_of(release);
    let values = &release.app.values;
    let real = running_pods(release);
    let mut differences = Vec::new();
    let mut differ = |what: String| differences.push(format!("{}: {what}", release.app.id()));

    let real_names: BTreeSet<&str> = real.iter().map(|p| p.workload.as_str()).collect();
    let listed: BTreeSet<&str> = chart.pods.iter().map(|p| p.workload).collect();
    for missing in real_names.difference(&listed) {
        differ(format!(
            "the chart runs pod {missing}, which the inventory does not list"
        ));
    }
    for pod in chart.pods {
        let Some(rendered) = real.iter().find(|p| p.workload == pod.workload) else {
            // A pod the values switch off (a dev mode) is absent; one that is always absent
            // is caught by `every_pod_of_the_inventory_runs_in_some_environment`.
            continue;
        };
        let at = format!("{} {}", rendered.kind, pod.workload);
        for (key, value) in pod.labels {
            if rendered.labels.get(*key).map(String::as_str) != Some(*value) {
                differ(format!(
                    "{at}: the inventory labels it {key}={value}, the chart {:?}",
                    rendered.labels.get(*key)
                ));
            }
        }
        let token = token_mounted(release, rendered);
        if pod.calls_api != token {
            differ(format!(
                "{at}: the inventory says it {} the API, but its pod mounts {} service account token (service account {:?})",
                if pod.calls_api {
                    "calls"
                } else {
                    "does not call"
                },
                if token { "a" } else { "no" },
                rendered.service_account.as_deref().unwrap_or("default")
            ));
        }
        if pod.host_network != rendered.host_network {
            differ(format!(
                "{at}: hostNetwork is {}, the inventory says {}",
                rendered.host_network, pod.host_network
            ));
        }
        if pod.hook != rendered.hook.is_some() {
            differ(format!(
                "{at}: a hook is {:?}, the inventory says hook = {}",
                rendered.hook, pod.hook
            ));
        }
        let real_containers: BTreeSet<&str> = rendered
            .containers
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        let listed_containers: BTreeSet<&str> = pod.containers.iter().map(|c| c.name).collect();
        if real_containers != listed_containers {
            differ(format!(
                "{at}: containers are {real_containers:?}, the inventory lists {listed_containers:?}"
            ));
        }
        for container in pod.containers {
            let Some(real_container) = rendered
                .containers
                .iter()
                .find(|c| c.name == container.name)
            else {
                continue;
            };
            if real_container.init != container.init {
                differ(format!(
                    "{at}: container {} is {}an init container, the inventory says init = {}",
                    container.name,
                    if real_container.init { "" } else { "not " },
                    container.init
                ));
            }
            let real_ports: BTreeSet<u16> = real_container.ports.iter().copied().collect();
            let listed_ports: BTreeSet<u16> = container.ports.iter().copied().collect();
            if real_ports != listed_ports {
                differ(format!(
                    "{at}: container {} declares ports {real_ports:?}, the inventory {listed_ports:?}",
                    container.name
                ));
            }
            let given = value_at(values, container.resources)
                .cloned()
                .unwrap_or(Value::Null);
            if resources(&given) != resources(&real_container.resources) {
                differ(format!(
                    "{at}: container {} has resources {}, but the values give {} at {}",
                    container.name, real_container.resources, given, container.resources
                ));
            }
        }
        let expected = expected_replicas(pod, values);
        match (expected, rendered.kind.as_str()) {
            (None, "DaemonSet") => {}
            (None, kind) => differ(format!(
                "{at}: the inventory says one per node, but it is a {kind}"
            )),
            (Some(_), "DaemonSet") => differ(format!("{at}: a DaemonSet runs one per node")),
            (Some(count), _) => {
                let rendered_count = rendered.replicas.unwrap_or(1);
                if rendered_count != count {
                    differ(format!(
                        "{at}: {rendered_count} replica(s) rendered, the inventory counts {count}"
                    ));
                }
            }
        }
    }
    differences.extend(volume_differences(release, chart, &real));
    differences.extend(service_type_differences(release, chart));
    differences
}

/// The claims the inventory's volumes make with these values, against the real claim
/// templates and PersistentVolumeClaims.
fn volume_differences(release: &ChartRelease, chart: &HelmChart, real: &[Pod]) -> Vec<String> {
    let values = &release.app.values;
    let switch = |path: &str, default: bool| {
        value_at(values, path)
            .and_then(Value::as_bool)
            .unwrap_or(default)
    };
    let expected: BTreeSet<(String, Option<u128>)> = chart
        .volumes
        .iter()
        .filter(|v| {
            switch(v.enabled, v.enabled_default) && !v.unless.is_some_and(|u| switch(u, false))
        })
        .map(|v| {
            let size = value_at(values, v.size)
                .cloned()
                .unwrap_or_else(|| Value::String(v.default_size.to_owned()));
            (v.workload.to_owned(), quantity(&size))
        })
        .collect();
    let mut claimed: BTreeSet<(String, Option<u128>)> = real
        .iter()
        .flat_map(|pod| {
            pod.volume_claims
                .iter()
                .map(|(_, size)| (pod.workload.clone(), quantity(&Value::String(size.clone()))))
        })
        .collect();
    for object in &release.templated.objects {
        if object.kind() == "PersistentVolumeClaim" {
            let mounted_by = real
                .iter()
                .find(|pod| pod.mounted_claims.iter().any(|c| c == object.name()))
                .map_or_else(
                    || format!("PersistentVolumeClaim {} (no pod mounts it)", object.name()),
                    |pod| pod.workload.clone(),
                );
            claimed.insert((
                mounted_by,
                object
                    .object
                    .pointer("/spec/resources/requests/storage")
                    .and_then(quantity),
            ));
        }
    }
    if expected == claimed {
        Vec::new()
    } else {
        vec![format!(
            "{}: the chart claims {claimed:?}, the inventory's volumes {expected:?}",
            release.app.id()
        )]
    }
}

/// The Services the values make LoadBalancers, as the inventory reads them, against the real
/// Services' types.
fn service_type_differences(release: &ChartRelease, chart: &HelmChart) -> Vec<String> {
    let expected = chart
        .service_types
        .iter()
        .filter(|path| {
            value_at(&release.app.values, path).and_then(Value::as_str) == Some("LoadBalancer")
        })
        .count();
    let real: Vec<&str> = release
        .templated
        .objects
        .iter()
        .filter(|o| o.kind() == "Service" && o.object["spec"]["type"] == "LoadBalancer")
        .map(|o| o.name())
        .collect();
    if real.len() == expected {
        Vec::new()
    } else {
        vec![format!(
            "{}: the chart makes LoadBalancers {real:?}, the inventory counts {expected}",
            release.app.id()
        )]
    }
}

#[test]
fn every_helm_application_templates_with_the_real_helm() {
    let Some(releases) = chart_releases() else {
        return;
    };
    let environments: BTreeSet<&str> = releases
        .iter()
        .map(|r| r.app.environment.as_str())
        .collect();
    assert_eq!(environments, BTreeSet::from(["dev", "prod", "staging"]));
    for release in releases {
        assert!(
            !running_pods(release).is_empty()
                || release.app.chart == "metallb" && release.templated.objects.is_empty(),
            "{}: Helm rendered no pod",
            release.app.id()
        );
    }
}

#[test]
fn the_chart_inventory_is_what_helm_renders() {
    let Some(releases) = chart_releases() else {
        return;
    };
    let differences: Vec<String> = releases.iter().flat_map(inventory_differences).collect();
    assert!(
        differences.is_empty(),
        "the inventory in the component crates differs from the charts:\n{}",
        differences.join("\n")
    );
}

#[test]
fn every_pod_of_the_inventory_runs_in_some_environment() {
    let Some(releases) = chart_releases() else {
        return;
    };
    for chart in &CHARTS {
        let ran: BTreeSet<String> = releases
            .iter()
            .filter(|r| r.app.chart == chart.name)
            .flat_map(running_pods)
            .map(|p| p.workload)
            .collect();
        for pod in chart.pods {
            assert!(
                ran.contains(pod.workload),
                "{}: the inventory lists pod {}, which no environment's chart runs (it runs {ran:?})",
                chart.name,
                pod.workload
            );
        }
    }
}

/// An environment's rendered NetworkPolicies, the endpoints the platform plans, and the real
/// pods of its charts as endpoints in their namespaces, with their real labels.
struct RealNetwork<'r> {
    policies: platform_netpol::Policies,
    api_server: platform_netpol::Endpoint,
    pods: Vec<(&'r ChartRelease, Pod, platform_netpol::Endpoint)>,
}

fn real_network<'r>(environment: &str, releases: &'r [ChartRelease]) -> RealNetwork<'r> {
    let loaded = platform_tests::load(environment);
    let plan = platform::plan(&loaded.env).unwrap();
    let rendered = platform_tests::render(&loaded);
    let policies = platform::matrix::rendered_policies(&rendered).unwrap();
    let endpoints = platform::matrix::endpoints(&plan, loaded.env.network_ranges());
    let api_server = endpoints
        .iter()
        .find(|e| e.name == platform::matrix::KUBERNETES_API)
        .unwrap()
        .clone();
    let pods = releases
        .iter()
        .filter(|r| r.app.environment == environment)
        .flat_map(|release| {
            // A pod's address: that of its namespace's planned endpoint, so that address
            // rules treat it as the pod it is.
            let ip = endpoints
                .iter()
                .find(|e| e.namespace.as_deref() == Some(release.app.namespace.as_str()))
                .unwrap_or_else(|| panic!("{}: no planned pod in its namespace", release.app.id()))
                .ip;
            running_pods(release).into_iter().map(move |pod| {
                let endpoint = platform_netpol::Endpoint::pod(
                    &format!("{}/{}", release.app.namespace, pod.workload),
                    &release.app.namespace,
                    pod.labels.clone(),
                    ip,
                );
                (release, pod, endpoint)
            })
        })
        .collect();
    RealNetwork {
        policies,
        api_server,
        pods,
    }
}

fn tcp(number: u16) -> platform_netpol::Port {
    platform_netpol::Port {
        number,
        protocol: "TCP",
    }
}

fn listens_on(pod: &Pod, port: u16) -> bool {
    pod.containers
        .iter()
        .any(|c| !c.init && c.ports.contains(&port))
}

/// A Service's `port` as its pods receive it: the `targetPort`, by number or by a container
/// port's name, for each pod the Service selects.
fn target_ports<'p>(
    service: &Value,
    port: u16,
    pods: impl Iterator<Item = &'p Pod>,
) -> Vec<(&'p Pod, Option<u16>)> {
    let selector: BTreeMap<String, String> = service["spec"]["selector"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let spec_port = service["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["port"].as_u64() == Some(u64::from(port)));
    pods.filter(|pod| {
        !selector.is_empty() && selector.iter().all(|(k, v)| pod.labels.get(k) == Some(v))
    })
    .map(|pod| {
        let target = match spec_port.map(|p| &p["targetPort"]) {
            None => None,
            Some(Value::Null) => Some(port),
            Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Some(Value::String(name)) => pod
                .containers
                .iter()
                .find_map(|c| c.named_ports.get(name).copied()),
            Some(_) => None,
        };
        (pod, target)
    })
    .collect()
}

/// The webhooks the release's own objects register: (configuration, service name, port).
fn registered_webhooks(release: &ChartRelease) -> Vec<(String, String, u16)> {
    let mut found = Vec::new();
    for object in &release.templated.objects {
        let configs: Vec<&Value> = match object.kind() {
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration" => {
                object.object["webhooks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|w| &w["clientConfig"])
                    .collect()
            }
            "CustomResourceDefinition" => {
                vec![&object.object["spec"]["conversion"]["webhook"]["clientConfig"]]
            }
            _ => continue,
        };
        for config in configs {
            if let Some(service) = config["service"]["name"].as_str() {
                let port = config["service"]["port"].as_u64().unwrap_or(443);
                found.push((
                    format!("{} {}", object.kind(), object.name()),
                    service.to_owned(),
                    u16::try_from(port).unwrap(),
                ));
            }
        }
    }
    found
}

#[test]
fn the_api_server_reaches_every_webhook_a_chart_pod_serves_on_its_real_port() {
    let Some(releases) = chart_releases() else {
        return;
    };
    let mut blocked = Vec::new();
    for environment in ["dev", "staging", "prod"] {
        let network = real_network(environment, releases);
        let allowed = |endpoint: &platform_netpol::Endpoint, port: u16| {
            network
                .policies
                .allows(&network.api_server, endpoint, tcp(port))
        };
        // Webhooks the chart registers itself, through a Service of the release.
        for release in releases.iter().filter(|r| r.app.environment == environment) {
            let pods: Vec<&(&ChartRelease, Pod, platform_netpol::Endpoint)> = network
                .pods
                .iter()
                .filter(|(r, ..)| std::ptr::eq(*r, release))
                .collect();
            for (configuration, service_name, port) in registered_webhooks(release) {
                let service = release
                    .templated
                    .objects
                    .iter()
                    .find(|o| o.kind() == "Service" && o.name() == service_name)
                    .unwrap_or_else(|| panic!("{}: {configuration} calls Service {service_name}, which the chart does not render", release.app.id()));
                let targets =
                    target_ports(&service.object, port, pods.iter().map(|(_, pod, _)| pod));
                assert!(
                    !targets.is_empty(),
                    "{}: Service {service_name} of {configuration} selects no pod",
                    release.app.id()
                );
                for (pod, target) in targets {
                    let endpoint = &pods
                        .iter()
                        .find(|(_, p, _)| std::ptr::eq(p, pod))
                        .unwrap()
                        .2;
                    match target {
                        Some(target) if listens_on(pod, target) && allowed(endpoint, target) => {}
                        _ => blocked.push(format!(
                            "{}: {configuration} → Service {service_name}:{port} → {} port {target:?}",
                            release.app.id(),
                            pod.workload
                        )),
                    }
                }
            }
        }
        // Webhooks a controller registers at run time (Kyverno's), as the inventory records.
        for (release, pod, endpoint) in &network.pods {
            let listed = chart_of(release)
                .pods
                .iter()
                .find(|p| p.workload == pod.workload);
            if let Some(port) = listed.and_then(|p| p.webhook_port)
                && !(listens_on(pod, port) && allowed(endpoint, port))
            {
                blocked.push(format!(
                    "{}: {} serves a webhook on {port} (inventory), listens on {:?}",
                    release.app.id(),
                    pod.workload,
                    pod.containers
                        .iter()
                        .flat_map(|c| &c.ports)
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(
        blocked.is_empty(),
        "webhooks the API server cannot call:\n{}",
        blocked.join("\n")
    );
}

/// The targets the prometheus chart's default `kubernetes-pods` and
/// `kubernetes-service-endpoints` jobs discover among chart pods (prometheus-29.27.0
/// values.yaml `scrapeConfigs`): a pod annotated `prometheus.io/scrape: "true"` on its
/// `prometheus.io/port`, else on each of its ports; a Service so annotated on its pods, on the
/// annotated port, else on each port's target.
fn annotated_targets<'p>(
    network: &'p RealNetwork<'_>,
    releases: &[ChartRelease],
    environment: &str,
) -> Vec<(&'p platform_netpol::Endpoint, &'p Pod, u16, String)> {
    let mut targets = Vec::new();
    let scraped = |annotations: &Value| annotations["prometheus.io/scrape"] == "true";
    for (_, pod, endpoint) in &network.pods {
        if pod.host_network
            || pod.hook.is_some()
            || pod
                .annotations
                .get("prometheus.io/scrape")
                .map(String::as_str)
                != Some("true")
        {
            continue;
        }
        let ports: Vec<u16> = match pod.annotations.get("prometheus.io/port") {
            Some(port) => vec![port.parse().unwrap()],
            None => pod
                .containers
                .iter()
                .filter(|c| !c.init)
                .flat_map(|c| c.ports.clone())
                .collect(),
        };
        for port in ports {
            targets.push((
                endpoint,
                pod,
                port,
                format!("pod {} annotated", pod.workload),
            ));
        }
    }
    for release in releases.iter().filter(|r| r.app.environment == environment) {
        for service in release
            .templated
            .objects
            .iter()
            .filter(|o| o.kind() == "Service")
        {
            let annotations = &service.object["metadata"]["annotations"];
            if !scraped(annotations) {
                continue;
            }
            let pods = network
                .pods
                .iter()
                .filter(|(r, ..)| std::ptr::eq(*r, release));
            for spec_port in service.object["spec"]["ports"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let port = u16::try_from(spec_port["port"].as_u64().unwrap()).unwrap();
                for (pod, target) in
                    target_ports(&service.object, port, pods.clone().map(|(_, p, _)| p))
                {
                    let annotated = annotations["prometheus.io/port"]
                        .as_str()
                        .map(|p| p.parse().unwrap());
                    if pod.host_network {
                        continue;
                    }
                    let endpoint = &pods
                        .clone()
                        .find(|(_, p, _)| std::ptr::eq(p, pod))
                        .unwrap()
                        .2;
                    if let Some(port) = annotated.or(target) {
                        targets.push((
                            endpoint,
                            pod,
                            port,
                            format!("Service {} annotated", service.name()),
                        ));
                    }
                }
            }
        }
    }
    targets
}

#[test]
fn every_target_prometheus_discovers_among_chart_pods_is_reachable() {
    let Some(releases) = chart_releases() else {
        return;
    };
    let mut blocked = Vec::new();
    for environment in ["dev", "staging", "prod"] {
        let network = real_network(environment, releases);
        let Some((_, _, prometheus)) = network
            .pods
            .iter()
            .find(|(r, pod, _)| r.app.chart == "prometheus" && pod.workload == "prometheus-server")
        else {
            continue;
        };
        for (endpoint, pod, port, why) in annotated_targets(&network, releases, environment) {
            if !network.policies.allows(prometheus, endpoint, tcp(port)) {
                blocked.push(format!(
                    "{environment}: {why}: Prometheus cannot reach {} on {port}",
                    pod.workload
                ));
            }
        }
    }
    assert!(
        blocked.is_empty(),
        "scrape targets the NetworkPolicies block:\n{}",
        blocked.join("\n")
    );
}

/// Every port a policy opens into a chart's pods is one that every pod it selects listens
/// on (a container port, as the real Helm renders it): the policies select a port's
/// listeners (`Traffic::listeners`), not the whole release, so a hook Job or a release's
/// other workloads never get a port opened that they do not serve.
#[test]
fn every_port_a_policy_opens_into_chart_pods_is_one_they_listen_on() {
    let Some(releases) = chart_releases() else {
        return;
    };
    let mut dead = Vec::new();
    for environment in ["dev", "staging", "prod"] {
        let network = real_network(environment, releases);
        for policy in network.policies.iter() {
            let namespace = policy.metadata.namespace.as_deref().unwrap_or_default();
            let spec = policy.spec.as_ref().unwrap();
            let selected: Vec<&Pod> = network
                .pods
                .iter()
                .filter(|(r, ..)| r.app.namespace == namespace)
                .filter(|(_, pod, _)| {
                    platform_netpol::selects(spec.pod_selector.as_ref(), &pod.labels)
                })
                .map(|(_, pod, _)| pod)
                .filter(|pod| !pod.host_network)
                .collect();
            if selected.is_empty() {
                continue;
            }
            for rule in spec.ingress.iter().flatten() {
                for port in rule.ports.iter().flatten() {
                    let Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(
                        number,
                    )) = port.port
                    else {
                        continue;
                    };
                    let number = u16::try_from(number).unwrap();
                    let deaf: Vec<&String> = selected
                        .iter()
                        .filter(|pod| !listens_on(pod, number))
                        .map(|pod| &pod.workload)
                        .collect();
                    if !deaf.is_empty() {
                        dead.push(format!(
                            "{environment}: NetworkPolicy {namespace}/{} admits port {number} into {deaf:?}, which do not listen on it",
                            policy.metadata.name.as_deref().unwrap_or_default(),
                        ));
                    }
                }
            }
        }
    }
    assert!(dead.is_empty(), "{}", dead.join("\n"));
}

/// Every value an Application sets: its dotted path and the value. A map is walked into; a
/// list, a scalar, an empty map or a container's `resources` (which the platform sets whole,
/// so that every container has requests and limits) is one value.
fn set_values(values: &Value, chart: &HelmChart) -> Vec<(Vec<String>, Value)> {
    let whole: BTreeSet<&str> = chart
        .pods
        .iter()
        .flat_map(|pod| pod.containers)
        .map(|c| c.resources)
        .collect();
    let mut found = Vec::new();
    let mut stack = vec![(Vec::<String>::new(), values)];
    while let Some((path, value)) = stack.pop() {
        match value.as_object() {
            Some(map)
                if !map.is_empty()
                    && !whole.contains(path.join(".").as_str())
                    && !platform_tests::rendered_whole(
                        chart.name,
                        &format!("/{}", path.join("/")),
                    ) =>
            {
                for (key, inner) in map.iter().rev() {
                    let mut inner_path = path.clone();
                    inner_path.push(key.clone());
                    stack.push((inner_path, inner));
                }
            }
            _ if !path.is_empty() => found.push((path, value.clone())),
            _ => {}
        }
    }
    found
}

/// `values` without the value at `path`: what the chart renders with its own default there.
fn without(values: &Value, path: &[String]) -> Value {
    let mut values = values.clone();
    let (last, parents) = path.split_last().unwrap();
    let parent = parents
        .iter()
        .try_fold(&mut values, |value, key| value.get_mut(key))
        .and_then(Value::as_object_mut)
        .unwrap();
    parent.remove(last);
    values
}

fn pin_of(chart: &HelmChart, path: &str) -> Option<&'static platform_core::component::PinnedValue> {
    chart
        .pinned_values
        .iter()
        .find(|pin| path == pin.path || path.starts_with(&format!("{}.", pin.path)))
}

/// The values of `releases` the chart renders the same objects without, as
/// `<env>/<application>: \`path\``, and the pins no Application sets.
fn idle_values(
    releases: &[ChartRelease],
    helm: &platform_helm::Helm,
) -> (Vec<String>, Vec<(&'static str, &'static str)>) {
    let charts = platform_tests::schemas_dir().join("charts");
    // A value is tried once per chart version, value and set of enabled subcharts: the same
    // value reaches the same templates in another environment's Application.
    let mut tried = BTreeSet::new();
    let mut variants = Vec::new();
    let mut used_pins = BTreeSet::new();
    for (index, release) in releases.iter().enumerate() {
        let chart = chart_of(release);
        let enabled: Vec<String> =
            platform_helm::subcharts(&charts.join(&release.app.chart), &release.app.values)
                .unwrap()
                .into_iter()
                .filter(|s| s.enabled)
                .map(|s| s.name)
                .collect();
        let set = set_values(&release.app.values, chart);
        for (path, _) in &set {
            if let Some(pin) = pin_of(chart, &path.join(".")) {
                used_pins.insert((chart.name, pin.path));
            }
        }
        for (path, value) in set {
            let dotted = path.join(".");
            if pin_of(chart, &dotted).is_some()
                || !tried.insert((
                    release.app.chart.clone(),
                    release.app.version.clone(),
                    dotted.clone(),
                    value.to_string(),
                    enabled.clone(),
                ))
            {
                continue;
            }
            let mut app = release.app.clone();
            app.values = without(&release.app.values, &path);
            variants.push((index, dotted, app));
        }
    }
    let apps: Vec<_> = variants.iter().map(|(_, _, app)| app.clone()).collect();
    let schemas = platform_tests::schemas_dir();
    let capabilities = platform_helm::Capabilities::of_platform(&schemas).unwrap();
    let results = platform_helm::template_all(helm, &apps, &charts, &capabilities);
    let objects = |templated: &platform_helm::Templated| -> Vec<Value> {
        templated.objects.iter().map(|o| o.object.clone()).collect()
    };
    let mut idle = Vec::new();
    for ((index, path, _), result) in variants.iter().zip(results) {
        let release = &releases[*index];
        // A chart that fails without the value (a `required`) reads it.
        if let Ok(templated) = result
            && objects(&templated) == objects(&release.templated)
        {
            idle.push(format!(
                "{}: `{path}` ({} {})",
                release.app.id(),
                release.app.chart,
                release.app.version
            ));
        }
    }
    let stale_pins: Vec<(&'static str, &'static str)> = CHARTS
        .iter()
        .flat_map(|chart| chart.pinned_values.iter().map(|pin| (chart.name, pin.path)))
        .filter(|pin| !used_pins.contains(pin))
        .collect();
    (idle, stale_pins)
}

#[test]
fn every_value_the_platform_sets_changes_what_the_chart_renders() {
    let Some(releases) = chart_releases() else {
        return;
    };
    let (idle, stale_pins) = idle_values(releases, platform_tests::helm().unwrap());
    assert!(
        stale_pins.is_empty(),
        "pinned values no Application sets: {stale_pins:?}"
    );
    assert!(
        idle.is_empty(),
        "values the chart renders the same objects without (a typo, a value the chart no \
         longer reads, one for a disabled subchart, or one equal to the default: remove it, \
         or pin it in the chart's `pinned_values` with the reason):\n{}",
        idle.join("\n")
    );
}

#[test]
fn a_typo_a_value_the_chart_does_not_read_and_one_for_a_disabled_subchart_are_named() {
    let Some(releases) = chart_releases() else {
        return;
    };
    let helm = platform_tests::helm().unwrap();
    let prometheus = releases
        .iter()
        .find(|r| r.app.environment == "dev" && r.app.chart == "prometheus")
        .unwrap();
    let mut app = prometheus.app.clone();
    app.values["server"]["retentoin"] = Value::from("30d");
    app.values["prometheus-pushgateway"]["replicaCount"] = Value::from(3);
    app.values["kube-state-metrics"]["replicaz"] = Value::from(2);
    let (idle, _) = idle_values(&platform_tests::template(helm, vec![app]), helm);
    for path in [
        "server.retentoin",
        "prometheus-pushgateway.replicaCount",
        "kube-state-metrics.replicaz",
    ] {
        assert!(
            idle.iter()
                .any(|line| line.starts_with("dev/prometheus:")
                    && line.contains(&format!("`{path}`"))),
            "{path} is not named among {idle:#?}"
        );
    }
    assert!(
        !idle
            .iter()
            .any(|line| line.contains("`server.global.scrape_interval`")),
        "a value the chart reads is not idle: {idle:#?}"
    );
}

#[test]
fn the_kyverno_policies_select_none_of_the_platforms_real_pods() {
    let Some(releases) = chart_releases() else {
        return;
    };
    for environment in ["dev", "staging", "prod"] {
        let loaded = platform_tests::load(environment);
        let rendered = platform_tests::render(&loaded);
        let objects = platform_tests::objects(&rendered);
        let policies: Vec<kyverno_engine::Policy> = objects
            .values()
            .filter_map(|object| kyverno_engine::Policy::from_value(object).unwrap())
            .collect();
        assert!(!policies.is_empty(), "{environment}: no policies rendered");
        let namespace_labels = platform_validate::namespace_labels(objects.values());
        // The same real pods in a team's namespace are judged: the policies do read them.
        let team = loaded.env.apps[0].namespace();
        let mut judged_in_team_namespace = 0;
        for release in releases.iter().filter(|r| r.app.environment == environment) {
            let labels = namespace_labels
                .get(&release.app.namespace)
                .unwrap_or_else(|| {
                    panic!(
                        "{}: namespace {} has no labels in the tree",
                        release.app.id(),
                        release.app.namespace
                    )
                });
            let request = kyverno_engine::Request {
                namespace_labels: Some(labels),
                ..kyverno_engine::Request::default()
            };
            for object in &release.templated.objects {
                let mut workload = object.object.clone();
                if !matches!(
                    object.kind(),
                    "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob" | "Pod"
                ) {
                    continue;
                }
                // The API server gives each object its Application's namespace.
                workload["metadata"]["namespace"] = Value::from(release.app.namespace.clone());
                let template = match object.kind() {
                    "Pod" => None,
                    "CronJob" => Some(&workload["spec"]["jobTemplate"]["spec"]["template"]),
                    _ => Some(&workload["spec"]["template"]),
                };
                let mut admitted = vec![workload.clone()];
                if let Some(template) = template {
                    let mut pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "spec": template["spec"]});
                    pod["metadata"] = template["metadata"].clone();
                    pod["metadata"]["name"] = Value::from(format!("{}-0", object.name()));
                    pod["metadata"]["namespace"] = Value::from(release.app.namespace.clone());
                    admitted.push(pod);
                }
                for resource in &admitted {
                    let mut in_team = resource.clone();
                    in_team["metadata"]["namespace"] = Value::from(team.as_str());
                    let team_request = kyverno_engine::Request {
                        namespace_labels: namespace_labels.get(team.as_str()),
                        ..kyverno_engine::Request::default()
                    };
                    if policies.iter().any(|policy| {
                        !kyverno_engine::evaluate(policy, &in_team, &team_request).is_empty()
                    }) {
                        judged_in_team_namespace += 1;
                    }
                    for policy in &policies {
                        let results = kyverno_engine::evaluate(policy, resource, &request);
                        assert!(
                            results.is_empty(),
                            "{}: {} selects the platform's {} {} in {}: {results:?}",
                            release.app.id(),
                            policy.metadata.name,
                            resource["kind"].as_str().unwrap(),
                            object.name(),
                            release.app.namespace
                        );
                    }
                }
            }
        }
        assert!(
            judged_in_team_namespace > 0,
            "{environment}: no real pod is judged even in {team}"
        );
    }
}

#[test]
fn every_real_container_has_requests_and_limits() {
    let Some(releases) = chart_releases() else {
        return;
    };
    let mut missing = Vec::new();
    for release in releases {
        for pod in running_pods(release) {
            for container in &pod.containers {
                for section in ["requests", "limits"] {
                    for resource in ["cpu", "memory"] {
                        if container.resources[section][resource].is_null() {
                            missing.push(format!(
                                "{}: {} {} container {}: no {section}.{resource}",
                                release.app.id(),
                                pod.kind,
                                pod.workload,
                                container.name
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_cost_forecast_is_what_the_real_containers_ask_for() {
    let Some(releases) = chart_releases() else {
        return;
    };
    for environment in ["dev", "staging", "prod"] {
        // The inventory's forecast is that of an environment that leaves its charts to Argo
        // CD; one that hydrates them forecasts from their real objects, and must agree too.
        let mut loaded = platform_tests::load(environment);
        let hydrated = loaded
            .env
            .argocd
            .hydrate
            .then(|| platform_tests::render(&loaded).forecast);
        loaded.env.argocd.hydrate = false;
        let rendered = platform_tests::render(&loaded);
        let committed: Vec<(String, Value)> =
            platform_tests::objects(&rendered).into_iter().collect();
        // The real objects beside each Application's own, and no inventory to read: the
        // forecast then counts what Helm rendered, as it counts the platform's own objects.
        let mut real = committed.clone();
        for release in releases.iter().filter(|r| r.app.environment == environment) {
            // The forecast names an Application by its file, `apps/<file>.yaml`.
            let file = committed
                .iter()
                .find(|(path, object)| {
                    path.starts_with("apps/")
                        && object["metadata"]["name"] == release.app.name.as_str()
                })
                .and_then(|(path, _)| path.strip_prefix("apps/")?.strip_suffix(".yaml"))
                .unwrap();
            for (index, object) in release.templated.objects.iter().enumerate() {
                if object.hook.is_none() {
                    real.push((
                        format!("manifests/{file}/helm/{index:03}.yaml"),
                        object.object.clone(),
                    ));
                }
            }
        }
        let from_inventory =
            platform_cost::forecast(environment, &committed, &CHARTS, &loaded.env.cost);
        let from_real = platform_cost::forecast(environment, &real, &[], &loaded.env.cost);
        assert_eq!(
            from_inventory, rendered.forecast,
            "{environment}: render's forecast is the inventory's"
        );
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
        for (inventory, real) in from_inventory
            .applications
            .iter()
            .zip(&from_real.applications)
        {
            assert_eq!(inventory.application, real.application);
            let agree = close(inventory.requests.cpu_cores, real.requests.cpu_cores)
                && close(inventory.requests.memory_gib, real.requests.memory_gib)
                && close(inventory.limits.cpu_cores, real.limits.cpu_cores)
                && close(inventory.limits.memory_gib, real.limits.memory_gib)
                && close(inventory.storage_gib, real.storage_gib)
                && inventory.load_balancers == real.load_balancers
                && close(inventory.monthly, real.monthly);
            assert!(
                agree,
                "{environment}/{}: the forecast reads {inventory:?}, the real containers ask for {real:?}",
                inventory.application
            );
        }
        assert_eq!(
            from_inventory.applications.len(),
            from_real.applications.len()
        );
        if let Some(hydrated) = hydrated {
            assert_eq!(hydrated.applications.len(), from_real.applications.len());
            for (hydrated, real) in hydrated.applications.iter().zip(&from_real.applications) {
                assert!(
                    hydrated.application == real.application
                        && close(hydrated.requests.cpu_cores, real.requests.cpu_cores)
                        && close(hydrated.requests.memory_gib, real.requests.memory_gib)
                        && close(hydrated.limits.cpu_cores, real.limits.cpu_cores)
                        && close(hydrated.storage_gib, real.storage_gib)
                        && close(hydrated.monthly, real.monthly),
                    "{environment}: hydrated, the forecast reads {hydrated:?}, the real containers ask for {real:?}"
                );
            }
        }
    }
}

/// What `cargo xtask validate` checks a foreign tree for, on the real objects: every object
/// of every chart against its Kubernetes or CRD schema, read as the API server's clients
/// read YAML (a chart's `defaultMode: 0444` is 292).
#[test]
fn every_real_object_passes_its_upstream_schema() {
    let Some(releases) = chart_releases() else {
        return;
    };
    let files: BTreeMap<String, String> = releases
        .iter()
        .map(|release| {
            let text: Vec<&str> = release
                .templated
                .objects
                .iter()
                .map(|o| o.text.as_str())
                .collect();
            (format!("{}.yaml", release.app.id()), text.join("---\n"))
        })
        .collect();
    let source = platform_tests::SchemaFolder(platform_tests::schemas_dir());
    let mut schemas = platform_validate::Schemas::new(&source);
    let report = platform_validate::validate_plain(&files, &mut schemas);
    let objects: usize = releases.iter().map(|r| r.templated.objects.len()).sum();
    assert_eq!(report.objects, objects, "every object was read");
    let findings: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
    assert!(findings.is_empty(), "{}", findings.join("\n"));
}

/// No value of a Secret reaches Git or a cluster from a chart: every Secret a chart renders
/// by default is an empty shell its controller fills (a webhook's certificate, Argo CD's
/// server key), which ESO and Vault never need to see.
#[test]
fn no_chart_renders_a_secret_value() {
    let Some(releases) = chart_releases() else {
        return;
    };
    let mut valued = Vec::new();
    for release in releases {
        for object in &release.templated.objects {
            let secret = &object.object;
            if secret["kind"] != "Secret" {
                continue;
            }
            for field in ["data", "stringData"] {
                if secret[field].as_object().is_some_and(|m| !m.is_empty()) {
                    valued.push(format!(
                        "{}: {} ({}) has {field}",
                        release.app.id(),
                        secret["metadata"]["name"],
                        object.source
                    ));
                }
            }
        }
    }
    assert!(valued.is_empty(), "{}", valued.join("\n"));
}

/// Every object a chart's scanner waiver names is one the chart renders in some environment,
/// so a waiver cannot outlive what it was written for (a renamed Deployment, a dropped
/// ClusterRole), and every reason survives checkov's `check=reason` split.
#[test]
fn every_scanner_waiver_names_an_object_the_chart_renders() {
    let Some(releases) = chart_releases() else {
        return;
    };
    let mut stale = Vec::new();
    for chart in CHARTS.iter() {
        let rendered: BTreeSet<String> = releases
            .iter()
            .filter(|r| r.app.chart == chart.name)
            .flat_map(|r| &r.templated.objects)
            .map(|o| format!("{}/{}", o.kind(), o.name()))
            .collect();
        for waiver in chart.scanner_waivers {
            assert!(
                !waiver.reason.contains('=') && waiver.check.starts_with("CKV"),
                "{}: {waiver:?}",
                chart.name
            );
            for object in waiver.objects {
                if *object != platform_core::scanner::EVERY_POD && !rendered.contains(*object) {
                    stale.push(format!("{}: {} waives {object}", chart.name, waiver.check));
                }
            }
        }
    }
    assert!(
        stale.is_empty(),
        "waivers for objects no chart renders: {stale:#?}"
    );
}

/// OpenCost reads its prices only from the ConfigMap it watches (`PRICING_CONFIGMAP_NAME`;
/// the chart's `CONFIG_PATH` is an empty volume), and bills what `opencost_reads` makes of
/// that ConfigMap: the prices the forecast bills at.
#[test]
fn opencost_reads_the_environments_prices_from_the_configmap_the_chart_writes() {
    let Some(releases) = chart_releases() else {
        return;
    };
    for release in releases.iter().filter(|r| r.app.chart == "opencost") {
        let environment = &release.app.environment;
        let objects = &release.templated.objects;
        let deployment = objects
            .iter()
            .find(|o| o.kind() == "Deployment")
            .expect("OpenCost's Deployment");
        let pod = &deployment.object["spec"]["template"]["spec"];
        let exporter = pod["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "opencost")
            .unwrap();
        let env_var = |name: &str| {
            exporter["env"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["name"] == name)
                .and_then(|e| e["value"].as_str())
                .unwrap_or_else(|| panic!("{environment}: no {name}"))
                .to_owned()
        };
        // The MCP server for AI agents (on by default in the chart) does not run or listen.
        assert_eq!(env_var("MCP_SERVER_ENABLED"), "false", "{environment}");
        let service_ports = objects
            .iter()
            .filter(|o| o.kind() == "Service")
            .flat_map(|o| o.object["spec"]["ports"].as_array().into_iter().flatten());
        let container_ports = exporter["ports"].as_array().into_iter().flatten();
        let mcp_ports: Vec<&Value> = container_ports
            .chain(service_ports)
            .filter(|p| {
                p["name"] == "mcp-server" || p["port"] == 8081 || p["containerPort"] == 8081
            })
            .collect();
        assert!(mcp_ports.is_empty(), "{environment}: {mcp_ports:?}");
        let watched = env_var("PRICING_CONFIGMAP_NAME");
        let config_map = objects
            .iter()
            .find(|o| o.kind() == "ConfigMap" && o.name() == watched)
            .unwrap_or_else(|| panic!("{environment}: no ConfigMap {watched}"));
        // Mounted as a file, OpenCost would read it as hourly JSON at start: it is not.
        let mounted = pod["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|v| v["configMap"]["name"] == watched.as_str());
        assert!(!mounted, "{environment}: {watched} is mounted");
        let data: BTreeMap<String, String> =
            serde_json::from_value(config_map.object["data"].clone()).unwrap();
        assert_eq!(data["provider"], "custom");
        let read = platform_tests::opencost_reads(&data);
        let billed = platform_tests::opencost_billed(environment);
        let pricing = platform_tests::load(environment).env.cost.pricing;
        let hourly = |key: &str| read[key].parse::<f64>().unwrap();
        assert_eq!(hourly("CPU"), billed["CPU"], "{environment}");
        assert_eq!(hourly("CPU"), pricing.cpu_per_vcpu_hour, "{environment}");
        assert_eq!(hourly("RAM"), pricing.memory_per_gib_hour, "{environment}");
        assert_eq!(hourly("Storage"), billed["Storage"], "{environment}");
        assert!(hourly("Storage") > 0.0, "{environment}");
        assert_eq!(
            hourly("FirstFiveForwardingRulesCost"),
            pricing.load_balancer_per_hour,
            "{environment}"
        );
    }
}

/// Every NetworkPolicy in a namespace is one the platform rendered from its traffic graph, so
/// `netpol`, the matrix and the reachability tests see all of them: policies add up, and a
/// chart's own would allow what they never checked.
#[test]
fn no_chart_renders_a_networkpolicy_of_its_own() {
    let Some(releases) = chart_releases() else {
        return;
    };
    let own: Vec<String> = releases
        .iter()
        .flat_map(|release| {
            release
                .templated
                .objects
                .iter()
                .filter(|o| o.kind() == "NetworkPolicy")
                .map(|o| format!("{}: {} ({})", release.app.id(), o.name(), o.source))
        })
        .collect();
    assert!(
        own.is_empty(),
        "charts' own NetworkPolicies:\n{}",
        own.join("\n")
    );
}

/// Deleting an Application whose chart has `pre-delete` hooks runs them first: Argo CD
/// v3.4.4 counts a `helm.sh/hook` naming `pre-delete` among its comma-separated values as a
/// PreDelete hook (`controller/hook.go`, `hookTypeAnnotations`, `isHookOfType`), keeps such
/// hooks out of the sync (`controller/state.go`, `partitionTargetObjsForSync`), sets its
/// pre-delete finalizer on the Application while the chart declares one
/// (`controller/appcontroller.go`, `SetPreDeleteFinalizer`), and on deletion runs them and
/// waits for them before deleting anything (`executePreDeleteHooks`). So removing Kyverno
/// runs its `kyverno-rm-webhooks` Job, and its `failurePolicy: Fail` webhooks do not outlive
/// it; the Job can reach the API (its pod is in the inventory, whose flows are checked),
/// and the Application deletes its resources in cascade.
#[test]
fn deleting_an_application_runs_its_charts_pre_delete_hooks_first() {
    let Some(releases) = chart_releases() else {
        return;
    };
    let mut kyverno_cleanups = 0;
    let mut deleted_with_hooks: BTreeSet<(&str, &str)> = BTreeSet::new();
    for release in releases {
        for object in &release.templated.objects {
            let Some(hook) = &object.hook else { continue };
            let argocd_runs_at_delete =
                hook.helm.split(',').any(|kind| kind.trim() == "pre-delete");
            assert_eq!(
                hook.phases.contains(&"PreDelete"),
                argocd_runs_at_delete,
                "{}/{}: {} {} is `{}`",
                release.app.environment,
                release.app.name,
                object.kind(),
                object.name(),
                hook.helm
            );
            if !argocd_runs_at_delete {
                continue;
            }
            let chart = CHARTS.iter().find(|c| c.name == release.app.chart).unwrap();
            assert!(
                chart
                    .pods
                    .iter()
                    .any(|p| p.workload == object.name() && p.hook && p.calls_api),
                "{}: pre-delete hook {} is not in the {} inventory as a hook that calls the API",
                release.app.environment,
                object.name(),
                chart.name
            );
            deleted_with_hooks.insert((&release.app.environment, &release.app.name));
            if object.name() == "kyverno-rm-webhooks" {
                kyverno_cleanups += 1;
            }
        }
    }
    for (environment, name) in deleted_with_hooks {
        let loaded = platform_tests::load(environment);
        let application = platform_tests::objects(&platform_tests::render(&loaded))
            .into_values()
            .find(|o| o["kind"] == "Application" && o["metadata"]["name"] == name)
            .unwrap();
        let finalizers = application["metadata"]["finalizers"].to_string();
        assert!(
            finalizers.contains("resources-finalizer.argocd.argoproj.io"),
            "{environment}/{name}: deleting it leaves its objects behind: {finalizers}"
        );
    }
    assert_eq!(
        kyverno_cleanups, 3,
        "every environment's Kyverno removes its webhooks on delete"
    );
}

/// A chart's LoadBalancer Services publish outside the cluster only ports its component
/// declares as published (`Traffic::exposed`), which the policies admit from the nodes'
/// addresses, where kube-proxy delivers them from. vault-0.34.1's `vault` Service always
/// adds Raft's 8201 (`server-service.yaml`), so dev's LoadBalancer is `vault-ui`, with 8200
/// alone.
#[test]
fn a_load_balancer_publishes_only_ports_the_policies_admit_from_outside() {
    let Some(releases) = chart_releases() else {
        return;
    };
    let mut published = 0;
    for release in releases {
        let loaded = platform_tests::load(&release.app.environment);
        let plan = platform::plan(&loaded.env).unwrap();
        let prefix = if loaded.env.argocd.hub.is_some() {
            format!("{}-", loaded.name)
        } else {
            String::new()
        };
        let component = &plan
            .components
            .iter()
            .find(|c| format!("{prefix}{}", c.component.name) == release.app.name)
            .unwrap()
            .component;
        for service in release
            .templated
            .objects
            .iter()
            .filter(|o| o.kind() == "Service" && o.object["spec"]["type"] == "LoadBalancer")
        {
            for port in service.object["spec"]["ports"].as_array().unwrap() {
                let target = port["targetPort"]
                    .as_u64()
                    .or_else(|| port["port"].as_u64())
                    .unwrap();
                assert!(
                    component
                        .traffic
                        .exposed
                        .iter()
                        .any(|p| u64::from(p.number) == target),
                    "{}: LoadBalancer {} publishes {target}, which {} does not declare published: nothing outside may reach it, or nothing should",
                    release.app.name,
                    service.name(),
                    component.name
                );
                published += 1;
            }
        }
    }
    assert!(published >= 1, "dev's Vault is a LoadBalancer");
}
