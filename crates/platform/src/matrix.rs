//! The reachability matrix of an environment, computed from its rendered NetworkPolicies.
//!
//! The endpoints are the components that run pods (their namespace and pod labels), cluster
//! DNS, the Kubernetes API server and an address on the internet. Which of them may reach
//! which, on which port, is evaluated from the rendered policies alone, so the matrix shows
//! what the YAML says, to be compared with what the graph declares.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use platform_netpol::{Endpoint, EndpointIndex, Policies, Port};

use platform_core::model::NetworkRanges;
use platform_syntax::Ipv4Range;

use crate::plan::Plan;
use crate::render::RenderedEnvironment;

pub const KUBE_DNS: &str = "kube-dns";
pub const KUBERNETES_API: &str = "kubernetes-api";
/// A node's own address: the kubelet, host-network pods such as the node exporters.
pub const NODE: &str = "node";
pub const INTERNET: &str = "internet";

/// A port no policy names, to tell "any port" from a list of ports.
const PROBE_PORT: u16 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    Denied,
    Ports(Vec<Port>),
    AnyPort,
}

#[derive(Clone, Debug)]
pub struct Matrix {
    pub endpoints: Vec<Endpoint>,
    /// The allowed (from, to) pairs of endpoint names, with what each allows: a pair of which
    /// at least one end is a pod, and each endpoint with itself. Every other pair is denied.
    pub cells: BTreeMap<(String, String), Reach>,
}

/// The endpoints of a planned environment: its pods, and what lies outside them. Pods get
/// addresses from the first pod range (cluster DNS the first address, each component one
/// of its own), so that
/// address-range rules, which cut the pod ranges out, treat them as pods.
pub fn endpoints(plan: &Plan, network: NetworkRanges<'_>) -> Vec<Endpoint> {
    let pods = network
        .pods
        .first()
        .and_then(|cidr| cidr.parse::<Ipv4Range>().ok())
        .unwrap_or(KIND_POD_RANGE);
    let pod_address = |index: usize| {
        pods.nth(index as u64 + 1)
            .expect("the model's check gives the pod range room for every endpoint")
    };
    let mut endpoints: Vec<Endpoint> = plan
        .components
        .iter()
        .filter(|c| c.component.traffic.runs_pods())
        .enumerate()
        .map(|(i, c)| {
            Endpoint::pod(
                &c.component.name,
                &c.component.namespace,
                c.component.traffic.representative_labels(),
                pod_address(i + 1),
            )
        })
        .collect();
    endpoints.push(Endpoint::pod(
        KUBE_DNS,
        "kube-system",
        BTreeMap::from([("k8s-app".to_owned(), "kube-dns".to_owned())]),
        pod_address(0),
    ));
    endpoints.push(Endpoint::outside(
        KUBERNETES_API,
        api_server_address(network.api_server),
    ));
    endpoints.push(Endpoint::outside(NODE, node_address(network.nodes)));
    endpoints.push(Endpoint::outside(INTERNET, Ipv4Addr::new(203, 0, 113, 10)));
    endpoints
}

/// kind's pod network, where pods are placed when the environment names none.
const KIND_POD_RANGE: Ipv4Range = Ipv4Range::new(Ipv4Addr::new(10, 244, 0, 0), 16);

/// An address inside the first API server range (kind's control plane when it is `0.0.0.0/0`):
/// its second address, or its only one.
fn api_server_address(cidrs: &[String]) -> Ipv4Addr {
    cidrs
        .first()
        .filter(|c| c.as_str() != "0.0.0.0/0")
        .and_then(|c| c.parse::<Ipv4Range>().ok())
        .and_then(|range| range.nth(1).or(range.nth(0)))
        .unwrap_or(Ipv4Addr::new(172, 18, 0, 2))
}

