//! Unity Catalog (REFERENCE.md §3) over the lakehouse directory: the [`UnityCatalog`]
//! backend the shared workspace server routes to. Catalogs, schemas, tables (with
//! columns, comments and Delta properties), table summaries, volumes and SQL functions.

use databricks_api::backend::{Answer, UnityCatalog, async_trait};
use databricks_api::catalog::{
    CatalogInfo, SchemaInfo, TableColumn, TableInfo, TableSummary, VolumeInfo,
};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::functions::{FunctionInfo, FunctionParameterInfo, FunctionParameterInfos};
use serde_json::json;

use super::Shared;
use crate::lakehouse::{Format, INFORMATION_SCHEMA, Lakehouse, SYSTEM, TableDetails};
use crate::types::{db_type, uc_type_text};

const METASTORE_ID: &str = "10ca1000-0000-4000-8000-00000000ca7a";

fn lake(sh: &Shared) -> &Lakehouse {
    &sh.engine.lake
}

/// While `samples.tpch` is generated, what lies inside the `samples` catalog is asked to
/// retry (503 + Retry-After) rather than reported missing: the first look at the sample
/// data from a fresh workspace simply waits.
fn samples_ready(sh: &Shared, catalog: &str) -> Result<(), ApiError> {
    match sh.samples.unavailable() {
        Some((true, message)) if catalog.eq_ignore_ascii_case("samples") => {
            Err(ApiError::new(ErrorCode::TemporarilyUnavailable, message))
        }
        _ => Ok(()),
    }
}

fn find_catalog(sh: &Shared, name: &str) -> Result<String, ApiError> {
    if let Some(c) = lake(sh).find_catalog(name) {
        return Ok(c);
    }
    // `samples` is being generated but its directory is not there yet: asked to retry,
    // not reported missing.
    samples_ready(sh, name)?;
    Err(ApiError::new(
        ErrorCode::CatalogDoesNotExist,
        format!("Catalog '{name}' does not exist."),
    ))
}

fn find_schema(sh: &Shared, c: &str, s: &str) -> Result<(String, String), ApiError> {
    let c = find_catalog(sh, c)?;
    samples_ready(sh, &c)?;
    let s = lake(sh).find_schema(&c, s).ok_or_else(|| {
        ApiError::new(
            ErrorCode::SchemaDoesNotExist,
            format!("Schema '{c}.{s}' does not exist."),
        )
    })?;
    Ok((c, s))
}

/// Who owns and last changed an object, and when (the directory's modification time).
struct Audit {
    owner: String,
    time: i64,
}

impl Audit {
    fn of(path: &std::path::Path) -> Audit {
        Audit {
            owner: crate::layout::user_name(),
            time: crate::layout::mtime_ms(path),
        }
    }
}

fn catalog_type(c: &str) -> String {
    if c == SYSTEM {
        "SYSTEM_CATALOG"
    } else {
        "MANAGED_CATALOG"
    }
    .to_string()
}

fn catalog_info(sh: &Shared, c: &str) -> CatalogInfo {
    let path = lake(sh).catalog_dir(c);
    let audit = Audit::of(&path);
    let storage = (c != SYSTEM).then(|| file_url(&path));
    CatalogInfo {
        name: c.to_string(),
        full_name: Some(c.to_string()),
        catalog_type: Some(catalog_type(c)),
        comment: lake(sh).catalog_comment(c),
        owner: Some(if c == SYSTEM {
            "System user".to_string()
        } else {
            audit.owner.clone()
        }),
        metastore_id: Some(METASTORE_ID.to_string()),
        created_at: Some(audit.time),
        created_by: Some(audit.owner.clone()),
        updated_at: Some(audit.time),
        updated_by: Some(audit.owner),
        properties: Some(serde_json::Map::new()),
        storage_root: storage.clone(),
        storage_location: storage,
        isolation_mode: Some("OPEN".to_string()),
        securable_type: Some("CATALOG".to_string()),
        ..CatalogInfo::default()
    }
}

