//! MCP prompts: sessions a person picks from a client's menu. Each one tells the model
//! which tools to call in which order, and embeds the resource it starts from (the
//! table's metadata, the run's output, the notebook's source) so the first answer
//! needs no extra round trip.
//!
//! A prompt is listed only when the tools it names are served (`--toolsets`/`--tools`).

use rmcp::ErrorData as McpError;
use rmcp::model::{GetPromptResult, Prompt, PromptArgument, PromptMessage, Role};
use serde_json::{Map, Value};

use crate::completion::Completes;
use crate::context::CallContext;
use crate::resources::{self, encode_segment};
use crate::tools::Registry;

pub struct Arg {
    pub name: &'static str,
    pub description: &'static str,
    pub required: bool,
    pub completes: Completes,
}

pub struct PromptDef {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub arguments: &'static [Arg],
    /// Tools the prompt's instructions call; the prompt is hidden without them.
    pub tools: &'static [&'static str],
}

const TABLE: Arg = Arg {
    name: "table",
    description: "Full table name: catalog.schema.table",
    required: true,
    completes: Completes::FullTableName,
};

pub const PROMPTS: &[PromptDef] = &[
    PromptDef {
        name: "explore_table",
        title: "Explore a table",
        description: "Get to know a table: its columns, a sample of rows, sizes and value distributions, then a short summary of what it holds.",
        arguments: &[TABLE],
        tools: &["get_table_schema", "run_sql_query"],
    },
    PromptDef {
        name: "diagnose_job_run",
        title: "Diagnose a job run",
        description: "Find out why a job run failed (give run_id, or job_id for its latest failed run) and propose a fix.",
        arguments: &[
            Arg {
                name: "run_id",
                description: "The run to diagnose",
                required: false,
                completes: Completes::Run,
            },
            Arg {
                name: "job_id",
                description: "A job whose latest failed run to diagnose (when run_id is not given)",
                required: false,
                completes: Completes::Job,
            },
        ],
        tools: &["get_job_runs"],
    },
    PromptDef {
        name: "optimize_query",
        title: "Optimize a SQL query",
        description: "Review a slow or costly SQL query with its plan and the tables' metadata, and propose a faster equivalent.",
        arguments: &[
            Arg {
                name: "query",
                description: "The SQL query",
                required: true,
                completes: Completes::Nothing,
            },
            Arg {
                name: "warehouse_id",
                description: "The SQL warehouse to plan it on (default: the server's choice)",
                required: false,
                completes: Completes::Warehouse,
            },
        ],
        tools: &["run_sql_query", "get_table_schema"],
    },
    PromptDef {
        name: "data_quality_report",
        title: "Data quality report",
        description: "Measure a table's completeness, uniqueness, validity and freshness with read-only queries and report the problems found.",
        arguments: &[TABLE],
        tools: &["get_table_schema", "run_sql_query"],
    },
    PromptDef {
        name: "pipeline_health",
        title: "Pipeline health",
        description: "Check a Lakeflow Declarative Pipeline's state, health and recent updates, and explain any failure.",
        arguments: &[Arg {
            name: "pipeline_id",
            description: "The pipeline's id",
            required: true,
            completes: Completes::Pipeline,
        }],
        tools: &["list_delta_pipelines"],
    },
    PromptDef {
        name: "review_notebook",
        title: "Review a notebook",
        description: "Read a workspace notebook and review it: what it does, bugs, performance and safety problems, with concrete fixes.",
        arguments: &[Arg {
            name: "path",
            description: "The notebook's workspace path, e.g. /Users/me@example.com/etl",
            required: true,
            completes: Completes::WorkspacePath,
        }],
        tools: &["list_notebooks"],
    },
    PromptDef {
        name: "ask_genie_space",
        title: "Ask a Genie space",
        description: "Ask a question in natural language to a Genie space and explain its answer and the SQL it ran.",
        arguments: &[
            Arg {
                name: "space_id",
                description: "The Genie space",
                required: true,
                completes: Completes::GenieSpace,
            },
            Arg {
                name: "question",
                description: "The question",
                required: true,
                completes: Completes::Nothing,
            },
        ],
        tools: &["ask_genie"],
    },
    PromptDef {
        name: "search_vector_index",
        title: "Search a vector index",
        description: "Find the documents of a Vector Search index that answer a question, and answer it from them with sources.",
        arguments: &[
            Arg {
                name: "index_name",
                description: "Full index name: catalog.schema.index",
                required: true,
                completes: Completes::VectorIndex,
            },
            Arg {
                name: "question",
                description: "What to search for",
                required: true,
                completes: Completes::Nothing,
            },
        ],
        tools: &["query_vector_index"],
    },
];

