//! Paged listings, declared once: the paging arguments every list tool flattens into
//! its own, and the one way a page is answered (a table for the model, a count line,
//! the next-page hint, and `structuredContent` matching the tool's `outputSchema`).
//! A list tool then says only what differs: its columns, its row mapping, its call.

use std::borrow::Cow;

use rmcp::model::JsonObject;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::ToolOutput;
use crate::context::CallContext;
use crate::render;

/// Characters kept free below `--max-chars` for the count line and the hint.
const FOOTER_RESERVE: usize = 300;

/// `limit` and `cursor`, flattened into a list tool's arguments
/// (`#[serde(flatten)] page: PageArgs<25>`). The default and the largest page size are
/// the tool's; the published schema says them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageArgs<const DEFAULT: u32 = 50, const MAX: u32 = 100> {
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}

impl<const DEFAULT: u32, const MAX: u32> PageArgs<DEFAULT, MAX> {
    /// The caller's `limit`, clamped to 1..=MAX (DEFAULT when absent).
    pub fn size(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT).clamp(1, MAX.max(1))
    }

    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }
}

/// Written by hand so that the description carries the tool's own bounds; the same
/// properties `#[derive(JsonSchema)]` gives an `Option<u32>` and an `Option<String>`.
impl<const DEFAULT: u32, const MAX: u32> JsonSchema for PageArgs<DEFAULT, MAX> {
    fn schema_name() -> Cow<'static, str> {
        format!("PageArgs_{DEFAULT}_{MAX}").into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "properties": {
                "limit": {
                    "description": format!("Page size (1-{MAX}, default {DEFAULT})."),
                    "type": "integer",
                    "format": "uint32",
                    "minimum": 0,
                },
                "cursor": {
                    "description": "Cursor from a previous answer, to get the next page.",
                    "type": "string",
                },
            },
        })
    }
}

/// A field of a list's `structuredContent` beside the items, saying what was listed.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    /// JSON Schema type: `string` or `integer`.
    pub json_type: &'static str,
    pub description: &'static str,
}

/// What a list tool answers, declared once: used for its `outputSchema` and to render
/// every page.
#[derive(Debug, Clone, Copy)]
pub struct ListSpec {
    pub tool: &'static str,
    /// The key of the items in `structuredContent`, and the noun of the count line.
    pub key: &'static str,
    /// Columns of the table the model sees.
    pub columns: &'static [&'static str],
    /// What one item is, for the `outputSchema` (items are the API's objects, kept
    /// open so new API fields pass through).
    pub item: &'static str,
    /// Fields beside the items.
    pub fields: &'static [Field],
}

impl ListSpec {
    /// `{key: [object], next_cursor?: string, fields…}`.
    pub fn output_schema(&self) -> JsonObject {
        let mut properties = Map::new();
        properties.insert(
            self.key.to_string(),
            json!({"type": "array", "description": self.item, "items": {"type": "object"}}),
        );
        // The names say the rest: the schema is in every client's context, and the text
        // answer already says how to page.
        properties.insert("next_cursor".to_string(), json!({"type": "string"}));
        let mut required = vec![Value::from(self.key)];
        for f in self.fields {
            properties.insert(
                f.name.to_string(),
                json!({"type": f.json_type, "description": f.description}),
            );
            required.push(Value::from(f.name));
        }
        let mut schema = Map::new();
        schema.insert("type".into(), json!("object"));
        schema.insert("properties".into(), Value::Object(properties));
        schema.insert("required".into(), Value::Array(required));
        schema
    }

    /// A page of `rows` (the table) and `items` (the structured items), in order.
    pub fn page<R>(&self, rows: R, items: Vec<Value>, next_cursor: Option<String>) -> ListPage
    where
        R: IntoIterator<Item = Vec<Option<String>>>,
    {
        ListPage {
            spec: *self,
            rows: rows.into_iter().collect(),
            items,
            next_cursor,
            summary: None,
            note: None,
            fields: Map::new(),
        }
    }
}

/// Items as JSON values (the API's objects as they are).
pub fn values<T: Serialize>(items: &[T]) -> Vec<Value> {
    items
        .iter()
        .map(|i| serde_json::to_value(i).unwrap_or(Value::Null))
        .collect()
}

/// One page of a list tool's answer; [`ListPage::answer`] renders it.
#[derive(Debug)]
pub struct ListPage {
    spec: ListSpec,
    rows: Vec<Vec<Option<String>>>,
    items: Vec<Value>,
    next_cursor: Option<String>,
    summary: Option<String>,
    note: Option<String>,
    fields: Map<String, Value>,
}