/// An address inside the first node range (a kind worker's when it is `0.0.0.0/0`): its
/// fourth address, or its last.
fn node_address(cidrs: &[String]) -> Ipv4Addr {
    cidrs
        .first()
        .filter(|c| c.as_str() != "0.0.0.0/0")
        .and_then(|c| c.parse::<Ipv4Range>().ok())
        .and_then(|range| range.nth(3).or_else(|| range.nth(range.size() - 1)))
        .unwrap_or(Ipv4Addr::new(172, 18, 0, 3))
}

/// Every port the policies name, which are the only ones whose verdict can differ.
fn candidate_ports(policies: &Policies) -> BTreeSet<Port> {
    let mut ports = BTreeSet::new();
    for spec in policies.iter().filter_map(|p| p.spec.as_ref()) {
        let ingress = spec
            .ingress
            .iter()
            .flatten()
            .flat_map(|r| r.ports.iter().flatten());
        let egress = spec
            .egress
            .iter()
            .flatten()
            .flat_map(|r| r.ports.iter().flatten());
        for port in ingress.chain(egress) {
            if let Some(IntOrString::Int(number)) = port.port
                && let Ok(number) = u16::try_from(number)
            {
                let protocol = match port.protocol.as_deref() {
                    Some("UDP") => "UDP",
                    Some("SCTP") => "SCTP",
                    _ => "TCP",
                };
                ports.insert(Port { number, protocol });
            }
        }
    }
    ports
}

/// The NetworkPolicies a plan renders, as built: what `rendered/` holds, without rendering
/// (or parsing back) the rest of the environment.
pub fn planned_policies(plan: &Plan) -> Policies {
    Policies::new(
        plan.components
            .iter()
            .flat_map(|c| c.component.folder_manifests())
            .filter_map(|m| m.get::<NetworkPolicy>())
            .cloned()
            .collect(),
    )
}

/// The NetworkPolicies of a rendered environment. An error names the file: a policy this
/// generator wrote that does not read back is a bug in it, not in the environment.
pub fn rendered_policies(rendered: &RenderedEnvironment) -> Result<Policies, String> {
    let mut objects = Vec::new();
    for (path, yaml) in rendered
        .files
        .iter()
        .filter(|(p, _)| p.starts_with("manifests/"))
    {
        let object: serde_json::Value = serde_yaml::from_str(yaml)
            .map_err(|e| format!("rendered/{}/{path}: not YAML: {e}", rendered.name))?;
        platform_netpol::policies(std::slice::from_ref(&object))
            .map_err(|e| format!("rendered/{}/{path}: {e}", rendered.name))?;
        objects.push(object);
    }
    platform_netpol::policies(&objects)
}

/// Evaluates the policies for every pair an egress rule could connect: each endpoint's
/// candidates come from its own rules through an index ([`EndpointIndex`]), so the work grows
/// with the rules, not with the square of the endpoints. Pairs that are not candidates are
/// denied, since no rule of the sender's names them.
pub fn matrix(endpoints: Vec<Endpoint>, policies: &Policies) -> Matrix {
    let ports = candidate_ports(policies);
    let probe = Port {
        number: PROBE_PORT,
        protocol: "TCP",
    };
    let mut allowed = BTreeMap::new();
    {
        let index = EndpointIndex::new(&endpoints);
        for from in &endpoints {
            for to in policies
                .egress_candidates(from, &index)
                .into_iter()
                .map(|i| &endpoints[i])
            {
                if from.namespace.is_none() && to.namespace.is_none() {
                    continue;
                }
                let between = policies.between(from, to);
                let reach = if between.allows(probe) {
                    Reach::AnyPort
                } else {
                    let open: Vec<Port> = ports
                        .iter()
                        .copied()
                        .filter(|port| between.allows(*port))
                        .collect();
                    if open.is_empty() {
                        continue;
                    }
                    Reach::Ports(open)
                };
                allowed.insert((from.name.clone(), to.name.clone()), reach);
            }
        }
    }
    Matrix {
        endpoints,
        cells: allowed,
    }
}

