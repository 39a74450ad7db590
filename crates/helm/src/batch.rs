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
    each_in_parallel(applications, |app| {
        helm.template(app, &charts.join(&app.chart), capabilities)
    })
}

/// `work` over every item, one thread per core, the results in the order of the items.
pub(crate) fn each_in_parallel<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len().max(1));
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
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
                    let Some(item) = items.get(index) else {
                        break;
                    };
                    let result = work(item);
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