fn schema_info(sh: &Shared, c: &str, s: &str) -> SchemaInfo {
    let path = lake(sh).schema_dir(c, s);
    let audit = Audit::of(&path);
    let storage = (s != INFORMATION_SCHEMA).then(|| file_url(&path));
    SchemaInfo {
        name: s.to_string(),
        catalog_name: c.to_string(),
        full_name: Some(format!("{c}.{s}")),
        catalog_type: Some(catalog_type(c)),
        owner: Some(audit.owner.clone()),
        metastore_id: Some(METASTORE_ID.to_string()),
        schema_id: Some(crate::lakehouse::uuid_from(&format!("{c}.{s}"))),
        created_at: Some(audit.time),
        created_by: Some(audit.owner.clone()),
        updated_at: Some(audit.time),
        updated_by: Some(audit.owner),
        properties: Some(serde_json::Map::new()),
        storage_root: storage.clone(),
        storage_location: storage,
        comment: lake(sh).schema_comment(c, s),
        ..SchemaInfo::default()
    }
}

fn file_url(p: &std::path::Path) -> String {
    url::Url::from_file_path(p)
        .map(|u| u.to_string())
        .unwrap_or_else(|()| format!("file://{}", p.display()))
}

fn columns(d: &TableDetails) -> Vec<TableColumn> {
    d.columns
        .iter()
        .zip(0_i64..)
        .map(|(c, position)| {
            let t = db_type(&c.data_type);
            let decimal = t.precision.zip(t.scale);
            TableColumn {
                name: c.name.clone(),
                type_text: Some(uc_type_text(&c.data_type)),
                type_name: Some(t.uc_type_name.to_string()),
                type_json: Some(c.type_json.to_string()),
                type_precision: decimal.map(|(p, _)| p),
                type_scale: decimal.map(|(_, s)| s),
                type_interval_type: t.interval.map(str::to_string),
                position: Some(position),
                nullable: Some(c.nullable),
                comment: c.comment.clone(),
                partition_index: d
                    .partition_columns
                    .iter()
                    .position(|p| p == &c.name)
                    .and_then(|p| i64::try_from(p).ok()),
                ..TableColumn::default()
            }
        })
        .collect()
}

fn table_info(d: &TableDetails) -> TableInfo {
    let owner = crate::layout::user_name();
    let managed = d.loc.format == Format::Delta;
    TableInfo {
        name: d.loc.name.clone(),
        catalog_name: d.loc.catalog.clone(),
        schema_name: d.loc.schema.clone(),
        full_name: Some(d.loc.full_name()),
        table_type: Some(if managed { "MANAGED" } else { "EXTERNAL" }.to_string()),
        data_source_format: Some(d.loc.format.name().to_string()),
        storage_location: Some(file_url(&d.loc.path)),
        owner: Some(owner.clone()),
        metastore_id: Some(METASTORE_ID.to_string()),
        table_id: Some(d.table_id.clone()),
        created_at: Some(d.created_at),
        created_by: Some(owner.clone()),
        updated_at: Some(d.updated_at),
        updated_by: Some(owner),
        columns: columns(d),
        properties: (!d.properties.is_empty()).then(|| {
            d.properties
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect()
        }),
        comment: d.comment.clone(),
        delta_runtime_properties_kvpairs: d.version.map(|version| {
            json!({
                "delta_runtime_properties": {
                    "delta.lastCommitTimestamp": d.updated_at.to_string(),
                    "delta.lastUpdateVersion": version.to_string(),
                }
            })
        }),
        ..TableInfo::default()
    }
}

/// A listed table that cannot be read: still listed, with the reason as its comment.
fn unreadable_table(c: &str, s: &str, t: &str, reason: &str) -> TableInfo {
    TableInfo {
        name: t.to_string(),
        catalog_name: c.to_string(),
        schema_name: s.to_string(),
        full_name: Some(format!("{c}.{s}.{t}")),
        table_type: Some("MANAGED".to_string()),
        owner: Some(crate::layout::user_name()),
        metastore_id: Some(METASTORE_ID.to_string()),
        comment: Some(format!(
            "This table cannot be read by the local workspace: {reason}"
        )),
        ..TableInfo::default()
    }
}

/// A view of `information_schema`.
fn information_schema_view(c: &str, s: &str, t: &str) -> TableInfo {
    TableInfo {
        name: t.to_string(),
        catalog_name: c.to_string(),
        schema_name: s.to_string(),
        full_name: Some(format!("{c}.{s}.{t}")),
        table_type: Some("VIEW".to_string()),
        owner: Some("System user".to_string()),
        metastore_id: Some(METASTORE_ID.to_string()),
        ..TableInfo::default()
    }
}

