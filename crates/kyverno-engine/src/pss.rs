//! `validate.podSecurity`: the Kubernetes Pod Security Standards (baseline and restricted), with
//! Kyverno's exclusions by control name, container image, restricted field and value.

use serde_json::Value;

use crate::engine::Status;
use crate::policy::{PodSecurity, PodSecurityExclusion};
use crate::wildcard;

const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

const SAFE_SYSCTLS: [&str; 10] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

const SELINUX_TYPES: [&str; 5] = [
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

const RESTRICTED_VOLUMES: [&str; 8] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// One way the pod breaks a control.
#[derive(Debug, Clone)]
struct Violation {
    control: &'static str,
    /// The field as Kyverno's `restrictedField` names it.
    field: String,
    /// The container's image, for container-level fields.
    image: Option<String>,
    values: Vec<String>,
    detail: String,
}

/// The pod spec and metadata inside a Pod, a controller or a CronJob.
fn pod_parts(resource: &Value) -> Option<(&Value, &Value)> {
    let kind = resource
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let template = match kind {
        "Pod" => resource,
        "CronJob" => resource.pointer("/spec/jobTemplate/spec/template")?,
        _ => resource.pointer("/spec/template")?,
    };
    let empty = &Value::Null;
    Some((
        template.get("spec").unwrap_or(empty),
        template.get("metadata").unwrap_or(empty),
    ))
}

/// Evaluates the standard at `level` with the policy's exclusions.
pub fn evaluate(pod_security: &PodSecurity, resource: &Value, rule: &str) -> (Status, String) {
    let level = pod_security.level.to_ascii_lowercase();
    let version = pod_security
        .version
        .clone()
        .unwrap_or_else(|| "latest".to_owned());
    if level == "privileged" {
        return (Status::Pass, format!("validation rule '{rule}' passed."));
    }
    let Some((spec, metadata)) = pod_parts(resource) else {
        return (Status::Pass, format!("validation rule '{rule}' passed."));
    };
    let mut violations = baseline(spec, metadata);
    if level == "restricted" {
        violations.extend(restricted(spec));
    }
    violations.retain(|violation| {
        !pod_security
            .exclude
            .iter()
            .any(|exclusion| excludes(exclusion, violation))
    });
    if violations.is_empty() {
        return (Status::Pass, format!("validation rule '{rule}' passed."));
    }
    let mut details: Vec<String> = violations
        .iter()
        .map(|violation| format!("{}: {}", violation.control, violation.detail))
        .collect();
    details.dedup();
    (
        Status::Fail,
        format!(
            "Validation rule '{rule}' failed. It violates PodSecurity \"{level}:{version}\": {}",
            details.join("; ")
        ),
    )
}

fn excludes(exclusion: &PodSecurityExclusion, violation: &Violation) -> bool {
    if !exclusion
        .control_name
        .eq_ignore_ascii_case(violation.control)
    {
        return false;
    }
    if !exclusion.images.is_empty() {
        let Some(image) = &violation.image else {
            return false;
        };
        if !exclusion
            .images
            .iter()
            .any(|pattern| wildcard::matches(pattern, image))
        {
            return false;
        }
    }
    if let Some(field) = &exclusion.restricted_field {
        if !wildcard::matches(
            &field.replace("[*]", "[\u{1}]").replace('\u{1}', "*"),
            &violation.field,
        ) && field != &violation.field
        {
            return false;
        }
        if !exclusion.values.is_empty()
            && !violation.values.iter().all(|value| {
                exclusion
                    .values
                    .iter()
                    .any(|allowed| wildcard::matches(allowed, value))
            })
        {
            return false;
        }
    } else if exclusion.images.is_empty() && violation.image.is_some() {
        // A control excluded without images covers only pod-level fields.
        return false;
    }
    true
}

fn containers(spec: &Value) -> impl Iterator<Item = (&'static str, &Value)> {
    CONTAINER_LISTS.into_iter().flat_map(move |list| {
        spec.get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(move |container| (list, container))
    })
}

/// A capability a container may not add.
fn added_capability(list: &str, container: &Value, name: &str) -> Violation {
    container_violation(
        "Capabilities",
        list,
        "securityContext.capabilities.add",
        container,
        vec![name.to_owned()],
        format!("must not add capability {name}"),
    )
}

/// The capabilities a container's security context adds.
fn added_capabilities(context: Option<&Value>) -> Vec<String> {
    context
        .and_then(|context| context.pointer("/capabilities/add"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|capability| text(Some(capability)))
        .collect()
}

fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn container_violation(
    control: &'static str,
    list: &str,
    field: &str,
    container: &Value,
    values: Vec<String>,
    detail: String,
) -> Violation {
    Violation {
        control,
        field: format!("spec.{list}[*].{field}"),
        image: Some(text(container.get("image"))),
        values,
        detail: format!("container {:?} {detail}", text(container.get("name"))),
    }
}

fn pod_violation(
    control: &'static str,
    field: &str,
    values: Vec<String>,
    detail: String,
) -> Violation {
    Violation {
        control,
        field: field.to_owned(),
        image: None,
        values,
        detail,
    }
}

fn baseline(spec: &Value, metadata: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    let is_true = |value: Option<&Value>| value.and_then(Value::as_bool) == Some(true);
    let pod_context = spec.get("securityContext");

    if is_true(spec.pointer("/securityContext/windowsOptions/hostProcess")) {
        out.push(pod_violation(
            "HostProcess",
            "spec.securityContext.windowsOptions.hostProcess",
            vec!["true".into()],
            "hostProcess=true".into(),
        ));
    }
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if is_true(spec.get(field)) {
            out.push(pod_violation(
                "Host Namespaces",
                &format!("spec.{field}"),
                vec!["true".into()],
                format!("{field}=true"),
            ));
        }
    }
    for (index, volume) in spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if volume.get("hostPath").is_some() {
            out.push(pod_violation(
                "HostPath Volumes",
                "spec.volumes[*].hostPath",
                vec![],
                format!("volume {index} uses hostPath"),
            ));
        }
    }
    if let Some(sysctls) = pod_context
        .and_then(|context| context.get("sysctls"))
        .and_then(Value::as_array)
    {
        for sysctl in sysctls {
            let name = text(sysctl.get("name"));
            if !SAFE_SYSCTLS.contains(&name.as_str()) {
                out.push(pod_violation(
                    "Sysctls",
                    "spec.securityContext.sysctls[*].name",
                    vec![name.clone()],
                    format!("forbidden sysctl {name}"),
                ));
            }
        }
    }
    selinux(pod_context, None, &mut out);
    seccomp_unconfined(pod_context, None, &mut out);
    apparmor_profile(pod_context, None, &mut out);
    if let Some(annotations) = metadata.get("annotations").and_then(Value::as_object) {
        for (key, value) in annotations {
            if key.starts_with("container.apparmor.security.beta.kubernetes.io/") {
                let profile = text(Some(value));
                if profile != "runtime/default" && !profile.starts_with("localhost/") {
                    out.push(pod_violation(
                        "AppArmor",
                        "metadata.annotations[\"container.apparmor.security.beta.kubernetes.io/*\"]",
                        vec![profile.clone()],
                        format!("annotation {key}={profile}"),
                    ));
                }
            }
        }
    }

    for (list, container) in containers(spec) {
        let context = container.get("securityContext");
        let at = |path: &str| context.and_then(|context| context.pointer(path));
        if is_true(at("/windowsOptions/hostProcess")) {
            out.push(container_violation(
                "HostProcess",
                list,
                "securityContext.windowsOptions.hostProcess",
                container,
                vec!["true".into()],
                "must not set hostProcess=true".into(),
            ));
        }
        if is_true(at("/privileged")) {
            out.push(container_violation(
                "Privileged Containers",
                list,
                "securityContext.privileged",
                container,
                vec!["true".into()],
                "must not set securityContext.privileged=true".into(),
            ));
        }
        for name in added_capabilities(context) {
            if !BASELINE_CAPABILITIES.contains(&name.as_str()) {
                out.push(added_capability(list, container, &name));
            }
        }
        for port in container
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let host_port = port.get("hostPort").and_then(Value::as_i64).unwrap_or(0);
            if host_port != 0 {
                out.push(container_violation(
                    "Host Ports",
                    list,
                    "ports[*].hostPort",
                    container,
                    vec![host_port.to_string()],
                    format!("uses hostPort {host_port}"),
                ));
            }
        }
        if let Some(mount) = at("/procMount").and_then(Value::as_str)
            && mount != "Default"
        {
            out.push(container_violation(
                "/proc Mount Type",
                list,
                "securityContext.procMount",
                container,
                vec![mount.to_owned()],
                format!("must not set procMount={mount}"),
            ));
        }
        selinux(context, Some((list, container)), &mut out);
        seccomp_unconfined(context, Some((list, container)), &mut out);
        apparmor_profile(context, Some((list, container)), &mut out);
    }
    out
}

