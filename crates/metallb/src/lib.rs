//! MetalLB, for clusters with no cloud load balancer (kind): the chart, then the address pool
//! and L2 advertisement that let LoadBalancer Services such as Vault's get an address.

use k8s_openapi::api::core::v1::PodSecurityContext;
use platform_core::application::metadata;
use platform_core::component::{
    ChartContainer, ChartPod, Component, HelmChart, Layer, Replicas, Source, Toggle, tier,
};
use platform_core::custom_resource;
use platform_core::hardening;
use platform_core::manifest::Manifest;
use platform_core::model::Environment;
use platform_core::names;
use platform_core::scanner::{self, ChartWaiver};
use platform_core::sizing::Size;
use platform_core::traffic::{Port, Traffic};
use serde::Serialize;

pub const CHART: HelmChart = HelmChart {
    repo_url: "https://metallb.github.io/metallb",
    name: "metallb",
    version: "0.16.1",
    crd_groups: &["metallb.io"],
    // metallb 0.16.1 `metallb.selectorLabels`; the speaker runs on the host network.
    pods: &[
        ChartPod::api_client("metallb-controller", METALLB_PODS)
            .serving_webhook(WEBHOOK_PORT)
            .runs(&[
                ChartContainer::new("controller", "controller.resources", Size::Small)
                    .listening(&[9120, 9443]),
            ])
            .replicas(Replicas::One),
        // FRR is off (`speaker.frr.enabled: false`): the speaker runs alone, no init containers.
        ChartPod::api_client("metallb-speaker", METALLB_PODS)
            .on_host_network()
            .runs(&[
                ChartContainer::new("speaker", "speaker.resources", Size::Small)
                    .listening(&[7946, 9120]),
            ])
            .replicas(Replicas::PerNode),
    ],
    pods_verified_at: "0.16.1",
    volumes: &[],
    service_types: &[],
    pinned_values: &[],
    scanner_waivers: &[
        ChartWaiver::every_pod(
            scanner::SERVICE_ACCOUNT_TOKEN,
            scanner::TOKEN_OF_A_CONTROLLER,
        ),
        ChartWaiver {
            check: scanner::HIGH_UID,
            objects: &["DaemonSet/metallb-speaker"],
            reason: "the speaker runs as root: it answers ARP for the LoadBalancer addresses on the host network with NET_RAW (MetalLB's layer 2 mode)",
        },
        ChartWaiver {
            check: "CKV_K8S_23",
            objects: &["DaemonSet/metallb-speaker"],
            reason: "the speaker runs as root: it answers ARP for the LoadBalancer addresses on the host network with NET_RAW (MetalLB's layer 2 mode)",
        },
        ChartWaiver {
            check: "CKV_K8S_19",
            objects: &["DaemonSet/metallb-speaker"],
            reason: "layer 2 announcement is ARP on the node's own interfaces, which only the host network namespace has",
        },
        ChartWaiver {
            check: "CKV_K8S_25",
            objects: &["DaemonSet/metallb-speaker"],
            reason: "NET_RAW, the one capability the speaker adds after dropping all, sends the ARP replies",
        },
        ChartWaiver {
            check: scanner::WEBHOOK_CONFIGURATION_CONTROL,
            objects: &["ClusterRole/metallb:controller"],
            reason: scanner::KEEPS_ITS_OWN_WEBHOOKS,
        },
    ],
};

const METALLB_PODS: &[(&str, &str)] = &[("app.kubernetes.io/instance", "metallb")];

/// The controller's webhook port.
const WEBHOOK_PORT: u16 = 9443;

/// Name of the address pool and of the advertisement that announces it.
pub const POOL: &str = "kind-pool";

custom_resource! {
    /// A range of addresses MetalLB may assign to LoadBalancer Services.
    IpAddressPool, spec: IpAddressPoolSpec,
    group: "metallb.io", version: "v1beta1", kind: "IPAddressPool", plural: "ipaddresspools",
    scope: NamespaceResourceScope, crd: application
}

custom_resource! {
    /// Announces the addresses of the named pools on the local network with ARP/NDP.
    L2Advertisement, spec: L2AdvertisementSpec,
    group: "metallb.io", version: "v1beta1", kind: "L2Advertisement", plural: "l2advertisements",
    scope: NamespaceResourceScope, crd: application
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IpAddressPoolSpec {
    pub addresses: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct L2AdvertisementSpec {
    pub ip_address_pools: Vec<String>,
}

/// Values of the metallb chart this platform sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Values {
    /// The frr-k8s subchart speaks BGP and is on by default in chart 0.16.1 (its dependency's
    /// condition is `frrk8s.enabled`); MetalLB here announces addresses in layer 2 only, so
    /// its DaemonSet would run on every node for nothing. (`speaker.frr.enabled`, the older
    /// BGP mode, is already off by default.)
    pub frrk8s: Toggle,
    /// Added to the chart's pod context (user 65534, non-root): the runtime's seccomp profile.
    pub controller: PodContext,
    /// The chart sets no pod context for the speaker, which runs as root with `NET_RAW` to
    /// answer ARP on the host network: the runtime's seccomp profile at least.
    pub speaker: PodContext,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodContext {
    pub security_context: PodSecurityContext,
}

pub fn components(env: &Environment) -> Vec<Component> {
    if !env.metallb.enabled {
        return Vec::new();
    }
    let values = Values {
        frrk8s: Toggle { enabled: false },
        controller: PodContext {
            security_context: hardening::runtime_default_seccomp(),
        },
        speaker: PodContext {
            security_context: hardening::runtime_default_seccomp(),
        },
    };
    let chart = Component::helm(
        CHART,
        names::app::METALLB,
        names::namespace::METALLB,
        Layer::Networking,
        &values,
        env.charts.metallb.as_ref(),
    )
    .earliest_wave(tier::BOOTSTRAP)
    // The speakers run on the host network, which NetworkPolicies do not govern; the
    // controller watches the API and serves the webhook that validates pools.
    .traffic(
        Traffic::release(names::app::METALLB)
            .calls_kubernetes_api()
            .webhooks(&[Port::tcp(WEBHOOK_PORT)]),
    );

    let config = Component::new(
        names::app::METALLB_CONFIG,
        names::namespace::METALLB,
        Layer::Networking,
        Source::Manifests(address_pool(env)),
    )
    .earliest_wave(tier::FOUNDATION)
    .depends_on(&[names::app::METALLB]);

    vec![chart, config]
}

fn address_pool(env: &Environment) -> Vec<Manifest> {
    let namespace = Some(names::namespace::METALLB);
    let pool = IpAddressPool {
        metadata: metadata(POOL, namespace),
        spec: IpAddressPoolSpec {
            addresses: env.metallb.addresses.clone(),
        },
    };
    let advertisement = L2Advertisement {
        metadata: metadata(POOL, namespace),
        spec: L2AdvertisementSpec {
            ip_address_pools: vec![POOL.to_owned()],
        },
    };
    vec![Manifest::new(pool), Manifest::new(advertisement)]
}
