//! The documentation model of an environment, filled from its plan: what `platform_docs`
//! turns into the environment's README and graph.

use platform_core::application::{RenderedPaths, sync_options};
use platform_core::component::{Source, SyncMode};
use platform_core::labels;
use platform_core::model::{ClusterProvider, Environment, VaultMode};
use platform_core::names::{self, ServiceEndpoint};
use platform_docs::{
    Access, AlertDoc, Application, Bootstrap, DocModel, ManualSync, SecretFlow, SecretRef,
};
use platform_environments::LoadedEnvironment;

use crate::matrix;
use crate::plan::Plan;

/// Services a person opens through `kubectl port-forward`, with the local port to use.
const ACCESS: [(&str, ServiceEndpoint, u16, &str); 6] = [
    (names::app::ARGOCD, names::ARGOCD_SERVER, 8080, "https"),
    (names::app::VAULT, names::VAULT, 8200, "http"),
    (names::app::OPENCOST, names::OPENCOST_UI, 9090, "http"),
    (names::app::PROMETHEUS, names::PROMETHEUS, 9091, "http"),
    (names::app::GRAFANA, names::GRAFANA, 3000, "http"),
    (names::app::ALERTMANAGER, names::ALERTMANAGER, 9093, "http"),
];

pub fn applications(plan: &Plan, loaded: &LoadedEnvironment) -> Vec<Application> {
    // The names Argo CD shows: prefixed where the environment shares its Argo CD.
    let paths = RenderedPaths::new(&loaded.name, &loaded.env);
    plan.components
        .iter()
        .map(|planned| {
            let component = &planned.component;
            Application {
                name: paths.argo_name(&component.name),
                namespace: component.namespace.clone(),
                wave: planned.wave,
                layer: component.layer.title().to_owned(),
                source: match &component.source {
                    Source::Helm(release) if release.hydrated.is_some() => format!(
                        "{} {} (hydrated: rendered/{}/manifests/{})",
                        release.chart.name, release.version, loaded.name, component.name
                    ),
                    Source::Helm(release) => format!("{} {}", release.chart.name, release.version),
                    Source::Manifests(_) => {
                        format!("rendered/{}/manifests/{}", loaded.name, component.name)
                    }
                },
                sync: match component.sync {
                    SyncMode::Automated => "automated".to_owned(),
                    SyncMode::Manual => "manual".to_owned(),
                },
                depends_on: component
                    .depends_on
                    .iter()
                    .map(|d| paths.argo_name(d))
                    .collect(),
            }
        })
        .collect()
}

fn secret_flows(env: &Environment, plan: &Plan) -> Vec<SecretFlow> {
    let mut flows: Vec<SecretFlow> = env
        .apps
        .iter()
        .filter(|app| !app.secrets.is_empty())
        .map(|app| SecretFlow {
            app: app.name.to_string(),
            platform: false,
            namespace: app.namespace().to_string(),
            store: names::team_scoped(app.team.as_str()),
            secrets: app
                .secrets
                .iter()
                .map(|secret| {
                    SecretRef::new(
                        secret.name.as_ref(),
                        &secret.vault_path,
                        &secret.keys,
                        env.secrets.refresh_interval.as_ref(),
                    )
                    .mounted_at(secret.mount_path.as_deref())
                })
                .collect(),
        })
        .collect();
    // The platform's own secrets, read through its store.
    let mount = env.secrets.kv_mount.as_str();
    let refresh = env.secrets.refresh_interval.as_ref();
    if plan.get(names::app::GRAFANA).is_some() {
        flows.push(SecretFlow {
            app: names::app::GRAFANA.to_owned(),
            platform: true,
            namespace: names::GRAFANA.namespace.to_owned(),
            store: names::CLUSTER_SECRET_STORE.to_owned(),
            secrets: vec![SecretRef::new(
                component_grafana::ADMIN_SECRET,
                &format!("{mount}/{}", env.grafana.admin_secret),
                &[
                    component_grafana::ADMIN_USER_KEY.to_owned(),
                    component_grafana::ADMIN_PASSWORD_KEY.to_owned(),
                ],
                refresh,
            )],
        });
    }
    if plan.get(names::app::ALERTMANAGER).is_some() && !env.alerting.receivers.is_empty() {
        flows.push(SecretFlow {
            app: names::app::ALERTMANAGER.to_owned(),
            platform: true,
            namespace: names::ALERTMANAGER.namespace.to_owned(),
            store: names::CLUSTER_SECRET_STORE.to_owned(),
            secrets: env
                .alerting
                .receivers
                .iter()
                .map(|receiver| {
                    SecretRef::new(
                        component_alertmanager::RECEIVERS_SECRET,
                        &format!("{mount}/{}", receiver.secret),
                        &[receiver.kind.secret_field().to_owned()],
                        refresh,
                    )
                    .mounted_at(Some(&component_alertmanager::credential_file(receiver)))
                })
                .collect(),
        });
    }
    flows
}

