//! Grafana's dashboard JSON model, as far as the platform's dashboards use it: panels of
//! Prometheus queries, each naming its datasource by uid so that provisioning binds it to
//! the provisioned Prometheus whatever its display name.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub uid: String,
    pub title: String,
    pub tags: Vec<String>,
    /// Provisioned from Git: edits in the UI would be lost at the next sync.
    pub editable: bool,
    pub schema_version: u32,
    pub time: TimeRange,
    pub refresh: String,
    pub panels: Vec<Panel>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimeRange {
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Panel {
    pub id: u32,
    #[serde(rename = "type")]
    pub kind: PanelKind,
    pub title: String,
    pub description: String,
    pub grid_pos: GridPos,
    pub datasource: DatasourceRef,
    pub targets: Vec<Target>,
    pub field_config: FieldConfig,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PanelKind {
    Stat,
    Timeseries,
    Bargauge,
    Table,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct GridPos {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DatasourceRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub uid: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub ref_id: String,
    pub datasource: DatasourceRef,
    /// PromQL; Grafana's `$__range` and `$__rate_interval` are the only variables used.
    pub expr: String,
    pub legend_format: String,
    /// One value per series at the end of the range, rather than a range query.
    pub instant: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldConfig {
    pub defaults: FieldDefaults,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldDefaults {
    pub unit: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<ValueMapping>,
}

/// Shows a value as text (`0` as `sealed`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ValueMapping {
    #[serde(rename = "type")]
    pub kind: String,
    pub options: std::collections::BTreeMap<String, MappingResult>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MappingResult {
    pub text: String,
    pub color: String,
}
