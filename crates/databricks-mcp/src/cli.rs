//! Command-line interface: `serve`, `tools`, `call`, `doctor`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "databricks-mcp",
    version,
    about = "A Model Context Protocol server for Databricks: SQL, Unity Catalog, jobs, clusters, pipelines and notebooks for AI assistants.",
    long_about = "A Model Context Protocol server for Databricks.\n\nCredentials come from the environment (DATABRICKS_HOST + DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID/SECRET) or a ~/.databrickscfg profile, as with the Databricks CLI and SDKs. With no subcommand, `serve` over stdio."
)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options shared by every command, listed once under their own heading in each
/// command's `--help` (after the command's own options).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
pub struct CommonArgs {
    /// Profile of ~/.databrickscfg to use (default: DATABRICKS_CONFIG_PROFILE, then [__settings__] default_profile, then DEFAULT).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Workspace URL (overrides DATABRICKS_HOST and the profile).
    #[arg(long, global = true)]
    pub host: Option<String>,
    /// Configuration file (default: DATABRICKS_CONFIG_FILE or ~/.databrickscfg).
    #[arg(long, global = true)]
    pub config_file: Option<PathBuf>,
    /// Force one authentication method: pat, oauth-m2m or databricks-cli (default: DATABRICKS_AUTH_TYPE, else the first that is configured).
    #[arg(long, global = true)]
    pub auth_type: Option<String>,
    /// Default SQL warehouse for run_sql_query (default: DATABRICKS_WAREHOUSE_ID, else automatic selection).
    #[arg(long, global = true)]
    pub warehouse_id: Option<String>,
    /// Allow SQL that writes (INSERT, UPDATE, DDL, ...). Off by default; a tool argument can never turn it on.
    #[arg(long, global = true, env = "DATABRICKS_MCP_ALLOW_WRITES")]
    pub allow_writes: bool,
    /// With --allow-writes, how the person confirms each write: elicit (ask through the client; a one-time code when it cannot ask), token (always the code the model passes back after asking), never (unattended agents).
    #[arg(
        long,
        global = true,
        env = "DATABRICKS_MCP_CONFIRM_WRITES",
        value_enum,
        default_value_t = crate::confirm::ConfirmMode::Elicit
    )]
    pub confirm_writes: crate::confirm::ConfirmMode,
    /// Append one JSON line per write attempt (tool, target, arguments without contents or secrets, client, confirmation, result) to this file.
    #[arg(long, global = true, env = "DATABRICKS_MCP_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,
    /// In read-only mode, let queries call functions with effects outside the statement (http_request, reflect, java_method, try_reflect, remote_query, ai_query, secret, try_secret). Off by default.
    #[arg(
        long,
        global = true,
        env = "DATABRICKS_MCP_ALLOW_SIDE_EFFECT_FUNCTIONS"
    )]
    pub allow_side_effect_functions: bool,
    /// Seconds run_sql_query waits for a statement before returning its statement_id.
    #[arg(
        long,
        global = true,
        env = "DATABRICKS_MCP_SQL_TIMEOUT",
        default_value_t = 50
    )]
    pub sql_timeout: u64,
    /// Most rows a SQL answer shows (1-1000).
    #[arg(
        long,
        global = true,
        env = "DATABRICKS_MCP_MAX_ROWS",
        default_value_t = 100
    )]
    pub max_rows: usize,
    /// Most characters of a tool answer's text.
    #[arg(
        long,
        global = true,
        env = "DATABRICKS_MCP_MAX_CHARS",
        default_value_t = 20_000
    )]
    pub max_chars: usize,
    /// How SQL results travel: auto (small results inline as Arrow in the API response, large ones as external links: one round trip for most queries), external-links (Arrow chunks from cloud storage, any size) or inline (JSON in the API response, up to 25 MiB, for networks that block cloud storage).
    #[arg(long, global = true, env = "DATABRICKS_MCP_SQL_DISPOSITION", value_enum, default_value_t = crate::settings::Disposition::Auto)]
    pub sql_disposition: crate::settings::Disposition,
    /// Serve only these toolsets (comma-separated: sql, catalog, jobs, compute, pipelines, workspace, files, vector_search, genie, functions, serving; `default` for the default ones, `all` for every one); with --tools, their union. Default: all but vector_search, genie and serving.
    #[arg(
        long,
        global = true,
        env = "DATABRICKS_MCP_TOOLSETS",
        value_delimiter = ','
    )]
    pub toolsets: Vec<String>,
    /// Serve these tools (comma-separated names), in addition to --toolsets.
    #[arg(
        long,
        global = true,
        env = "DATABRICKS_MCP_TOOLS",
        value_delimiter = ','
    )]
    pub tools: Vec<String>,
    /// Serve the embedded local workspace in DIR (DataFusion + Delta Lake, TPC-H samples) instead of a Databricks workspace. Used automatically, from a default directory, when no Databricks configuration exists.
    #[arg(long, global = true, value_name = "DIR", env = "DATABRICKS_MCP_LOCAL")]
    pub local: Option<PathBuf>,
    /// TPC-H scale factor of the local workspace's samples when they are first generated.
    #[arg(
        long,
        global = true,
        env = "DATABRICKS_MCP_LOCAL_SCALE_FACTOR",
        default_value_t = 0.1
    )]
    pub local_scale_factor: f64,
    /// An OpenAI-compatible model server (e.g. http://127.0.0.1:11434/v1) the local workspace serves as its Model Serving chat endpoint; the token, if any, from DATABRICKS_MCP_LOCAL_MODEL_TOKEN.
    #[arg(long, global = true, env = "DATABRICKS_MCP_LOCAL_MODEL_URL")]
    pub local_model_url: Option<String>,
    /// The endpoint name (and upstream model name) of --local-model-url (default: local-model).
    #[arg(long, global = true, env = "DATABRICKS_MCP_LOCAL_MODEL")]
    pub local_model: Option<String>,
    /// Log filter for stderr (error, warn, info, debug, trace, or a tracing directive).
    #[arg(
        long,
        global = true,
        env = "DATABRICKS_MCP_LOG",
        default_value = "info"
    )]
    pub log: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP over stdio (default) or streamable HTTP.
    Serve(ServeArgs),
    /// Print the tool list a model sees (names, descriptions, schemas, annotations).
    Tools(ToolsArgs),
    /// Run one tool and print its result: `call run_sql_query '{"query":"SELECT 1"}'`.
    Call(CallArgs),
    /// Chat with a Model Serving LLM that uses this server's tools (or any MCP server's).
    Chat(crate::chat::ChatArgs),
    /// Check configuration, authentication, connectivity and the SQL warehouse.
    Doctor,
    /// The embedded local workspace on its own.
    #[command(subcommand)]
    Local(LocalCommand),
}

