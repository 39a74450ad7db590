//! The FinOps pre-flight: the forecast recomputed from the rendered manifests and the prices,
//! OpenCost given the same prices in its units, budgets enforced by render and by quota, and
//! every chart container's resources, replicas and volumes read where the chart reads them.

use std::collections::BTreeMap;

use platform_core::component::Replicas;
use serde_json::Value;

const HOURS: f64 = 730.0;
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

fn yaml(path: &str) -> Value {
    let text =
        std::fs::read_to_string(platform_tests::workspace_root().join("rendered").join(path))
            .unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// Cores or bytes of a quantity as Kubernetes writes them.
fn amount(text: &str) -> f64 {
    let units = [
        ("m", 1e-3),
        ("Ki", 1024.0),
        ("Mi", 1024.0 * 1024.0),
        ("Gi", GIB),
    ];
    for (suffix, factor) in units {
        if let Some(number) = text.strip_suffix(suffix) {
            return number.parse::<f64>().unwrap() * factor;
        }
    }
    text.parse().unwrap()
}

/// OpenCost's hourly prices in an environment, read from what the environment renders as
/// OpenCost reads it: what the forecast must bill at.
struct Billed {
    cpu: f64,
    memory: f64,
    storage: f64,
    load_balancer: f64,
}

fn billed(env: &str) -> Billed {
    let prices = platform_tests::opencost_billed(env);
    Billed {
        cpu: prices["CPU"],
        memory: prices["RAM"],
        storage: prices["Storage"],
        load_balancer: prices["FirstFiveForwardingRulesCost"],
    }
}

fn forecast(name: &str) -> platform_cost::Forecast {
    platform_tests::render(&platform_tests::load(name)).forecast
}

#[test]
fn an_apps_cost_is_its_deployments_requests_times_replicas_at_opencosts_prices() {
    for env in ["dev", "staging", "prod"] {
        let pricing = billed(env);
        let deployment = yaml(&format!(
            "{env}/manifests/finops-app/deployment-finops-app.yaml"
        ));
        let replicas = deployment["spec"]["replicas"].as_f64().unwrap();
        let (mut cpu, mut memory, mut cpu_limit, mut memory_limit) = (0.0, 0.0, 0.0, 0.0);
        for container in deployment["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
        {
            let resources = &container["resources"];
            cpu += amount(resources["requests"]["cpu"].as_str().unwrap());
            memory += amount(resources["requests"]["memory"].as_str().unwrap()) / GIB;
            cpu_limit += amount(resources["limits"]["cpu"].as_str().unwrap());
            memory_limit += amount(resources["limits"]["memory"].as_str().unwrap()) / GIB;
        }
        let monthly = HOURS * replicas * (cpu * pricing.cpu + memory * pricing.memory);
        let ceiling = HOURS * replicas * (cpu_limit * pricing.cpu + memory_limit * pricing.memory);
        let forecast = forecast(env);
        let app = forecast
            .applications
            .iter()
            .find(|a| a.application == "finops-app")
            .unwrap();
        assert!(
            (app.monthly - monthly).abs() < 1e-9,
            "{env}: {} != {monthly}",
            app.monthly
        );
        assert!(
            (app.ceiling - ceiling).abs() < 1e-9,
            "{env}: {} != {ceiling}",
            app.ceiling
        );
        assert_eq!(
            (app.team.as_str(), app.cost_center.as_str()),
            ("finops", "cc-finops")
        );
        // The team's cost is its apps' (its tenant Application runs nothing).
        let team = forecast
            .teams()
            .into_iter()
            .find(|t| t.team == "finops")
            .unwrap();
        assert!((team.monthly - monthly).abs() < 1e-9, "{env}");
        let total: f64 = forecast.teams().iter().map(|t| t.monthly).sum();
        assert!((total - forecast.monthly()).abs() < 1e-9);
    }
}

#[test]
fn a_charts_pods_volumes_and_load_balancers_are_priced_from_its_rendered_values() {
    let values =
        |env: &str, app: &str| platform_tests::chart_values(&platform_tests::load(env), app);
    // prod: Vault runs HA with three replicas, each with its data volume (the chart's 10Gi).
    let prod = billed("prod");
    let vault = values("prod", "vault");
    let replicas = vault["server"]["ha"]["replicas"].as_f64().unwrap();
    let requests = &vault["server"]["resources"]["requests"];
    let cpu = amount(requests["cpu"].as_str().unwrap()) * replicas;
    let memory = amount(requests["memory"].as_str().unwrap()) / GIB * replicas;
    let expected = HOURS * (cpu * prod.cpu + memory * prod.memory + 10.0 * replicas * prod.storage);
    let app = forecast("prod")
        .applications
        .into_iter()
        .find(|a| a.application == "vault")
        .unwrap();
    assert_eq!(app.storage_gib, 30.0);
    assert_eq!(app.load_balancers, 0);
    assert!(
        (app.monthly - expected).abs() < 1e-9,
        "{} != {expected}",
        app.monthly
    );
    // dev: one Vault in dev mode (no volume) behind a LoadBalancer Service, the `vault-ui`
    // one (the server's own stays ClusterIP).
    let dev = billed("dev");
    let vault = values("dev", "vault");
    assert_eq!(vault["server"]["service"]["type"], "ClusterIP");
    assert_eq!(vault["ui"]["serviceType"], "LoadBalancer");
    let requests = &vault["server"]["resources"]["requests"];
    let expected = HOURS
        * (amount(requests["cpu"].as_str().unwrap()) * dev.cpu
            + amount(requests["memory"].as_str().unwrap()) / GIB * dev.memory
            + dev.load_balancer);
    let app = forecast("dev")
        .applications
        .into_iter()
        .find(|a| a.application == "vault")
        .unwrap();
    assert_eq!((app.storage_gib, app.load_balancers), (0.0, 1));
    assert!(
        (app.monthly - expected).abs() < 1e-9,
        "{} != {expected}",
        app.monthly
    );
    // Prometheus keeps its series on the chart's 8Gi volume; its node exporter runs per node.
    let staging = forecast("staging");
    let prometheus = staging
        .applications
        .iter()
        .find(|a| a.application == "prometheus")
        .unwrap();
    assert_eq!(prometheus.storage_gib, 8.0);
    let dev_prometheus = forecast("dev")
        .applications
        .into_iter()
        .find(|a| a.application == "prometheus")
        .unwrap();
    let exporter = platform_core::sizing::Size::Tiny.amounts().requests.0 as f64 / 1000.0;
    assert!(
        (prometheus.requests.cpu_cores - dev_prometheus.requests.cpu_cores - 2.0 * exporter).abs()
            < 1e-9,
        "3 nodes against 1"
    );
}

#[test]
fn opencost_bills_the_environments_prices() {
    for env in ["dev", "staging", "prod"] {
        let cost = platform_tests::load(env).env.cost;
        let values = &platform_tests::chart_values(&platform_tests::load(env), "opencost");
        let pricing = &values["opencost"]["customPricing"];
        assert_eq!(pricing["enabled"], true);
        // The chart's defaults: the custom provider, reading the ConfigMap the chart writes.
        assert!(pricing.get("provider").is_none() && pricing.get("createConfigmap").is_none());
        assert_eq!(pricing["costModel"]["currencyCode"], cost.currency.as_str());
        let billed = platform_tests::opencost_billed(env);
        assert_eq!(billed["CPU"], cost.pricing.cpu_per_vcpu_hour, "{env}");
        assert_eq!(billed["SpotCPU"], cost.pricing.cpu_per_vcpu_hour, "{env}");
        assert_eq!(billed["RAM"], cost.pricing.memory_per_gib_hour, "{env}");
        assert_eq!(billed["SpotRAM"], cost.pricing.memory_per_gib_hour, "{env}");
        // A month of a GiB is 730 of OpenCost's hours, within its six decimals.
        let storage_month = billed["Storage"] * HOURS;
        assert!(
            storage_month > 0.0
                && (storage_month - cost.pricing.storage_per_gib_month).abs() <= 0.5e-6 * HOURS,
            "{env}: {storage_month} a GiB-month"
        );
        assert_eq!(
            billed["FirstFiveForwardingRulesCost"],
            cost.pricing.load_balancer_per_hour
        );
        for key in [
            "GPU",
            "ZoneNetworkEgress",
            "RegionNetworkEgress",
            "InternetNetworkEgress",
            "LBIngressDataCost",
        ] {
            assert_eq!(billed[key], 0.0, "{env}: {key}");
        }
    }
}

fn with_finops_budget(env: &str, budget: f64) -> platform::LoadedEnvironment {
    let mut loaded = platform_tests::load(env);
    let team = loaded
        .env
        .teams
        .iter_mut()
        .find(|t| t.name.as_str() == "finops")
        .unwrap();
    team.monthly_budget = Some(budget);
    loaded
}

#[test]
fn a_team_over_budget_stops_render_where_budgets_hold_and_warns_elsewhere() {
    let prod = with_finops_budget("prod", 1.0);
    assert!(prod.env.cost.enforce_budgets);
    let result = platform::render_checked(
        std::slice::from_ref(&prod),
        1,
        Some(platform_tests::charts::charts()),
        &|_| {},
    );
    let errors = result.into_iter().next().unwrap().expect_err("over budget");
    let error = errors
        .iter()
        .find(|e| e.path.as_deref() == Some("teams[1].monthly_budget"))
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert_eq!(error.file, "environments/base.yaml");
    assert!(error.location.is_some());
    assert!(
        error.message.contains("team finops is forecast at") && error.message.contains("in prod"),
        "{error}"
    );

    let dev = with_finops_budget("dev", 1.0);
    assert!(!dev.env.cost.enforce_budgets);
    let result = platform::render_checked(
        std::slice::from_ref(&dev),
        1,
        Some(platform_tests::charts::charts()),
        &|_| {},
    );
    let (tree, findings) = result.into_iter().next().unwrap().expect("dev warns");
    assert!(findings.is_empty());
    assert_eq!(tree.over_budget.len(), 1, "{:?}", tree.over_budget);
    assert_eq!(
        tree.over_budget[0].path.as_deref(),
        Some("teams[1].monthly_budget")
    );
}

#[test]
fn a_small_budget_caps_its_namespaces_quota_at_what_it_buys() {
    let budget = 10.0;
    let loaded = with_finops_budget("dev", budget);
    let pricing = billed("dev");
    let rendered = platform_tests::render(&loaded);
    let objects = platform_tests::objects(&rendered);
    let quota = objects
        .values()
        .find(|o| o["kind"] == "ResourceQuota" && o["metadata"]["namespace"] == "finops-app")
        .unwrap();
    let hard = &quota["spec"]["hard"];
    let cpu = amount(hard["requests.cpu"].as_str().unwrap());
    let memory = amount(hard["requests.memory"].as_str().unwrap()) / GIB;
    let cost = HOURS * (cpu * pricing.cpu + memory * pricing.memory);
    // finops has one app: its namespace gets the whole budget, rounded down to whole units.
    assert!(
        cost <= budget && cost > budget * 0.99,
        "a quota of {cpu} cores and {memory} GiB costs {cost}"
    );
    // Without a tight budget the platform's quota stands.
    let usual = platform_tests::objects(&platform_tests::render(&platform_tests::load("dev")));
    let usual_quota = usual
        .values()
        .find(|o| o["kind"] == "ResourceQuota" && o["metadata"]["namespace"] == "finops-app")
        .unwrap();
    assert_eq!(usual_quota["spec"]["hard"]["requests.cpu"], "2");
}

/// What a chart's values.yaml (vendored in schemas/) says at a dotted path; a subchart's
/// values live under its name, which the parent's values.yaml holds (e.g. `enabled`).
fn chart_default(chart: &str, path: &str) -> Option<Value> {
    let text = std::fs::read_to_string(
        platform_tests::schemas_dir().join(format!("charts/{chart}/values.yaml")),
    )
    .unwrap();
    let values: Value = serde_yaml::from_str(&text).unwrap();
    path.split('.')
        .try_fold(&values, |value, key| value.get(key))
        .cloned()
}

#[test]
fn the_inventory_reads_each_container_where_its_chart_does() {
    let subcharts: BTreeMap<&str, &[&str]> = BTreeMap::from([(
        "prometheus",
        &["kube-state-metrics", "prometheus-node-exporter"][..],
    )]);
    for chart in platform::catalog::CHARTS {
        let under_subchart = |path: &str| {
            subcharts.get(chart.name).is_some_and(|names| {
                names.iter().any(|name| {
                    path.starts_with(&format!("{name}."))
                        && chart_default(chart.name, name).is_some()
                })
            })
        };
        let exists = |path: &str| chart_default(chart.name, path).is_some() || under_subchart(path);
        for pod in chart.pods {
            assert!(
                !pod.containers.is_empty(),
                "{}: pod {} lists no container",
                chart.name,
                pod.workload
            );
            for container in pod.containers {
                assert!(
                    exists(container.resources),
                    "{}: {} reads no `{}`",
                    chart.name,
                    container.name,
                    container.resources
                );
            }
            match pod.replicas {
                Replicas::At { path, default } => {
                    assert!(exists(path), "{}: no replicas at `{path}`", chart.name);
                    if let Some(Value::Number(number)) = chart_default(chart.name, path) {
                        assert_eq!(
                            number.as_u64(),
                            Some(u64::from(default)),
                            "{}: `{path}`'s default",
                            chart.name
                        );
                    }
                }
                Replicas::WhenEnabled {
                    enabled,
                    replicas,
                    default,
                } => {
                    assert!(exists(enabled) && exists(replicas), "{}", chart.name);
                    assert_eq!(
                        chart_default(chart.name, replicas).and_then(|v| v.as_u64()),
                        Some(u64::from(default))
                    );
                }
                Replicas::One | Replicas::PerNode | Replicas::Hook => {}
            }
        }
        for volume in chart.volumes {
            assert_eq!(
                chart_default(chart.name, volume.size)
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .as_deref(),
                Some(volume.default_size),
                "{}",
                chart.name
            );
            assert_eq!(
                chart_default(chart.name, volume.enabled).and_then(|v| v.as_bool()),
                Some(volume.enabled_default),
                "{}",
                chart.name
            );
            assert!(
                chart.pods.iter().any(|pod| pod.workload == volume.workload),
                "{}",
                chart.name
            );
        }
    }
}

/// The environment files with base.yaml's prices replaced.
fn with_base_prices(
    storage_per_gib_month: &str,
    cpu_per_vcpu_hour: &str,
) -> Vec<platform::EnvironmentFile> {
    let mut files = platform_tests::environment_files();
    let base = files
        .iter_mut()
        .find(|f| f.path == "environments/base.yaml")
        .unwrap();
    let replace = |text: &str, key: &str, value: &str| {
        let start = text.find(&format!("    {key}: ")).unwrap();
        let end = start + text[start..].find('\n').unwrap();
        format!("{}    {key}: {value}{}", &text[..start], &text[end..])
    };
    base.contents = replace(
        &base.contents,
        "storage_per_gib_month",
        storage_per_gib_month,
    );
    base.contents = replace(&base.contents, "cpu_per_vcpu_hour", cpu_per_vcpu_hour);
    files
}

#[test]
fn a_price_opencost_would_bill_as_nothing_is_refused_where_it_is_written() {
    // 0.0003 a GiB-month is 0.00000041 an hour: OpenCost keeps 0.000000.
    let errors = platform::load(&with_base_prices("0.0003", "0.0000004")).expect_err("billed as 0");
    for (path, smallest) in [
        ("cost.pricing.storage_per_gib_month", "more than 0.000365"),
        ("cost.pricing.cpu_per_vcpu_hour", "more than 0.0000005"),
    ] {
        let error = errors
            .iter()
            .find(|e| e.path.as_deref() == Some(path))
            .unwrap_or_else(|| panic!("{path}: {errors:?}"));
        assert_eq!(error.file, "environments/base.yaml");
        assert!(error.location.is_some(), "{error}");
        assert!(
            error.message.contains("billed as 0") && error.message.contains(smallest),
            "{error}"
        );
    }
    // The smallest prices OpenCost keeps pass.
    platform::load(&with_base_prices("0.000366", "0.0000006")).unwrap();
}
