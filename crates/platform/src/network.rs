//! NetworkPolicies derived from the components' declared traffic.
//!
//! Every namespace that runs pods gets a default deny of ingress and egress, and an allow for
//! cluster DNS. Each declared edge then gets an egress policy on the caller's side and an
//! ingress policy on the callee's side: a connection needs both, so neither side can widen
//! it alone. Each policy ships in the Application of the component whose pods it selects.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use platform_core::application::metadata;
use platform_core::component::Component;
use platform_core::labels;
use platform_core::manifest::Manifest;
use platform_core::model::Environment;
use platform_core::traffic::{DNS_PORTS, KUBERNETES_API_PORTS, Peer, PodSubset, Port, Traffic};
use platform_syntax::cidr;

/// The label Kubernetes puts on every namespace with its own name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// Where cluster DNS runs, and the label of its pods (CoreDNS keeps kube-dns's).
const DNS_NAMESPACE: &str = "kube-system";
const DNS_POD_LABEL: (&str, &str) = ("k8s-app", "kube-dns");

/// A declared edge whose far end runs no pods, so no policy could allow it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DanglingEdge {
    pub component: String,
    pub peer: String,
}

/// Adds the NetworkPolicies of every component to its `extra_manifests`.
pub fn attach(
    components: &mut [&mut Component],
    env: &Environment,
) -> Result<(), Vec<DanglingEdge>> {
    let mut builder = Builder {
        env,
        pods: components
            .iter()
            .filter(|c| c.traffic.runs_pods())
            .map(|c| (c.name.clone(), (c.namespace.clone(), c.traffic.clone())))
            .collect(),
        policies: BTreeMap::new(),
        dangling: Vec::new(),
    };
    builder.namespace_defaults();
    for component in components.iter().filter(|c| c.traffic.runs_pods()) {
        builder.component(component);
    }
    if !builder.dangling.is_empty() {
        return Err(builder.dangling);
    }
    // Each component's policies go to the Application that ships them, its own or the one it
    // names (a team's tenant); by then every policy is keyed by the component it selects.
    let mut shipped: BTreeMap<String, Vec<NetworkPolicy>> = BTreeMap::new();
    for component in components.iter() {
        if let Some(owned) = builder.policies.remove(&component.name) {
            shipped
                .entry(component.network_policy_owner().to_owned())
                .or_default()
                .extend(owned);
        }
    }
    for component in components.iter_mut() {
        if let Some(owned) = shipped.remove(&component.name) {
            component
                .extra_manifests
                .extend(owned.into_iter().map(Manifest::new));
        }
    }
    if let Some((owner, _)) = shipped.into_iter().next() {
        panic!("NetworkPolicies are shipped by `{owner}`, which is not a component here");
    }
    Ok(())
}

/// The policies of an environment as they are derived, by the component that ships each.
struct Builder<'a> {
    env: &'a Environment,
    /// Every component that runs pods: its namespace and traffic (pod labels, listeners).
    pods: BTreeMap<String, (String, Traffic)>,
    policies: BTreeMap<String, Vec<NetworkPolicy>>,
    dangling: Vec<DanglingEdge>,
}