impl ListPage {
    /// Sets a field declared in the spec's `fields`.
    pub fn field(mut self, name: &str, value: impl Serialize) -> ListPage {
        self.fields.insert(
            name.to_string(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    /// Replaces the count line ("3 catalogs.").
    pub fn summary(mut self, text: impl Into<String>) -> ListPage {
        self.summary = Some(text.into());
        self
    }

    /// A sentence after the next-page hint.
    pub fn note(mut self, text: impl Into<String>) -> ListPage {
        self.note = Some(text.into());
        self
    }

    /// The table, the count line and the next-page hint as text; the items, the
    /// cursor and the fields as `structuredContent`.
    pub fn answer(self, ctx: &CallContext) -> ToolOutput {
        let columns: Vec<String> = self.spec.columns.iter().map(|c| c.to_string()).collect();
        let budget = ctx.state.settings.max_chars.saturating_sub(FOOTER_RESERVE);
        let mut text = render::table(&columns, self.rows, budget).text;
        let summary = self
            .summary
            .unwrap_or_else(|| count_line(self.items.len(), self.spec.key));
        text.push_str(&format!("\n\n{summary} "));
        text.push_str(&next_page_hint(self.spec.tool, self.next_cursor.as_deref()));
        if let Some(note) = self.note {
            text.push(' ');
            text.push_str(&note);
        }
        let mut structured = self.fields;
        structured.insert(self.spec.key.to_string(), Value::Array(self.items));
        if let Some(cursor) = self.next_cursor {
            structured.insert("next_cursor".to_string(), Value::String(cursor));
        }
        ToolOutput::new(text, Value::Object(structured))
    }
}

/// The sentence that tells a model how to get the next page.
pub fn next_page_hint(tool: &str, cursor: Option<&str>) -> String {
    match cursor {
        Some(c) => format!("More results: call {tool} again with cursor=\"{c}\"."),
        None => "No more results.".to_string(),
    }
}

/// "3 jobs.", "1 job.": the keys are regular plurals.
fn count_line(count: usize, plural: &str) -> String {
    let noun = match count {
        1 => plural.strip_suffix('s').unwrap_or(plural),
        _ => plural,
    };
    format!("{count} {noun}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(count_line(1, "jobs"), "1 job.");
        assert_eq!(count_line(0, "jobs"), "0 jobs.");
        assert_eq!(count_line(2, "warehouses"), "2 warehouses.");
        assert_eq!(count_line(1, "warehouses"), "1 warehouse.");
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct Args {
        /// Only these.
        #[serde(default)]
        name: Option<String>,
        #[serde(flatten)]
        page: PageArgs<25>,
    }

    #[test]
    fn page_args_flatten_into_one_flat_object() {
        let schema = serde_json::to_value(schemars::schema_for!(Args)).unwrap_or_default();
        let props = &schema["properties"];
        assert_eq!(
            props["limit"]["description"],
            "Page size (1-100, default 25)."
        );
        assert_eq!(props["limit"]["type"], "integer");
        assert_eq!(props["cursor"]["type"], "string");
        assert!(props["name"].is_object());
        assert_eq!(schema["additionalProperties"], false);
        for combinator in ["allOf", "anyOf", "oneOf", "$ref"] {
            assert!(schema.get(combinator).is_none(), "{schema}");
        }
    }

    #[test]
    fn page_args_parse_clamp_and_refuse_unknown_fields() {
        let parse = |v: Value| serde_json::from_value::<Args>(v);
        let a = parse(json!({"limit": 500, "cursor": "c", "name": "x"})).ok();
        assert_eq!(a.as_ref().map(|a| a.page.size()), Some(100));
        assert_eq!(a.as_ref().and_then(|a| a.page.cursor()), Some("c"));
        assert_eq!(a.as_ref().and_then(|a| a.name.as_deref()), Some("x"));
        assert_eq!(parse(json!({})).ok().map(|a| a.page.size()), Some(25));
        assert_eq!(
            parse(json!({"limit": 0})).ok().map(|a| a.page.size()),
            Some(1)
        );
        let err = parse(json!({"bogus": 1})).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("unknown field `bogus`")),
            "{err:?}"
        );
        assert!(parse(json!({"limit": "ten"})).is_err());
    }
}