impl Matrix {
    /// What `from` may open to `to`. Endpoints outside the pod network reach each other as
    /// far as policies are concerned; any other pair not evaluated as allowed is denied.
    pub fn reach(&self, from: &str, to: &str) -> &Reach {
        const DENIED: Reach = Reach::Denied;
        const ANY: Reach = Reach::AnyPort;
        if let Some(reach) = self.cells.get(&(from.to_owned(), to.to_owned())) {
            return reach;
        }
        // Few endpoints are outside the pod network, and they come last.
        let outside = |name: &str| {
            self.endpoints
                .iter()
                .rev()
                .take_while(|e| e.namespace.is_none())
                .any(|e| e.name == name)
        };
        if outside(from) && outside(to) {
            &ANY
        } else {
            &DENIED
        }
    }

    /// The allowed pairs, as indexes into `endpoints`, in the order of the endpoints.
    fn allowed_pairs(&self) -> Vec<(usize, usize, &Reach)> {
        let position: BTreeMap<&str, usize> = self
            .endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.as_str(), i))
            .collect();
        let mut pairs: Vec<(usize, usize, &Reach)> = self
            .cells
            .iter()
            .filter(|(_, reach)| **reach != Reach::Denied)
            .filter_map(|((from, to), reach)| {
                Some((
                    *position.get(from.as_str())?,
                    *position.get(to.as_str())?,
                    reach,
                ))
            })
            .collect();
        pairs.sort_unstable_by_key(|(from, to, _)| (*from, *to));
        pairs
    }

    /// A Markdown table with one row per endpoint that may reach anything: what it reaches,
    /// on which ports. One row per component, however many pairs: how the README shows an
    /// environment with many apps.
    pub fn allowed_table(&self) -> String {
        let mut text = String::from("| From | May reach |\n|---|---|\n");
        let pairs = self.allowed_pairs();
        for row in pairs.chunk_by(|a, b| a.0 == b.0) {
            let reaches: Vec<String> = row
                .iter()
                .map(|(_, to, reach)| format!("`{}` ({})", self.endpoints[*to].name, ports(reach)))
                .collect();
            let _ = writeln!(
                text,
                "| `{}` | {} |",
                self.endpoints[row[0].0].name,
                reaches.join("; ")
            );
        }
        text
    }

    /// Every allowed ordered pair (`from`, `to`) with what it allows (`8200/TCP`, `any port`).
    pub fn allowed(&self) -> Vec<(String, String, String)> {
        self.allowed_pairs()
            .into_iter()
            .map(|(from, to, reach)| {
                (
                    self.endpoints[from].name.clone(),
                    self.endpoints[to].name.clone(),
                    ports(reach),
                )
            })
            .collect()
    }

    /// One line per allowed ordered pair between endpoints of which at least one is a pod,
    /// in the order of the endpoints; every pair not listed is denied. Grows with the edges,
    /// not with the square of the endpoints.
    pub fn allowed_text(&self) -> String {
        let width = self
            .endpoints
            .iter()
            .map(|e| e.name.len())
            .max()
            .unwrap_or(0);
        let mut text = String::new();
        for (from, to, reach) in self.allowed_pairs() {
            let verdict = match reach {
                Reach::AnyPort => "allowed, any port".to_owned(),
                reach => format!("allowed {}", ports(reach)),
            };
            let _ = writeln!(
                text,
                "{:>width$} -> {:<width$}  {verdict}",
                self.endpoints[from].name, self.endpoints[to].name
            );
        }
        text
    }
}

/// `8200/TCP, 8201/TCP`, or `any port`.
fn ports(reach: &Reach) -> String {
    match reach {
        Reach::Ports(ports) => ports
            .iter()
            .map(|p| format!("{}/{}", p.number, p.protocol))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "any port".to_owned(),
    }
}
