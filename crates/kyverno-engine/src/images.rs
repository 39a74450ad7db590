//! The `images` variable: every container image of a Pod or Pod template, split as Kyverno does
//! (`images.containers.<name>.registry`, `.path`, `.name`, `.tag`, `.digest`, `.reference`).

use serde_json::{Map, Value, json};

const DEFAULT_REGISTRY: &str = "docker.io";

/// `images` for a resource, or `None` when it has no Pod spec.
pub fn of(resource: &Value) -> Option<Value> {
    let kind = resource
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let spec = match kind {
        "Pod" => resource.get("spec"),
        "CronJob" => resource.pointer("/spec/jobTemplate/spec/template/spec"),
        _ => resource.pointer("/spec/template/spec"),
    }?;
    let mut out = Map::new();
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(containers) = spec.get(list).and_then(Value::as_array) else {
            continue;
        };
        let mut entries = Map::new();
        for container in containers {
            let (Some(name), Some(image)) = (
                container.get("name").and_then(Value::as_str),
                container.get("image").and_then(Value::as_str),
            ) else {
                continue;
            };
            if let Some(info) = info(image) {
                entries.insert(name.to_owned(), info);
            }
        }
        if !entries.is_empty() {
            out.insert(list.to_owned(), Value::Object(entries));
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// Splits an image reference; a name without a registry gets `docker.io`, one without a tag or
/// digest gets `latest`.
pub fn info(image: &str) -> Option<Value> {
    let first = image.split('/').next()?;
    let has_registry = image.contains('/')
        && (first.contains(['.', ':']) || first == "localhost" || first.to_lowercase() != first);
    let full = if has_registry {
        image.to_owned()
    } else {
        format!("{DEFAULT_REGISTRY}/{image}")
    };
    let (registry, remainder) = full.split_once('/')?;
    let (named, digest) = match remainder.split_once('@') {
        Some((named, digest)) => (named, digest),
        None => (remainder, ""),
    };
    let (path, tag) = match named.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') => (path, tag),
        _ => (named, ""),
    };
    if path.is_empty() {
        return None;
    }
    let tag = if tag.is_empty() && digest.is_empty() {
        "latest"
    } else {
        tag
    };
    let name = path.rsplit('/').next().unwrap_or(path);
    let base = format!("{registry}/{path}");
    let reference = if digest.is_empty() {
        format!("{base}:{tag}")
    } else {
        format!("{base}@{digest}")
    };
    Some(json!({
        "registry": registry,
        "name": name,
        "path": path,
        "tag": tag,
        "digest": digest,
        "reference": reference,
        "referenceWithTag": format!("{base}:{tag}"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_registry_and_tag() {
        let nginx = info("nginx").unwrap();
        assert_eq!(nginx["registry"], "docker.io");
        assert_eq!(nginx["path"], "nginx");
        assert_eq!(nginx["tag"], "latest");
        let hosted = info("ghcr.io/org/app:1.2@sha256:abc").unwrap();
        assert_eq!(hosted["registry"], "ghcr.io");
        assert_eq!(hosted["path"], "org/app");
        assert_eq!(hosted["name"], "app");
        assert_eq!(hosted["tag"], "1.2");
        assert_eq!(hosted["digest"], "sha256:abc");
        let port = info("localhost:5000/app").unwrap();
        assert_eq!(port["registry"], "localhost:5000");
        assert_eq!(port["tag"], "latest");
    }

    #[test]
    fn images_of_a_deployment() {
        let deployment = json!({"kind": "Deployment", "spec": {"template": {"spec": {
            "containers": [{"name": "web", "image": "nginx:1.27"}],
            "initContainers": [{"name": "init", "image": "busybox"}]}}}});
        let images = of(&deployment).unwrap();
        assert_eq!(images["containers"]["web"]["tag"], "1.27");
        assert_eq!(images["initContainers"]["init"]["registry"], "docker.io");
    }
}
