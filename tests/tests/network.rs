//! Zero trust by construction: the rendered NetworkPolicies allow exactly the declared edges,
//! and AppProjects keep teams inside their own namespaces.

use std::collections::{BTreeMap, BTreeSet};

use platform::matrix::{self, INTERNET, KUBE_DNS, KUBERNETES_API, Matrix, Reach};
use platform::plan::Plan;
use platform::{LoadedEnvironment, RenderedEnvironment};
use platform_core::traffic::{DNS_PORTS, Peer};
use platform_netpol::Port;
use platform_tests::{load, load_all, objects, render, two_teams};
use serde_json::Value;

fn matrix_of(loaded: &LoadedEnvironment) -> (Plan, RenderedEnvironment, Matrix) {
    let plan = platform::plan(&loaded.env).unwrap();
    let rendered = render(loaded);
    let policies = matrix::rendered_policies(&rendered).unwrap();
    let endpoints = matrix::endpoints(&plan, loaded.env.network_ranges());
    let matrix = matrix::matrix(endpoints, &policies);
    (plan, rendered, matrix)
}

fn as_port(port: platform_core::traffic::Port) -> Port {
    Port {
        number: port.number,
        protocol: port.protocol.as_str(),
    }
}

/// An endpoint outside the pod network, which only address ranges name.
fn outside(name: &str) -> bool {
    [KUBERNETES_API, matrix::NODE, INTERNET].contains(&name)
}

/// What the declarations allow, computed from the components alone.
fn declared(plan: &Plan, loaded: &LoadedEnvironment, from: &str, to: &str, port: Port) -> bool {
    let component = |name: &str| plan.get(name).map(|c| &c.component);
    let contains = |cidr: &str, ip: std::net::Ipv4Addr| platform_syntax::cidr::contains(cidr, ip);
    let endpoints = matrix::endpoints(plan, loaded.env.network_ranges());
    let ip_of = |name: &str| endpoints.iter().find(|e| e.name == name).unwrap().ip;
    if let Some(caller) = component(from) {
        if from == to {
            return match &caller.traffic.among_themselves {
                None => false,
                Some(ports) => ports.is_empty() || ports.iter().any(|p| as_port(*p) == port),
            };
        }
        if to == KUBE_DNS {
            return DNS_PORTS.iter().any(|p| as_port(*p) == port);
        }
        return caller.traffic.calls.iter().any(|edge| {
            let port_ok = edge.ports.iter().any(|p| as_port(*p) == port);
            let peer_ok = match &edge.to {
                Peer::Component(name) => name == to,
                // The API server is named by its address ranges, so whatever lies in them.
                Peer::KubernetesApi => {
                    outside(to)
                        && loaded
                            .env
                            .network_ranges()
                            .api_server
                            .iter()
                            .any(|c| contains(c, ip_of(to)))
                }
                Peer::External { cidr } => outside(to) && contains(cidr, ip_of(to)),
            };
            port_ok && peer_ok
        });
    }
    if outside(from) {
        let ranges = loaded.env.network_ranges();
        // The API server calls webhooks from the API server's address range; a LoadBalancer's
        // traffic arrives from the nodes' addresses.
        return component(to).is_some_and(|callee| {
            let webhook = callee.traffic.webhooks.iter().any(|p| as_port(*p) == port)
                && ranges.api_server.iter().any(|c| contains(c, ip_of(from)));
            let published = callee.traffic.exposed.iter().any(|p| as_port(*p) == port)
                && ranges.nodes.iter().any(|c| contains(c, ip_of(from)));
            webhook || published
        });
    }
    false
}

