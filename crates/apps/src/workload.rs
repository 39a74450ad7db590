//! The Kubernetes objects of one user app.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EmptyDirVolumeSource, EnvFromSource, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, SecretEnvSource, SecretVolumeSource, Service, ServiceAccount,
    ServicePort, ServiceSpec, TCPSocketAction, Volume, VolumeMount,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use platform_core::application::metadata;
use platform_core::eso::{
    CreationPolicy, ExternalSecret, ExternalSecretData, ExternalSecretSpec, ExternalSecretTarget,
    RemoteRef, SecretStoreKind, SecretStoreRef,
};
use platform_core::hardening;
use platform_core::manifest::Manifest;
use platform_core::model::{App, AppSecret, Environment, ResourceAmounts, Team};
use platform_core::names;
use platform_core::scanner::{self, Waiver};

use crate::{app_labels, selector};

/// A UID outside the range images use for system accounts, so `runAsNonRoot` holds even for
/// an image whose Dockerfile forgot a `USER`.
const RUN_AS_USER: i64 = 10_001;
const PORT_NAME: &str = "http";
const TMP_VOLUME: &str = "tmp";

/// Every object of the app, in the order they are applied.
pub fn objects(env: &Environment, app: &App, team: &Team) -> Vec<Manifest> {
    let labels = app_labels(app, team);
    let namespace = app.namespace().as_str();
    let named = |name: &str| ObjectMeta {
        labels: Some(labels.clone()),
        ..metadata(name, Some(namespace))
    };

    // The namespace itself is the platform's (the team's tenant Application), not the app's.
    let mut manifests = vec![
        Manifest::new(ServiceAccount {
            metadata: named(app.name.as_str()),
            // An app that does not call the Kubernetes API gets no token to leak.
            automount_service_account_token: Some(app.api_access),
            ..ServiceAccount::default()
        }),
        Manifest::new(deployment(env, app, named(app.name.as_str()), &labels)),
        Manifest::new(service(app, named(app.name.as_str()))),
    ];
    if env.workloads.pod_disruption_budget {
        manifests.push(Manifest::new(disruption_budget(
            app,
            named(app.name.as_str()),
        )));
    }
    manifests.extend(app.secrets.iter().map(|secret| {
        Manifest::new(external_secret(
            env,
            team,
            secret,
            named(secret.name.as_str()),
        ))
    }));
    manifests
}

fn deployment(
    env: &Environment,
    app: &App,
    metadata: ObjectMeta,
    labels: &BTreeMap<String, String>,
) -> Deployment {
    let container = Container {
        name: app.name.to_string(),
        image: Some(app.image.to_string()),
        ports: Some(vec![ContainerPort {
            name: Some(PORT_NAME.to_owned()),
            container_port: i32::from(app.port),
            protocol: Some("TCP".to_owned()),
            ..ContainerPort::default()
        }]),
        // A digest never changes, so the node's copy is the image; a tag may be moved, so the
        // registry is asked again (and the pull secret checked) whenever a pod starts.
        image_pull_policy: Some(
            if app.image.as_str().contains("@sha256:") {
                "IfNotPresent"
            } else {
                "Always"
            }
            .to_owned(),
        ),
        env_from: Some(
            app.secrets
                .iter()
                .filter(|secret| secret.mount_path.is_none())
                .map(|secret| EnvFromSource {
                    secret_ref: Some(SecretEnvSource {
                        name: secret.name.to_string(),
                        optional: Some(false),
                    }),
                    ..EnvFromSource::default()
                })
                .collect::<Vec<_>>(),
        )
        .filter(|sources| !sources.is_empty()),
        resources: Some(ResourceRequirements {
            requests: Some(quantities(&app.resources.requests)),
            limits: Some(quantities(&app.resources.limits)),
            ..ResourceRequirements::default()
        }),
        security_context: Some(hardening::container()),
        readiness_probe: Some(tcp_probe(5)),
        liveness_probe: Some(tcp_probe(15)),
        // A read-only root filesystem still leaves the app somewhere to write temporary files.
        volume_mounts: Some(
            std::iter::once(VolumeMount {
                name: TMP_VOLUME.to_owned(),
                mount_path: "/tmp".to_owned(),
                ..VolumeMount::default()
            })
            .chain(file_secrets(app).map(|(secret, path)| VolumeMount {
                name: secret_volume(secret),
                mount_path: path.to_owned(),
                read_only: Some(true),
                ..VolumeMount::default()
            }))
            .collect(),
        ),
        ..Container::default()
    };

    let mut metadata = metadata;
    let waivers = waivers(app);
    if !waivers.is_empty() {
        metadata.annotations = Some(scanner::annotations(&waivers));
    }
    Deployment {
        metadata,
        spec: DeploymentSpec {
            replicas: Some(i32::try_from(app.replicas(&env.workloads)).unwrap_or(i32::MAX)),
            selector: LabelSelector {
                match_labels: Some(selector(app)),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels.clone()),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(app.name.to_string()),
                    automount_service_account_token: Some(app.api_access),
                    security_context: Some(hardening::pod(RUN_AS_USER, RUN_AS_USER)),
                    containers: vec![container],
                    volumes: Some(
                        std::iter::once(Volume {
                            name: TMP_VOLUME.to_owned(),
                            empty_dir: Some(EmptyDirVolumeSource::default()),
                            ..Volume::default()
                        })
                        .chain(file_secrets(app).map(|(secret, _)| Volume {
                            name: secret_volume(secret),
                            secret: Some(SecretVolumeSource {
                                secret_name: Some(secret.name.to_string()),
                                // Readable by the app's group only (the pod's fsGroup).
                                default_mode: Some(0o440),
                                optional: Some(false),
                                ..SecretVolumeSource::default()
                            }),
                            ..Volume::default()
                        }))
                        .collect(),
                    ),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        },
        ..Deployment::default()
    }
}

