//! NetworkPolicy semantics, as the Kubernetes API documents them, evaluated over rendered
//! policies: a connection from A to B on a port is allowed when A's egress allows it (or no
//! policy isolates A for egress) *and* B's ingress allows it (or no policy isolates B for
//! ingress). Endpoints that are not pods (the API server, the internet) have no policies of
//! their own.
//!
//! `ipBlock` is evaluated conservatively: pods have addresses too, so a block that contains a
//! pod's address matches that pod, as it does with most CNIs.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The label Kubernetes puts on every namespace with its own name.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Something that opens or accepts connections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub name: String,
    /// The namespace of a pod; `None` for endpoints outside the pod network.
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub ip: Ipv4Addr,
}

impl Endpoint {
    pub fn pod(
        name: &str,
        namespace: &str,
        labels: BTreeMap<String, String>,
        ip: Ipv4Addr,
    ) -> Self {
        Self {
            name: name.to_owned(),
            namespace: Some(namespace.to_owned()),
            labels,
            ip,
        }
    }

    pub fn outside(name: &str, ip: Ipv4Addr) -> Self {
        Self {
            name: name.to_owned(),
            namespace: None,
            labels: BTreeMap::new(),
            ip,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Port {
    pub number: u16,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: &'static str,
}

/// Parses every NetworkPolicy among rendered objects; other kinds are skipped.
pub fn policies(objects: &[serde_json::Value]) -> Result<Policies, String> {
    use k8s_openapi::serde::Deserialize;
    objects
        .iter()
        .filter(|o| o["kind"] == "NetworkPolicy" && o["apiVersion"] == "networking.k8s.io/v1")
        .map(|o| NetworkPolicy::deserialize(o).map_err(|e| format!("not a NetworkPolicy: {e}")))
        .collect::<Result<Vec<NetworkPolicy>, String>>()
        .map(Policies::new)
}

/// NetworkPolicies indexed by namespace: a policy only ever governs pods of its own.
#[derive(Clone, Debug, Default)]
pub struct Policies {
    by_namespace: BTreeMap<String, Vec<NetworkPolicy>>,
}

impl Policies {
    pub fn new(policies: Vec<NetworkPolicy>) -> Self {
        let mut by_namespace: BTreeMap<String, Vec<NetworkPolicy>> = BTreeMap::new();
        for policy in policies {
            let namespace = policy.metadata.namespace.clone().unwrap_or_default();
            by_namespace.entry(namespace).or_default().push(policy);
        }
        Self { by_namespace }
    }

    pub fn len(&self) -> usize {
        self.by_namespace.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &NetworkPolicy> {
        self.by_namespace.values().flatten()
    }

    /// Whether `from` may open a connection to `to` on `port`.
    pub fn allows(&self, from: &Endpoint, to: &Endpoint, port: Port) -> bool {
        self.between(from, to).allows(port)
    }

    /// What the policies say of connections from `from` to `to`, to be asked port by port:
    /// which rules name the other end is found once, not once per port.
    pub fn between<'a>(&'a self, from: &Endpoint, to: &Endpoint) -> Between<'a> {
        Between {
            egress: self.side(from, to, Direction::Egress),
            ingress: self.side(to, from, Direction::Ingress),
        }
    }

    /// Policies of the endpoint's namespace that select it and govern `direction`.
    fn governing<'a, 'e>(
        &'a self,
        endpoint: &'e Endpoint,
        direction: &'e str,
    ) -> impl Iterator<Item = &'a NetworkPolicy> + 'e
    where
        'a: 'e,
    {
        endpoint
            .namespace
            .as_ref()
            .and_then(|namespace| self.by_namespace.get(namespace))
            .into_iter()
            .flatten()
            .filter(move |policy| {
                policy
                    .spec
                    .as_ref()
                    .is_some_and(|spec| selects(spec.pod_selector.as_ref(), &endpoint.labels))
                    && types(policy).contains(&direction)
            })
    }

    /// The policies isolating `subject` in `direction`, and the ports of their rules that let
    /// it talk with `peer` (it sends to `peer` for egress, receives from it for ingress).
    fn side<'a>(&'a self, subject: &Endpoint, peer: &Endpoint, direction: Direction) -> Side<'a> {
        let name = match direction {
            Direction::Ingress => "Ingress",
            Direction::Egress => "Egress",
        };
        let mut side = Side {
            isolated: false,
            rules: Vec::new(),
        };
        for policy in self.governing(subject, name) {
            side.isolated = true;
            let namespace = policy.metadata.namespace.as_deref().unwrap_or_default();
            let Some(spec) = &policy.spec else { continue };
            // Each rule of the direction, as the peers it names and the ports it opens.
            let egress = (spec.egress.iter().flatten())
                .filter(|_| direction == Direction::Egress)
                .map(|rule| (rule.to.as_deref(), rule.ports.as_deref()));
            let ingress = (spec.ingress.iter().flatten())
                .filter(|_| direction == Direction::Ingress)
                .map(|rule| (rule.from.as_deref(), rule.ports.as_deref()));
            side.rules.extend(
                egress
                    .chain(ingress)
                    .filter(|(peers, _)| peers_match(*peers, namespace, peer))
                    .map(|(_, ports)| ports),
            );
        }
        side
    }
}