#[test]
fn every_pair_of_endpoints_is_allowed_exactly_when_declared() {
    let mut environments = load_all();
    environments.push(two_teams());
    for loaded in environments {
        let (plan, _, matrix) = matrix_of(&loaded);
        let mut ports: BTreeSet<Port> = BTreeSet::new();
        for reach in matrix.cells.values() {
            if let Reach::Ports(open) = reach {
                ports.extend(open);
            }
        }
        for planned in &plan.components {
            let traffic = &planned.component.traffic;
            ports.extend(
                traffic
                    .calls
                    .iter()
                    .flat_map(|e| e.ports.iter().map(|p| as_port(*p))),
            );
            ports.extend(traffic.webhooks.iter().map(|p| as_port(*p)));
        }
        ports.insert(Port {
            number: 1,
            protocol: "TCP",
        });
        let pods: Vec<&str> = matrix
            .endpoints
            .iter()
            .filter(|e| e.namespace.is_some() && e.name != KUBE_DNS)
            .map(|e| e.name.as_str())
            .collect();
        let mut checked = 0;
        for from in matrix.endpoints.iter().map(|e| e.name.as_str()) {
            for to in matrix.endpoints.iter().map(|e| e.name.as_str()) {
                let involves_our_pods = pods.contains(&from) || pods.contains(&to);
                if !involves_our_pods {
                    continue;
                }
                for port in &ports {
                    let allowed = match matrix.reach(from, to) {
                        Reach::Denied => false,
                        Reach::AnyPort => true,
                        Reach::Ports(open) => open.contains(port),
                    };
                    let expected = declared(&plan, &loaded, from, to, *port);
                    assert_eq!(
                        allowed, expected,
                        "{}: {from} -> {to} on {}/{}: policies say {allowed}, declarations say {expected}",
                        loaded.name, port.number, port.protocol
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 500, "{}: only {checked} verdicts", loaded.name);
    }
}

#[test]
fn vault_admits_only_external_secrets_on_8200_in_every_environment() {
    let mut environments = load_all();
    environments.push(two_teams());
    for loaded in environments {
        let (_, _, matrix) = matrix_of(&loaded);
        for endpoint in &matrix.endpoints {
            let reach = matrix.reach(&endpoint.name, "vault");
            match endpoint.name.as_str() {
                "vault" => {
                    // HA peers forward requests and replicate Raft on 8200 and 8201, and no
                    // other port; a dev server's only peer is its bootstrap hook, on 8200.
                    let tcp = |number| Port {
                        number,
                        protocol: "TCP",
                    };
                    let expected = if loaded.env.vault.mode == platform_core::model::VaultMode::Ha {
                        vec![tcp(8200), tcp(8201)]
                    } else {
                        vec![tcp(8200)]
                    };
                    assert_eq!(
                        reach,
                        &Reach::Ports(expected),
                        "{}: vault peers",
                        loaded.name
                    );
                }
                // ESO reads secrets; Prometheus reads `/v1/sys/metrics`, which Vault serves
                // without a token, and holds no Vault role to read anything else.
                "external-secrets" | "prometheus" => assert_eq!(
                    reach,
                    &Reach::Ports(vec![Port {
                        number: 8200,
                        protocol: "TCP"
                    }]),
                    "{}: {}",
                    loaded.name,
                    endpoint.name
                ),
                // A LoadBalancer (dev's) is reached from outside: through kube-proxy, from
                // a node's address, on the API's port alone. No pod gets in that way.
                other
                    if endpoint.namespace.is_none()
                        && loaded.env.vault.service_type
                            == platform_core::model::ServiceType::LoadBalancer
                        && loaded
                            .env
                            .network_ranges()
                            .nodes
                            .iter()
                            .any(|c| platform_syntax::cidr::contains(c, endpoint.ip)) =>
                {
                    assert_eq!(
                        reach,
                        &Reach::Ports(vec![Port {
                            number: 8200,
                            protocol: "TCP"
                        }]),
                        "{}: {other}",
                        loaded.name
                    );
                }
                other => assert_eq!(
                    reach,
                    &Reach::Denied,
                    "{}: {other} reaches vault",
                    loaded.name
                ),
            }
        }
    }
}

#[test]
fn a_user_app_cannot_reach_vault_even_with_internet_and_api_egress() {
    let loaded = two_teams();
    let (_, _, matrix) = matrix_of(&loaded);
    assert_eq!(matrix.reach("billing-api", "vault"), &Reach::Denied);
    assert_eq!(matrix.reach("finops-app", "vault"), &Reach::Denied);
    assert_eq!(
        matrix.reach("billing-api", "finops-app"),
        &Reach::Ports(vec![Port {
            number: 8080,
            protocol: "TCP"
        }])
    );
    assert_eq!(
        matrix.reach("finops-app", "billing-api"),
        &Reach::Denied,
        "edges are one-way"
    );
}

#[test]
fn every_namespace_that_runs_pods_has_a_default_deny() {
    let mut environments = load_all();
    environments.push(two_teams());
    for loaded in environments {
        let plan = platform::plan(&loaded.env).unwrap();
        let rendered = render(&loaded);
        let deny: BTreeSet<String> = objects(&rendered)
            .values()
            .filter(|o| o["kind"] == "NetworkPolicy" && o["metadata"]["name"] == "default-deny")
            .map(|o| {
                assert_eq!(o["spec"]["podSelector"], serde_json::json!({}));
                assert_eq!(
                    o["spec"]["policyTypes"],
                    serde_json::json!(["Ingress", "Egress"])
                );
                o["metadata"]["namespace"].as_str().unwrap().to_owned()
            })
            .collect();
        let namespaces: BTreeSet<String> = plan
            .components
            .iter()
            .filter(|c| c.component.traffic.runs_pods())
            .map(|c| c.component.namespace.clone())
            .collect();
        assert_eq!(deny, namespaces, "{}", loaded.name);
    }
}

#[test]
fn no_allow_policy_selects_nothing() {
    let mut policies = 0;
    for loaded in load_all() {
        let plan = platform::plan(&loaded.env).unwrap();
        // A chart's pods as its inventory labels them; a component of our own manifests by
        // its declared labels.
        let mut pods: Vec<(String, BTreeMap<String, String>)> = Vec::new();
        for planned in plan
            .components
            .iter()
            .filter(|c| c.component.traffic.runs_pods())
        {
            let component = &planned.component;
            match &component.source {
                platform_core::component::Source::Helm(release) => {
                    pods.extend(
                        release
                            .chart
                            .pods
                            .iter()
                            .filter(|p| !p.host_network)
                            .map(|p| {
                                let labels = p
                                    .labels
                                    .iter()
                                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                                    .collect();
                                (component.namespace.clone(), labels)
                            }),
                    );
                }
                platform_core::component::Source::Manifests(_) => {
                    pods.push((component.namespace.clone(), component.traffic.pods.clone()));
                }
            }
        }
        for (path, _, namespace, selector) in network_policies(&loaded) {
            let selects_some = pods.iter().any(|(ns, labels)| {
                *ns == namespace && platform_netpol::selects(Some(&selector), labels)
            });
            assert!(selects_some, "{}/{path} selects no pod", loaded.name);
            policies += 1;
        }
    }
    assert!(
        policies > 50,
        "only {policies} NetworkPolicies were checked"
    );
}

fn project<'a>(objects: &'a BTreeMap<String, Value>, name: &str) -> &'a Value {
    &objects[&format!("apps/projects/{name}.yaml")]
}

#[test]
fn an_app_moved_into_another_teams_namespace_is_caught() {
    let loaded = two_teams();
    let rendered = render(&loaded);
    let mut files: BTreeMap<String, String> = rendered
        .files
        .iter()
        .map(|(path, text)| (format!("dev/{path}"), text.to_string()))
        .collect();
    let path = "dev/apps/billing-api.yaml";
    let mut app: Value = serde_yaml::from_str(&files[path]).unwrap();
    app["spec"]["destination"]["namespace"] = "finops-app".into();
    files.insert(path.to_owned(), serde_yaml::to_string(&app).unwrap());
    let report = platform_validate::validate(&files, None, &platform::conventions());
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.file == path && f.rule == "project-destination"),
        "{:#?}",
        report.findings
    );
}