/// The app's secrets that are mounted as files, with their directories.
fn file_secrets(app: &App) -> impl Iterator<Item = (&AppSecret, &str)> {
    app.secrets
        .iter()
        .filter_map(|secret| secret.mount_path.as_deref().map(|path| (secret, path)))
}

fn secret_volume(secret: &AppSecret) -> String {
    format!("secret-{}", secret.name)
}

/// Scanner findings the environment file chose, recorded with the way to lift each.
fn waivers(app: &App) -> Vec<Waiver> {
    let mut waivers = Vec::new();
    if !app.image.as_str().contains("@sha256:") {
        waivers.push(Waiver {
            check: scanner::IMAGE_BY_TAG,
            reason: "the environment file pins this image by tag; write it as name@sha256:<digest> to pin the bytes",
        });
    }
    if app.secrets.iter().any(|s| s.mount_path.is_none()) {
        waivers.push(Waiver {
            check: scanner::SECRET_IN_ENVIRONMENT,
            reason: "the app reads these secrets from its environment as its environment file says; set secrets[].mount_path to mount them as files",
        });
    }
    waivers
}

/// Node drains evict at most one pod of the app at a time.
fn disruption_budget(app: &App, metadata: ObjectMeta) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata,
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some(selector(app)),
                ..LabelSelector::default()
            }),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    }
}

fn tcp_probe(initial_delay_seconds: i32) -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::String(PORT_NAME.to_owned()),
            ..TCPSocketAction::default()
        }),
        initial_delay_seconds: Some(initial_delay_seconds),
        period_seconds: Some(10),
        ..Probe::default()
    }
}

fn quantities(amounts: &ResourceAmounts) -> BTreeMap<String, K8sQuantity> {
    BTreeMap::from([
        ("cpu".to_owned(), K8sQuantity(amounts.cpu.to_string())),
        ("memory".to_owned(), K8sQuantity(amounts.memory.to_string())),
    ])
}

fn service(app: &App, metadata: ObjectMeta) -> Service {
    Service {
        metadata,
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_owned()),
            selector: Some(selector(app)),
            ports: Some(vec![ServicePort {
                name: Some(PORT_NAME.to_owned()),
                port: i32::from(app.port),
                target_port: Some(IntOrString::String(PORT_NAME.to_owned())),
                protocol: Some("TCP".to_owned()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// Reads each listed key of the Vault secret into a Secret of the same name, hourly (or as
/// the environment says), through the team's own store. The Secret's values never pass
/// through Git.
fn external_secret(
    env: &Environment,
    team: &Team,
    secret: &AppSecret,
    metadata: ObjectMeta,
) -> ExternalSecret {
    let key = secret
        .kv_key(&env.secrets.kv_mount)
        .unwrap_or(secret.vault_path.as_str())
        .to_owned();
    ExternalSecret {
        metadata,
        spec: ExternalSecretSpec {
            refresh_interval: env.secrets.refresh_interval.as_go(),
            secret_store_ref: SecretStoreRef {
                kind: SecretStoreKind::ClusterSecretStore,
                name: names::team_scoped(team.name.as_str()),
            },
            target: ExternalSecretTarget {
                name: secret.name.to_string(),
                creation_policy: CreationPolicy::Owner,
            },
            data: secret
                .keys
                .iter()
                .map(|property| ExternalSecretData {
                    secret_key: property.clone(),
                    remote_ref: RemoteRef {
                        key: key.clone(),
                        property: property.clone(),
                    },
                })
                .collect(),
        },
    }
}