type Owner<'a> = Option<(&'a str, &'a Value)>;

fn push(
    out: &mut Vec<Violation>,
    owner: Owner<'_>,
    control: &'static str,
    field: &str,
    values: Vec<String>,
    detail: String,
) {
    match owner {
        Some((list, container)) => out.push(container_violation(
            control,
            list,
            &format!("securityContext.{field}"),
            container,
            values,
            detail,
        )),
        None => out.push(pod_violation(
            control,
            &format!("spec.securityContext.{field}"),
            values,
            detail,
        )),
    }
}

fn selinux(context: Option<&Value>, owner: Owner<'_>, out: &mut Vec<Violation>) {
    let Some(options) = context.and_then(|context| context.get("seLinuxOptions")) else {
        return;
    };
    let kind = text(options.get("type"));
    if !SELINUX_TYPES.contains(&kind.as_str()) {
        push(
            out,
            owner,
            "SELinux",
            "seLinuxOptions.type",
            vec![kind.clone()],
            format!("seLinuxOptions.type={kind}"),
        );
    }
    for field in ["user", "role"] {
        if let Some(value) = options.get(field) {
            push(
                out,
                owner,
                "SELinux",
                &format!("seLinuxOptions.{field}"),
                vec![text(Some(value))],
                format!("must not set seLinuxOptions.{field}"),
            );
        }
    }
}

