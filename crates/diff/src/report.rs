//! A diff as people read it (text, or Markdown for a pull-request comment) or as machines do.

use std::fmt::Write as _;

use serde_json::Value;

use crate::{EnvironmentDiff, ObjectChange, Status};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

/// Values longer than this are cut in the report (a whole Helm values map, a script).
const LONGEST_VALUE: usize = 120;

fn value(value: Option<&Value>) -> String {
    let text = match value {
        None => return "(unset)".to_owned(),
        Some(Value::String(text)) => text.replace('\n', "⏎"),
        Some(other) => other.to_string(),
    };
    if text.chars().count() > LONGEST_VALUE {
        let cut: String = text.chars().take(LONGEST_VALUE).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn sign(status: &Status) -> &'static str {
    match status {
        Status::Added => "+",
        Status::Removed => "-",
        Status::Changed => "~",
        Status::Moved => ">",
    }
}

/// Every environment's diff, against `base`.
pub fn render(diffs: &[EnvironmentDiff], base: &str, format: Format) -> String {
    if format == Format::Json {
        return serde_json::to_string_pretty(diffs).expect("a diff is JSON") + "\n";
    }
    let markdown = format == Format::Markdown;
    let mut out = String::new();
    let changed: Vec<&EnvironmentDiff> = diffs.iter().filter(|d| !d.is_empty()).collect();
    if markdown {
        let _ = writeln!(out, "## Rendered changes against `{base}`\n");
    }
    if changed.is_empty() {
        let _ = writeln!(out, "No rendered object changes against {base}.");
        return out;
    }
    for diff in changed {
        let highlights: Vec<String> = diff
            .objects
            .iter()
            .flat_map(|o| o.highlights.iter().map(move |h| format!("{}: {h}", o.id)))
            .chain(diff.reach.iter().cloned())
            .collect();
        let counts = |status: Status| diff.objects.iter().filter(|o| o.status == status).count();
        let summary = format!(
            "{} added, {} removed, {} changed, {} moved",
            counts(Status::Added),
            counts(Status::Removed),
            counts(Status::Changed),
            counts(Status::Moved)
        );
        if markdown {
            let _ = writeln!(out, "### {} ({summary})\n", diff.environment);
            if !highlights.is_empty() {
                out.push_str("**Review with care:**\n\n");
                for line in &highlights {
                    let _ = writeln!(out, "- ⚠️ {line}");
                }
                out.push('\n');
            }
        } else {
            let _ = writeln!(out, "== {} ({summary}) against {base}", diff.environment);
            for line in &highlights {
                let _ = writeln!(out, "! {line}");
            }
        }
        let mut current: Option<(i64, &str)> = None;
        for object in &diff.objects {
            let placement = object.placement();
            let group = (placement.wave, placement.application.as_str());
            if current != Some(group) {
                current = Some(group);
                if markdown {
                    let _ = writeln!(
                        out,
                        "\n#### wave {} · `{}`\n",
                        placement.wave, placement.application
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "\n  wave {} · {}",
                        placement.wave, placement.application
                    );
                }
            }
            object_lines(object, markdown, &mut out);
        }
        if !diff.files.is_empty() {
            if markdown {
                out.push_str("\nOther rendered files changed:\n\n");
                for file in &diff.files {
                    let _ = writeln!(out, "- `{file}`");
                }
            } else {
                let _ = writeln!(out, "\n  other files changed: {}", diff.files.join(", "));
            }
        }
        out.push('\n');
    }
    out
}

fn object_lines(object: &ObjectChange, markdown: bool, out: &mut String) {
    if markdown {
        let _ = writeln!(out, "- `{}` **{}**", sign(&object.status), object.id);
        for field in &object.fields {
            if let (Some(Value::String(was)), Some(Value::String(is))) =
                (&field.before, &field.after)
                && (was.contains('\n') || is.contains('\n'))
            {
                let _ = writeln!(out, "  - `{}`:\n\n    ```diff", field.path);
                for line in crate::fields::line_changes(was, is) {
                    let _ = writeln!(out, "    {line}");
                }
                out.push_str("    ```\n");
                continue;
            }
            let _ = writeln!(
                out,
                "  - `{}`: `{}` → `{}`",
                field.path,
                value(field.before.as_ref()).replace('`', "'"),
                value(field.after.as_ref()).replace('`', "'")
            );
        }
    } else {
        let _ = writeln!(out, "    {} {}", sign(&object.status), object.id);
        for field in &object.fields {
            if let (Some(Value::String(was)), Some(Value::String(is))) =
                (&field.before, &field.after)
                && (was.contains('\n') || is.contains('\n'))
            {
                let _ = writeln!(out, "        {}:", field.path);
                for line in crate::fields::line_changes(was, is) {
                    let _ = writeln!(out, "          {line}");
                }
                continue;
            }
            let _ = writeln!(
                out,
                "        {}: {} → {}",
                field.path,
                value(field.before.as_ref()),
                value(field.after.as_ref())
            );
        }
    }
}
