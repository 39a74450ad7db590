//! Reading trees and schema files.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Upstream schemas read from a folder laid out like `schemas/`.
#[derive(Clone, Debug)]
pub struct SchemaFolder(pub PathBuf);

impl SchemaFolder {
    /// Whether the folder holds schemas at all, so a wrong path fails before validation
    /// reports every object as having no schema.
    pub fn looks_complete(&self) -> bool {
        self.0.join("kubernetes").is_dir() && self.0.join("crds").is_dir()
    }
}

impl platform_validate::SchemaSource for SchemaFolder {
    fn read(&self, relative: &str) -> Result<Option<String>, String> {
        let path = self.0.join(relative);
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(format!("reading {}: {error}", path.display())),
        }
    }
}

/// Every file below `dir`, keyed by its path relative to `dir` with `/` separators. Hidden
/// entries (a leading `.`: the writer's temporary files, `.git`) are not part of a tree.
pub fn read_tree(dir: &Path) -> io::Result<BTreeMap<String, String>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                let key = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let text = fs::read_to_string(&path)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
                files.insert(key, text);
            }
        }
    }
    Ok(files)
}
