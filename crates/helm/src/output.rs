//! What `helm template` printed, as objects, each with the template it came from and, for a
//! hook, when Argo CD runs it.

use std::fmt::Write;

/// The objects of one Application's chart, in Helm's order.
#[derive(Clone, Debug, PartialEq)]
pub struct Templated {
    pub objects: Vec<ChartObject>,
}

/// One object Helm rendered.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartObject {
    /// Helm's `# Source:` line: `<chart>/templates/<file>` (`<chart>/charts/<sub>/...` for a
    /// subchart, `<chart>/crds/...` for a CRD).
    pub source: String,
    /// The document as Helm printed it.
    pub text: String,
    pub object: serde_json::Value,
    /// Present when the object is a Helm hook.
    pub hook: Option<Hook>,
}

/// A Helm hook, which Argo CD does not sync as a resource but runs at a phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hook {
    /// The `helm.sh/hook` annotation.
    pub helm: String,
    /// The Argo CD phases it maps to (gitops-engine `pkg/sync/hook/helm/type.go`, and
    /// `controller/hook.go` for the delete hooks); empty for a hook Argo CD never runs
    /// (`test`, `pre-rollback`).
    pub phases: Vec<&'static str>,
}

impl Hook {
    /// The hook of an object, as Argo CD v3.4.4 tells one (`helm.sh/hook` set, and not the
    /// `crd-install` Helm 2 put on CRDs).
    fn of(object: &serde_json::Value) -> Option<Self> {
        let helm = object["metadata"]["annotations"]["helm.sh/hook"].as_str()?;
        if helm == "crd-install" {
            return None;
        }
        let mut phases = Vec::new();
        for kind in helm.split(',').map(str::trim) {
            let phase = match kind {
                "pre-install" | "pre-upgrade" => "PreSync",
                "post-install" | "post-upgrade" => "PostSync",
                "pre-delete" => "PreDelete",
                "post-delete" => "PostDelete",
                _ => continue,
            };
            if !phases.contains(&phase) {
                phases.push(phase);
            }
        }
        Some(Self {
            helm: helm.to_owned(),
            phases,
        })
    }
}

impl ChartObject {
    pub fn kind(&self) -> &str {
        self.object["kind"].as_str().unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        self.object["metadata"]["name"].as_str().unwrap_or_default()
    }
}

impl Templated {
    /// Objects written as Helm writes them: documents after `---`, each with its
    /// `# Source:` line.
    ///
    /// # Errors
    /// A document that is not a Kubernetes object, naming its source.
    pub fn parse(text: &str) -> Result<Self, String> {
        parse(text)
    }

    /// Helm's output again, each hook marked by a comment saying when Argo CD runs it.
    pub fn to_yaml(&self) -> String {
        let mut text = String::new();
        for object in &self.objects {
            text.push_str("---\n");
            let _ = writeln!(text, "# Source: {}", object.source);
            if let Some(hook) = &object.hook {
                let when = if hook.phases.is_empty() {
                    "Argo CD never runs it".to_owned()
                } else {
                    format!("Argo CD runs it at {}", hook.phases.join(", "))
                };
                let _ = writeln!(text, "{HOOK_MARK}{}): {when}", hook.helm);
            }
            text.push_str(&object.text);
            if !object.text.ends_with('\n') {
                text.push('\n');
            }
        }
        text
    }
}

/// How [`Templated::to_yaml`] marks a hook; read back, the mark is not the object's text.
const HOOK_MARK: &str = "# Helm hook (";

/// Splits Helm's output into its documents and reads each.
pub(crate) fn parse(stdout: &str) -> Result<Templated, String> {
    let mut objects = Vec::new();
    for document in split_documents(stdout) {
        let mut source = String::new();
        let mut body = String::new();
        for line in document.lines() {
            if let Some(path) = line.strip_prefix("# Source: ") {
                source = path.trim().to_owned();
            } else if !line.starts_with(HOOK_MARK) {
                body.push_str(line);
                body.push('\n');
            }
        }
        // Read as Argo CD reads a chart's output (YAML 1.1: `defaultMode: 0444` is 292).
        let object = platform_kube_yaml::document(&body)
            .map_err(|e| format!("a document of {source} that Kubernetes cannot read: {e}"))?;
        if object.is_null() {
            continue;
        }
        if !object.is_object() {
            return Err(format!("a document of {source} that is not an object"));
        }
        let hook = Hook::of(&object);
        objects.push(ChartObject {
            source,
            text: body,
            object,
            hook,
        });
    }
    Ok(Templated { objects })
}

/// The documents of a YAML stream, split at its `---` lines.
fn split_documents(stream: &str) -> Vec<String> {
    let mut documents = vec![String::new()];
    for line in stream.lines() {
        if line.trim_end() == "---" {
            documents.push(String::new());
        } else {
            let current = documents.last_mut().expect("never empty");
            current.push_str(line);
            current.push('\n');
        }
    }
    documents
        .into_iter()
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.starts_with('#'))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "---\n# Source: kyverno/templates/hooks/post-delete.yaml\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: kyverno-clean-reports\n  annotations:\n    helm.sh/hook: post-upgrade, pre-delete\n---\n# Source: kyverno/templates/empty.yaml\n# only a comment\n---\n# Source: kyverno/crds/x.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    helm.sh/hook: crd-install\n---\n# Source: kyverno/templates/tests/t.yaml\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\n";

    #[test]
    fn hooks_map_to_the_phases_argo_cd_runs_them_at() {
        let templated = parse(OUTPUT).unwrap();
        let hooks: Vec<_> = templated
            .objects
            .iter()
            .map(|o| (o.name(), o.hook.as_ref().map(|h| h.phases.clone())))
            .collect();
        assert_eq!(
            hooks,
            [
                ("kyverno-clean-reports", Some(vec!["PostSync", "PreDelete"])),
                ("c", None),
                ("t", Some(vec![])),
            ]
        );
        assert_eq!(
            templated.objects[0].source,
            "kyverno/templates/hooks/post-delete.yaml"
        );
    }

    #[test]
    fn the_marked_output_reads_back_to_the_same_objects() {
        let templated = parse(OUTPUT).unwrap();
        let marked = templated.to_yaml();
        assert!(marked.contains(
            "# Helm hook (post-upgrade, pre-delete): Argo CD runs it at PostSync, PreDelete\n"
        ));
        assert!(marked.contains("# Helm hook (test): Argo CD never runs it\n"));
        assert_eq!(parse(&marked).unwrap(), templated);
    }
}