#[derive(Debug, Subcommand)]
pub enum LocalCommand {
    /// Serve the local workspace's Databricks REST API (for the Databricks SDKs and CLI), printing its URL and token.
    Api(LocalApiArgs),
}

#[derive(Debug, Args)]
pub struct LocalApiArgs {
    /// Address to listen on (loopback only; port 0 picks one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportKind {
    Stdio,
    Http,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Transport to serve.
    #[arg(long, value_enum, default_value_t = TransportKind::Stdio)]
    pub transport: TransportKind,
    /// Address for --transport http (loopback only).
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// Extra Host header value to accept (repeatable), e.g. the public name of a reverse proxy.
    #[arg(long = "allowed-host")]
    pub allowed_hosts: Vec<String>,
    /// Extra browser Origin to accept (repeatable), e.g. https://app.example.com:443.
    #[arg(long = "allowed-origin")]
    pub allowed_origins: Vec<String>,
    /// Largest HTTP request body accepted, in bytes (the default fits a 16 MiB statement, Databricks' limit).
    #[arg(long, default_value_t = 20 * 1024 * 1024)]
    pub max_body_bytes: usize,
    #[command(flatten)]
    pub managed: crate::surfaces::ManagedServeArgs,
    #[command(flatten)]
    pub limits: HttpLimitArgs,
}

/// Resource limits of the HTTP transport (sessions, connections, timeouts).
#[derive(Debug, Clone, Args)]
pub struct HttpLimitArgs {
    /// Most MCP sessions open at once, all clients together; a new session beyond it gets 503 with Retry-After.
    #[arg(long, env = "DATABRICKS_MCP_MAX_SESSIONS", default_value_t = crate::transport::DEFAULT_MAX_SESSIONS, value_parser = count)]
    pub max_sessions: usize,
    /// Most MCP sessions one client (one token; without authentication, one address) may hold open; beyond it, 503 with Retry-After.
    #[arg(long, env = "DATABRICKS_MCP_MAX_SESSIONS_PER_CLIENT", default_value_t = crate::transport::DEFAULT_MAX_SESSIONS_PER_CLIENT, value_parser = count)]
    pub max_sessions_per_client: usize,
    /// Seconds without traffic after which an MCP session is closed.
    #[arg(long, env = "DATABRICKS_MCP_SESSION_IDLE_TIMEOUT", value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub session_idle_timeout: u64,
    /// Seconds a new MCP session has to complete its handshake (notifications/initialized) before it is closed.
    #[arg(long, env = "DATABRICKS_MCP_SESSION_INIT_TIMEOUT", value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub session_init_timeout: u64,
    /// Seconds a connection has to send a request's headers (also the longest idle time between requests); slower connections are closed.
    #[arg(long, env = "DATABRICKS_MCP_HEADER_READ_TIMEOUT", value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout: u64,
    /// Most TCP connections open at once; more are answered 503 and closed.
    #[arg(long, env = "DATABRICKS_MCP_MAX_CONNECTIONS", default_value_t = crate::transport::DEFAULT_MAX_CONNECTIONS, value_parser = count)]
    pub max_connections: usize,
}

