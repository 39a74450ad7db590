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
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use platform_core::application::metadata;
use platform_core::component::Component;
use platform_core::labels;
use platform_core::manifest::Manifest;
use platform_core::model::Environment;
use platform_core::traffic::{DNS_PORTS, KUBERNETES_API_PORTS, Peer, Port};
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
    let pods: BTreeMap<String, (String, BTreeMap<String, String>)> = components
        .iter()
        .filter(|c| c.traffic.runs_pods())
        .map(|c| {
            (
                c.name.clone(),
                (c.namespace.clone(), c.traffic.pods.clone()),
            )
        })
        .collect();
    let mut policies: BTreeMap<String, Vec<NetworkPolicy>> = BTreeMap::new();
    let mut dangling = Vec::new();

    // The namespace-wide policies go to the first component (by name) running pods there.
    let mut namespace_owner: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, (namespace, _)) in &pods {
        namespace_owner.entry(namespace).or_insert(name);
    }
    for (namespace, owner) in &namespace_owner {
        let owned = policies.entry((*owner).to_owned()).or_default();
        owned.push(default_deny(namespace));
        owned.push(dns(namespace));
    }

    for component in components.iter().filter(|c| c.traffic.runs_pods()) {
        let name = component.name.as_str();
        let namespace = component.namespace.as_str();
        let own_pods = &component.traffic.pods;
        let mut own = Vec::new();

        if component.traffic.among_themselves {
            let peer = pod_peer(None, own_pods);
            own.push(policy(
                &format!("allow-{name}-internal"),
                namespace,
                own_pods,
                vec![ingress(vec![peer.clone()], &[])],
                vec![egress(vec![peer], &[])],
            ));
        }
        if !component.traffic.webhooks.is_empty() {
            own.push(policy(
                &format!("allow-{name}-from-kubernetes-api"),
                namespace,
                own_pods,
                vec![ingress(
                    ip_peers(&env.network.api_server_cidrs, &env.network.pod_cidrs),
                    &component.traffic.webhooks,
                )],
                Vec::new(),
            ));
        }

        let mut external = Vec::new();
        for edge in &component.traffic.calls {
            match &edge.to {
                Peer::Component(callee) => {
                    let Some((callee_namespace, callee_pods)) = pods.get(callee) else {
                        dangling.push(DanglingEdge {
                            component: name.to_owned(),
                            peer: callee.clone(),
                        });
                        continue;
                    };
                    own.push(policy(
                        &format!("allow-{name}-to-{callee}"),
                        namespace,
                        own_pods,
                        Vec::new(),
                        vec![egress(
                            vec![pod_peer(Some(callee_namespace), callee_pods)],
                            &edge.ports,
                        )],
                    ));
                    policies.entry(callee.clone()).or_default().push(policy(
                        &format!("allow-{callee}-from-{name}"),
                        callee_namespace,
                        callee_pods,
                        vec![ingress(
                            vec![pod_peer(Some(namespace), own_pods)],
                            &edge.ports,
                        )],
                        Vec::new(),
                    ));
                }
                Peer::KubernetesApi => own.push(policy(
                    &format!("allow-{name}-to-kubernetes-api"),
                    namespace,
                    own_pods,
                    Vec::new(),
                    vec![egress(
                        ip_peers(&env.network.api_server_cidrs, &env.network.pod_cidrs),
                        &KUBERNETES_API_PORTS,
                    )],
                )),
                Peer::External { cidr } => {
                    external.push(egress(
                        ip_peers(std::slice::from_ref(cidr), &env.network.pod_cidrs),
                        &edge.ports,
                    ));
                }
            }
        }
        if !external.is_empty() {
            own.push(policy(
                &format!("allow-{name}-to-external"),
                namespace,
                own_pods,
                Vec::new(),
                external,
            ));
        }
        policies.entry(name.to_owned()).or_default().extend(own);
    }

    if !dangling.is_empty() {
        return Err(dangling);
    }
    for component in components.iter_mut() {
        if let Some(owned) = policies.remove(&component.name) {
            component
                .extra_manifests
                .extend(owned.iter().map(Manifest::new));
        }
    }
    Ok(())
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

/// Pods with `labels`, in `namespace` (or the policy's own namespace when `None`).
fn pod_peer(namespace: Option<&str>, labels: &BTreeMap<String, String>) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: namespace.map(|ns| {
            selector(&BTreeMap::from([(
                NAMESPACE_NAME_LABEL.to_owned(),
                ns.to_owned(),
            )]))
        }),
        pod_selector: Some(selector(labels)),
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
            pod_selector: Some(selector(pods)),
            policy_types: Some(types),
            ingress: (!ingress.is_empty()).then_some(ingress),
            egress: (!egress.is_empty()).then_some(egress),
        }),
    }
}
