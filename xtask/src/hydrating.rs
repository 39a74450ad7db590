//! The real Helm over the vendored charts, for the environments that hydrate them
//! (`argocd.hydrate`): found only when one does, so that the others render without Helm.

use std::path::{Path, PathBuf};

use platform::LoadedEnvironment;
use platform_checkout::Checkout;
use platform_helm::{Helm, VendoredCharts};

use crate::Failure;

/// The charts of `schemas/charts/`, templated by the Helm of `$HELM` or `PATH`, with Helm's
/// output cached beside the build; `None` when no environment of `loaded` hydrates. A missing
/// Helm is one line naming the environments that need it.
pub fn charts(
    checkout: &Checkout,
    loaded: &[LoadedEnvironment],
) -> Result<Option<VendoredCharts>, Failure> {
    let hydrating: Vec<&str> = loaded
        .iter()
        .filter(|environment| environment.env.argocd.hydrate)
        .map(|environment| environment.name.as_str())
        .collect();
    if hydrating.is_empty() {
        return Ok(None);
    }
    let helm = Helm::locate().map_err(|missing| {
        let who = match hydrating.as_slice() {
            [one] => format!("{one} hydrates its"),
            many => format!("{} hydrate their", many.join(", ")),
        };
        Failure::Usage(format!(
            "{who} charts (argocd.hydrate), which needs Helm: {missing}"
        ))
    })?;
    let charts = VendoredCharts::new(helm, &checkout.schemas_dir(None)).map_err(Failure::Io)?;
    Ok(Some(match platform_helm::cache_beside_this_build() {
        Some(dir) => charts.cached_in(dir),
        None => charts,
    }))
}

/// What the charts' templating depends on beyond the environment files, for the render
/// ledger: every file of `schemas/` (the charts and the capabilities read from the CRD
/// schemas) and the Helm that would run, each by path, size and modification time. A
/// checkout without `schemas/` (one that hydrates nothing) is fingerprinted as such.
pub fn fingerprint(checkout: &Checkout, hasher: &mut impl std::hash::Hasher) -> Option<()> {
    use std::hash::Hash;
    let schemas = checkout.schemas_dir(None);
    match std::fs::symlink_metadata(&schemas) {
        Ok(_) => stamp_tree(&schemas, hasher).ok()?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "no schemas/".hash(hasher),
        Err(_) => return None,
    }
    let program = std::env::var_os("HELM")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| on_path("helm"));
    program.hash(hasher);
    if let Some(metadata) = program.and_then(|p| std::fs::metadata(p).ok()) {
        metadata.len().hash(hasher);
        metadata.modified().ok()?.hash(hasher);
    }
    Some(())
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

pub(crate) fn stamp_tree(
    folder: &Path,
    hasher: &mut impl std::hash::Hasher,
) -> std::io::Result<()> {
    use std::hash::Hash;
    let mut entries: Vec<_> = std::fs::read_dir(folder)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let metadata = entry.metadata()?;
        entry.file_name().hash(hasher);
        if metadata.is_dir() {
            stamp_tree(&entry.path(), hasher)?;
        } else {
            metadata.len().hash(hasher);
            metadata.modified()?.hash(hasher);
        }
    }
    Ok(())
}