/// One row per alert, with the teams it is routed to (a hub's rules repeat per environment).
fn alerts(env: &Environment) -> Vec<AlertDoc> {
    let mut docs: Vec<AlertDoc> = Vec::new();
    for alert in crate::catalog::alerts(env) {
        let team = alert.rule.labels[labels::TEAM].clone();
        if let Some(doc) = docs.iter_mut().find(|d| d.name == alert.rule.alert) {
            if !doc.teams.contains(&team) {
                doc.teams.push(team);
            }
            continue;
        }
        docs.push(AlertDoc {
            name: alert.rule.alert.clone(),
            severity: alert.severity().to_owned(),
            teams: vec![team],
            summary: alert
                .summary()
                .replace("{{ $labels.", "_")
                .replace(" }}", "_"),
            runbook: alert
                .runbook
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        });
    }
    docs
}

/// OpenCost's allocation API, aggregated by each cost-allocation label.
fn cost_queries(plan: &Plan) -> Vec<String> {
    if plan.get(names::app::OPENCOST).is_none() {
        return Vec::new();
    }
    let api = names::OPENCOST_METRICS;
    let mut commands = vec![format!(
        "kubectl -n {} port-forward svc/{} {}:{} &",
        api.namespace, api.service, api.port, api.port
    )];
    commands.extend(labels::COST_ALLOCATION.iter().map(|label| {
        format!(
            "curl -s 'http://localhost:{}/allocation/compute?window=7d&aggregate=label:{label}'",
            api.port
        )
    }));
    commands
}