#[test]
fn platform_project_reads_only_the_pinned_repositories() {
    let loaded = load("dev");
    let objects = objects(&render(&loaded));
    let repos: Vec<&str> = project(&objects, "platform")["spec"]["sourceRepos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(repos.contains(&loaded.env.git.repo_url.as_str()));
    assert!(repos.contains(&"https://helm.releases.hashicorp.com"));
    assert!(
        repos.iter().all(|r| !r.contains('*')),
        "no wildcard repositories: {repos:?}"
    );
    assert_eq!(
        repos.len(),
        9,
        "the Git repository and eight chart repositories: {repos:?}"
    );
}

#[test]
fn the_last_address_range_and_a_foreign_pod_range_place_endpoints_inside_them() {
    let mut loaded = load("dev");
    loaded.env.network.api_server_cidrs = Some(vec!["255.255.255.255/32".to_owned()]);
    loaded.env.network.pod_cidrs = Some(vec!["10.42.0.0/16".to_owned()]);
    let plan = platform::plan(&loaded.env).unwrap();
    let endpoints = matrix::endpoints(&plan, loaded.env.network_ranges());
    let ip = |name: &str| endpoints.iter().find(|e| e.name == name).unwrap().ip;
    assert_eq!(ip(matrix::KUBERNETES_API), std::net::Ipv4Addr::BROADCAST);
    let pods: platform_syntax::Ipv4Range = "10.42.0.0/16".parse().unwrap();
    let pod_endpoints: Vec<_> = endpoints.iter().filter(|e| e.namespace.is_some()).collect();
    assert!(pod_endpoints.len() > 5);
    for endpoint in &pod_endpoints {
        assert!(
            pods.contains(endpoint.ip),
            "{} at {}",
            endpoint.name,
            endpoint.ip
        );
    }
    let distinct: std::collections::BTreeSet<_> = pod_endpoints.iter().map(|e| e.ip).collect();
    assert_eq!(
        distinct.len(),
        pod_endpoints.len(),
        "two endpoints share an address"
    );
}

#[test]
fn prometheus_reaches_the_kubelet_and_node_exporters_on_the_node_addresses() {
    for loaded in load_all() {
        let (_, _, matrix) = matrix_of(&loaded);
        let reach = &matrix.cells[&("prometheus".to_owned(), matrix::NODE.to_owned())];
        let matrix::Reach::Ports(ports) = reach else {
            panic!("{}: prometheus -> node is {reach:?}", loaded.name);
        };
        for needed in [9100, 10250] {
            assert!(
                ports
                    .iter()
                    .any(|p| p.number == needed && p.protocol == "TCP"),
                "{}: {needed}",
                loaded.name
            );
        }
        let opencost = &matrix.cells[&("opencost".to_owned(), matrix::NODE.to_owned())];
        assert!(
            !matches!(opencost, matrix::Reach::Ports(p) if p.iter().any(|p| p.number == 10250)),
            "{}: only Prometheus scrapes the kubelet",
            loaded.name
        );
    }
}

#[test]
fn every_chart_pod_inventory_was_read_at_the_pinned_version() {
    for chart in platform::catalog::CHARTS {
        assert!(!chart.pods.is_empty(), "{}: no pod inventory", chart.name);
        assert_eq!(
            chart.pods_verified_at, chart.version,
            "{}: the pod inventory was read at {}, the chart is pinned at {}: read the chart's templates again and update it",
            chart.name, chart.pods_verified_at, chart.version
        );
    }
}

#[test]
fn every_pod_of_every_chart_gets_the_flows_it_needs() {
    let mut checked = 0;
    for loaded in load_all() {
        let plan = platform::plan(&loaded.env).unwrap();
        let rendered = render(&loaded);
        let policies = matrix::rendered_policies(&rendered).unwrap();
        let endpoints = matrix::endpoints(&plan, loaded.env.network_ranges());
        let endpoint = |name: &str| endpoints.iter().find(|e| e.name == name).unwrap().clone();
        let (dns, api) = (endpoint(KUBE_DNS), endpoint(KUBERNETES_API));
        let pod_ip = endpoint(KUBE_DNS).ip; // any address in the pod range
        for planned in &plan.components {
            let component = &planned.component;
            let platform_core::component::Source::Helm(release) = &component.source else {
                continue;
            };
            for pod in release.chart.pods.iter().filter(|p| !p.host_network) {
                let labels: BTreeMap<String, String> = pod
                    .labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect();
                let me = platform_netpol::Endpoint::pod(
                    pod.workload,
                    &component.namespace,
                    labels,
                    pod_ip,
                );
                let what = format!("{}: {} ({})", loaded.name, pod.workload, component.name);
                let udp = Port {
                    number: 53,
                    protocol: "UDP",
                };
                assert!(
                    policies.allows(&me, &dns, udp),
                    "{what} cannot resolve names"
                );
                if pod.calls_api {
                    let https = [443, 6443].map(|number| Port {
                        number,
                        protocol: "TCP",
                    });
                    assert!(
                        https.iter().any(|p| policies.allows(&me, &api, *p)),
                        "{what} cannot reach the Kubernetes API{}",
                        if pod.hook {
                            " (a Helm hook: its sync fails)"
                        } else {
                            ""
                        }
                    );
                }
                if let Some(number) = pod.webhook_port {
                    assert!(
                        policies.allows(
                            &api,
                            &me,
                            Port {
                                number,
                                protocol: "TCP"
                            }
                        ),
                        "{what}: the API server cannot call its webhook on {number}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "only {checked} pods checked");
}

#[test]
fn no_platform_component_reaches_the_internet_unless_its_environment_file_says_so() {
    let mut remote = 0;
    for loaded in load_all() {
        let (plan, rendered, matrix) = matrix_of(&loaded);
        let objects = objects(&rendered);
        // What reaches the internet probe, by the rendered policies.
        for planned in &plan.components {
            let component = &planned.component;
            if !component.traffic.runs_pods() || component.project != "platform" {
                continue;
            }
            let reach = matrix.reach(&component.name, INTERNET);
            let probe = std::net::Ipv4Addr::new(203, 0, 113, 10);
            let declared = (component.name == "argocd"
                && loaded
                    .env
                    .repository_cidrs()
                    .iter()
                    .any(|c| platform_syntax::cidr::contains(c, probe)))
                || (component.name == "alertmanager"
                    && loaded.env.alerting.receivers.iter().any(|r| {
                        r.egress_cidrs
                            .iter()
                            .any(|c| platform_syntax::cidr::contains(c, probe))
                    }));
            assert_eq!(
                *reach != Reach::Denied,
                declared,
                "{}: {} -> internet is {reach:?}",
                loaded.name,
                component.name
            );
        }
        if loaded.env.cluster.provider != platform_core::model::ClusterProvider::Remote {
            continue;
        }
        remote += 1;
        // On a remote cluster, an address range as wide as the internet appears only where the
        // environment's own file writes it: Argo CD's repositories, Alertmanager's receivers.
        let written = loaded
            .env
            .argocd
            .repository_cidrs
            .clone()
            .unwrap_or_default();
        let receivers: Vec<String> = loaded
            .env
            .alerting
            .receivers
            .iter()
            .flat_map(|r| r.egress_cidrs.clone())
            .collect();
        for (path, policy) in objects.iter().filter(|(_, o)| o["kind"] == "NetworkPolicy") {
            for rule in policy["spec"]["egress"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(policy["spec"]["ingress"].as_array().into_iter().flatten())
            {
                let peers = rule["to"].as_array().or(rule["from"].as_array());
                for cidr in peers
                    .into_iter()
                    .flatten()
                    .filter_map(|peer| peer["ipBlock"]["cidr"].as_str())
                {
                    let range: platform_syntax::Ipv4Range = cidr.parse().unwrap();
                    if range.size() > 1 << 24 {
                        assert!(
                            (path.starts_with("manifests/argocd/")
                                && written.iter().any(|w| w == cidr))
                                || (path.starts_with("manifests/alertmanager/")
                                    && receivers.iter().any(|w| w == cidr)),
                            "{}: {path} opens {cidr}",
                            loaded.name
                        );
                    }
                }
            }
        }
    }
    assert_eq!(remote, 2, "staging and prod");
}

#[test]
fn the_indexed_matrix_agrees_with_every_pair_evaluated_one_by_one() {
    for loaded in load_all().into_iter().chain([two_teams()]) {
        let (_, rendered, matrix) = matrix_of(&loaded);
        let policies = matrix::rendered_policies(&rendered).unwrap();
        // Every port a rendered policy names, read from the YAML.
        let mut ports: BTreeSet<Port> = BTreeSet::new();
        for policy in objects(&rendered)
            .values()
            .filter(|o| o["kind"] == "NetworkPolicy")
        {
            for direction in ["ingress", "egress"] {
                for rule in policy["spec"][direction].as_array().into_iter().flatten() {
                    for port in rule["ports"].as_array().into_iter().flatten() {
                        let protocol = if port["protocol"] == "UDP" {
                            "UDP"
                        } else {
                            "TCP"
                        };
                        if let Some(number) = port["port"].as_u64() {
                            ports.insert(Port {
                                number: u16::try_from(number).unwrap(),
                                protocol,
                            });
                        }
                    }
                }
            }
        }
        let probe = Port {
            number: 1,
            protocol: "TCP",
        };
        let mut allowed = 0;
        for from in &matrix.endpoints {
            for to in &matrix.endpoints {
                if from.namespace.is_none() && to.namespace.is_none() {
                    continue;
                }
                let expected = if policies.allows(from, to, probe) {
                    Reach::AnyPort
                } else {
                    let open: Vec<Port> = ports
                        .iter()
                        .copied()
                        .filter(|p| policies.allows(from, to, *p))
                        .collect();
                    if open.is_empty() {
                        Reach::Denied
                    } else {
                        Reach::Ports(open)
                    }
                };
                allowed += usize::from(expected != Reach::Denied);
                assert_eq!(
                    matrix.reach(&from.name, &to.name),
                    &expected,
                    "{}: {} -> {}",
                    loaded.name,
                    from.name,
                    to.name
                );
            }
        }
        assert!(
            allowed > 10,
            "{}: only {allowed} allowed pairs",
            loaded.name
        );
    }
}

/// The README's reachability table reads the NetworkPolicies as the plan built them, without
/// rendering them; they are exactly those the rendered files hold.
#[test]
fn the_policies_a_plan_builds_are_those_its_files_hold() {
    let by_name = |policies: &platform_netpol::Policies| {
        policies
            .iter()
            .map(|policy| {
                let id = (
                    policy.metadata.namespace.clone(),
                    policy.metadata.name.clone(),
                );
                (id, policy.clone())
            })
            .collect::<BTreeMap<_, _>>()
    };
    for loaded in load_all() {
        let plan = platform::plan(&loaded.env).unwrap();
        let planned = by_name(&matrix::planned_policies(&plan));
        let rendered = by_name(&matrix::rendered_policies(&render(&loaded)).unwrap());
        assert!(planned.len() > 20, "{}: {}", loaded.name, planned.len());
        assert_eq!(planned, rendered, "{}", loaded.name);
    }
}

/// The first address of a range, as a connection to it would be addressed.
fn first_host(cidr: &str) -> std::net::Ipv4Addr {
    let (network, _) = cidr.split_once('/').expect("a CIDR");
    let network: std::net::Ipv4Addr = network.parse().expect("an IPv4 network");
    std::net::Ipv4Addr::from(u32::from(network) + 1)
}

/// An Argo CD reaches the API server of every cluster it deploys to, at the port of the
/// `destination.server` its Applications name, and no other address on those ports: its
/// egress follows the environments it deploys (a hub's, for its manager), not only the
/// cluster it runs in.
#[test]
fn argocd_reaches_the_api_server_of_every_cluster_its_applications_deploy_to() {
    let all = load_all();
    let mut reached = 0;
    for manager in all.iter().filter(|e| e.env.argocd.enabled) {
        let policies = matrix::rendered_policies(&render(manager)).unwrap();
        let pod = component_argocd::CHART
            .pods
            .iter()
            .find(|p| p.workload == "argocd-application-controller")
            .expect("the application controller");
        let labels = pod
            .labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let pod_ip = first_host(&manager.env.network_ranges().pods[0]);
        let controller = platform_netpol::Endpoint::pod(pod.workload, "argocd", labels, pod_ip);
        let deployed = all.iter().filter(|e| {
            e.name == manager.name
                || (e.env.argocd.hub.is_some() && e.env.argocd.hub == manager.env.argocd.hub)
        });
        let mut ports = BTreeSet::new();
        for environment in deployed {
            for application in objects(&render(environment))
                .values()
                .filter(|o| o["kind"] == "Application")
            {
                let server = application["spec"]["destination"]["server"]
                    .as_str()
                    .unwrap();
                if server == platform_core::names::IN_CLUSTER_SERVER {
                    continue;
                }
                let port = platform_core::model::Cluster {
                    server: server.to_owned(),
                    ..environment.env.cluster.clone()
                }
                .api_port()
                .unwrap();
                ports.insert(port);
                for cidr in environment.env.network_ranges().api_server {
                    let api = platform_netpol::Endpoint::outside("api", first_host(cidr));
                    let tcp = Port {
                        number: port,
                        protocol: "TCP",
                    };
                    assert!(
                        policies.allows(&controller, &api, tcp),
                        "{}'s Argo CD cannot reach {server} ({cidr}) on {port}, where {} deploys",
                        manager.name,
                        application["metadata"]["name"]
                    );
                    reached += 1;
                }
            }
        }
        let elsewhere =
            platform_netpol::Endpoint::outside("elsewhere", "192.0.2.1".parse().unwrap());
        for port in ports.into_iter().filter(|p| ![443, 22].contains(p)) {
            let tcp = Port {
                number: port,
                protocol: "TCP",
            };
            assert!(
                !policies.allows(&controller, &elsewhere, tcp),
                "{}'s Argo CD reaches any address on {port}",
                manager.name
            );
        }
    }
    assert!(reached > 10, "only {reached} destinations checked");
}

/// The reachability matrix stands a component's pods by one that listens on every port the
/// component serves; such a pod must exist in the declarations: every listener's labels are
/// its, and a real pod of the chart carries them (the inventory's labels are the chart's).
#[test]
fn a_components_representative_pod_is_one_of_every_listener_and_a_real_pod_of_each() {
    let mut listeners = 0;
    for loaded in load_all() {
        let plan = platform::plan(&loaded.env).unwrap();
        for planned in &plan.components {
            let traffic = &planned.component.traffic;
            let representative = traffic.representative_labels();
            for (port, subset) in &traffic.listeners {
                let mut labels = traffic.pods.clone();
                labels.extend(subset.labels.clone());
                let fits = subset
                    .labels
                    .iter()
                    .all(|(k, v)| representative.get(k) == Some(v))
                    && subset.one_of.iter().all(|(k, values)| {
                        representative.get(k).is_some_and(|v| values.contains(v))
                    });
                assert!(
                    fits,
                    "{}: {}'s representative {representative:?} does not listen on {port}",
                    loaded.name, planned.component.name
                );
                let platform_core::component::Source::Helm(release) = &planned.component.source
                else {
                    continue;
                };
                let real = release.chart.pods.iter().any(|pod| {
                    let pod: BTreeMap<&str, &str> = pod.labels.iter().copied().collect();
                    labels
                        .iter()
                        .all(|(k, v)| pod.get(k.as_str()) == Some(&v.as_str()))
                        && subset.one_of.iter().all(|(k, values)| {
                            pod.get(k.as_str())
                                .is_some_and(|v| values.iter().any(|x| x == v))
                        })
                });
                assert!(
                    real,
                    "{}: no pod of {} listens on {port} as declared",
                    loaded.name, planned.component.name
                );
                listeners += 1;
            }
        }
    }
    assert!(listeners >= 10, "only {listeners} listeners");
}

/// Every rendered NetworkPolicy of an environment: its path, the object, its namespace and
/// the pods it selects.
fn network_policies(
    loaded: &LoadedEnvironment,
) -> Vec<(
    String,
    Value,
    String,
    k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
)> {
    objects(&render(loaded))
        .into_iter()
        .filter(|(_, object)| object["kind"] == "NetworkPolicy")
        .map(|(path, object)| {
            let namespace = object["metadata"]["namespace"].as_str().unwrap().to_owned();
            let selector = serde_json::from_value(object["spec"]["podSelector"].clone()).unwrap();
            (path, object, namespace, selector)
        })
        .collect()
}

/// A chart pod of the inventory: namespace, labels, the ports its containers declare, name.
type InventoryPod<'a> = (&'a str, BTreeMap<String, String>, BTreeSet<u16>, &'a str);

/// Without Helm: every port a rendered policy admits into a chart's pods is one that every
/// pod of the inventory it selects declares (the inventory's ports are held to the real
/// Helm's by `the_chart_inventory_is_what_helm_renders`).
#[test]
fn every_port_a_policy_admits_into_a_charts_pods_is_one_each_of_them_declares() {
    let mut checked = 0;
    for loaded in load_all() {
        let plan = platform::plan(&loaded.env).unwrap();
        let pods: Vec<InventoryPod<'_>> = plan
            .components
            .iter()
            .flat_map(|planned| {
                let component = &planned.component;
                let chart_pods = match &component.source {
                    platform_core::component::Source::Helm(release) => release.chart.pods,
                    platform_core::component::Source::Manifests(_) => &[],
                };
                chart_pods
                    .iter()
                    .filter(|p| !p.host_network)
                    .map(move |pod| {
                        let labels = pod
                            .labels
                            .iter()
                            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                            .collect();
                        let ports = pod
                            .containers
                            .iter()
                            .filter(|c| !c.init)
                            .flat_map(|c| c.ports.iter().copied())
                            .collect();
                        (component.namespace.as_str(), labels, ports, pod.workload)
                    })
            })
            .collect();
        for (path, object, namespace, selector) in network_policies(&loaded) {
            let selected: Vec<_> = pods
                .iter()
                .filter(|(ns, labels, ..)| {
                    *ns == namespace && platform_netpol::selects(Some(&selector), labels)
                })
                .collect();
            for rule in object["spec"]["ingress"].as_array().into_iter().flatten() {
                for port in rule["ports"].as_array().into_iter().flatten() {
                    let Some(number) = port["port"].as_u64() else {
                        continue;
                    };
                    for (_, _, ports, workload) in &selected {
                        assert!(
                            ports.contains(&u16::try_from(number).unwrap()),
                            "{}/{path} admits {number} into {workload}, which declares {ports:?}",
                            loaded.name
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 30, "only {checked} ports checked");
}
