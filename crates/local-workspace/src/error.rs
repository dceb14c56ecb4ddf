//! Errors: [`LocalError`] for opening and serving a workspace, [`SqlError`] for a statement
//! that fails the way Databricks reports it (`[ERROR_CLASS] message SQLSTATE: xxxxx`).

use std::path::PathBuf;

/// A failure to open or serve a local workspace.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// A file or directory of the workspace could not be read or written.
    #[error("I/O error at {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The TPC-H sample data could not be generated or written.
    #[error("cannot create the sample data: {0}")]
    Samples(String),
    /// The options are unusable (for example a scale factor that is not a positive number).
    #[error("invalid local workspace options: {0}")]
    InvalidOptions(String),
}

impl LocalError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> LocalError {
        LocalError::Io {
            path: path.into(),
            source,
        }
    }
}

/// A statement failure, shaped like Databricks' (`status.error` + `status.sql_state`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[{class}] {message}")]
pub struct SqlError {
    /// Spark error class, e.g. `TABLE_OR_VIEW_NOT_FOUND`.
    pub class: String,
    /// Human message (without the class prefix).
    pub message: String,
    /// SQLSTATE, e.g. `42P01`.
    pub sql_state: String,
    /// The statement API's `error_code` (`BAD_REQUEST`, `INTERNAL_ERROR`, ...).
    pub error_code: &'static str,
}

impl SqlError {
    pub(crate) fn new(
        class: impl Into<String>,
        sql_state: impl Into<String>,
        message: impl Into<String>,
    ) -> SqlError {
        SqlError {
            class: class.into(),
            message: message.into(),
            sql_state: sql_state.into(),
            error_code: "BAD_REQUEST",
        }
    }

    pub(crate) fn internal(message: impl Into<String>) -> SqlError {
        SqlError {
            class: "INTERNAL_ERROR".into(),
            message: message.into(),
            sql_state: "XX000".into(),
            error_code: "INTERNAL_ERROR",
        }
    }

    /// `[UNSUPPORTED_FEATURE]`: something valid in Databricks that the local engine refuses.
    pub(crate) fn unsupported(what: impl std::fmt::Display) -> SqlError {
        SqlError::new(
            "UNSUPPORTED_FEATURE",
            "0A000",
            format!("The local workspace (DataFusion) does not support {what}."),
        )
    }

    pub(crate) fn parse(message: impl Into<String>) -> SqlError {
        SqlError::new("PARSE_SYNTAX_ERROR", "42601", message)
    }

    pub(crate) fn table_not_found(name: &str, detail: &str) -> SqlError {
        let mut message = format!(
            "The table or view {name} cannot be found. Verify the spelling and correctness of the schema and catalog."
        );
        if !detail.is_empty() {
            message.push(' ');
            message.push_str(detail);
        }
        SqlError::new("TABLE_OR_VIEW_NOT_FOUND", "42P01", message)
    }

    pub(crate) fn catalog_not_found(name: &str, known: &[String]) -> SqlError {
        SqlError::new(
            "NO_SUCH_CATALOG_EXCEPTION",
            "42704",
            format!(
                "Catalog '{name}' was not found. Existing catalogs: {}.",
                known.join(", ")
            ),
        )
    }

    pub(crate) fn schema_not_found(catalog: &str, schema: &str) -> SqlError {
        SqlError::new(
            "SCHEMA_NOT_FOUND",
            "42704",
            format!(
                "The schema `{catalog}`.`{schema}` cannot be found. Verify the spelling and correctness of the schema and catalog."
            ),
        )
    }

    pub(crate) fn read_only(what: &str) -> SqlError {
        SqlError::new(
            "PERMISSION_DENIED",
            "42501",
            format!(
                "{what} is not allowed: the local workspace is read-only (start it with writes allowed, e.g. `--allow-writes`)."
            ),
        )
    }

    /// The Databricks form of the message: `[CLASS] message SQLSTATE: xxxxx`.
    pub fn databricks_message(&self) -> String {
        format!(
            "[{}] {} SQLSTATE: {}",
            self.class, self.message, self.sql_state
        )
    }
}
