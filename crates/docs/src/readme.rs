//! `rendered/<env>/README.md`.

use minijinja::value::Serde;
use minijinja::{Environment, Value, context};

use crate::graph;
use crate::mermaid::{Sequence, node_id};
use crate::model::DocModel;

const TEMPLATE: &str = include_str!("../templates/readme.md.j2");

/// The secret flow of one app: Vault path → ClusterSecretStore → ExternalSecret → Secret → app.
fn secret_sequence(flow: &crate::model::SecretFlow) -> String {
    let mut sequence = Sequence {
        participants: vec![
            ("Vault".to_owned(), "Vault".to_owned()),
            (
                "Store".to_owned(),
                format!("ClusterSecretStore {}", flow.store),
            ),
        ],
        messages: Vec::new(),
    };
    for secret in &flow.secrets {
        let es = format!("ES_{}", node_id(&secret.name));
        let k8s = format!("Secret_{}", node_id(&secret.name));
        sequence
            .participants
            .push((es.clone(), format!("ExternalSecret {}", secret.name)));
        sequence.participants.push((
            k8s.clone(),
            format!("Secret {}/{}", flow.namespace, secret.name),
        ));
        sequence.messages.push((
            es.clone(),
            "Store".to_owned(),
            format!("read {} every {}", secret.vault_path, secret.refresh),
        ));
        sequence.messages.push((
            "Store".to_owned(),
            "Vault".to_owned(),
            format!(
                "log in with role, read {} ({})",
                secret.vault_path,
                secret.keys.join(", ")
            ),
        ));
        sequence
            .messages
            .push(("Vault".to_owned(), "Store".to_owned(), "keys".to_owned()));
        sequence
            .messages
            .push(("Store".to_owned(), es.clone(), "keys".to_owned()));
        sequence
            .messages
            .push((es, k8s.clone(), format!("write {}", secret.keys.join(", "))));
        sequence.messages.push((
            k8s,
            "App".to_owned(),
            match &secret.mount_path {
                Some(path) => format!("files in {path}"),
                None => "environment variables".to_owned(),
            },
        ));
    }
    sequence.participants.push((
        "App".to_owned(),
        format!("Deployment {}/{}", flow.namespace, flow.app),
    ));
    // The app is the last participant, so it is drawn on the right.
    sequence.render()
}

/// The secret flows as diagrams, one per app.
pub fn secret_diagrams(model: &DocModel) -> Vec<(String, String)> {
    model
        .secret_flows
        .iter()
        .filter(|flow| !flow.platform)
        .map(|flow| (flow.app.clone(), secret_sequence(flow)))
        .collect()
}

/// The Applications the component diagram draws: all of them, or at scale the platform's,
/// leaving out the teams' apps and tenants (the wave table lists every one).
fn diagrammed(model: &DocModel) -> Vec<crate::Application> {
    model
        .applications
        .iter()
        .filter(|a| !model.at_scale || a.layer != "Applications")
        .map(|a| crate::Application {
            depends_on: a
                .depends_on
                .iter()
                .filter(|d| {
                    !model.at_scale
                        || model
                            .applications
                            .iter()
                            .any(|other| &&other.name == d && other.layer != "Applications")
                })
                .cloned()
                .collect(),
            ..a.clone()
        })
        .collect()
}

pub fn readme(model: &DocModel) -> String {
    let mut templates = Environment::new();
    templates.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .expect("a valid syntax"),
    );
    templates
        .add_template("readme", TEMPLATE)
        .expect("the README template parses");
    let access: Vec<_> = model
        .access
        .iter()
        .map(|a| context! { access => Value::from(Serde(a)), command => a.command() })
        .collect();
    templates
        .get_template("readme")
        .and_then(|t| {
            t.render(context! {
                m => Value::from(Serde(model)),
                flowchart => graph::mermaid(&diagrammed(model)),
                apps_left_out => model.applications.len() - diagrammed(model).len(),
                secret_diagrams => if model.at_scale {
                    // One app's flow shows them all: they differ only in names.
                    secret_diagrams(model).into_iter().take(1).collect()
                } else {
                    secret_diagrams(model)
                },
                access => access,
            })
        })
        .unwrap_or_else(|error| panic!("the README does not render: {error:#}"))
}
