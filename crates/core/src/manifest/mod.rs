//! A rendered Kubernetes object, kept typed, and its YAML form.

mod head;

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

/// A Kubernetes object as a component built it: typed, written as YAML straight from its type,
/// and turned into JSON only by whoever reads it so (the invariants, for some kinds), and only
/// as much of it as they read.
#[derive(Debug)]
pub struct Manifest {
    pub id: ObjectRef,
    object: Box<dyn Object>,
}

impl Manifest {
    /// Takes any k8s-openapi type, or any type declared with [`crate::custom_resource!`].
    ///
    /// # Panics
    /// When the object has no name: every object this generator builds is named, so an
    /// unnamed one is a bug in the component that built it, not bad input.
    pub fn new<T: Object + Resource + Metadata<Ty = ObjectMeta>>(object: T) -> Self {
        let metadata = object.metadata();
        let name = metadata
            .name
            .clone()
            .unwrap_or_else(|| panic!("a {} was built without metadata.name", T::KIND));
        Self {
            id: ObjectRef {
                api_version: T::API_VERSION.to_owned(),
                kind: T::KIND.to_owned(),
                namespace: metadata.namespace.clone(),
                name,
            },
            object: Box::new(object),
        }
    }

    /// An object this generator did not build (a chart's, as Helm rendered it), kept as the
    /// JSON Kubernetes reads from its YAML: written back as it is, never changed.
    ///
    /// # Errors
    /// When it has no `apiVersion`, `kind` or `metadata.name`.
    pub fn foreign(object: serde_json::Value) -> Result<Self, String> {
        let field = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("an object without {pointer}"))
        };
        let id = ObjectRef {
            api_version: field("/apiVersion")?,
            kind: field("/kind")?,
            namespace: field("/metadata/namespace").ok(),
            name: field("/metadata/name")?,
        };
        Ok(Self {
            id,
            object: Box::new(object),
        })
    }

    /// `<kind>-<name>.yaml`, lower case: stable, and unique within one Application. A `:`
    /// (RBAC names such as `kyverno:admission-controller`) is written `_`, which no
    /// Kubernetes name holds, so that the file checks out on every file system.
    pub fn file_name(&self) -> String {
        format!(
            "{}-{}.yaml",
            self.id.kind.to_lowercase(),
            self.id.name.replace(':', "_")
        )
    }

    /// The YAML document, as serde_yaml writes the object's JSON form.
    pub fn to_yaml(&self) -> String {
        self.object.to_yaml()
    }

    /// The whole object as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        self.object.to_json()
    }

    /// Only `apiVersion`, `kind` and `metadata`, as JSON, as the object serializes them (a
    /// custom resource adds to its metadata as it serializes): the rest is never converted.
    pub fn head(&self) -> serde_json::Value {
        self.object.head()
    }

    /// Writes what identifies the object's YAML to `out`, without building anything: its
    /// type's name and its JSON form, every field it serializes. What a fingerprint of the
    /// object reads: objects that write the same bytes serialize to the same YAML.
    pub fn identify(&self, out: &mut dyn std::io::Write) {
        self.object.identify(out);
    }

    /// The typed object, if it is a `T`.
    pub fn get<T: 'static>(&self) -> Option<&T> {
        self.object.as_any().downcast_ref()
    }
}

impl Clone for Manifest {
    fn clone(&self) -> Self {
        Self {
            id: self.id.clone(),
            object: self.object.clone_box(),
        }
    }
}

impl PartialEq for Manifest {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.object.same(other.object.as_any())
    }
}

/// What a manifest needs of its object's type, for every type a component builds objects of.
pub trait Object: fmt::Debug + Send + Sync + 'static {
    fn to_yaml(&self) -> String;
    fn to_json(&self) -> serde_json::Value;
    fn head(&self) -> serde_json::Value;
    fn identify(&self, out: &mut dyn std::io::Write);
    fn as_any(&self) -> &dyn std::any::Any;
    fn clone_box(&self) -> Box<dyn Object>;
    fn same(&self, other: &dyn std::any::Any) -> bool;
}

impl<T> Object for T
where
    T: Serialize + Clone + PartialEq + fmt::Debug + Send + Sync + 'static,
{
    fn to_yaml(&self) -> String {
        crate::yaml::serialize(self)
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self)
            .unwrap_or_else(|error| panic!("an object does not serialize: {error}"))
    }

    fn head(&self) -> serde_json::Value {
        head::of(self).unwrap_or_else(|| self.to_json())
    }

    fn identify(&self, out: &mut dyn std::io::Write) {
        let written = out
            .write_all(std::any::type_name::<T>().as_bytes())
            .map_err(serde_json::Error::io)
            .and_then(|()| serde_json::to_writer(out, self));
        written.unwrap_or_else(|error| panic!("an object does not serialize: {error}"));
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn clone_box(&self) -> Box<dyn Object> {
        Box::new(self.clone())
    }

    fn same(&self, other: &dyn std::any::Any) -> bool {
        other.downcast_ref::<T>() == Some(self)
    }
}

/// Serializes to YAML deterministically.
///
/// Struct fields keep their declared order and maps are `BTreeMap`s, so the same value always
/// gives the same bytes; nothing time- or machine-dependent is ever part of a value.
pub fn to_yaml<T: Serialize + ?Sized>(value: &T) -> String {
    serde_yaml::to_string(value).unwrap_or_else(|error| panic!("value does not serialize: {error}"))
}
