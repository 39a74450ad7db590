//! Validation of a rendered tree, whether this generator wrote it or not.
//!
//! - [`schemas`]: every object against the JSON Schema of its apiVersion and kind, and every
//!   Helm Application's `valuesObject` against its chart's values schema (or, where the chart
//!   ships none, its `values.yaml` keys). Schemas come from a folder laid out like
//!   `../shared/schemas`, read through [`SchemaSource`]; each is compiled once per run.
//! - [`invariants`]: what must hold across an environment: paths and repositories, pinned
//!   charts, secrets only through ESO, namespaces, CRD and wave ordering, unique objects,
//!   cost-allocation labels.
//!
//! Every failure is a [`Finding`]: file, JSON pointer, rule, offending value. Nothing here
//! touches the file system: the caller hands in file contents and a schema source.

mod invariants;
mod report;
mod schemas;
mod tree;

pub use invariants::check as check_invariants;
pub use report::{Finding, Report};
pub use schemas::{SchemaSource, Schemas, UNCHECKED_KINDS};
pub use tree::{RenderedObject, RenderedTree, parse_tree};

/// Everything: schema checks when `schemas` is given, and the invariants.
pub fn validate(
    files: &std::collections::BTreeMap<String, String>,
    schemas: Option<&mut Schemas<'_>>,
) -> Report {
    let (tree, mut findings) = parse_tree(files);
    if let Some(schemas) = schemas {
        findings.extend(schemas.check_tree(&tree));
    }
    findings.extend(invariants::check(&tree));
    Report::new(findings, tree.objects.len())
}