fn seccomp_unconfined(context: Option<&Value>, owner: Owner<'_>, out: &mut Vec<Violation>) {
    let kind = context
        .and_then(|context| context.pointer("/seccompProfile/type"))
        .and_then(Value::as_str);
    if kind == Some("Unconfined") {
        push(
            out,
            owner,
            "Seccomp",
            "seccompProfile.type",
            vec!["Unconfined".into()],
            "seccompProfile.type=Unconfined".into(),
        );
    }
}

fn apparmor_profile(context: Option<&Value>, owner: Owner<'_>, out: &mut Vec<Violation>) {
    let kind = context
        .and_then(|context| context.pointer("/appArmorProfile/type"))
        .and_then(Value::as_str);
    if let Some(kind) = kind
        && kind != "RuntimeDefault"
        && kind != "Localhost"
    {
        push(
            out,
            owner,
            "AppArmor",
            "appArmorProfile.type",
            vec![kind.to_owned()],
            format!("appArmorProfile.type={kind}"),
        );
    }
}

fn restricted(spec: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    for volume in spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(map) = volume.as_object() else {
            continue;
        };
        for key in map.keys().filter(|key| *key != "name") {
            if !RESTRICTED_VOLUMES.contains(&key.as_str()) && key != "hostPath" {
                out.push(pod_violation(
                    "Volume Types",
                    &format!("spec.volumes[*].{key}"),
                    vec![key.clone()],
                    format!(
                        "volume {:?} uses restricted type {key}",
                        text(volume.get("name"))
                    ),
                ));
            }
        }
    }
    let pod_context = spec.get("securityContext");
    let pod_non_root = pod_context
        .and_then(|context| context.get("runAsNonRoot"))
        .and_then(Value::as_bool);
    if pod_non_root == Some(false) {
        out.push(pod_violation(
            "Running as Non-root",
            "spec.securityContext.runAsNonRoot",
            vec!["false".into()],
            "pod must not set runAsNonRoot=false".into(),
        ));
    }
    if pod_context
        .and_then(|context| context.get("runAsUser"))
        .and_then(Value::as_i64)
        == Some(0)
    {
        out.push(pod_violation(
            "Running as Non-root user",
            "spec.securityContext.runAsUser",
            vec!["0".into()],
            "pod must not set runAsUser=0".into(),
        ));
    }
    let pod_seccomp = pod_context
        .and_then(|context| context.pointer("/seccompProfile/type"))
        .and_then(Value::as_str);
    let seccomp_ok = |kind: Option<&str>| matches!(kind, Some("RuntimeDefault" | "Localhost"));

    for (list, container) in containers(spec) {
        let context = container.get("securityContext");
        let at = |path: &str| context.and_then(|context| context.pointer(path));
        if at("/allowPrivilegeEscalation").and_then(Value::as_bool) != Some(false) {
            out.push(container_violation(
                "Privilege Escalation",
                list,
                "securityContext.allowPrivilegeEscalation",
                container,
                vec![text(at("/allowPrivilegeEscalation"))],
                "must set securityContext.allowPrivilegeEscalation=false".into(),
            ));
        }
        match at("/runAsNonRoot").and_then(Value::as_bool) {
            Some(false) => out.push(container_violation(
                "Running as Non-root",
                list,
                "securityContext.runAsNonRoot",
                container,
                vec!["false".into()],
                "must not set securityContext.runAsNonRoot=false".into(),
            )),
            None if pod_non_root != Some(true) => out.push(container_violation(
                "Running as Non-root",
                list,
                "securityContext.runAsNonRoot",
                container,
                vec![],
                "must set securityContext.runAsNonRoot=true".into(),
            )),
            _ => {}
        }
        if at("/runAsUser").and_then(Value::as_i64) == Some(0) {
            out.push(container_violation(
                "Running as Non-root user",
                list,
                "securityContext.runAsUser",
                container,
                vec!["0".into()],
                "must not set runAsUser=0".into(),
            ));
        }
        let container_seccomp = at("/seccompProfile/type").and_then(Value::as_str);
        let effective = container_seccomp.or(pod_seccomp);
        if !seccomp_ok(effective) && effective != Some("Unconfined") {
            out.push(container_violation("Seccomp", list, "securityContext.seccompProfile.type", container, vec![effective.unwrap_or_default().to_owned()], "must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"".into()));
        }
        let drops = at("/capabilities/drop").and_then(Value::as_array);
        if !drops.is_some_and(|drops| drops.iter().any(|drop| drop.as_str() == Some("ALL"))) {
            out.push(container_violation(
                "Capabilities",
                list,
                "securityContext.capabilities.drop",
                container,
                vec![],
                "must set securityContext.capabilities.drop=[\"ALL\"]".into(),
            ));
        }
        for name in added_capabilities(context) {
            if name != "NET_BIND_SERVICE" && BASELINE_CAPABILITIES.contains(&name.as_str()) {
                out.push(added_capability(list, container, &name));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
    }

    fn level(level: &str, exclude: Value) -> PodSecurity {
        serde_json::from_value(json!({"level": level, "version": "latest", "exclude": exclude}))
            .unwrap()
    }

    fn restricted_container() -> Value {
        json!({"name": "app", "image": "nginx", "securityContext": {
            "allowPrivilegeEscalation": false, "runAsNonRoot": true,
            "seccompProfile": {"type": "RuntimeDefault"}, "capabilities": {"drop": ["ALL"]}}})
    }

    #[test]
    fn baseline_blocks_host_namespaces_privileged_and_host_path() {
        let baseline = level("baseline", json!([]));
        assert_eq!(
            evaluate(
                &baseline,
                &pod(json!({"containers": [{"name": "a", "image": "x"}]})),
                "r"
            )
            .0,
            Status::Pass
        );
        for spec in [
            json!({"hostNetwork": true, "containers": [{"name": "a", "image": "x"}]}),
            json!({"containers": [{"name": "a", "image": "x", "securityContext": {"privileged": true}}]}),
            json!({"volumes": [{"name": "v", "hostPath": {"path": "/"}}], "containers": [{"name": "a", "image": "x"}]}),
            json!({"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 80, "hostPort": 80}]}]}),
            json!({"containers": [{"name": "a", "image": "x", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]}),
            json!({"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}, "containers": [{"name": "a", "image": "x"}]}),
        ] {
            assert_eq!(
                evaluate(&baseline, &pod(spec.clone()), "r").0,
                Status::Fail,
                "{spec}"
            );
        }
    }

    #[test]
    fn restricted_needs_the_full_security_context() {
        let restricted = level("restricted", json!([]));
        assert_eq!(
            evaluate(
                &restricted,
                &pod(json!({"containers": [restricted_container()]})),
                "r"
            )
            .0,
            Status::Pass
        );
        assert_eq!(
            evaluate(
                &restricted,
                &pod(json!({"containers": [{"name": "a", "image": "x"}]})),
                "r"
            )
            .0,
            Status::Fail
        );
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"template": {"spec": {"containers": [restricted_container()]}}}});
        assert_eq!(evaluate(&restricted, &deployment, "r").0, Status::Pass);
    }

    #[test]
    fn exclusions_by_control_image_and_field() {
        let spec = json!({"containers": [{"name": "a", "image": "nginx:1", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]});
        let by_image = level(
            "baseline",
            json!([{"controlName": "Capabilities", "images": ["nginx:*"]}]),
        );
        assert_eq!(evaluate(&by_image, &pod(spec.clone()), "r").0, Status::Pass);
        let other_image = level(
            "baseline",
            json!([{"controlName": "Capabilities", "images": ["redis:*"]}]),
        );
        assert_eq!(
            evaluate(&other_image, &pod(spec.clone()), "r").0,
            Status::Fail
        );
        let by_field = level(
            "baseline",
            json!([{"controlName": "Capabilities", "images": ["*"],
            "restrictedField": "spec.containers[*].securityContext.capabilities.add", "values": ["SYS_ADMIN"]}]),
        );
        assert_eq!(evaluate(&by_field, &pod(spec), "r").0, Status::Pass);
        let host = pod(json!({"hostNetwork": true, "containers": [{"name": "a", "image": "x"}]}));
        let pod_level = level("baseline", json!([{"controlName": "Host Namespaces"}]));
        assert_eq!(evaluate(&pod_level, &host, "r").0, Status::Pass);
    }
}
