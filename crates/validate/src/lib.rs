//! Validation of a rendered tree, whether this generator wrote it or not.
//!
//! - [`schemas`]: every object against the JSON Schema of its apiVersion and kind, and every
//!   Helm Application's `valuesObject` against its chart's values schema (or, where the chart
//!   ships none, its `values.yaml` keys). Schemas come from a folder laid out like the
//!   repository's `schemas/`, read through [`SchemaSource`]; each is compiled once per run.
//! - [`invariants`]: what must hold across an environment: paths and repositories, pinned
//!   charts, secrets only through ESO, namespaces, CRD and wave ordering, unique objects,
//!   cost-allocation labels, projects. What they need to know of the platform comes in as
//!   [`Conventions`].
//! - [`invariants`] also run the admission pre-flight: each environment's Kyverno policies
//!   against its workloads (`kyverno-engine`); a refused workload is a finding, an `Audit`
//!   failure a warning.
//! - [`import`]: upstream CRDs into the schema folder's layout.
//!
//! Every failure is a [`Finding`]: file, JSON pointer, rule, offending value. Nothing here
//! touches the file system: the caller hands in file contents and a schema source.

pub mod block_yaml;
pub mod import;
mod invariants;
mod report;
mod schemas;
mod tree;
pub mod vouched;

pub use invariants::{
    AdmissionMemo, check as check_invariants, needed as needed_by_invariants, read_in_full,
};
pub use report::{Finding, RULES, Report};
pub use schemas::{SchemaSource, Schemas, UNCHECKED_KINDS, object_schema_path};
pub use tree::{RenderedObject, RenderedTree, namespace_labels, parse_plain, parse_tree};
pub use vouched::SchemaLedger;

use std::collections::BTreeMap;

/// What a tree is checked against that only its generator knows. The validator knows no
/// component and no model: the platform hands these in (`platform::conventions`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conventions {
    /// Labels every workload and its pod template must carry, so cost can be allocated.
    pub cost_labels: Vec<String>,
    /// The annotation by which a workload names Secrets made outside the tree (by hand, by
    /// a chart), which the wave check then does not look for.
    pub manual_secrets_annotation: Option<String>,
    /// Which chart installs the CRDs of an API group: `(group, chart)`.
    pub crd_providers: Vec<(String, String)>,
    /// Kinds only the platform may deploy into a tenant's namespaces (its network, quota,
    /// RBAC and secret stores): a project confined to some namespaces may not permit them.
    pub platform_only_kinds: Vec<String>,
    /// Where each chart reads its containers' resources: `(chart, values paths)`.
    pub chart_resources: Vec<(String, Vec<String>)>,
    /// Secrets a chart's workload creates in its namespace when it runs:
    /// `(workload, Secret)`.
    pub secrets_created_by: Vec<(String, String)>,
}

/// A tree in the generator's layout, all of it: schema checks when `schemas` is given, and
/// the invariants.
pub fn validate(
    files: &BTreeMap<String, String>,
    schemas: Option<&mut Schemas<'_>>,
    conventions: &Conventions,
) -> Report {
    validate_within(files, schemas, conventions, "")
}

/// Like [`validate`], but reports only on the files whose path starts with `prefix` (an
/// environment's folder, one Application's manifests). The rest of the tree is context: an
/// invariant needs the whole environment (the namespace another wave creates, the project an
/// Application names), so it is checked whole and its findings outside `prefix` are dropped.
pub fn validate_within(
    files: &BTreeMap<String, String>,
    schemas: Option<&mut Schemas<'_>>,
    conventions: &Conventions,
    prefix: &str,
) -> Report {
    validate_vouched(
        files,
        schemas,
        conventions,
        prefix,
        &mut SchemaLedger::default(),
    )
    .report
}

/// A [`validate_within`] that checks against their schemas only the files `ledger` does not
/// vouch for (their contents passed under the same schemas and validator), and records in it
/// each file that passes now. The invariants are checked in full.
pub fn validate_vouched(
    files: &BTreeMap<String, String>,
    schemas: Option<&mut Schemas<'_>>,
    conventions: &Conventions,
    prefix: &str,
    ledger: &mut SchemaLedger,
) -> Vouched {
    let (tree, mut findings) = parse_tree(files);
    let mut vouched = 0;
    if let Some(schemas) = schemas {
        let in_scope: Vec<&RenderedObject> = tree
            .objects
            .iter()
            .filter(|o| o.file.starts_with(prefix))
            .collect();
        let fingerprints = tree::in_parallel(&in_scope, |object| {
            vouched::contents_fingerprint(&files[&object.file])
        });
        let mut to_check = Vec::new();
        let mut checked: BTreeMap<&str, [u8; 16]> = BTreeMap::new();
        for (object, fingerprint) in in_scope.into_iter().zip(fingerprints) {
            if ledger.vouches(&object.file, &fingerprint) {
                vouched += 1;
            } else {
                checked.insert(&object.file, fingerprint);
                to_check.push(object);
            }
        }
        let found = schemas.check_objects(to_check);
        for finding in &found {
            // A finding names the object's file (`<file>#<n>` only outside the layout).
            let file = finding.file.split('#').next().unwrap_or_default();
            for file in [finding.file.as_str(), file] {
                checked.remove(file);
                ledger.failed(file);
            }
        }
        for (file, fingerprint) in checked {
            ledger.passed(file, fingerprint);
        }
        findings.extend(found);
    }
    let (broken, mut warnings) = invariants::check(&tree, conventions);
    findings.extend(broken);
    findings.retain(|f| f.file.starts_with(prefix));
    warnings.retain(|f| f.file.starts_with(prefix));
    let checked = tree
        .objects
        .iter()
        .filter(|o| o.file.starts_with(prefix))
        .count();
    Vouched {
        report: Report::new(findings, checked).with_warnings(warnings),
        vouched,
    }
}

/// What [`validate_vouched`] found, and how many objects it did not check against their
/// schemas since the ledger vouched for their files.
#[derive(Debug)]
pub struct Vouched {
    pub report: Report,
    pub vouched: usize,
}

/// The invariants of a tree built in memory ([`RenderedTree::from_objects`]), as `render`
/// checks what it is about to write: nothing is parsed back.
pub fn check_built(tree: &RenderedTree, conventions: &Conventions) -> Report {
    check_built_with(tree, conventions, None)
}

/// [`check_built`], with the admission verdicts of earlier checks kept in `memo`.
pub fn check_built_with(
    tree: &RenderedTree,
    conventions: &Conventions,
    memo: Option<&AdmissionMemo>,
) -> Report {
    let (findings, warnings) = invariants::check_with(tree, conventions, memo);
    Report::new(findings, tree.objects.len()).with_warnings(warnings)
}

/// A tree in no particular layout: every object of every YAML document against its schema.
/// The invariants are not checked: they are about environments and Applications, which only
/// the generator's layout says.
pub fn validate_plain(files: &BTreeMap<String, String>, schemas: &mut Schemas<'_>) -> Report {
    let (tree, mut findings) = parse_plain(files);
    findings.extend(schemas.check_tree(&tree));
    Report::new(findings, tree.objects.len())
}