/// What NetworkPolicies allow from one endpoint to another ([`Policies::between`]): a
/// connection needs the sender's egress and the receiver's ingress to allow it.
#[derive(Clone, Debug)]
pub struct Between<'a> {
    egress: Side<'a>,
    ingress: Side<'a>,
}

impl Between<'_> {
    /// Whether a connection on `port` is allowed.
    pub fn allows(&self, port: Port) -> bool {
        self.egress.allows(port) && self.ingress.allows(port)
    }
}

/// One end's policies in one direction: whether any isolates it, and the port lists of the
/// rules that name the other end.
#[derive(Clone, Debug)]
struct Side<'a> {
    isolated: bool,
    rules: Vec<Option<&'a [NetworkPolicyPort]>>,
}

impl Side<'_> {
    /// With no policy isolating the end, everything; else what one of its rules allows.
    fn allows(&self, port: Port) -> bool {
        !self.isolated || self.rules.iter().any(|ports| ports_match(*ports, port))
    }
}

impl Policies {
    /// The endpoints `from` may possibly reach, as indexes into `index`'s endpoints, sorted:
    /// those its egress rules name, or all of them when no policy isolates it for egress.
    /// Each still needs [`Policies::allows`] (the far end's ingress, the port); but no other
    /// endpoint can be reached, so evaluating these alone is exact, and the work follows the
    /// rules rather than every pair.
    pub fn egress_candidates(&self, from: &Endpoint, index: &EndpointIndex<'_>) -> Vec<usize> {
        let mut isolated = false;
        let mut found = Vec::new();
        for policy in self.governing(from, "Egress") {
            isolated = true;
            let namespace = policy.metadata.namespace.as_deref().unwrap_or_default();
            let rules = policy.spec.as_ref().and_then(|spec| spec.egress.as_ref());
            for rule in rules.into_iter().flatten() {
                match rule.to.as_deref() {
                    None | Some([]) => return index.all(),
                    Some(peers) => {
                        for peer in peers {
                            found.extend(
                                index.peer_candidates(peer, namespace).filter(|&i| {
                                    peer_matches(peer, namespace, &index.endpoints[i])
                                }),
                            );
                        }
                    }
                }
            }
        }
        if !isolated {
            return index.all();
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// Endpoints, indexed the ways policy peers name them: by namespace and by address.
#[derive(Clone, Debug)]
pub struct EndpointIndex<'a> {
    endpoints: &'a [Endpoint],
    by_namespace: BTreeMap<&'a str, Vec<usize>>,
    /// Every endpoint's address, sorted, with its index.
    by_address: Vec<(u32, usize)>,
    pods: Vec<usize>,
}

impl<'a> EndpointIndex<'a> {
    pub fn new(endpoints: &'a [Endpoint]) -> Self {
        let mut by_namespace: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut pods = Vec::new();
        for (i, endpoint) in endpoints.iter().enumerate() {
            if let Some(namespace) = &endpoint.namespace {
                by_namespace.entry(namespace).or_default().push(i);
                pods.push(i);
            }
        }
        let mut by_address: Vec<(u32, usize)> = endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| (u32::from(e.ip), i))
            .collect();
        by_address.sort_unstable();
        Self {
            endpoints,
            by_namespace,
            by_address,
            pods,
        }
    }

    fn all(&self) -> Vec<usize> {
        (0..self.endpoints.len()).collect()
    }

    /// A superset of the endpoints `peer` (of a policy in `namespace`) matches, found
    /// through the index where the peer's shape allows.
    fn peer_candidates(
        &self,
        peer: &NetworkPolicyPeer,
        namespace: &str,
    ) -> Box<dyn Iterator<Item = usize> + '_> {
        if let Some(block) = &peer.ip_block {
            return Box::new(
                self.in_block(&block.cidr, block.except.as_deref().unwrap_or_default()),
            );
        }
        let in_namespace = |name: &str| -> Box<dyn Iterator<Item = usize> + '_> {
            Box::new(self.by_namespace.get(name).into_iter().flatten().copied())
        };
        match &peer.namespace_selector {
            None => in_namespace(namespace),
            Some(selector) => match named_namespace(selector) {
                Some(name) => in_namespace(name),
                None => Box::new(self.pods.iter().copied()),
            },
        }
    }

    /// Endpoints whose address is in `cidr` but in none of `except`: the block's address
    /// interval, less the exceptions', looked up by binary search.
    fn in_block(&self, cidr: &str, except: &[String]) -> impl Iterator<Item = usize> + '_ {
        let mut intervals: Vec<(u32, u32)> = interval(cidr).into_iter().collect();
        for hole in except.iter().filter_map(|e| interval(e)) {
            intervals = intervals
                .into_iter()
                .flat_map(|(start, end)| {
                    let mut left = Vec::with_capacity(2);
                    if hole.1 < start || hole.0 > end {
                        left.push((start, end));
                    } else {
                        if hole.0 > start {
                            left.push((start, hole.0 - 1));
                        }
                        if hole.1 < end {
                            left.push((hole.1 + 1, end));
                        }
                    }
                    left
                })
                .collect();
        }
        intervals.into_iter().flat_map(move |(start, end)| {
            let first = self.by_address.partition_point(|(ip, _)| *ip < start);
            self.by_address[first..]
                .iter()
                .take_while(move |(ip, _)| *ip <= end)
                .map(|(_, i)| *i)
        })
    }
}