pub fn find(name: &str) -> Option<&'static PromptDef> {
    PROMPTS.iter().find(|p| p.name == name)
}

/// The prompts whose tools `registry` serves.
pub fn served(registry: &Registry) -> Vec<&'static PromptDef> {
    PROMPTS
        .iter()
        .filter(|p| p.tools.iter().all(|t| registry.get(t).is_some()))
        .collect()
}

pub fn list(registry: &Registry) -> Vec<Prompt> {
    served(registry)
        .into_iter()
        .map(|p| {
            let arguments = p
                .arguments
                .iter()
                .map(|a| {
                    PromptArgument::new(a.name)
                        .with_description(a.description)
                        .with_required(a.required)
                })
                .collect();
            Prompt::new(p.name, Some(p.description), Some(arguments)).with_title(p.title)
        })
        .collect()
}

/// The arguments as strings; a missing required one, an unknown one or a non-string
/// is invalid params.
fn arguments(
    def: &PromptDef,
    given: Option<&Map<String, Value>>,
) -> Result<Map<String, Value>, McpError> {
    let given = given.cloned().unwrap_or_default();
    for (name, value) in &given {
        if !def.arguments.iter().any(|a| a.name == name) {
            return Err(McpError::invalid_params(
                format!("prompt {} has no argument {name:?}", def.name),
                None,
            ));
        }
        if !value.is_string() {
            return Err(McpError::invalid_params(
                format!("argument {name} of prompt {} must be a string", def.name),
                None,
            ));
        }
    }
    for a in def.arguments.iter().filter(|a| a.required) {
        let blank = given
            .get(a.name)
            .and_then(Value::as_str)
            .is_none_or(|v| v.trim().is_empty());
        if blank {
            return Err(McpError::invalid_params(
                format!(
                    "prompt {} needs the argument {} ({})",
                    def.name, a.name, a.description
                ),
                None,
            ));
        }
    }
    Ok(given)
}

fn text<'a>(args: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    args.get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

pub async fn get(
    ctx: &CallContext,
    registry: &Registry,
    name: &str,
    given: Option<&Map<String, Value>>,
) -> Result<GetPromptResult, McpError> {
    let def = served(registry)
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            McpError::invalid_params(
                format!("unknown prompt {name:?}: prompts/list shows the prompts of this server"),
                None,
            )
        })?;
    let args = arguments(def, given)?;
    let arg = |n: &str| text(&args, n).unwrap_or_default().to_string();
    let (instructions, resource) = match def.name {
        "explore_table" => {
            let table = table_uri(&arg("table"))?;
            (explore_table(&arg("table")), Some(table))
        }
        "data_quality_report" => {
            let table = table_uri(&arg("table"))?;
            (data_quality(&arg("table")), Some(table))
        }
        "diagnose_job_run" => {
            let run_id = match (text(&args, "run_id"), text(&args, "job_id")) {
                (Some(run), _) => parse_id("run_id", run)?,
                (None, Some(job)) => latest_failed_run(ctx, parse_id("job_id", job)?).await?,
                (None, None) => {
                    return Err(McpError::invalid_params(
                        "prompt diagnose_job_run needs run_id or job_id",
                        None,
                    ));
                }
            };
            (
                diagnose_run(run_id),
                Some(format!("databricks://runs/{run_id}")),
            )
        }
        "optimize_query" => (
            optimize_query(&arg("query"), text(&args, "warehouse_id")),
            None,
        ),
        "pipeline_health" => (pipeline_health(&arg("pipeline_id")), None),
        "review_notebook" => {
            let path = arg("path");
            let segments: Vec<String> = path
                .trim_start_matches('/')
                .split('/')
                .map(encode_segment)
                .collect();
            (
                review_notebook(&path),
                Some(format!("databricks://notebooks/{}", segments.join("/"))),
            )
        }
        "ask_genie_space" => (ask_genie(&arg("space_id"), &arg("question")), None),
        "search_vector_index" => (search_index(&arg("index_name"), &arg("question")), None),
        other => {
            return Err(McpError::internal_error(
                format!("prompt {other} has no body"),
                None,
            ));
        }
    };
    let mut messages = vec![PromptMessage::new_text(Role::User, instructions)];
    if let Some(uri) = resource {
        // The resource the session starts from; a read that fails is explained in the
        // prompt instead (the model can still call the tools).
        match resources::read(ctx, &uri).await {
            Ok(read) => {
                for content in read.contents {
                    messages.push(PromptMessage::new(
                        Role::User,
                        rmcp::model::ContentBlock::resource(content),
                    ));
                }
            }
            Err(e)
                if e.code == rmcp::model::ErrorCode::RESOURCE_NOT_FOUND
                    || e.code == rmcp::model::ErrorCode::INVALID_PARAMS =>
            {
                return Err(McpError::invalid_params(e.message, e.data));
            }
            Err(e) => messages.push(PromptMessage::new_text(
                Role::User,
                format!("({uri} could not be read: {})", e.message),
            )),
        }
    }
    Ok(GetPromptResult::new(messages).with_description(def.description))
}