async fn tables(sh: &Shared, c: &str, s: &str) -> Result<Vec<TableInfo>, ApiError> {
    let (c, s) = find_schema(sh, c, s)?;
    if s == INFORMATION_SCHEMA {
        return Ok(crate::info_schema::VIEWS
            .iter()
            .map(|v| information_schema_view(&c, &s, v))
            .collect());
    }
    let mut out = Vec::new();
    for t in lake(sh).tables(&c, &s) {
        let info = match lake(sh).locate(&c, &s, &t) {
            Ok(loc) => match lake(sh).details(&loc).await {
                Ok(d) => table_info(&d),
                Err(e) => unreadable_table(&c, &s, &t, &e.message),
            },
            Err(e) => unreadable_table(&c, &s, &t, &e.message),
        };
        out.push(info);
    }
    Ok(out)
}

async fn table(sh: &Shared, c: &str, s: &str, t: &str) -> Result<TableInfo, ApiError> {
    let (c, s) = find_schema(sh, c, s)?;
    let loc = match lake(sh).locate(&c, &s, t) {
        Ok(loc) => loc,
        Err(e) if e.class == "TABLE_OR_VIEW_NOT_FOUND" => {
            return Err(ApiError::new(
                ErrorCode::TableDoesNotExist,
                format!("Table '{c}.{s}.{t}' does not exist."),
            ));
        }
        Err(e) => {
            return Err(ApiError::new(
                ErrorCode::InvalidState,
                e.databricks_message(),
            ));
        }
    };
    match lake(sh).details(&loc).await {
        Ok(d) => Ok(table_info(&d)),
        Err(e) => Err(ApiError::new(
            ErrorCode::InvalidState,
            e.databricks_message(),
        )),
    }
}

fn table_summaries(sh: &Shared, c: &str) -> Result<Vec<TableSummary>, ApiError> {
    let c = find_catalog(sh, c)?;
    samples_ready(sh, &c)?;
    let mut all = Vec::new();
    for s in lake(sh).schemas(&c) {
        if s == INFORMATION_SCHEMA {
            continue;
        }
        for t in lake(sh).tables(&c, &s) {
            all.push(TableSummary {
                full_name: Some(format!("{c}.{s}.{t}")),
                table_type: Some("MANAGED".to_string()),
                ..TableSummary::default()
            });
        }
    }
    Ok(all)
}

fn volume_info(sh: &Shared, c: &str, s: &str, name: &str) -> VolumeInfo {
    let path = sh.layout.volumes().join(c).join(s).join(name);
    let audit = Audit::of(&path);
    VolumeInfo {
        name: name.to_string(),
        catalog_name: c.to_string(),
        schema_name: s.to_string(),
        full_name: Some(format!("{c}.{s}.{name}")),
        volume_type: Some("MANAGED".to_string()),
        volume_id: Some(crate::lakehouse::uuid_from(&format!(
            "volume:{c}.{s}.{name}"
        ))),
        storage_location: Some(file_url(&path)),
        owner: Some(audit.owner.clone()),
        metastore_id: Some(METASTORE_ID.to_string()),
        created_at: Some(audit.time),
        created_by: Some(audit.owner.clone()),
        updated_at: Some(audit.time),
        updated_by: Some(audit.owner),
        ..VolumeInfo::default()
    }
}

fn volume(sh: &Shared, c: &str, s: &str, v: &str) -> Result<VolumeInfo, ApiError> {
    let (c, s) = find_schema(sh, c, s)?;
    let name =
        crate::layout::find_dir(&sh.layout.volumes().join(&c).join(&s), v).ok_or_else(|| {
            ApiError::new(
                ErrorCode::ResourceDoesNotExist,
                format!("Volume '{c}.{s}.{v}' does not exist."),
            )
        })?;
    Ok(volume_info(sh, &c, &s, &name))
}

