//! A rendered Kubernetes object, detached from its Rust type, and its YAML form.

use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{Metadata, Resource};
use serde::Serialize;

/// What identifies an object in a cluster: group/version, kind, namespace and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// The API group; empty for the core group (`v1`).
    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map_or("", |(group, _)| group)
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.api_version, self.kind)?;
        match &self.namespace {
            Some(namespace) => write!(f, " {namespace}/{}", self.name),
            None => write!(f, " {}", self.name),
        }
    }
}

/// A typed object serialized once, kept as JSON for checks and written as YAML.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub id: ObjectRef,
    pub body: serde_json::Value,
}

impl Manifest {
    /// Serializes any k8s-openapi type, or any type declared with [`crate::custom_resource!`].
    ///
    /// # Panics
    /// When the object has no name: every object this generator builds is named, so an
    /// unnamed one is a bug in the component that built it, not bad input.
    pub fn new<T>(object: &T) -> Self
    where
        T: Resource + Metadata<Ty = ObjectMeta> + Serialize,
    {
        let metadata = object.metadata();
        let name = metadata
            .name
            .clone()
            .unwrap_or_else(|| panic!("a {} was built without metadata.name", T::KIND));
        let body = serde_json::to_value(object)
            .unwrap_or_else(|error| panic!("{} {name} does not serialize: {error}", T::KIND));
        Self {
            id: ObjectRef {
                api_version: T::API_VERSION.to_owned(),
                kind: T::KIND.to_owned(),
                namespace: metadata.namespace.clone(),
                name,
            },
            body,
        }
    }

    /// `<kind>-<name>.yaml`, lower case: stable, and unique within one Application.
    pub fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.id.kind.to_lowercase(), self.id.name)
    }

    pub fn to_yaml(&self) -> String {
        crate::yaml::to_string(&self.body)
    }
}

/// Serializes to YAML deterministically.
///
/// Struct fields keep their declared order and maps are `BTreeMap`s, so the same value always
/// gives the same bytes; nothing time- or machine-dependent is ever part of a value.
pub fn to_yaml<T: Serialize + ?Sized>(value: &T) -> String {
    serde_yaml::to_string(value).unwrap_or_else(|error| panic!("value does not serialize: {error}"))
}
