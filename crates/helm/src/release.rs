//! A Helm Application as Argo CD reads it, and `helm template` run over it the way Argo CD's
//! repo-server runs it.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::binary::Helm;
use crate::output::{self, Templated};

/// The Kubernetes version Argo CD reports for the platform's clusters: the version the
/// schemas under `schemas/kubernetes/` are of. Argo CD passes the destination cluster's
/// version as `--kube-version`.
pub const KUBERNETES_VERSION: &str = "v1.37.0";

/// A Helm source of an Application, with what Argo CD derives from the Application.
#[derive(Clone, Debug, PartialEq)]
pub struct HelmApplication {
    pub environment: String,
    /// The Application's name.
    pub name: String,
    pub repo_url: String,
    pub chart: String,
    pub version: String,
    /// `helm.releaseName`, else the Application's name (`helmTemplate`: `appName`).
    pub release_name: String,
    /// The destination namespace (`ApplicationSource.GetNamespaceOrDefault(q.Namespace)`).
    pub namespace: String,
    /// `helm.valuesObject`; `Null` when the Application sets none.
    pub values: serde_json::Value,
}

impl HelmApplication {
    /// `<environment>/<application>`, as errors name it.
    pub fn id(&self) -> String {
        format!("{}/{}", self.environment, self.name)
    }
}

/// Every Helm source of the Applications among an environment's rendered files
/// (`apps/<name>.yaml`), in file order.
pub fn applications(
    environment: &str,
    files: &BTreeMap<String, String>,
) -> Result<Vec<HelmApplication>, String> {
    let mut found = Vec::new();
    for (path, text) in files {
        if !(path.starts_with("apps/") && path.ends_with(".yaml")) {
            continue;
        }
        let object: serde_json::Value = serde_yaml::from_str(text)
            .map_err(|e| format!("{environment}/{path} is not YAML: {e}"))?;
        if object["kind"] != "Application" {
            continue;
        }
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        let spec = &object["spec"];
        let sources = match spec["sources"].as_array() {
            Some(sources) => sources.iter().collect::<Vec<_>>(),
            None => vec![&spec["source"]],
        };
        for source in sources {
            let Some(chart) = source["chart"].as_str() else {
                continue;
            };
            let helm = &source["helm"];
            found.push(HelmApplication {
                environment: environment.to_owned(),
                name: name.to_owned(),
                repo_url: text_at(source, "repoURL"),
                chart: chart.to_owned(),
                version: text_at(source, "targetRevision"),
                release_name: helm["releaseName"]
                    .as_str()
                    .filter(|r| !r.is_empty())
                    .unwrap_or(name)
                    .to_owned(),
                namespace: helm["namespace"]
                    .as_str()
                    .or_else(|| spec["destination"]["namespace"].as_str())
                    .unwrap_or_default()
                    .to_owned(),
                values: helm["valuesObject"].clone(),
            });
        }
    }
    Ok(found)
}

fn text_at(value: &serde_json::Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

/// What the cluster tells Helm it serves: Argo CD passes the cluster's version and every
/// API group/version and group/version/Kind it serves. Helm already knows the built-in
/// groups of its own Kubernetes client; what the platform adds are the CRDs of its charts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    pub kube_version: String,
    pub api_versions: Vec<String>,
}

