//! The vendored charts (`schemas/charts/<chart>/`) as one Helm templates them for the
//! platform's clusters, with an optional cache of Helm's output: a chart is templated again
//! only when something its output depends on changed.

use std::collections::BTreeMap;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};

use crate::batch::each_in_parallel;
use crate::binary::Helm;
use crate::output::Templated;
use crate::release::{Capabilities, HelmApplication, TemplateError, parse_output};

/// One Helm over the charts of one `schemas/` folder, for the platform's clusters.
#[derive(Clone, Debug)]
pub struct VendoredCharts {
    helm: Helm,
    charts: PathBuf,
    capabilities: Capabilities,
    cache: Option<PathBuf>,
}

impl VendoredCharts {
    /// The charts of `schemas/charts/`, for the clusters `schemas/` describes.
    pub fn new(helm: Helm, schemas: &Path) -> Result<Self, String> {
        Ok(Self {
            capabilities: Capabilities::of_platform(schemas)?,
            charts: schemas.join("charts"),
            helm,
            cache: None,
        })
    }

    /// Keeps Helm's output for each Application under `dir` (`<env>/<app>/<key>.yaml`, one
    /// entry per Application), and reuses it while its key holds: the Helm version, the
    /// capabilities, every file of the chart's folder, and the Application's release name,
    /// namespace and values. A cache that cannot be read or written is only not used.
    #[must_use]
    pub fn cached_in(mut self, dir: PathBuf) -> Self {
        self.cache = Some(dir);
        self
    }

    pub fn helm(&self) -> &Helm {
        &self.helm
    }

    /// Every Application templated, in the order given, one Helm per core; from the cache
    /// where its key holds.
    pub fn template_all(
        &self,
        applications: &[HelmApplication],
    ) -> Vec<Result<Templated, TemplateError>> {
        let charts = self
            .cache
            .as_ref()
            .map(|_| self.chart_contents(applications));
        each_in_parallel(applications, |app| {
            let chart_dir = self.charts.join(&app.chart);
            let Some((cache, contents)) = self.cache.as_ref().zip(charts.as_ref()) else {
                return self.helm.template(app, &chart_dir, &self.capabilities);
            };
            let entry = Entry::new(cache, app, self.key(app, contents.get(&app.chart)));
            if let Some(stdout) = entry.read()
                && let Ok(templated) = parse_output(app, &stdout)
            {
                return Ok(templated);
            }
            let stdout = self
                .helm
                .template_text(app, &chart_dir, &self.capabilities)?;
            let templated = parse_output(app, &stdout)?;
            entry.write(&stdout);
            Ok(templated)
        })
    }

    /// A hash of every file of each chart the Applications use, by path and contents; a
    /// chart folder that cannot be read has none, and is never taken from the cache.
    fn chart_contents(&self, applications: &[HelmApplication]) -> BTreeMap<String, u64> {
        let mut contents = BTreeMap::new();
        for app in applications {
            if !contents.contains_key(&app.chart)
                && let Ok(hash) = folder_hash(&self.charts.join(&app.chart))
            {
                contents.insert(app.chart.clone(), hash);
            }
        }
        contents
    }

    /// What Helm's output for `app` depends on; `None` when a part of it is unknown.
    fn key(&self, app: &HelmApplication, chart: Option<&u64>) -> Option<u64> {
        let mut hasher = std::hash::DefaultHasher::new();
        self.helm.version.hash(&mut hasher);
        self.capabilities.kube_version.hash(&mut hasher);
        self.capabilities.api_versions.hash(&mut hasher);
        chart?.hash(&mut hasher);
        app.chart.hash(&mut hasher);
        app.version.hash(&mut hasher);
        app.release_name.hash(&mut hasher);
        app.namespace.hash(&mut hasher);
        serde_json::to_string(&app.values).ok()?.hash(&mut hasher);
        Some(hasher.finish())
    }
}

/// `<target>/chart-cache/`, in the Cargo target folder this executable was built in (the
/// nearest folder above it that Cargo tagged with `CACHEDIR.TAG`): local to the checkout's
/// build, and removed by `cargo clean`. `None` for an executable outside a target folder.
pub fn cache_beside_this_build() -> Option<PathBuf> {
    let executable = std::env::current_exe().ok()?;
    executable
        .ancestors()
        .skip(1)
        .find(|folder| folder.join("CACHEDIR.TAG").is_file())
        .map(|target| target.join("chart-cache"))
}