impl Builder<'_> {
    fn ship(&mut self, owner: &str, policy: NetworkPolicy) {
        self.policies
            .entry(owner.to_owned())
            .or_default()
            .push(policy);
    }

    fn api_server_peers(&self) -> Vec<NetworkPolicyPeer> {
        let ranges = self.env.network_ranges();
        ip_peers(ranges.api_server, ranges.pods)
    }

    /// Default deny and DNS in every namespace that runs pods, shipped by the first
    /// component (by name) running pods there.
    fn namespace_defaults(&mut self) {
        let mut owners: BTreeMap<String, String> = BTreeMap::new();
        for (name, (namespace, _)) in &self.pods {
            owners
                .entry(namespace.clone())
                .or_insert_with(|| name.clone());
        }
        for (namespace, owner) in owners {
            self.ship(&owner, default_deny(&namespace));
            self.ship(&owner, dns(&namespace));
        }
    }

    /// A component's own policies (among its pods, from the API server to its webhooks) and
    /// both ends of every call it makes.
    fn component(&mut self, component: &Component) {
        let name = component.name.as_str();
        let namespace = component.namespace.as_str();
        let own_pods = &component.traffic.pods;
        if let Some(ports) = &component.traffic.among_themselves {
            let peer = pod_peer(None, own_pods);
            let internal = policy(
                &format!("allow-{name}-internal"),
                namespace,
                own_pods,
                vec![ingress(vec![peer.clone()], ports)],
                vec![egress(vec![peer], ports)],
            );
            self.ship(name, internal);
        }
        let webhooks = by_listener(&component.traffic, &component.traffic.webhooks);
        let split = webhooks.len() > 1;
        for (listeners, ports) in webhooks {
            let webhooks = policy_selecting(
                &named(&format!("allow-{name}-from-kubernetes-api"), split, &ports),
                namespace,
                narrowed(own_pods, listeners),
                vec![ingress(self.api_server_peers(), &ports)],
                Vec::new(),
            );
            self.ship(name, webhooks);
        }
        if !component.traffic.exposed.is_empty() {
            let ranges = self.env.network_ranges();
            let published = policy(
                &format!("allow-{name}-from-outside"),
                namespace,
                own_pods,
                vec![ingress(
                    ip_peers(ranges.nodes, ranges.pods),
                    &component.traffic.exposed,
                )],
                Vec::new(),
            );
            self.ship(name, published);
        }
        let mut external = Vec::new();
        for edge in &component.traffic.calls {
            match &edge.to {
                Peer::Component(callee) => self.call(component, callee, &edge.ports),
                Peer::KubernetesApi => {
                    let api = policy(
                        &format!("allow-{name}-to-kubernetes-api"),
                        namespace,
                        own_pods,
                        Vec::new(),
                        vec![egress(self.api_server_peers(), &KUBERNETES_API_PORTS)],
                    );
                    self.ship(name, api);
                }
                Peer::External { cidr } => external.push(egress(
                    ip_peers(std::slice::from_ref(cidr), self.env.network_ranges().pods),
                    &edge.ports,
                )),
            }
        }
        if !external.is_empty() {
            let outside = policy(
                &format!("allow-{name}-to-external"),
                namespace,
                own_pods,
                Vec::new(),
                external,
            );
            self.ship(name, outside);
        }
    }

    /// A call between two components: egress on the caller's side, ingress on the callee's.
    fn call(&mut self, caller: &Component, callee: &str, ports: &[Port]) {
        let name = caller.name.as_str();
        let namespace = caller.namespace.as_str();
        let Some((callee_namespace, callee_traffic)) = self.pods.get(callee).cloned() else {
            self.dangling.push(DanglingEdge {
                component: name.to_owned(),
                peer: callee.to_owned(),
            });
            return;
        };
        // The callee's pods that listen on each port: one egress rule, and one ingress policy,
        // per set of them.
        let groups = by_listener(&callee_traffic, ports);
        let split = groups.len() > 1;
        let to_callee = groups
            .iter()
            .map(|(listeners, ports)| {
                egress(
                    vec![pod_peer_selecting(
                        Some(&callee_namespace),
                        narrowed(&callee_traffic.pods, *listeners),
                    )],
                    ports,
                )
            })
            .collect();
        let out = policy(
            &format!("allow-{name}-to-{callee}"),
            namespace,
            &caller.traffic.pods,
            Vec::new(),
            to_callee,
        );
        self.ship(name, out);
        for (listeners, ports) in &groups {
            let into = policy_selecting(
                &named(&format!("allow-{callee}-from-{name}"), split, ports),
                &callee_namespace,
                narrowed(&callee_traffic.pods, *listeners),
                vec![ingress(
                    vec![pod_peer(Some(namespace), &caller.traffic.pods)],
                    ports,
                )],
                Vec::new(),
            );
            self.ship(callee, into);
        }
    }
}

fn default_deny(namespace: &str) -> NetworkPolicy {
    policy(
        "default-deny",
        namespace,
        &BTreeMap::new(),
        Vec::new(),
        Vec::new(),
    )
    .with_types(&["Ingress", "Egress"])
}

fn dns(namespace: &str) -> NetworkPolicy {
    let dns_pods = BTreeMap::from([(DNS_POD_LABEL.0.to_owned(), DNS_POD_LABEL.1.to_owned())]);
    policy(
        "allow-dns",
        namespace,
        &BTreeMap::new(),
        Vec::new(),
        vec![egress(
            vec![pod_peer(Some(DNS_NAMESPACE), &dns_pods)],
            &DNS_PORTS,
        )],
    )
}

trait WithTypes {
    fn with_types(self, types: &[&str]) -> Self;
}

impl WithTypes for NetworkPolicy {
    fn with_types(mut self, types: &[&str]) -> Self {
        if let Some(spec) = self.spec.as_mut() {
            spec.policy_types = Some(types.iter().map(|t| (*t).to_owned()).collect());
        }
        self
    }
}

fn selector(labels: &BTreeMap<String, String>) -> LabelSelector {
    LabelSelector {
        match_labels: (!labels.is_empty()).then(|| labels.clone()),
        ..LabelSelector::default()
    }
}

/// `ports`, grouped by the pods of `traffic` that listen on them (`None`: all its pods), in
/// a stable order.
fn by_listener<'a>(
    traffic: &'a Traffic,
    ports: &[Port],
) -> Vec<(Option<&'a PodSubset>, Vec<Port>)> {
    let mut groups: BTreeMap<Option<&PodSubset>, Vec<Port>> = BTreeMap::new();
    for port in ports {
        groups
            .entry(traffic.listeners_of(*port))
            .or_default()
            .push(*port);
    }
    groups.into_iter().collect()
}

