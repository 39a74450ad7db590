//! Mermaid diagrams as values: identifiers are checked, labels escaped, and [`parse_flowchart`]
//! reads a rendered flowchart back so tests can check what GitHub will draw.

use std::collections::BTreeSet;
use std::fmt::Write as _;

/// A Mermaid node id: letters, digits and `_`, starting with a letter.
pub fn node_id(name: &str) -> String {
    let mut id: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
        id.insert(0, 'n');
    }
    id
}

/// A label inside `"…"`: quotes and the characters Mermaid reads as markup become entities.
pub fn escape(label: &str) -> String {
    label
        .replace('&', "#amp;")
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flowchart {
    pub groups: Vec<Group>,
    /// `(from, to, label)` by node id.
    pub edges: Vec<(String, String, Option<String>)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub title: String,
    /// `(id, label)`.
    pub nodes: Vec<(String, String)>,
}

impl Flowchart {
    pub fn render(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for group in &self.groups {
            let _ = writeln!(out, "  subgraph {}[\"{}\"]", group.id, escape(&group.title));
            for (id, label) in &group.nodes {
                let _ = writeln!(out, "    {id}[\"{}\"]", escape(label));
            }
            out.push_str("  end\n");
        }
        for (from, to, label) in &self.edges {
            match label {
                Some(label) => {
                    let _ = writeln!(out, "  {from} -->|\"{}\"| {to}", escape(label));
                }
                None => {
                    let _ = writeln!(out, "  {from} --> {to}");
                }
            }
        }
        out
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sequence {
    /// `(id, label)`.
    pub participants: Vec<(String, String)>,
    /// `(from, to, text)` by participant id.
    pub messages: Vec<(String, String, String)>,
}

impl Sequence {
    pub fn render(&self) -> String {
        let mut out = String::from("sequenceDiagram\n");
        for (id, label) in &self.participants {
            let _ = writeln!(
                out,
                "  participant {id} as {}",
                escape(label).replace(';', "#59;")
            );
        }
        for (from, to, text) in &self.messages {
            let _ = writeln!(
                out,
                "  {from}->>{to}: {}",
                escape(text).replace(';', "#59;")
            );
        }
        out
    }
}

/// What a rendered flowchart declares, read back from its text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedFlowchart {
    pub nodes: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    pub edges: Vec<(String, String)>,
}

fn valid_id(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A label between quotes, with nothing inside that would end it early.
fn quoted(text: &str) -> Result<&str, String> {
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .ok_or_else(|| format!("label {text} is not quoted"))?;
    if inner.contains(['"', '<', '>']) {
        return Err(format!("label {text} is not escaped"));
    }
    Ok(inner)
}

/// Parses the subset of Mermaid [`Flowchart::render`] writes, and checks it: ids valid and
/// unique, every edge between declared nodes, every label quoted and escaped.
pub fn parse_flowchart(text: &str) -> Result<ParsedFlowchart, String> {
    let mut lines = text.lines();
    if lines.next() != Some("flowchart LR") {
        return Err("does not start with `flowchart LR`".to_owned());
    }
    let mut parsed = ParsedFlowchart::default();
    let mut depth = 0;
    for line in lines.map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("subgraph ") {
            let (id, label) = rest
                .split_once('[')
                .ok_or_else(|| format!("bad subgraph: {line}"))?;
            quoted(
                label
                    .strip_suffix(']')
                    .ok_or_else(|| format!("bad subgraph: {line}"))?,
            )?;
            if !valid_id(id) || !parsed.groups.insert(id.to_owned()) || parsed.nodes.contains(id) {
                return Err(format!("subgraph id `{id}` is invalid or not unique"));
            }
            depth += 1;
        } else if line == "end" {
            depth -= 1;
            if depth < 0 {
                return Err("`end` without `subgraph`".to_owned());
            }
        } else if let Some((from, rest)) = line.split_once(" -->") {
            let to = match rest.trim_start().strip_prefix('|') {
                Some(labelled) => {
                    let (label, to) = labelled
                        .split_once("| ")
                        .ok_or_else(|| format!("bad edge: {line}"))?;
                    quoted(label)?;
                    to
                }
                None => rest.trim_start(),
            };
            parsed.edges.push((from.to_owned(), to.to_owned()));
        } else {
            let (id, label) = line
                .split_once('[')
                .ok_or_else(|| format!("unknown line: {line}"))?;
            quoted(
                label
                    .strip_suffix(']')
                    .ok_or_else(|| format!("bad node: {line}"))?,
            )?;
            if !valid_id(id) || !parsed.nodes.insert(id.to_owned()) || parsed.groups.contains(id) {
                return Err(format!("node id `{id}` is invalid or not unique"));
            }
        }
    }
    if depth != 0 {
        return Err("a subgraph is not closed".to_owned());
    }
    for (from, to) in &parsed.edges {
        for end in [from, to] {
            if !parsed.nodes.contains(end) {
                return Err(format!(
                    "edge {from} --> {to} names an undeclared node `{end}`"
                ));
            }
        }
    }
    Ok(parsed)
}

/// Participant ids, and `(from, to)` of every message.
pub type ParsedSequence = (BTreeSet<String>, Vec<(String, String)>);

/// Checks a rendered sequence diagram: participants valid and unique, every message between
/// declared participants.
pub fn parse_sequence(text: &str) -> Result<ParsedSequence, String> {
    let mut lines = text.lines();
    if lines.next() != Some("sequenceDiagram") {
        return Err("does not start with `sequenceDiagram`".to_owned());
    }
    let mut participants = BTreeSet::new();
    let mut messages = Vec::new();
    for line in lines.map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("participant ") {
            let (id, label) = rest
                .split_once(" as ")
                .ok_or_else(|| format!("bad participant: {line}"))?;
            if label.contains([';', '"', '<', '>']) {
                return Err(format!("participant label `{label}` is not escaped"));
            }
            if !valid_id(id) || !participants.insert(id.to_owned()) {
                return Err(format!("participant `{id}` is invalid or not unique"));
            }
        } else {
            let (arrow, text) = line
                .split_once(": ")
                .ok_or_else(|| format!("bad message: {line}"))?;
            let (from, to) = arrow
                .split_once("->>")
                .ok_or_else(|| format!("bad message: {line}"))?;
            if text.contains([';', '"', '<', '>']) {
                return Err(format!("message `{text}` is not escaped"));
            }
            for end in [from, to] {
                if !participants.contains(end) {
                    return Err(format!("message names an undeclared participant `{end}`"));
                }
            }
            messages.push((from.to_owned(), to.to_owned()));
        }
    }
    Ok((participants, messages))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_flowchart_parses_back_and_labels_are_escaped() {
        let chart = Flowchart {
            groups: vec![Group {
                id: "g".into(),
                title: "A \"quoted\" <layer>".into(),
                nodes: vec![(node_id("vault-config"), "vault-config (wave 2)".into())],
            }],
            edges: Vec::new(),
        };
        let parsed = parse_flowchart(&chart.render()).unwrap();
        assert!(parsed.nodes.contains("vault_config"));
    }

    #[test]
    fn broken_diagrams_are_refused() {
        assert!(
            parse_flowchart("flowchart LR\n  a[\"x\"]\n  a[\"y\"]\n").is_err(),
            "duplicate id"
        );
        assert!(
            parse_flowchart("flowchart LR\n  a[\"x\"]\n  a --> b\n").is_err(),
            "dangling edge"
        );
        assert!(
            parse_flowchart("flowchart LR\n  a[\"x\"y\"]\n").is_err(),
            "unescaped quote"
        );
        assert!(
            parse_flowchart("flowchart LR\n  1a[\"x\"]\n").is_err(),
            "invalid id"
        );
        assert!(parse_sequence("sequenceDiagram\n  participant a as A\n  a->>b: hi\n").is_err());
    }
}