/// One Application's place in the cache.
struct Entry {
    folder: PathBuf,
    key: Option<u64>,
}

impl Entry {
    fn new(cache: &Path, app: &HelmApplication, key: Option<u64>) -> Self {
        Self {
            folder: cache.join(&app.environment).join(&app.name),
            key,
        }
    }

    fn file(&self) -> Option<PathBuf> {
        Some(self.folder.join(format!("{:016x}.yaml", self.key?)))
    }

    fn read(&self) -> Option<String> {
        fs::read_to_string(self.file()?).ok()
    }

    /// Replaces the Application's entry: written aside and renamed, so that a render running
    /// at the same time reads a whole entry or none.
    fn write(&self, stdout: &str) {
        let Some(file) = self.file() else { return };
        let aside = self.folder.join(format!(".{}.tmp", std::process::id()));
        if fs::create_dir_all(&self.folder)
            .and_then(|()| fs::write(&aside, stdout))
            .is_err()
        {
            return;
        }
        if let Ok(previous) = fs::read_dir(&self.folder) {
            for stale in previous.flatten() {
                if stale.path().extension().is_some_and(|e| e == "yaml") {
                    let _ = fs::remove_file(stale.path());
                }
            }
        }
        let _ = fs::rename(&aside, &file);
    }
}

/// A hash of every file below `folder`, by relative path and contents, in path order.
fn folder_hash(folder: &Path) -> io::Result<u64> {
    let mut files = Vec::new();
    collect_files(folder, folder, &mut files)?;
    files.sort();
    let mut hasher = std::hash::DefaultHasher::new();
    for relative in files {
        relative.hash(&mut hasher);
        fs::read(folder.join(&relative))?.hash(&mut hasher);
    }
    Ok(hasher.finish())
}

fn collect_files(root: &Path, folder: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(folder)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_files(root, &path, files)?;
        } else {
            files.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("helm-vendored-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_folders_hash_follows_every_file_and_its_path() {
        let dir = scratch("hash");
        fs::create_dir_all(dir.join("templates")).unwrap();
        fs::write(dir.join("Chart.yaml"), "version: 1.0.0\n").unwrap();
        fs::write(dir.join("templates/a.yaml"), "kind: A\n").unwrap();
        let first = folder_hash(&dir).unwrap();
        assert_eq!(folder_hash(&dir).unwrap(), first);
        fs::write(dir.join("templates/a.yaml"), "kind: B\n").unwrap();
        let edited = folder_hash(&dir).unwrap();
        assert_ne!(edited, first);
        fs::rename(dir.join("templates/a.yaml"), dir.join("templates/b.yaml")).unwrap();
        assert_ne!(folder_hash(&dir).unwrap(), edited);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_applications_entry_is_replaced_not_accumulated() {
        let cache = scratch("entry");
        let app = HelmApplication {
            environment: "prod".into(),
            name: "prod-vault".into(),
            repo_url: String::new(),
            chart: "vault".into(),
            version: "0.32.0".into(),
            release_name: "vault".into(),
            namespace: "vault".into(),
            values: serde_json::Value::Null,
        };
        let old = Entry::new(&cache, &app, Some(1));
        old.write("old\n");
        assert_eq!(old.read().as_deref(), Some("old\n"));
        let new = Entry::new(&cache, &app, Some(2));
        assert_eq!(new.read(), None);
        new.write("new\n");
        assert_eq!(new.read().as_deref(), Some("new\n"));
        assert_eq!(old.read(), None, "the stale entry is removed");
        assert_eq!(
            fs::read_dir(cache.join("prod/prod-vault")).unwrap().count(),
            1
        );
        // An unknown key is never read nor written.
        let unknown = Entry::new(&cache, &app, None);
        unknown.write("never\n");
        assert_eq!(unknown.read(), None);
        assert_eq!(new.read().as_deref(), Some("new\n"));
        fs::remove_dir_all(&cache).unwrap();
    }
}