/// The first and last address of a range, or `None` for a range that does not parse.
fn interval(cidr: &str) -> Option<(u32, u32)> {
    let range: platform_syntax::Ipv4Range = cidr.parse().ok()?;
    let start = u32::from(range.network());
    let last = u64::from(start) + range.size() - 1;
    Some((start, u32::try_from(last).unwrap_or(u32::MAX)))
}

/// The one namespace a selector names by `kubernetes.io/metadata.name` alone, if it does.
fn named_namespace(selector: &LabelSelector) -> Option<&str> {
    let labels = selector.match_labels.as_ref()?;
    if labels.len() != 1
        || selector
            .match_expressions
            .as_ref()
            .is_some_and(|e| !e.is_empty())
    {
        return None;
    }
    labels.get(NAMESPACE_NAME_LABEL).map(String::as_str)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Ingress,
    Egress,
}

/// `policyTypes`, defaulted as the API server does: Ingress always, Egress when there are
/// egress rules.
fn types(policy: &NetworkPolicy) -> Vec<&str> {
    let Some(spec) = &policy.spec else {
        return Vec::new();
    };
    match &spec.policy_types {
        Some(types) => types.iter().map(String::as_str).collect(),
        None if spec.egress.is_some() => vec!["Ingress", "Egress"],
        None => vec!["Ingress"],
    }
}

