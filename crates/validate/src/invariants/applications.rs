//! Child Applications: a wave each, a path that holds files, the root's repository (one Argo CD
//! can clone), pinned charts.

use super::*;

impl<'a> Environment<'a> {
    pub(super) fn applications_are_ordered_and_sourced(&mut self) {
        let repo = self.root_repo();
        if repo.is_none()
            && let Some(first) = self.objects.first()
        {
            let file = format!("{}/bootstrap/root-app.yaml", self.name);
            self.findings.push(Finding::new(
                &file,
                "",
                "root-application",
                &Value::String(first.env.clone()),
                "the environment has no root Application, so nothing says which Git repository it lives in".to_owned(),
            ));
        }
        if let Some(url) = repo
            && let Err(message) = check_repo_url(url)
        {
            let root = self
                .objects
                .iter()
                .copied()
                .find(|o| o.is_application() && o.app.is_none());
            if let Some(root) = root {
                self.finding(
                    root,
                    "/spec/source/repoURL",
                    "repo-url",
                    &Value::String(url.to_owned()),
                    message,
                );
            }
        }
        let applications: Vec<&RenderedObject> = self.applications.values().copied().collect();
        for app in applications {
            let wave = &app.object["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"];
            if wave.as_str().and_then(|w| w.parse::<i64>().ok()).is_none() {
                self.finding(app, "/metadata/annotations/argocd.argoproj.io~1sync-wave", "sync-wave", wave, "a child Application needs an integer sync wave, or the root Application orders nothing".to_owned());
            }
            for (pointer, source) in app.sources() {
                if let Some(path) = source["path"].as_str() {
                    let folder = path.strip_prefix("rendered/").map(|p| format!("{p}/"));
                    let exists = folder
                        .as_ref()
                        .is_some_and(|folder| self.tree.has_file_under(folder));
                    if !exists {
                        self.finding(
                        app,
                        &format!("{pointer}/path"),
                        "app-path",
                        &source["path"],
                        format!(
                            "`{path}` holds no rendered file; Argo CD would sync nothing, or fail"
                        ),
                    );
                    }
                    if let (Some(expected), Some(actual)) = (repo, source["repoURL"].as_str())
                        && expected != actual
                    {
                        self.finding(app, &format!("{pointer}/repoURL"), "app-repo", &source["repoURL"], format!("the environment's manifests live in {expected}, the root Application's repository"));
                    }
                }
                if source["chart"].is_string() {
                    let version = source["targetRevision"].as_str().unwrap_or_default();
                    if check_published_version(version).is_err() {
                        self.finding(app, &format!("{pointer}/targetRevision"), "helm-pinned", &source["targetRevision"], "a Helm source must pin an exact chart version, or a new release changes the cluster without a commit".to_owned());
                    }
                }
            }
        }
    }
}