fn function_info(f: &crate::sqlfn::SqlFunction) -> FunctionInfo {
    let audit = Audit::of(&f.path);
    let full = format!("{}.{}.{}", f.catalog, f.schema, f.name);
    let parameters = f
        .def
        .parameters
        .iter()
        .zip(0_i64..)
        .map(|(p, position)| {
            let type_text = p.type_.to_ascii_lowercase();
            FunctionParameterInfo {
                name: p.name.clone(),
                type_name: Some(crate::sqlfn::type_name(&p.type_).to_string()),
                type_json: Some(
                    json!({"name": p.name, "type": type_text, "nullable": true, "metadata": {}})
                        .to_string(),
                ),
                type_text: Some(type_text),
                position: Some(position),
                parameter_mode: Some("IN".to_string()),
                parameter_type: Some("PARAM".to_string()),
                comment: p.comment.clone(),
                ..FunctionParameterInfo::default()
            }
        })
        .collect();
    FunctionInfo {
        name: f.name.clone(),
        catalog_name: f.catalog.clone(),
        schema_name: f.schema.clone(),
        function_id: Some(crate::lakehouse::uuid_from(&format!("function:{full}"))),
        full_name: Some(full),
        owner: Some(audit.owner.clone()),
        metastore_id: Some(METASTORE_ID.to_string()),
        data_type: Some(crate::sqlfn::type_name(&f.def.returns).to_string()),
        full_data_type: Some(f.def.returns.to_ascii_lowercase()),
        input_params: Some(FunctionParameterInfos { parameters }),
        routine_body: Some("SQL".to_string()),
        routine_definition: Some(f.def.body.clone()),
        parameter_style: Some("S".to_string()),
        is_deterministic: Some(true),
        is_null_call: Some(false),
        sql_data_access: Some("CONTAINS_SQL".to_string()),
        security_type: Some("DEFINER".to_string()),
        specific_name: Some(f.name.clone()),
        comment: f.def.comment.clone(),
        created_at: Some(audit.time),
        created_by: Some(audit.owner.clone()),
        updated_at: Some(audit.time),
        updated_by: Some(audit.owner),
        ..FunctionInfo::default()
    }
}

fn functions(sh: &Shared, c: &str, s: &str) -> Result<Vec<FunctionInfo>, ApiError> {
    let (c, s) = find_schema(sh, c, s)?;
    let mut all = crate::sqlfn::list(lake(sh), &c, &s);
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all.iter().map(function_info).collect())
}

fn function(sh: &Shared, c: &str, s: &str, name: &str) -> Result<FunctionInfo, ApiError> {
    let (c, s) = find_schema(sh, c, s)?;
    crate::sqlfn::list(lake(sh), &c, &s)
        .into_iter()
        .find(|f| f.name.eq_ignore_ascii_case(name))
        .map(|f| function_info(&f))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::FunctionDoesNotExist,
                format!("Routine or Model '{c}.{s}.{name}' does not exist."),
            )
        })
}

#[async_trait]
impl UnityCatalog for Shared {
    async fn catalogs(&self) -> Answer<Vec<CatalogInfo>> {
        Ok(lake(self)
            .catalogs()
            .iter()
            .map(|c| catalog_info(self, c))
            .collect())
    }

    async fn catalog(&self, name: &str) -> Answer<CatalogInfo> {
        Ok(catalog_info(self, &find_catalog(self, name)?))
    }

    async fn schemas(&self, catalog: &str) -> Answer<Vec<SchemaInfo>> {
        let c = find_catalog(self, catalog)?;
        samples_ready(self, &c)?;
        Ok(lake(self)
            .schemas(&c)
            .iter()
            .map(|s| schema_info(self, &c, s))
            .collect())
    }

    async fn schema(&self, catalog: &str, schema: &str) -> Answer<SchemaInfo> {
        let (c, s) = find_schema(self, catalog, schema)?;
        Ok(schema_info(self, &c, &s))
    }

    async fn tables(&self, catalog: &str, schema: &str) -> Answer<Vec<TableInfo>> {
        tables(self, catalog, schema).await
    }

    async fn table(&self, catalog: &str, schema: &str, name: &str) -> Answer<TableInfo> {
        table(self, catalog, schema, name).await
    }

    async fn volumes(&self, catalog: &str, schema: &str) -> Answer<Vec<VolumeInfo>> {
        let (c, s) = find_schema(self, catalog, schema)?;
        Ok(
            crate::layout::subdirs(&self.layout.volumes().join(&c).join(&s))
                .iter()
                .map(|v| volume_info(self, &c, &s, v))
                .collect(),
        )
    }

    async fn volume(&self, catalog: &str, schema: &str, name: &str) -> Answer<VolumeInfo> {
        volume(self, catalog, schema, name)
    }

    async fn functions(&self, catalog: &str, schema: &str) -> Answer<Vec<FunctionInfo>> {
        functions(self, catalog, schema)
    }

    async fn function(&self, catalog: &str, schema: &str, name: &str) -> Answer<FunctionInfo> {
        function(self, catalog, schema, name)
    }

    async fn table_summaries(&self, catalog: &str) -> Answer<Vec<TableSummary>> {
        table_summaries(self, catalog)
    }
}