/// An absent or empty peer list matches everything.
fn peers_match(
    peers: Option<&[NetworkPolicyPeer]>,
    policy_namespace: &str,
    endpoint: &Endpoint,
) -> bool {
    match peers {
        None | Some([]) => true,
        Some(peers) => peers
            .iter()
            .any(|peer| peer_matches(peer, policy_namespace, endpoint)),
    }
}

fn peer_matches(peer: &NetworkPolicyPeer, policy_namespace: &str, endpoint: &Endpoint) -> bool {
    if let Some(block) = &peer.ip_block {
        return platform_syntax::cidr::contains(&block.cidr, endpoint.ip)
            && !block
                .except
                .iter()
                .flatten()
                .any(|except| platform_syntax::cidr::contains(except, endpoint.ip));
    }
    let Some(namespace) = &endpoint.namespace else {
        // Only an ipBlock can match an endpoint outside the pod network.
        return false;
    };
    let namespace_ok = match &peer.namespace_selector {
        None => namespace == policy_namespace,
        Some(selector) => {
            let namespace_labels =
                BTreeMap::from([(NAMESPACE_NAME_LABEL.to_owned(), namespace.clone())]);
            selects(Some(selector), &namespace_labels)
        }
    };
    let pods_ok = match &peer.pod_selector {
        None => true,
        Some(selector) => selects(Some(selector), &endpoint.labels),
    };
    namespace_ok && pods_ok && (peer.namespace_selector.is_some() || peer.pod_selector.is_some())
}

/// An absent or empty port list matches every port.
fn ports_match(ports: Option<&[NetworkPolicyPort]>, port: Port) -> bool {
    match ports {
        None | Some([]) => true,
        Some(ports) => ports.iter().any(|p| {
            let protocol = p.protocol.as_deref().unwrap_or("TCP");
            let number_ok = match &p.port {
                None => true,
                Some(IntOrString::Int(number)) => {
                    let end = p.end_port.unwrap_or(*number);
                    (*number..=end).contains(&i32::from(port.number))
                }
                // Named ports resolve against the pod's container ports, which policies alone
                // do not know: such a rule is not counted as allowing a numbered port.
                Some(IntOrString::String(_)) => false,
            };
            protocol == port.protocol && number_ok
        }),
    }
}

