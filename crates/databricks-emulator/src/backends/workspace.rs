//! Workspace API 2.0 (REFERENCE §7), the fixture backend: a small in-memory tree seeded
//! with Alice's and Bob's objects (Bob's from `workspace_list.json` and
//! `workspace_export.json`) that imports, mkdirs and deletes change. The protocol is
//! `workspace-server`'s.

use std::collections::BTreeMap;
use std::sync::Mutex;

use base64::Engine as _;
use databricks_api::backend::{Answer, WorkspaceObjects, WorkspaceWrite, async_trait};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::workspace::{Language, ListResponse, ObjectInfo};

use crate::fixtures::{fixture_as, fixture_json};
use crate::util::{lock, now_ms};

struct Object {
    info: ObjectInfo,
    content: Vec<u8>,
}

struct Tree {
    objects: BTreeMap<String, Object>,
    next_id: i64,
}

/// The workspace tree behind the shared Workspace API.
pub(crate) struct FixtureWorkspace {
    tree: Mutex<Tree>,
}

fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

fn missing(path: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceDoesNotExist,
        format!("Path ({path}) doesn't exist."),
    )
}

/// Seeded objects' times: created 2023-11-14, modified 2024-02-27.
const SEEDED: Option<(i64, i64)> = Some((1_700_000_000_000, 1_709_000_000_000));

impl Tree {
    fn fresh_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Stores a `kind` object at `path`, created and modified at `times` (directories have
    /// none). An overwrite keeps the object's id, as the workspace does.
    fn put(
        &mut self,
        path: &str,
        (kind, language): (&str, Option<Language>),
        content: Vec<u8>,
        times: Option<(i64, i64)>,
    ) {
        let id = match self.objects.get(path).and_then(|o| o.info.object_id) {
            Some(id) => id,
            None => self.fresh_id(),
        };
        let info = ObjectInfo {
            path: path.to_string(),
            object_type: Some(kind.to_string()),
            object_id: Some(id),
            resource_id: Some(id.to_string()),
            language: language.map(|l| l.as_str().to_string()),
            created_at: times.map(|(created, _)| created),
            modified_at: times.map(|(_, modified)| modified),
            size: (kind == "FILE").then(|| i64::try_from(content.len()).unwrap_or(i64::MAX)),
            directory_info: None,
        };
        self.objects
            .insert(path.to_string(), Object { info, content });
    }

    fn notebook(&mut self, path: &str, language: Language, body: &str) {
        let source = format!("{}\n{body}\n", language.header()).into_bytes();
        self.put(path, ("NOTEBOOK", Some(language)), source, SEEDED);
    }

    fn seeded() -> Tree {
        let mut t = Tree {
            objects: BTreeMap::new(),
            next_id: 1_100_000_000_000_001,
        };
        for dir in [
            "/",
            "/Users",
            "/Shared",
            "/Users/alice@example.com",
            "/Users/alice@example.com/project",
            "/Users/bob@example.com",
        ] {
            t.put(dir, ("DIRECTORY", None), Vec::new(), None);
        }
        let alice = "/Users/alice@example.com";
        t.notebook(
            &format!("{alice}/analysis"),
            Language::Python,
            "display(spark.table('main.sales.orders'))",
        );
        t.notebook(
            &format!("{alice}/queries"),
            Language::Sql,
            "SELECT count(*) FROM main.sales.orders",
        );
        t.notebook(
            &format!("{alice}/project/report"),
            Language::Sql,
            "SELECT region, sum(amount) FROM main.sales.orders GROUP BY region",
        );
        t.notebook("/Shared/onboarding", Language::Scala, "println(\"hello\")");
        let readme = b"# Project\n\nMonthly sales report.\n".to_vec();
        t.put(
            &format!("{alice}/project/README.md"),
            ("FILE", None),
            readme,
            SEEDED,
        );
        t.seed_bob();
        t
    }

    /// Bob's objects as the fixtures record them (ids, times and sizes included).
    fn seed_bob(&mut self) {
        let export = fixture_json("workspace_export.json");
        let ingest = base64::engine::general_purpose::STANDARD
            .decode(
                export
                    .get("content")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default(),
            )
            .unwrap_or_default();
        let listed: ListResponse = fixture_as("workspace_list.json");
        for info in listed.objects {
            let content = match info.object_type.as_deref() {
                Some("NOTEBOOK") => ingest.clone(),
                Some("FILE") => {
                    let size = usize::try_from(info.size.unwrap_or(0)).unwrap_or(0);
                    let mut sql = b"-- publish\nINSERT INTO main.sales.orders_published SELECT * FROM main.sales.orders;\n".to_vec();
                    sql.resize(size.max(sql.len()), b' ');
                    sql
                }
                _ => Vec::new(),
            };
            self.objects
                .insert(info.path.clone(), Object { info, content });
        }
    }

    fn get(&self, path: &str) -> Result<&Object, ApiError> {
        self.objects.get(path).ok_or_else(|| missing(path))
    }
}

impl FixtureWorkspace {
    pub(crate) fn new() -> FixtureWorkspace {
        FixtureWorkspace {
            tree: Mutex::new(Tree::seeded()),
        }
    }
}

#[async_trait]
impl WorkspaceObjects for FixtureWorkspace {
    async fn object(&self, path: &str) -> Answer<ObjectInfo> {
        lock(&self.tree).get(path).map(|o| o.info.clone())
    }

    async fn children(&self, path: &str) -> Answer<Vec<ObjectInfo>> {
        let tree = lock(&self.tree);
        let children = tree
            .objects
            .iter()
            .filter(|(p, _)| p.as_str() != "/" && parent_of(p) == path)
            .map(|(_, o)| o.info.clone())
            .collect();
        Ok(children)
    }

    async fn content(&self, path: &str) -> Answer<Vec<u8>> {
        lock(&self.tree).get(path).map(|o| o.content.clone())
    }

    async fn write(&self, path: &str, object: WorkspaceWrite) -> Answer<()> {
        let kind = match object.language {
            Some(_) => "NOTEBOOK",
            None => "FILE",
        };
        let now = now_ms();
        let times = Some((now, now));
        (lock(&self.tree)).put(path, (kind, object.language), object.content, times);
        Ok(())
    }

    async fn mkdirs(&self, path: &str) -> Answer<()> {
        let mut tree = lock(&self.tree);
        let mut prefix = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            prefix.push('/');
            prefix.push_str(part);
            if !tree.objects.contains_key(&prefix) {
                tree.put(&prefix, ("DIRECTORY", None), Vec::new(), None);
            }
        }
        Ok(())
    }

    async fn delete(&self, path: &str) -> Answer<()> {
        let mut tree = lock(&self.tree);
        let below = format!("{path}/");
        tree.objects
            .retain(|p, _| p.as_str() != path && !p.starts_with(&below));
        Ok(())
    }
}
