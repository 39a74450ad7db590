//! Custom resources as typed Rust structs that serialize like k8s-openapi's own types.

/// Declares a custom resource: a struct with `metadata` and a typed `spec`, an implementation
/// of k8s-openapi's [`Resource`](k8s_openapi::Resource) and [`Metadata`](k8s_openapi::Metadata),
/// and a `Serialize` that writes `apiVersion` and `kind` first, as Kubernetes objects read.
///
/// `crd:` says who installs the CRD. `application`: another Application of the platform,
/// possibly in the same sync, so every object of the type is written with
/// `argocd.argoproj.io/sync-options: SkipDryRunOnMissingResource=true` (without it, the first
/// sync's dry run fails on the unknown kind). `bootstrap`: present before any Application
/// syncs (Argo CD's own CRDs), so nothing is added.
#[macro_export]
macro_rules! custom_resource {
    (
        $(#[$meta:meta])*
        $name:ident, spec: $spec:ty,
        group: $group:literal, version: $version:literal, kind: $kind:literal, plural: $plural:literal,
        scope: $scope:ident, crd: $crd:ident
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            pub metadata: $crate::__private::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
            pub spec: $spec,
        }

        impl $crate::__private::k8s_openapi::Resource for $name {
            const API_VERSION: &'static str = concat!($group, "/", $version);
            const GROUP: &'static str = $group;
            const KIND: &'static str = $kind;
            const VERSION: &'static str = $version;
            const URL_PATH_SEGMENT: &'static str = $plural;
            type Scope = $crate::__private::k8s_openapi::$scope;
        }

        impl $crate::__private::k8s_openapi::Metadata for $name {
            type Ty = $crate::__private::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

            fn metadata(&self) -> &Self::Ty {
                &self.metadata
            }

            fn metadata_mut(&mut self) -> &mut Self::Ty {
                &mut self.metadata
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error>
            where
                S: $crate::__private::serde::Serializer,
            {
                use $crate::__private::k8s_openapi::Resource as _;
                use $crate::__private::serde::ser::SerializeStruct as _;
                let mut object = serializer.serialize_struct(stringify!($name), 4)?;
                object.serialize_field("apiVersion", Self::API_VERSION)?;
                object.serialize_field("kind", Self::KIND)?;
                if $crate::custom_resource!(@skips_dry_run $crd) {
                    let mut metadata = self.metadata.clone();
                    $crate::application::skip_dry_run_until_crd_exists(&mut metadata);
                    object.serialize_field("metadata", &metadata)?;
                } else {
                    object.serialize_field("metadata", &self.metadata)?;
                }
                object.serialize_field("spec", &self.spec)?;
                object.end()
            }
        }
    };
    (@skips_dry_run application) => { true };
    (@skips_dry_run bootstrap) => { false };
}
