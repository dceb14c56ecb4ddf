//! The audit log (`--audit-log FILE`, `DATABRICKS_MCP_AUDIT_LOG`): one JSON line per write
//! attempt — time, tool, target, arguments, client, how it was confirmed, result —
//! declined and failed attempts included. File and notebook contents are reduced to their
//! size and digest; arguments that look like secrets are redacted. Lines are appended
//! with one `write` each, so concurrent calls never interleave within a line.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rmcp::model::JsonObject;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::confirm::Record;

pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot open the audit log {path}: {source}")]
pub struct AuditError {
    path: String,
    source: std::io::Error,
}

/// How a write attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed,
    /// Not done: declined, cancelled, or waiting for a confirmation.
    NotDone,
}

impl AuditLog {
    /// Opens `path` for appending (created with mode 0600 where supported).
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path).map_err(|source| AuditError {
            path: path.display().to_string(),
            source,
        })?;
        Ok(AuditLog {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the line of one attempt. A failure to write is logged, never the call's
    /// failure (the action has happened or not by now).
    pub fn record(&self, entry: &Entry<'_>) {
        let line = entry.to_line();
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = file.write_all(line.as_bytes()) {
            tracing::error!(path = %self.path.display(), error = %e, "cannot append to the audit log");
        }
    }
}

/// One attempt, as recorded.
pub struct Entry<'a> {
    pub tool: &'a str,
    pub arguments: &'a JsonObject,
    pub client: &'a str,
    pub record: Record,
    pub outcome: Outcome,
    /// The answer's text when it failed or was not done (bounded).
    pub message: Option<&'a str>,
}

impl Entry<'_> {
    fn to_line(&self) -> String {
        let time = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let result = match self.outcome {
            Outcome::Done => "done",
            Outcome::Failed => "failed",
            Outcome::NotDone => "not_done",
        };
        let mut line = json!({
            "time": time,
            "tool": self.tool,
            "target": self.record.target,
            "arguments": redact(self.arguments),
            "client": self.client,
            "confirmation": self.record.confirmation.unwrap_or("none"),
            "result": result,
        });
        if let (Some(message), Some(fields)) = (self.message, line.as_object_mut()) {
            fields.insert("message".into(), json!(crate::render::clip(message, 500)));
        }
        let mut text = line.to_string();
        text.push('\n');
        text
    }
}

/// Arguments fit for the log: contents as size and digest, secrets and codes redacted.
pub fn redact(arguments: &JsonObject) -> Value {
    let mut out = serde_json::Map::new();
    for (key, value) in arguments {
        let lower = key.to_ascii_lowercase();
        let redacted = if matches!(lower.as_str(), "content" | "contents" | "data") {
            match value {
                Value::String(s) => {
                    let digest = Sha256::digest(s.as_bytes());
                    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                    json!({"bytes": s.len(), "sha256": hex})
                }
                _ => json!({"redacted": "content"}),
            }
        } else if [
            "token",
            "secret",
            "password",
            "credential",
            "confirmation_code",
        ]
        .iter()
        .any(|s| lower.contains(s))
        {
            json!("[redacted]")
        } else {
            value.clone()
        };
        out.insert(key.clone(), redacted);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_become_size_and_digest_and_secrets_are_redacted() {
        let args = json!({"path": "/Volumes/a/b/c/x.txt", "content": "hello", "api_token": "dapi123", "overwrite": true});
        let out = redact(args.as_object().expect("test value"));
        assert_eq!(out["path"], "/Volumes/a/b/c/x.txt");
        assert_eq!(out["content"]["bytes"], 5);
        assert_eq!(
            out["content"]["sha256"],
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(out["api_token"], "[redacted]");
        assert!(!out.to_string().contains("dapi123"));
        assert!(!out.to_string().contains("hello"));
    }

    #[test]
    fn one_line_per_attempt_appended() {
        let dir = tempfile::tempdir().expect("test value");
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).expect("test value");
        let args = json!({"run_id": 7})
            .as_object()
            .cloned()
            .expect("test value");
        for outcome in [Outcome::Done, Outcome::NotDone] {
            log.record(&Entry {
                tool: "cancel_run",
                arguments: &args,
                client: "stdio",
                record: Record {
                    target: Some("run 7".into()),
                    confirmation: Some("accepted"),
                },
                outcome,
                message: None,
            });
        }
        let text = std::fs::read_to_string(&path).expect("test value");
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("test value"))
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["result"], "done");
        assert_eq!(lines[1]["result"], "not_done");
        assert_eq!(lines[0]["target"], "run 7");
    }
}
