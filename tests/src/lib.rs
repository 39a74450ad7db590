//! Helpers shared by the integration tests: the repository's environments, the upstream
//! schemas it carries, and a cache of compiled validators.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use platform_checkout::Checkout;

use platform::{EnvironmentFile, LoadedEnvironment, RenderedEnvironment};

pub use platform_checkout::{SCHEMAS_ENV, SchemaFolder};

pub mod charts;
pub mod edits;

/// The checkout under test, found at run time: cargo runs tests with `CARGO_MANIFEST_DIR`
/// set to this package, in whichever checkout `cargo test` was invoked.
pub fn checkout() -> Checkout {
    Checkout::locate().unwrap_or_else(|e| panic!("{e}"))
}

pub fn workspace_root() -> PathBuf {
    checkout().root().to_path_buf()
}

/// The repository's `schemas/`, or `$PLATFORM_SCHEMAS`.
pub fn schemas_dir() -> PathBuf {
    checkout().schemas_dir(None)
}

/// Every environment file of the repository, as `cargo xtask render` reads them.
pub fn environment_files() -> Vec<EnvironmentFile> {
    checkout()
        .environment_files()
        .unwrap_or_else(|e| panic!("{e}"))
}

pub fn load_all() -> Vec<LoadedEnvironment> {
    platform::load(&environment_files()).unwrap_or_else(|errors| {
        panic!(
            "environments do not load:\n{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

pub fn load(name: &str) -> LoadedEnvironment {
    load_all()
        .into_iter()
        .find(|env| env.name == name)
        .unwrap_or_else(|| panic!("no environment {name}"))
}

/// dev with a second team, billing, whose app reads its own secret (as files), calls
/// finops-app (which consents) and the internet, and asks for the API. It passes the model's
/// checks, so it is an environment a person could write.
pub fn two_teams() -> LoadedEnvironment {
    use platform_core::model::{AppCall, AppSecret, ExternalEgress, Team};
    let mut dev = load("dev");
    dev.env.teams.push(Team {
        name: "billing".try_into().unwrap(),
        cost_center: "cc-billing".try_into().unwrap(),
        monthly_budget: Some(400.0),
    });
    let mut billing = dev.env.apps[0].clone();
    billing.name = "billing-api".try_into().unwrap();
    billing.team = "billing".try_into().unwrap();
    billing.secrets = vec![AppSecret {
        name: "billing-db".try_into().unwrap(),
        vault_path: "secret/billing-db".to_owned(),
        keys: vec!["password".to_owned()],
        mount_path: Some("/var/run/secrets/billing-db".to_owned()),
    }];
    billing.calls = vec![AppCall {
        app: "finops-app".try_into().unwrap(),
        port: 8080,
    }];
    billing.egress = vec![ExternalEgress {
        cidr: "0.0.0.0/0".into(),
        ports: vec![443],
    }];
    billing.api_access = true;
    dev.env.apps[0].allow_from = vec!["billing-api".try_into().unwrap()];
    dev.env.apps.push(billing);
    // What its Argo CD knows of it is resolved at load, so again once changed.
    platform::resolve_hubs(std::slice::from_mut(&mut dev), &[]);
    let errors = platform_core::model::check(&dev.env);
    assert!(
        errors.is_empty(),
        "two_teams is not a valid environment: {errors:?}"
    );
    dev
}

/// An environment rendered as `cargo xtask render` renders it, its charts hydrated where it
/// hydrates them ([`charts::charts`]).
pub fn render(env: &LoadedEnvironment) -> RenderedEnvironment {
    platform::render_with(env, Some(charts::charts())).unwrap_or_else(|errors| {
        panic!(
            "{} does not render:\n{}",
            env.name,
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

/// Every YAML file of a rendered tree that is a Kubernetes object, parsed to JSON.
pub fn objects(rendered: &RenderedEnvironment) -> BTreeMap<String, serde_json::Value> {
    rendered
        .files
        .iter()
        .filter(|(path, _)| {
            path.starts_with("apps/")
                || path.starts_with("manifests/")
                || path.as_str() == "bootstrap/root-app.yaml"
        })
        .map(|(path, yaml)| {
            let value: serde_json::Value =
                serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"));
            (path.clone(), value)
        })
        .collect()
}

/// Compiles schemas once each and validates objects against the schema of their kind.
#[derive(Debug, Default)]
pub struct SchemaSet {
    validators: BTreeMap<PathBuf, jsonschema::Validator>,
}

impl SchemaSet {
    /// The upstream schema file of an object's apiVersion and kind, where validation finds it.
    pub fn schema_path(api_version: &str, kind: &str) -> PathBuf {
        schemas_dir().join(platform_validate::object_schema_path(api_version, kind))
    }

    /// Every schema error of the object, as `pointer: message`.
    pub fn validate(&mut self, object: &serde_json::Value) -> Result<Vec<String>, String> {
        let api_version = object["apiVersion"].as_str().ok_or("no apiVersion")?;
        let kind = object["kind"].as_str().ok_or("no kind")?;
        let path = Self::schema_path(api_version, kind);
        let validator = self.validator(&path)?;
        Ok(validator
            .iter_errors(object)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect())
    }

    pub fn validator(&mut self, path: &Path) -> Result<&jsonschema::Validator, String> {
        if !self.validators.contains_key(path) {
            let text = fs::read_to_string(path)
                .map_err(|e| format!("no schema at {}: {e}", path.display()))?;
            let schema: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
            let validator = jsonschema::validator_for(&schema)
                .map_err(|e| format!("{} does not compile: {e}", path.display()))?;
            self.validators.insert(path.to_path_buf(), validator);
        }
        Ok(&self.validators[path])
    }
}

/// Every rendered environment, keyed `<env>/<path>` as under rendered/.
pub fn rendered_tree() -> BTreeMap<String, String> {
    let rendered: Vec<RenderedEnvironment> = load_all().iter().map(render).collect();
    platform::combined(&rendered)
}

/// Runs an external tool with `input` on its standard input. `None` when the tool is not
/// installed and `CI` is unset; `.ci/run` installs the tools and sets `CI`, so there a missing
/// tool fails the test instead of skipping it.
pub fn run_tool(program: &str, args: &[&str], input: &str) -> Option<std::process::Output> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let spawned = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(_) if std::env::var_os("CI").is_none() => {
            eprintln!("{program} is not installed; what it checks was not checked");
            return None;
        }
        Err(error) => panic!("CI installs {program}: {error}"),
    };
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("the tool reads its input");
    Some(child.wait_with_output().expect("the tool ends"))
}

/// The real Helm, when installed. `.ci/run` installs it and sets `CI`, so there a missing Helm
/// fails the test instead of skipping it.
pub fn helm() -> Option<&'static platform_helm::Helm> {
    static HELM: std::sync::OnceLock<Option<platform_helm::Helm>> = std::sync::OnceLock::new();
    HELM.get_or_init(|| match platform_helm::Helm::locate() {
        Ok(helm) => Some(helm),
        Err(missing) if std::env::var_os("CI").is_none() => {
            eprintln!("{missing}; what it checks was not checked");
            None
        }
        Err(missing) => panic!("CI installs Helm: {missing}"),
    })
    .as_ref()
}

/// One Helm source of a rendered Application, and what the real Helm made of it.
#[derive(Debug)]
pub struct ChartRelease {
    pub app: platform_helm::HelmApplication,
    pub templated: platform_helm::Templated,
}

/// Every chart of every committed environment (hydrated or left to Argo CD), templated by the
/// real Helm from the vendored charts as Argo CD's repo-server would, once per test binary. `None` without Helm
/// (outside CI). A chart that does not template fails with Helm's message and the
/// Application named.
pub fn chart_releases() -> Option<&'static [ChartRelease]> {
    static RELEASES: std::sync::OnceLock<Option<Vec<ChartRelease>>> = std::sync::OnceLock::new();
    RELEASES
        .get_or_init(|| {
            let helm = helm()?;
            let applications: Vec<_> = load_all()
                .iter()
                .flat_map(|env| {
                    platform::hydrate::helm_releases(env).unwrap_or_else(|e| panic!("{e:?}"))
                })
                .collect();
            Some(template(helm, applications))
        })
        .as_deref()
}

/// `applications` templated by `helm` from the vendored charts; panics naming each that fails.
pub fn template(
    helm: &platform_helm::Helm,
    applications: Vec<platform_helm::HelmApplication>,
) -> Vec<ChartRelease> {
    let schemas = schemas_dir();
    let capabilities =
        platform_helm::Capabilities::of_platform(&schemas).unwrap_or_else(|e| panic!("{e}"));
    let results =
        platform_helm::template_all(helm, &applications, &schemas.join("charts"), &capabilities);
    let mut errors = Vec::new();
    let mut releases = Vec::new();
    for (app, result) in applications.into_iter().zip(results) {
        match result {
            Ok(templated) => releases.push(ChartRelease { app, templated }),
            Err(error) => errors.push(error.to_string()),
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    releases
}

/// Values maps a chart renders whole (with `toYaml`, or key by key into a file): every key
/// of them reaches the chart's objects, so the checks of values take each map as one value.
/// Chart, JSON pointer into the values, and why.
pub const RENDERED_WHOLE: &[(&str, &str, &str)] = &[
    (
        "grafana",
        "/grafana.ini",
        "Grafana's own configuration: the chart writes each section of the map into grafana.ini",
    ),
    (
        "argo-cd",
        "/configs/cm",
        "argocd-cm takes any of Argo CD's settings; the chart renders the map as it is",
    ),
    (
        "opencost",
        "/opencost/customPricing/costModel",
        "opencost-2.5.17 configmap-custom-pricing.yaml writes every key of costModel into the ConfigMap OpenCost's custom provider reads, which also takes currencyCode and the forwarding-rule and LB prices (pkg/cloud/models CustomPricing)",
    ),
];

/// Keys whose value is a Kubernetes security context: the charts render the map whole
/// (`toYaml`), their defaults list only what the chart sets, and every field Kubernetes knows
/// is the user's. The rendered pods are checked against the Kubernetes schema.
const SECURITY_CONTEXT_KEYS: &[&str] = &[
    "securityContext",
    "podSecurityContext",
    "containerSecurityContext",
];

/// Whether a chart renders the values map at `pointer` whole: one of [`RENDERED_WHOLE`], or
/// a security context (Vault's `securityContext` holds its `pod` and `container` contexts,
/// and is taken whole with them).
pub fn rendered_whole(chart: &str, pointer: &str) -> bool {
    let last = pointer.rsplit('/').next().unwrap_or_default();
    SECURITY_CONTEXT_KEYS.contains(&last)
        || RENDERED_WHOLE
            .iter()
            .any(|(c, p, _)| *c == chart && *p == pointer)
}

/// The hourly prices OpenCost's `custom` provider holds after reading its pricing ConfigMap,
/// by OpenCost's field name (`CPU`, `RAM`, `Storage`, `FirstFiveForwardingRulesCost`, …).
///
/// OpenCost's `ProviderConfig.UpdateFromMap` (`pkg/cloud/provider/providerconfig.go`),
/// ported key for key: the first letter of each key is upper-cased
/// (`cases.Title(language.Und, cases.NoLower)`); `CPU`, `SpotCPU`, `RAM`, `SpotRAM`, `GPU`
/// and `Storage` are parsed, divided by 730 and kept as `fmt.Sprintf("%f", …)`; every other
/// field is kept as written.
pub fn opencost_reads(config_map: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    const MONTHLY: [&str; 6] = ["CPU", "SpotCPU", "RAM", "SpotRAM", "GPU", "Storage"];
    config_map
        .iter()
        .map(|(key, value)| {
            let mut chars = key.chars();
            let title: String = chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
            let kept = if MONTHLY.contains(&title.as_str()) {
                let monthly: f64 = value
                    .parse()
                    .unwrap_or_else(|_| panic!("OpenCost fails on {key}: {value}"));
                format!("{:.6}", monthly / 730.0)
            } else {
                value.clone()
            };
            (title, kept)
        })
        .collect()
}

/// The hourly prices OpenCost bills in `env`: its OpenCost values' `costModel`,
/// read as OpenCost reads the ConfigMap the chart writes from it.
pub fn opencost_billed(env: &str) -> BTreeMap<String, f64> {
    let values = chart_values(&load(env), "opencost");
    let model = &values["opencost"]["customPricing"]["costModel"];
    let written: BTreeMap<String, String> = serde_json::from_value(model.clone()).unwrap();
    opencost_reads(&written)
        .into_iter()
        .filter_map(|(key, value)| Some((key, value.parse().ok()?)))
        .collect()
}

/// The values an environment gives the chart of Helm release `release`, as Argo CD or
/// hydration templates it: the same in either mode, though only an Application that leaves
/// the chart to Argo CD carries them in Git.
pub fn chart_values(loaded: &LoadedEnvironment, release: &str) -> serde_json::Value {
    platform::hydrate::helm_releases(loaded)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .into_iter()
        .find(|app| app.release_name == release)
        .unwrap_or_else(|| panic!("{}: no Application installs {release}", loaded.name))
        .values
}