pub fn model(loaded: &LoadedEnvironment, plan: &Plan) -> DocModel {
    let env = &loaded.env;
    let access: Vec<Access> = ACCESS
        .iter()
        .filter(|(component, ..)| plan.get(component).is_some())
        .map(|(component, endpoint, local_port, scheme)| Access {
            component: (*component).to_owned(),
            namespace: endpoint.namespace.to_owned(),
            service: endpoint.service.to_owned(),
            service_port: endpoint.port,
            local_port: *local_port,
            // Vault serves TLS in HA mode, and a port-forward reaches it as it is.
            scheme: if *component == names::app::VAULT && env.vault_tls() {
                "https".to_owned()
            } else {
                (*scheme).to_owned()
            },
        })
        .collect();
    let policies = matrix::planned_policies(plan);
    let at_scale = env.apps.len() > platform_docs::DETAILED_APPS;
    let network_matrix = (!policies.is_empty()).then(|| {
        let endpoints = matrix::endpoints(plan, env.network_ranges());
        let matrix = matrix::matrix(endpoints, &policies);
        if at_scale {
            matrix.allowed_table()
        } else {
            matrix.allowed_text()
        }
    });
    DocModel {
        env: loaded.name.clone(),
        source: loaded.source.clone(),
        cluster: env.cluster.name.to_string(),
        applications: applications(plan, loaded),
        access: access.clone(),
        cost_queries: cost_queries(plan),
        secret_flows: secret_flows(env, plan),
        alerts: alerts(env),
        cost: None,
        grafana_admin: plan
            .get(names::app::GRAFANA)
            .map(|_| format!("{}/{}", env.secrets.kv_mount, env.grafana.admin_secret)),
        vault_access: access
            .iter()
            .find(|a| a.component == names::app::VAULT)
            .map(Access::command),
        network_matrix,
        at_scale,
        bootstrap: Bootstrap {
            kind_cluster: env.cluster.provider == ClusterProvider::Kind,
            argocd_chart_version: env.charts.argocd.as_ref().map_or(
                component_argocd::CHART.version.to_owned(),
                ToString::to_string,
            ),
            argocd_repo: component_argocd::CHART.repo_url.to_owned(),
            vault_dev_mode: env.vault.enabled && env.vault.mode == VaultMode::Dev,
            vault_tls: env.vault_tls(),
            vault_tls_secret: names::VAULT_TLS_SECRET.to_owned(),
            argocd_hub: env.argocd.hub.as_ref().map(ToString::to_string),
            manages_argocd: env.argocd.enabled,
            hub_environments: if env.argocd.hub.is_some() {
                env.argocd.serves.iter().map(|s| s.name.clone()).collect()
            } else {
                Vec::new()
            },
            root_application: RenderedPaths::new(&loaded.name, env)
                .argo_name(platform_core::application::ROOT_APPLICATION),
            retry_limit: env.argocd.sync_retry.as_ref().map(|r| i64::from(r.limit)),
            metallb_addresses: if env.uses_metallb() {
                env.metallb.addresses.clone()
            } else {
                Vec::new()
            },
            vault_replicas: env.vault.replicas,
            manual_sync: plan
                .components
                .iter()
                .filter(|c| c.component.sync == SyncMode::Manual)
                .map(|c| {
                    let options = sync_options(&c.component)
                        .iter()
                        .map(ToString::to_string)
                        .collect();
                    let name = RenderedPaths::new(&loaded.name, env).argo_name(&c.component.name);
                    ManualSync::new(&name, names::namespace::ARGOCD, options)
                })
                .collect(),
            token_secret: component_vault::bootstrap::TOKEN_SECRET.to_owned(),
            vault_namespace: names::namespace::VAULT.to_owned(),
            git_repo: env.git.repo_url.clone(),
            git_revision: env.git.target_revision.clone(),
            cluster_server: env.cluster.server.clone(),
        },
    }
}

/// The forecast as the README shows it.
pub fn cost(env: &Environment, forecast: &platform_cost::Forecast) -> platform_docs::CostDoc {
    use platform_cost::money;
    let budget = |team: &str| {
        env.teams
            .iter()
            .find(|candidate| candidate.name.as_str() == team)
            .and_then(|candidate| candidate.monthly_budget)
            .map_or_else(|| "none".to_owned(), money)
    };
    let teams = forecast
        .teams()
        .into_iter()
        .map(|team| platform_docs::CostRow {
            name: team.team.clone(),
            team: team.team.clone(),
            cost_center: team.cost_center,
            cpu: String::new(),
            memory: String::new(),
            storage: String::new(),
            monthly: money(team.monthly),
            ceiling: money(team.ceiling),
            budget: budget(&team.team),
        })
        .collect();
    let at_scale = env.apps.len() > platform_docs::DETAILED_APPS;
    let applications = if at_scale {
        Vec::new()
    } else {
        forecast
            .applications
            .iter()
            .map(|app| platform_docs::CostRow {
                name: app.application.clone(),
                team: app.team.clone(),
                cost_center: app.cost_center.clone(),
                cpu: format!("{:.2}", app.requests.cpu_cores),
                memory: format!("{:.2}", app.requests.memory_gib),
                storage: format!("{:.1}", app.storage_gib),
                monthly: money(app.monthly),
                ceiling: money(app.ceiling),
                budget: String::new(),
            })
            .collect()
    };
    let pricing = &env.cost.pricing;
    platform_docs::CostDoc {
        currency: forecast.currency.clone(),
        teams,
        applications,
        total: money(forecast.monthly()),
        total_ceiling: money(forecast.ceiling()),
        prices: format!(
            "{} per vCPU-hour, {} per GiB-hour of memory, {} per GiB-month of storage, {} per LoadBalancer-hour",
            pricing.cpu_per_vcpu_hour,
            pricing.memory_per_gib_hour,
            pricing.storage_per_gib_month,
            pricing.load_balancer_per_hour
        ),
    }
}