impl Capabilities {
    /// The platform's clusters: [`KUBERNETES_VERSION`], and the `group/version` of each
    /// custom resource whose schema `schemas/crds/<group>/<kind>_<version>.json` carries.
    /// Argo CD would add every `group/version/Kind` too; no vendored chart asks for the kind
    /// of a resource the platform installs, and the file names hold kinds in lower case.
    pub fn of_platform(schemas: &Path) -> Result<Self, String> {
        let crds = schemas.join("crds");
        let mut api_versions = std::collections::BTreeSet::new();
        let groups = fs::read_dir(&crds).map_err(|e| format!("{}: {e}", crds.display()))?;
        for group in groups {
            let group = group
                .map_err(|e| format!("{}: {e}", crds.display()))?
                .path();
            let group_name = file_name(&group);
            for schema in fs::read_dir(&group).map_err(|e| format!("{}: {e}", group.display()))? {
                let schema = schema
                    .map_err(|e| format!("{}: {e}", group.display()))?
                    .path();
                if let Some((_, version)) = file_name(&schema)
                    .strip_suffix(".json")
                    .and_then(|stem| stem.rsplit_once('_'))
                {
                    api_versions.insert(format!("{group_name}/{version}"));
                }
            }
        }
        Ok(Self {
            kube_version: KUBERNETES_VERSION.to_owned(),
            api_versions: api_versions.into_iter().collect(),
        })
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Why an Application did not template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateError {
    /// The Application deploys a version of the chart other than the vendored one.
    NotVendored {
        application: String,
        chart: String,
        version: String,
        vendored: Option<String>,
    },
    /// Helm failed: its own message.
    Helm {
        application: String,
        chart: String,
        version: String,
        message: String,
    },
    /// Helm printed something that is not YAML objects.
    Output {
        application: String,
        message: String,
    },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotVendored {
                application,
                chart,
                version,
                vendored: Some(vendored),
            } => write!(
                f,
                "{application}: deploys {chart} {version}, but schemas/charts/{chart}/ holds {vendored}; import {version} with `cargo xtask charts import`"
            ),
            Self::NotVendored {
                application,
                chart,
                version,
                vendored: None,
            } => write!(
                f,
                "{application}: deploys {chart} {version}, which schemas/charts/ does not hold; import it with `cargo xtask charts import`"
            ),
            Self::Helm {
                application,
                chart,
                version,
                message,
            } => write!(
                f,
                "{application}: helm template of {chart} {version} failed: {message}"
            ),
            Self::Output {
                application,
                message,
            } => write!(f, "{application}: helm template printed {message}"),
        }
    }
}

impl std::error::Error for TemplateError {}

impl Helm {
    /// The arguments of `helm template`, in the order Argo CD v3.4.4 builds them
    /// (`util/helm/cmd.go`): the values come as `--values -` on standard input where Argo
    /// CD writes them to a temporary file first.
    pub fn template_args(
        app: &HelmApplication,
        chart_dir: &Path,
        capabilities: &Capabilities,
    ) -> Vec<String> {
        let mut args = vec![
            "template".to_owned(),
            chart_dir.display().to_string(),
            "--name-template".to_owned(),
            app.release_name.clone(),
        ];
        if !app.namespace.is_empty() {
            args.extend(["--namespace".to_owned(), app.namespace.clone()]);
        }
        args.extend([
            "--kube-version".to_owned(),
            capabilities.kube_version.clone(),
        ]);
        if has_values(&app.values) {
            args.extend(["--values".to_owned(), "-".to_owned()]);
        }
        for api_version in &capabilities.api_versions {
            args.extend(["--api-versions".to_owned(), api_version.clone()]);
        }
        args.push("--include-crds".to_owned());
        args
    }

    /// Templates `app` from the chart folder `chart_dir`, which must hold the version the
    /// Application deploys.
    pub fn template(
        &self,
        app: &HelmApplication,
        chart_dir: &Path,
        capabilities: &Capabilities,
    ) -> Result<Templated, TemplateError> {
        let stdout = self.template_text(app, chart_dir, capabilities)?;
        parse_output(app, &stdout)
    }

