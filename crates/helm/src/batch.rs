//! Templating many Applications at once: each `helm template` is a process of its own, so
//! they run side by side, one per core.

use std::path::Path;
use std::sync::Mutex;

use crate::binary::Helm;
use crate::output::Templated;
use crate::release::{Capabilities, HelmApplication, TemplateError};

/// Every Application templated from `charts/<chart>/`, in the order given.
pub fn template_all(
    helm: &Helm,
    applications: &[HelmApplication],
    charts: &Path,
    capabilities: &Capabilities,
) -> Vec<Result<Templated, TemplateError>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(applications.len().max(1));
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Result<Templated, TemplateError>>>> =
        Mutex::new(vec![None; applications.len()]);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().expect("no worker panics holding it");
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some(app) = applications.get(index) else {
                        break;
                    };
                    let result = helm.template(app, &charts.join(&app.chart), capabilities);
                    results.lock().expect("no worker panics holding it")[index] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("no worker panicked")
        .into_iter()
        .map(|result| result.expect("every index was taken"))
        .collect()
}
