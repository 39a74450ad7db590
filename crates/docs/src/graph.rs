//! The component graph with waves, as Mermaid, Graphviz dot or JSON.

use std::fmt::Write as _;

use serde::Serialize;

use crate::mermaid::{Flowchart, Group, node_id};
use crate::model::Application;

/// Components grouped by layer, with an edge from each dependency to its dependent.
pub fn flowchart(applications: &[Application]) -> Flowchart {
    let mut layers: Vec<&str> = Vec::new();
    for app in applications {
        if !layers.contains(&app.layer.as_str()) {
            layers.push(&app.layer);
        }
    }
    let groups = layers
        .iter()
        .map(|layer| Group {
            id: format!("layer_{}", node_id(layer)),
            title: (*layer).to_owned(),
            nodes: applications
                .iter()
                .filter(|a| a.layer == *layer)
                .map(|a| (node_id(&a.name), format!("{} (wave {})", a.name, a.wave)))
                .collect(),
        })
        .collect();
    let edges = applications
        .iter()
        .flat_map(|app| {
            app.depends_on
                .iter()
                .map(move |dependency| (node_id(dependency), node_id(&app.name), None))
        })
        .collect();
    Flowchart { groups, edges }
}

pub fn mermaid(applications: &[Application]) -> String {
    flowchart(applications).render()
}

pub fn dot(env: &str, applications: &[Application]) -> String {
    let escape = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let quote = |s: &str| format!("\"{}\"", escape(s));
    let mut out = format!("digraph {} {{\n  rankdir=LR;\n", quote(env));
    let mut layers: Vec<&str> = Vec::new();
    for app in applications {
        if !layers.contains(&app.layer.as_str()) {
            layers.push(&app.layer);
        }
    }
    for (i, layer) in layers.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph cluster_{i} {{\n    label={};",
            quote(layer)
        );
        for app in applications.iter().filter(|a| a.layer == *layer) {
            let _ = writeln!(
                out,
                "    {} [label=\"{}\\nwave {}\"];",
                quote(&app.name),
                escape(&app.name),
                app.wave
            );
        }
        out.push_str("  }\n");
    }
    for app in applications {
        for dependency in &app.depends_on {
            let _ = writeln!(out, "  {} -> {};", quote(dependency), quote(&app.name));
        }
    }
    out.push_str("}\n");
    out
}

#[derive(Serialize)]
struct JsonGraph<'a> {
    environment: &'a str,
    components: &'a [Application],
}

pub fn json(env: &str, applications: &[Application]) -> String {
    let mut text = serde_json::to_string_pretty(&JsonGraph {
        environment: env,
        components: applications,
    })
    .expect("the graph is JSON");
    text.push('\n');
    text
}
