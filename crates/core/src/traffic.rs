//! Declared traffic: which pods a component runs, and whom they talk to.
//!
//! Components state this as data next to their dependencies; the platform turns it into
//! NetworkPolicies (default deny, then one allow per declared edge), so the policies are
//! exactly what the graph says and change when it does.

use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
        }
    }
}

/// A port on a pod (not a Service port: NetworkPolicies see the pod's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port {
    pub number: u16,
    pub protocol: Protocol,
}

impl Port {
    pub const fn tcp(number: u16) -> Self {
        Self {
            number,
            protocol: Protocol::Tcp,
        }
    }

    pub const fn udp(number: u16) -> Self {
        Self {
            number,
            protocol: Protocol::Udp,
        }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.protocol {
            Protocol::Tcp => write!(f, "{}", self.number),
            Protocol::Udp => write!(f, "{}/udp", self.number),
        }
    }
}

/// Cluster DNS, which every pod may query.
pub const DNS_PORTS: [Port; 2] = [Port::udp(53), Port::tcp(53)];
/// The Kubernetes API as pods reach it: the `kubernetes` Service (443) and, after kube-proxy's
/// translation, the API server itself (6443 on kind and most installers).
pub const KUBERNETES_API_PORTS: [Port; 2] = [Port::tcp(443), Port::tcp(6443)];
/// Every IPv4 address.
pub const ANYWHERE: &str = "0.0.0.0/0";
/// Git and Helm repositories outside the cluster: HTTPS and SSH.
pub const GIT_PORTS: [Port; 2] = [Port::tcp(443), Port::tcp(22)];

/// Who is on the other end of an edge.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Peer {
    /// Another component's pods, by component name.
    Component(String),
    /// The Kubernetes API server.
    KubernetesApi,
    /// Addresses outside the cluster.
    External { cidr: String },
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Component(name) => f.write_str(name),
            Self::KubernetesApi => f.write_str("kubernetes-api"),
            Self::External { cidr } => write!(f, "external {cidr}"),
        }
    }
}

/// A connection a component opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub to: Peer,
    pub ports: Vec<Port>,
}

/// Some of a component's pods: those that also carry every one of `labels`, and for each key
/// of `one_of` one of its values.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct PodSubset {
    pub labels: BTreeMap<String, String>,
    pub one_of: BTreeMap<String, Vec<String>>,
}

impl PodSubset {
    pub fn labelled(pairs: &[(&str, &str)]) -> Self {
        Self {
            labels: pairs
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect(),
            one_of: BTreeMap::new(),
        }
    }

    pub fn one_of(key: &str, values: &[&str]) -> Self {
        Self {
            labels: BTreeMap::new(),
            one_of: BTreeMap::from([(
                key.to_owned(),
                values.iter().map(|v| (*v).to_owned()).collect(),
            )]),
        }
    }
}

/// The traffic of one component.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Labels that select exactly this component's pods; empty for a component that runs none.
    pub pods: BTreeMap<String, String>,
    /// Ports on which only some of the pods listen, and which: a policy that admits traffic
    /// on such a port selects only those pods (a chart's hook Jobs, its other workloads, never
    /// get a port opened that they do not serve).
    pub listeners: BTreeMap<Port, PodSubset>,
    /// Connections the pods open (cluster DNS is implied for every pod).
    pub calls: Vec<Edge>,
    /// Ports on which the API server calls the pods: admission and conversion webhooks.
    pub webhooks: Vec<Port>,
    /// Whether the component's pods talk to each other (controllers and their caches,
    /// Raft peers), within the component only: on these ports, or on any port when empty.
    pub among_themselves: Option<Vec<Port>>,
    /// Ports a LoadBalancer (or NodePort) Service publishes outside the cluster. Admitted
    /// from the node ranges: kube-proxy delivers that traffic from a node's address, which it
    /// masquerades to under `externalTrafficPolicy: Cluster` (the Services' default).
    pub exposed: Vec<Port>,
}

impl Traffic {
    /// Pods selected by the Helm standard label `app.kubernetes.io/instance: <release>`, which
    /// every chart this platform uses puts on every pod of a release.
    pub fn release(release: &str) -> Self {
        Self {
            pods: BTreeMap::from([(crate::labels::INSTANCE.to_owned(), release.to_owned())]),
            ..Self::default()
        }
    }

    pub fn runs_pods(&self) -> bool {
        !self.pods.is_empty()
    }

    /// Only the pods of `subset` listen on `ports`.
    pub fn listening_on(mut self, ports: &[Port], subset: &PodSubset) -> Self {
        for port in ports {
            self.listeners.insert(*port, subset.clone());
        }
        self
    }

    /// The pods that listen on `port`, where not all of the component's do.
    pub fn listeners_of(&self, port: Port) -> Option<&PodSubset> {
        self.listeners.get(&port)
    }

    /// The labels of a pod that listens on every port the component serves: the component's
    /// labels, each listener's, and the first value of each `one_of` that no label fixes.
    /// What a component-level view (the reachability matrix) stands its pods by.
    pub fn representative_labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.pods.clone();
        for subset in self.listeners.values() {
            labels.extend(subset.labels.clone());
        }
        for subset in self.listeners.values() {
            for (key, values) in &subset.one_of {
                if let Some(first) = values.first() {
                    labels.entry(key.clone()).or_insert_with(|| first.clone());
                }
            }
        }
        labels
    }

    pub fn calls(mut self, to: Peer, ports: &[Port]) -> Self {
        self.calls.push(Edge {
            to,
            ports: ports.to_vec(),
        });
        self
    }

    pub fn calls_component(self, name: &str, ports: &[Port]) -> Self {
        self.calls(Peer::Component(name.to_owned()), ports)
    }

    pub fn calls_kubernetes_api(self) -> Self {
        self.calls(Peer::KubernetesApi, &KUBERNETES_API_PORTS)
    }

    pub fn webhooks(mut self, ports: &[Port]) -> Self {
        self.webhooks.extend_from_slice(ports);
        self
    }

    /// A LoadBalancer Service publishes these ports of the component's pods.
    pub fn exposed_on(mut self, ports: &[Port]) -> Self {
        self.exposed.extend_from_slice(ports);
        self
    }

    /// The component's pods talk to each other on any port.
    pub fn among_themselves(mut self) -> Self {
        self.among_themselves = Some(Vec::new());
        self
    }

    /// The component's pods talk to each other on these ports only.
    pub fn among_themselves_on(mut self, ports: &[Port]) -> Self {
        self.among_themselves = Some(ports.to_vec());
        self
    }
}