/// A label selector; an absent or empty selector selects everything.
pub fn selects(selector: Option<&LabelSelector>, labels: &BTreeMap<String, String>) -> bool {
    let Some(selector) = selector else {
        return true;
    };
    let labels_ok = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(key, value)| labels.get(key) == Some(value));
    let expressions_ok = selector
        .match_expressions
        .iter()
        .flatten()
        .all(|expression| {
            let value = labels.get(&expression.key);
            let values = expression.values.as_deref().unwrap_or_default();
            match expression.operator.as_str() {
                "In" => value.is_some_and(|v| values.contains(v)),
                "NotIn" => value.is_none_or(|v| !values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        });
    labels_ok && expressions_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, namespace: &str, app: &str, last: u8) -> Endpoint {
        Endpoint::pod(
            name,
            namespace,
            BTreeMap::from([("app".into(), app.into())]),
            Ipv4Addr::new(10, 244, 0, last),
        )
    }

    fn parse(objects: serde_json::Value) -> Policies {
        policies(objects.as_array().unwrap()).unwrap()
    }

    fn allows(policies: &Policies, from: &Endpoint, to: &Endpoint, port: Port) -> bool {
        policies.allows(from, to, port)
    }

    const TCP_80: Port = Port {
        number: 80,
        protocol: "TCP",
    };

    #[test]
    fn without_policies_everything_is_allowed() {
        assert!(allows(
            &Policies::default(),
            &pod("a", "x", "a", 1),
            &pod("b", "y", "b", 2),
            TCP_80
        ));
    }

    #[test]
    fn a_connection_needs_egress_and_ingress() {
        let deny = |ns: &str| {
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "deny", "namespace": ns}, "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}})
        };
        let egress = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "out", "namespace": "x"}, "spec": {"podSelector": {"matchLabels": {"app": "a"}}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "y"}}, "podSelector": {"matchLabels": {"app": "b"}}}], "ports": [{"port": 80, "protocol": "TCP"}]}]}});
        let ingress = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "in", "namespace": "y"}, "spec": {"podSelector": {"matchLabels": {"app": "b"}}, "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "x"}}, "podSelector": {"matchLabels": {"app": "a"}}}], "ports": [{"port": 80}]}]}});
        let (a, b, c) = (
            pod("a", "x", "a", 1),
            pod("b", "y", "b", 2),
            pod("c", "x", "c", 3),
        );

        let only_egress = parse(json!([deny("x"), deny("y"), egress.clone()]));
        assert!(!allows(&only_egress, &a, &b, TCP_80));
        let both = parse(json!([deny("x"), deny("y"), egress, ingress]));
        assert!(allows(&both, &a, &b, TCP_80));
        assert!(!allows(
            &both,
            &a,
            &b,
            Port {
                number: 81,
                protocol: "TCP"
            }
        ));
        assert!(!allows(
            &both,
            &a,
            &b,
            Port {
                number: 80,
                protocol: "UDP"
            }
        ));
        assert!(!allows(&both, &c, &b, TCP_80));
        assert!(!allows(&both, &b, &a, TCP_80));
    }

    /// The rules that name the other end, across every policy that selects the sender, are
    /// found once; each port is then allowed by any of them, and by nothing else.
    #[test]
    fn between_two_endpoints_each_port_is_allowed_by_the_rules_naming_the_other_end() {
        let policy = |name: &str, rules: serde_json::Value| {
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": "x"}, "spec": {"podSelector": {"matchLabels": {"app": "a"}},
            "policyTypes": ["Egress"], "egress": rules}})
        };
        let to = |app: &str, port: u16| json!({"to": [{"podSelector": {"matchLabels": {"app": app}}}], "ports": [{"port": port}]});
        let policies = parse(json!([
            policy("web", json!([to("b", 80), to("c", 443)])),
            policy("admin", json!([to("b", 8080)])),
        ]));
        let (a, b, c) = (
            pod("a", "x", "a", 1),
            pod("b", "x", "b", 2),
            pod("c", "x", "c", 3),
        );
        let tcp = |number| Port {
            number,
            protocol: "TCP",
        };
        let open = |from: &Endpoint, to: &Endpoint| -> Vec<u16> {
            let between = policies.between(from, to);
            [80, 443, 8080, 9090]
                .into_iter()
                .filter(|port| between.allows(tcp(*port)))
                .collect()
        };
        assert_eq!(open(&a, &b), vec![80, 8080]);
        assert_eq!(open(&a, &c), vec![443]);
        assert_eq!(open(&b, &c), vec![80, 443, 8080, 9090], "b is not isolated");
    }

    #[test]
    fn ip_blocks_match_addresses_and_honour_exceptions() {
        let policy = parse(
            json!([{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "out", "namespace": "x"}, "spec": {"podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}], "ports": [{"port": 443}]}]}}]),
        );
        let a = pod("a", "x", "a", 1);
        let internet = Endpoint::outside("internet", Ipv4Addr::new(203, 0, 113, 9));
        let private = Endpoint::outside("private", Ipv4Addr::new(10, 1, 2, 3));
        let https = Port {
            number: 443,
            protocol: "TCP",
        };
        assert!(allows(&policy, &a, &internet, https));
        assert!(!allows(&policy, &a, &private, https));
        assert!(!allows(&policy, &a, &internet, TCP_80));
    }

    #[test]
    fn selectors_support_expressions() {
        let selector: LabelSelector = serde_json::from_value(json!({"matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["web", "api"]},
            {"key": "legacy", "operator": "DoesNotExist"}]}))
        .unwrap();
        let labels = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect()
        };
        assert!(selects(Some(&selector), &labels(&[("tier", "web")])));
        assert!(!selects(Some(&selector), &labels(&[("tier", "db")])));
        assert!(!selects(
            Some(&selector),
            &labels(&[("tier", "web"), ("legacy", "y")])
        ));
    }
}
