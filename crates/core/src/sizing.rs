//! Requests and limits of the platform's own containers, by size, and where a chart reads
//! them: every container the platform runs has both, so its cost is known and predictable.

use serde::Serialize;
use serde_json::Value;

/// How much a container asks for (requests) and may use (limits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// A sidecar that reloads configuration, a hook that runs once.
    Tiny,
    /// A controller or webhook with a small cache.
    Small,
    /// A controller watching many objects, a UI with an API behind it.
    Medium,
    /// A component holding the cluster's state in memory (Argo CD's controller, Vault).
    Large,
    /// Prometheus's server: every series of the retention window.
    XLarge,
}

/// CPU in millicores and memory in MiB, requests then limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amounts {
    pub requests: (u32, u32),
    pub limits: (u32, u32),
}

impl Size {
    pub const fn amounts(self) -> Amounts {
        match self {
            Size::Tiny => Amounts {
                requests: (10, 32),
                limits: (100, 64),
            },
            Size::Small => Amounts {
                requests: (50, 64),
                limits: (250, 256),
            },
            Size::Medium => Amounts {
                requests: (100, 256),
                limits: (500, 512),
            },
            Size::Large => Amounts {
                requests: (250, 512),
                limits: (1000, 1024),
            },
            Size::XLarge => Amounts {
                requests: (500, 1024),
                limits: (2000, 2048),
            },
        }
    }

    /// The `resources` block of a container of this size.
    pub fn resources(self) -> ContainerResources {
        let amounts = self.amounts();
        let list = |(cpu, memory): (u32, u32)| ResourceList {
            cpu: format!("{cpu}m"),
            memory: format!("{memory}Mi"),
        };
        ContainerResources {
            requests: list(amounts.requests),
            limits: list(amounts.limits),
        }
    }
}

/// A container's `resources`, as Kubernetes and every chart take it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContainerResources {
    pub requests: ResourceList,
    pub limits: ResourceList,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResourceList {
    pub cpu: String,
    pub memory: String,
}

/// The value at a dotted path of Helm values (`server.ha.replicas`).
pub fn value_at<'v>(values: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .try_fold(values, |value, key| value.get(key))
}

/// Sets the value at a dotted path, creating the maps on the way; `false` when a value on the
/// way is not a map.
pub fn set_at(values: &mut Value, path: &str, value: Value) -> bool {
    let mut current = values;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        let Some(map) = current.as_object_mut() else {
            return false;
        };
        if keys.peek().is_none() {
            map.insert(key.to_owned(), value);
            return true;
        }
        current = map
            .entry(key.to_owned())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_size_limits_at_or_above_its_requests() {
        for size in [
            Size::Tiny,
            Size::Small,
            Size::Medium,
            Size::Large,
            Size::XLarge,
        ] {
            let amounts = size.amounts();
            assert!(
                amounts.limits.0 >= amounts.requests.0 && amounts.limits.1 >= amounts.requests.1,
                "{size:?}"
            );
        }
        assert_eq!(
            serde_json::to_value(Size::Small.resources()).unwrap(),
            json!({"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "250m", "memory": "256Mi"}})
        );
    }

    #[test]
    fn dotted_paths_read_and_create() {
        let mut values = json!({"server": {"ha": {"replicas": 3}}});
        assert_eq!(value_at(&values, "server.ha.replicas"), Some(&json!(3)));
        assert!(set_at(
            &mut values,
            "server.resources.requests",
            json!({"cpu": "1"})
        ));
        assert_eq!(values["server"]["resources"]["requests"]["cpu"], "1");
        assert!(!set_at(&mut values, "server.ha.replicas.x", json!(1)));
    }
}