fn parse_id(name: &str, value: &str) -> Result<i64, McpError> {
    value.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
        McpError::invalid_params(
            format!("{name} must be a positive number, got {value:?}"),
            None,
        )
    })
}

/// `catalog.schema.table` → its resource URI.
fn table_uri(full_name: &str) -> Result<String, McpError> {
    let parts: Vec<&str> = full_name
        .split('.')
        .map(|p| p.trim().trim_matches('`'))
        .collect();
    match parts.as_slice() {
        [c, s, t] if !c.is_empty() && !s.is_empty() && !t.is_empty() => Ok(format!(
            "databricks://tables/{}/{}/{}",
            encode_segment(c),
            encode_segment(s),
            encode_segment(t)
        )),
        _ => Err(McpError::invalid_params(
            format!("table must be a full name catalog.schema.table, got {full_name:?}"),
            None,
        )),
    }
}

async fn latest_failed_run(ctx: &CallContext, job_id: i64) -> Result<i64, McpError> {
    let page = ctx
        .state
        .client
        .list_runs(Some(job_id), 25, None)
        .await
        .map_err(|e| {
            McpError::invalid_params(format!("cannot list the runs of job {job_id}: {e}"), None)
        })?;
    page.items
        .iter()
        .find(|r| {
            let (_, result) = crate::tools::jobs::run_state(r);
            result.is_some_and(|r| {
                !matches!(
                    r.as_str(),
                    "SUCCESS" | "SUCCESS_WITH_FAILURES" | "SUCCEEDED"
                )
            })
        })
        .map(|r| r.run_id)
        .ok_or_else(|| {
            McpError::invalid_params(
                format!("job {job_id} has no failed run among its 25 most recent: pass a run_id"),
                None,
            )
        })
}

fn explore_table(table: &str) -> String {
    format!(
        "Explore the Databricks table {table}. Its metadata is attached.\n\
         1. From the metadata, say in two sentences what the table holds and what one row is.\n\
         2. Call run_sql_query with `SELECT * FROM {table} LIMIT 10` to see real values.\n\
         3. Call run_sql_query once for the row count and, for up to 8 columns that look like keys, categories or dates, the distinct count, NULL count and min/max (one query, COUNT(DISTINCT …), COUNT_IF(col IS NULL), MIN, MAX).\n\
         4. For the two most telling categorical columns, show the top 10 values with counts.\n\
         Finish with a short summary: what the table is for, its grain, notable columns, data ranges, anything surprising, and three questions it can answer (as SQL)."
    )
}

fn data_quality(table: &str) -> String {
    format!(
        "Write a data quality report for the Databricks table {table}. Its metadata is attached. Use only read-only SQL through run_sql_query, a few queries that each cover many columns.\n\
         - Completeness: NULL and empty-string share of every column.\n\
         - Uniqueness: duplicate rows on the likely key (say which columns you take as the key and why).\n\
         - Validity: values out of range or domain (negative amounts, dates in the future or before 1900, unexpected categories), type-like strings that do not parse.\n\
         - Consistency: columns that should agree (start before end, totals equal to the sum of their parts).\n\
         - Freshness: the newest timestamp or date, against the table's last modification.\n\
         Report a table of checks with result, affected rows and severity, then the three fixes that matter most."
    )
}