/// A policy's name, with its ports when one edge needs several (one per set of listeners).
fn named(name: &str, split: bool, ports: &[Port]) -> String {
    if split {
        let ports: Vec<String> = ports.iter().map(|p| p.number.to_string()).collect();
        format!("{name}-{}", ports.join("-"))
    } else {
        name.to_owned()
    }
}

/// The pods with `pods` labels, narrowed to `listeners` where only those listen.
fn narrowed(pods: &BTreeMap<String, String>, listeners: Option<&PodSubset>) -> LabelSelector {
    let Some(subset) = listeners else {
        return selector(pods);
    };
    let mut labels = pods.clone();
    labels.extend(subset.labels.clone());
    let expressions: Vec<LabelSelectorRequirement> = subset
        .one_of
        .iter()
        .map(|(key, values)| LabelSelectorRequirement {
            key: key.clone(),
            operator: "In".to_owned(),
            values: Some(values.clone()),
        })
        .collect();
    LabelSelector {
        match_labels: (!labels.is_empty()).then_some(labels),
        match_expressions: (!expressions.is_empty()).then_some(expressions),
    }
}

/// Pods with `labels`, in `namespace` (or the policy's own namespace when `None`).
fn pod_peer(namespace: Option<&str>, labels: &BTreeMap<String, String>) -> NetworkPolicyPeer {
    pod_peer_selecting(namespace, selector(labels))
}

/// Pods `pods` selects, in `namespace` (or the policy's own namespace when `None`).
fn pod_peer_selecting(namespace: Option<&str>, pods: LabelSelector) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: namespace.map(|ns| {
            selector(&BTreeMap::from([(
                NAMESPACE_NAME_LABEL.to_owned(),
                ns.to_owned(),
            )]))
        }),
        pod_selector: Some(pods),
        ..NetworkPolicyPeer::default()
    }
}

/// Address ranges outside the pod network: the pod ranges inside each are cut out, so a rule
/// for the API server or the internet never admits a pod.
fn ip_peers(cidrs: &[String], pod_cidrs: &[String]) -> Vec<NetworkPolicyPeer> {
    cidrs
        .iter()
        .map(|cidr| {
            let except: Vec<String> = pod_cidrs
                .iter()
                .filter(|pods| cidr::within(pods, cidr) && *pods != cidr)
                .cloned()
                .collect();
            NetworkPolicyPeer {
                ip_block: Some(IPBlock {
                    cidr: cidr.clone(),
                    except: (!except.is_empty()).then_some(except),
                }),
                ..NetworkPolicyPeer::default()
            }
        })
        .collect()
}

fn ports(ports: &[Port]) -> Option<Vec<NetworkPolicyPort>> {
    (!ports.is_empty()).then(|| {
        ports
            .iter()
            .map(|port| NetworkPolicyPort {
                port: Some(IntOrString::Int(i32::from(port.number))),
                protocol: Some(port.protocol.as_str().to_owned()),
                ..NetworkPolicyPort::default()
            })
            .collect()
    })
}

fn ingress(from: Vec<NetworkPolicyPeer>, on: &[Port]) -> NetworkPolicyIngressRule {
    NetworkPolicyIngressRule {
        from: Some(from),
        ports: ports(on),
    }
}

fn egress(to: Vec<NetworkPolicyPeer>, on: &[Port]) -> NetworkPolicyEgressRule {
    NetworkPolicyEgressRule {
        to: Some(to),
        ports: ports(on),
    }
}

/// A policy for the pods with `pods` labels (all pods when empty); its types follow from the
/// rules it has, so an egress-only allow never isolates pods for ingress by accident.
fn policy(
    name: &str,
    namespace: &str,
    pods: &BTreeMap<String, String>,
    ingress: Vec<NetworkPolicyIngressRule>,
    egress: Vec<NetworkPolicyEgressRule>,
) -> NetworkPolicy {
    policy_selecting(name, namespace, selector(pods), ingress, egress)
}

/// [`policy`] for the pods `pods` selects.
fn policy_selecting(
    name: &str,
    namespace: &str,
    pods: LabelSelector,
    ingress: Vec<NetworkPolicyIngressRule>,
    egress: Vec<NetworkPolicyEgressRule>,
) -> NetworkPolicy {
    let mut types = Vec::new();
    if !ingress.is_empty() {
        types.push("Ingress".to_owned());
    }
    if !egress.is_empty() {
        types.push("Egress".to_owned());
    }
    let mut meta = metadata(name, Some(namespace));
    meta.labels = Some(BTreeMap::from([(
        labels::MANAGED_BY.to_owned(),
        labels::MANAGER.to_owned(),
    )]));
    NetworkPolicy {
        metadata: meta,
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(pods),
            policy_types: Some(types),
            ingress: (!ingress.is_empty()).then_some(ingress),
            egress: (!egress.is_empty()).then_some(egress),
        }),
    }
}
