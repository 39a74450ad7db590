//! The admission pre-flight's verdicts on the teams' apps, located in the environment file.
//!
//! The validator finds that Kyverno would refuse a workload (`kyverno:<policy>/<rule>`); when
//! the workload is one of the environment's apps, the cause is that app's entry, so the error
//! points at its line (at the field the policy judges, where one does).

use platform_environments::{Diagnostic, LoadedEnvironment};
use platform_validate::Finding;

const ADMISSION_RULE: &str = "kyverno:";

/// Takes the admission findings about `loaded`'s apps out of `findings`, as located errors.
pub fn locate(loaded: &LoadedEnvironment, findings: &mut Vec<Finding>) -> Vec<Diagnostic> {
    let mut located = Vec::new();
    findings.retain(|finding| {
        let Some(policy_rule) = finding.rule.strip_prefix(ADMISSION_RULE) else {
            return true;
        };
        // `<env>/manifests/<app>/<file>`: the folder names the Application.
        let mut parts = finding.file.split('/');
        let (Some(_), Some("manifests"), Some(app)) = (parts.next(), parts.next(), parts.next())
        else {
            return true;
        };
        let Some(index) = loaded
            .env
            .apps
            .iter()
            .position(|candidate| candidate.name.as_str() == app)
        else {
            return true;
        };
        let policy = policy_rule.split('/').next().unwrap_or_default();
        let field = component_kyverno::policies::app_field(policy).unwrap_or("name");
        located.push(loaded.diagnostic(
            Some(&format!("apps[{index}].{field}")),
            format!(
                "app {app} in {}: {} [{}]",
                loaded.name, finding.message, finding.rule
            ),
        ));
        false
    });
    located
}