/// A count between 1 and a million.
fn count(value: &str) -> Result<usize, String> {
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
        _ => Err(format!("{value:?} is not a number between 1 and 1000000")),
    }
}

impl Default for HttpLimitArgs {
    fn default() -> Self {
        let sessions = crate::transport::SessionLimits::default();
        HttpLimitArgs {
            max_sessions: sessions.max_sessions,
            max_sessions_per_client: sessions.max_sessions_per_client,
            session_idle_timeout: sessions.idle_timeout.as_secs(),
            session_init_timeout: sessions.init_timeout.as_secs(),
            header_read_timeout: crate::transport::DEFAULT_HEADER_READ_TIMEOUT.as_secs(),
            max_connections: crate::transport::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl HttpLimitArgs {
    /// The session limits these flags give.
    pub fn sessions(&self) -> crate::transport::SessionLimits {
        crate::transport::SessionLimits {
            max_sessions: self.max_sessions,
            max_sessions_per_client: self.max_sessions_per_client,
            idle_timeout: std::time::Duration::from_secs(self.session_idle_timeout),
            init_timeout: std::time::Duration::from_secs(self.session_init_timeout),
        }
    }
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs {
            transport: TransportKind::Stdio,
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_body_bytes: 20 * 1024 * 1024,
            managed: Default::default(),
            limits: HttpLimitArgs::default(),
        }
    }
}

#[derive(Debug, Args)]
pub struct ToolsArgs {
    /// Print the full tools/list JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// Tool name, e.g. run_sql_query.
    pub tool: String,
    /// Arguments as a JSON object.
    #[arg(default_value = "{}")]
    pub arguments: String,
    /// Request _meta as a JSON object, e.g. '{"warehouse_id":"abc"}'.
    #[arg(long)]
    pub meta: Option<String>,
    /// Print the whole MCP result as JSON instead of its text.
    #[arg(long)]
    pub json: bool,
    /// Also write the result view (table + chart) as a standalone HTML page with the
    /// result's rows in it: it opens offline, from a file. For SQL results.
    #[arg(long, value_name = "FILE")]
    pub view: Option<std::path::PathBuf>,
    /// Also write the result's chart as a standalone SVG file (the chart the view shows
    /// first, or --chart-kind). For SQL results.
    #[arg(long, value_name = "FILE")]
    pub chart: Option<std::path::PathBuf>,
    /// The chart --chart draws, when several fit.
    #[arg(long, value_name = "KIND", value_parser = ["bar", "line", "scatter"], requires = "chart")]
    pub chart_kind: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve_args(args: &[&str]) -> Option<ServeArgs> {
        let mut argv = vec!["databricks-mcp", "serve"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv).ok()?.command? {
            Command::Serve(s) => Some(s),
            _ => None,
        }
    }

    #[test]
    fn http_limits_come_from_flags_with_safe_defaults() {
        let defaults = serve_args(&[]).map(|s| s.limits.sessions());
        let expected = crate::transport::SessionLimits::default();
        assert_eq!(
            defaults.map(|l| (l.max_sessions, l.max_sessions_per_client, l.init_timeout)),
            Some((
                expected.max_sessions,
                expected.max_sessions_per_client,
                expected.init_timeout
            ))
        );
        let set = serve_args(&[
            "--max-sessions",
            "7",
            "--max-sessions-per-client",
            "3",
            "--session-idle-timeout",
            "60",
            "--session-init-timeout",
            "5",
            "--header-read-timeout",
            "4",
            "--max-connections",
            "50",
        ]);
        let set = set.map(|s| s.limits);
        assert_eq!(
            set.map(|l| (
                l.max_sessions,
                l.max_sessions_per_client,
                l.session_idle_timeout,
                l.session_init_timeout,
                l.header_read_timeout,
                l.max_connections
            )),
            Some((7, 3, 60, 5, 4, 50))
        );
        assert!(serve_args(&["--max-sessions", "0"]).is_none());
        assert!(serve_args(&["--header-read-timeout", "0"]).is_none());
    }
}
