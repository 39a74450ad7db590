//! The reachability matrix of an environment, computed from its rendered NetworkPolicies.
//!
//! The endpoints are the components that run pods (their namespace and pod labels), cluster
//! DNS, the Kubernetes API server and an address on the internet. Which of them may reach
//! which, on which port, is evaluated from the rendered policies alone, so the matrix shows
//! what the YAML says, to be compared with what the graph declares.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use platform_netpol::{Endpoint, Policies, Port};

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
    /// Every (from, to) pair of endpoint names, including each endpoint with itself.
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
                c.component.traffic.pods.clone(),
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

/// The policies of a rendered environment.
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

pub fn matrix(endpoints: Vec<Endpoint>, policies: &Policies) -> Matrix {
    let ports = candidate_ports(policies);
    let probe = Port {
        number: PROBE_PORT,
        protocol: "TCP",
    };
    let mut cells = BTreeMap::new();
    for from in &endpoints {
        for to in &endpoints {
            let reach = if from.namespace.is_none() && to.namespace.is_none() {
                // Outside the pod network, policies have nothing to say.
                Reach::AnyPort
            } else if policies.allows(from, to, probe) {
                Reach::AnyPort
            } else {
                let open: Vec<Port> = ports
                    .iter()
                    .copied()
                    .filter(|port| policies.allows(from, to, *port))
                    .collect();
                if open.is_empty() {
                    Reach::Denied
                } else {
                    Reach::Ports(open)
                }
            };
            cells.insert((from.name.clone(), to.name.clone()), reach);
        }
    }
    Matrix { endpoints, cells }
}

impl Matrix {
    pub fn reach(&self, from: &str, to: &str) -> &Reach {
        &self.cells[&(from.to_owned(), to.to_owned())]
    }

    /// One line per allowed ordered pair between endpoints of which at least one is a pod;
    /// every pair not listed is denied. Grows with the edges, not with the square of the
    /// endpoints, so it suits documentation of large environments.
    pub fn allowed_text(&self) -> String {
        self.lines(false)
    }

    /// One line per ordered pair: `from -> to: denied | 8200/TCP, … | any port`.
    pub fn to_text(&self) -> String {
        self.lines(true)
    }

    fn lines(&self, with_denied: bool) -> String {
        let width = self
            .endpoints
            .iter()
            .map(|e| e.name.len())
            .max()
            .unwrap_or(0);
        let mut text = String::new();
        for from in &self.endpoints {
            for to in &self.endpoints {
                if from.namespace.is_none() && to.namespace.is_none() {
                    continue;
                }
                let verdict = match self.reach(&from.name, &to.name) {
                    Reach::Denied if !with_denied => continue,
                    Reach::Denied => "denied".to_owned(),
                    Reach::AnyPort => "allowed, any port".to_owned(),
                    Reach::Ports(ports) => format!(
                        "allowed {}",
                        ports
                            .iter()
                            .map(|p| format!("{}/{}", p.number, p.protocol))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let _ = writeln!(
                    text,
                    "{:>width$} -> {:<width$}  {verdict}",
                    from.name, to.name
                );
            }
        }
        text
    }
}