    /// What `helm template` prints for `app`, unread.
    pub(crate) fn template_text(
        &self,
        app: &HelmApplication,
        chart_dir: &Path,
        capabilities: &Capabilities,
    ) -> Result<String, TemplateError> {
        let vendored = vendored_version(chart_dir);
        if vendored.as_deref() != Some(app.version.as_str()) {
            return Err(TemplateError::NotVendored {
                application: app.id(),
                chart: app.chart.clone(),
                version: app.version.clone(),
                vendored,
            });
        }
        let values = if has_values(&app.values) {
            serde_yaml::to_string(&app.values).expect("JSON values are YAML")
        } else {
            String::new()
        };
        let helm_failed = |message: String| TemplateError::Helm {
            application: app.id(),
            chart: app.chart.clone(),
            version: app.version.clone(),
            message,
        };
        let mut child = Command::new(&self.program)
            .args(Self::template_args(app, chart_dir, capabilities))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| helm_failed(format!("cannot run {}: {e}", self.program.display())))?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        // Written from a thread of its own: a large output fills the pipe Helm writes to
        // while it still reads values, and would deadlock a write done before the read.
        let feeder = std::thread::spawn(move || stdin.write_all(values.as_bytes()));
        let output = child
            .wait_with_output()
            .map_err(|e| helm_failed(e.to_string()))?;
        feeder
            .join()
            .expect("the values writer does not panic")
            .map_err(|e| helm_failed(format!("writing values: {e}")))?;
        if !output.status.success() {
            return Err(helm_failed(
                String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            ));
        }
        String::from_utf8(output.stdout).map_err(|e| TemplateError::Output {
            application: app.id(),
            message: format!("non-UTF-8 text: {e}"),
        })
    }
}

/// Helm's output for `app`, read into objects.
pub(crate) fn parse_output(
    app: &HelmApplication,
    stdout: &str,
) -> Result<Templated, TemplateError> {
    output::parse(stdout).map_err(|message| TemplateError::Output {
        application: app.id(),
        message,
    })
}

/// Argo CD passes values only when the Application has some (`ValuesIsEmpty`).
fn has_values(values: &serde_json::Value) -> bool {
    match values {
        serde_json::Value::Null => false,
        serde_json::Value::Object(map) => !map.is_empty(),
        _ => true,
    }
}

/// The `version` of the chart folder's Chart.yaml.
pub(crate) fn vendored_version(chart_dir: &Path) -> Option<String> {
    let text = fs::read_to_string(chart_dir.join("Chart.yaml")).ok()?;
    let chart: serde_json::Value = serde_yaml::from_str(&text).ok()?;
    match &chart["version"] {
        serde_json::Value::String(v) => Some(v.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> HelmApplication {
        HelmApplication {
            environment: "dev".into(),
            name: "vault".into(),
            repo_url: "https://helm.releases.hashicorp.com".into(),
            chart: "vault".into(),
            version: "0.34.1".into(),
            release_name: "vault".into(),
            namespace: "vault".into(),
            values: serde_json::json!({"server": {"dev": {"enabled": true}}}),
        }
    }

    #[test]
    fn arguments_follow_argo_cd() {
        let capabilities = Capabilities {
            kube_version: KUBERNETES_VERSION.into(),
            api_versions: vec!["argoproj.io/v1alpha1".into()],
        };
        let args = Helm::template_args(&vault(), Path::new("charts/vault"), &capabilities);
        assert_eq!(
            args,
            [
                "template",
                "charts/vault",
                "--name-template",
                "vault",
                "--namespace",
                "vault",
                "--kube-version",
                "v1.37.0",
                "--values",
                "-",
                "--api-versions",
                "argoproj.io/v1alpha1",
                "--include-crds"
            ]
        );
        let mut bare = vault();
        bare.values = serde_json::json!({});
        assert!(!Helm::template_args(&bare, Path::new("c"), &capabilities).contains(&"-".into()));
    }

    #[test]
    fn an_application_is_read_as_argo_cd_reads_it() {
        let files = BTreeMap::from([
            (
                "apps/vault.yaml".to_owned(),
                "# header\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: vault\nspec:\n  sources:\n  - repoURL: https://helm.releases.hashicorp.com\n    chart: vault\n    targetRevision: 0.34.1\n    helm:\n      valuesObject:\n        server: {dev: {enabled: true}}\n  - repoURL: https://example.org/x.git\n    path: rendered/dev/manifests/vault\n    targetRevision: main\n  destination:\n    namespace: vault\n".to_owned(),
            ),
            ("manifests/x.yaml".to_owned(), "kind: Application\n".to_owned()),
        ]);
        assert_eq!(applications("dev", &files).unwrap(), [vault()]);
    }
}