fn diagnose_run(run_id: i64) -> String {
    format!(
        "Diagnose job run {run_id}. Its state, tasks and task outputs (errors, traces, logs) are attached.\n\
         1. Name the failing task and the root cause in one sentence; quote the decisive line of the error or trace.\n\
         2. If the cause is in code, read the task's notebook (the databricks://notebooks/… resource or list_notebooks) and point at the line.\n\
         3. If it looks intermittent (timeouts, cluster or cloud errors), call get_job_runs for the job to see whether earlier runs failed the same way.\n\
         4. If data is involved, check the tables it reads with get_table_schema and a small run_sql_query.\n\
         Finish with the fix, how to verify it, and whether a plain re-run is likely to succeed."
    )
}

fn optimize_query(query: &str, warehouse_id: Option<&str>) -> String {
    let warehouse = warehouse_id
        .map(|w| format!(" Run every statement on warehouse {w} (pass warehouse_id)."))
        .unwrap_or_default();
    format!(
        "Optimize this Databricks SQL query:\n```sql\n{query}\n```\n\
         1. Call run_sql_query with `EXPLAIN FORMATTED` followed by the query to see its plan (it does not run the query).{warehouse}\n\
         2. For each table it reads, call get_table_schema: partitioning, clustering, format and column types.\n\
         3. Look for: scans without partition or clustering filters, filters that wrap a partition column in a function, SELECT *, joins that explode or shuffle large tables, missing broadcast of small tables, repeated subqueries, DISTINCT or ORDER BY that are not needed, UDFs that block pushdown.\n\
         Propose a rewritten query that returns the same result, explain each change and its expected effect, and say which table-level changes (Liquid clustering, OPTIMIZE, statistics) would help further. Do not run statements that change data."
    )
}

fn pipeline_health(pipeline_id: &str) -> String {
    format!(
        "Check the health of Lakeflow Declarative Pipeline {pipeline_id}.\n\
         1. Call list_delta_pipelines and find it: state, health, creator, latest update.\n\
         2. If it failed or is unhealthy, say which update failed and why, from what the tools show.\n\
         3. Check the freshness of its target tables with get_table_schema and a run_sql_query of their newest timestamp.\n\
         Finish with: healthy or not, the cause of any problem, and what to do next."
    )
}

fn review_notebook(path: &str) -> String {
    format!(
        "Review the notebook {path}; its source is attached.\n\
         Explain what it does in three sentences, then list problems by severity: bugs, data correctness (joins, NULL handling, time zones), performance (collect() to the driver, Python UDFs, repeated scans, small files), safety (secrets in code, writes without a where clause), and maintainability. Give each problem its cell and a concrete fix. Use get_table_schema for tables it reads when their columns matter."
    )
}

fn ask_genie(space_id: &str, question: &str) -> String {
    format!(
        "Ask the Genie space {space_id} this question with the ask_genie tool: \"{question}\".\n\
         Then explain the answer in plain words, show the SQL Genie generated and check that it answers the question as asked (filters, time range, grain). If Genie asks for clarification, answer from the question's context or ask me."
    )
}

fn search_index(index: &str, question: &str) -> String {
    format!(
        "Search the Vector Search index {index} with query_vector_index for documents about: \"{question}\".\n\
         Answer the question from the documents found only, citing each one by its primary key. If they do not answer it, say so and suggest a better search text."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_argument_of_every_prompt_is_unique_and_described() {
        for p in PROMPTS {
            let mut names: Vec<&str> = p.arguments.iter().map(|a| a.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), p.arguments.len(), "{}", p.name);
            assert!(p.arguments.iter().all(|a| !a.description.is_empty()));
        }
    }

    #[test]
    fn table_names_become_uris() {
        assert_eq!(
            table_uri("samples.tpch.nation").ok().as_deref(),
            Some("databricks://tables/samples/tpch/nation")
        );
        assert!(table_uri("nation").is_err());
        assert!(table_uri("a..b").is_err());
    }

    #[test]
    fn required_arguments_are_checked() {
        let def = find("explore_table").expect("declared");
        assert!(arguments(def, None).is_err());
        let mut args = Map::new();
        args.insert("table".into(), Value::String("a.b.c".into()));
        assert!(arguments(def, Some(&args)).is_ok());
        args.insert("other".into(), Value::String("x".into()));
        assert!(arguments(def, Some(&args)).is_err());
    }
}
