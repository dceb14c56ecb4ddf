//! The `databricks-mcp` binary: parses the command line, sets up logging on stderr and
//! runs the chosen command. The only place that uses `anyhow`.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use databricks_client::ProcessEnv;
use databricks_mcp::cli::{
    CallArgs, Cli, Command, CommonArgs, LocalCommand, ServeArgs, ToolsArgs, TransportKind,
};
use databricks_mcp::tools::{Registry, SurfaceOptions, ToolSelection};
use databricks_mcp::transport::{self, HttpOptions};
use databricks_mcp::{DatabricksMcp, doctor, startup};
use tokio_util::sync::CancellationToken;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let all_tools = AllTools::build(SurfaceOptions {
        allow_writes: cli.common.allow_writes,
    });
    // `doctor` prints a checklist: the default `info` lines would interleave with it, so
    // it logs warnings only unless a level was asked for.
    // Commands a person reads (doctor's checklist, a chat) log warnings only by default.
    let doctor = matches!(cli.command, Some(Command::Doctor | Command::Chat(_)));
    let default_level =
        cli.common.log == "info" && std::env::var_os("DATABRICKS_MCP_LOG").is_none();
    init_logging(if doctor && default_level {
        "warn"
    } else {
        &cli.common.log
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("databricks-mcp: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli, all_tools)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("databricks-mcp: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Libraries whose `info` logs are per-query chatter, quieted unless named in `--log`.
const NOISY_TARGETS: &[&str] = &[
    "buoyant_kernel",
    "delta_kernel",
    "deltalake",
    "deltalake_core",
    "datafusion",
    "hyper",
];

fn init_logging(filter: &str) {
    let mut env_filter = tracing_subscriber::EnvFilter::try_new(filter)
        .or_else(|_| tracing_subscriber::EnvFilter::try_new("info"))
        .unwrap_or_default()
        // rmcp logs a harmless error when a cancelled HTTP request's stream closes.
        .add_directive("rmcp::service=warn".parse().unwrap_or_default());
    for target in NOISY_TARGETS {
        if !filter.contains(target) {
            // The Delta kernel logs expected misses (a table not created yet) as errors.
            let level = if *target == "buoyant_kernel" {
                "off"
            } else {
                "warn"
            };
            if let Ok(d) = format!("{target}={level}").parse() {
                env_filter = env_filter.add_directive(d);
            }
        }
    }
    let filter = env_filter;
    // stdout is the JSON-RPC channel in stdio mode: logs go to stderr, always.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
}

/// Every tool of the full surface ([`Registry::every`]), built on a thread of its own:
/// their JSON Schemas are the largest piece of start-up work, done while the logging, the
/// runtime and the configuration are set up. `serve` waits for them.
struct AllTools {
    options: SurfaceOptions,
    building: Option<std::thread::JoinHandle<Registry>>,
}

impl AllTools {
    fn build(options: SurfaceOptions) -> AllTools {
        let building = std::thread::Builder::new()
            .name("tool-registry".into())
            .spawn(move || Registry::every(options))
            .ok();
        AllTools { options, building }
    }

    /// The tools, built with `options` (again, should the thread have failed or the
    /// options differ).
    fn wait(self, options: SurfaceOptions) -> Registry {
        self.building
            .filter(|_| self.options.allow_writes == options.allow_writes)
            .and_then(|building| building.join().ok())
            .unwrap_or_else(|| Registry::every(options))
    }
}

async fn run(cli: Cli, all_tools: AllTools) -> anyhow::Result<ExitCode> {
    let common = cli.common;
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Tools(args) => list_tools(&common, &args),
        Command::Call(args) => call_tool(&common, args).await,
        Command::Chat(args) => {
            let state = startup::build_state(&common, &ProcessEnv).await?;
            match databricks_mcp::chat::run(args, state).await {
                Ok(code) => Ok(code),
                Err(e) => {
                    eprintln!("databricks-mcp chat: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Local(LocalCommand::Api(args)) => {
            startup::serve_local_api(&common, args.listen).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Doctor => {
            let mut report = String::new();
            let ok = doctor::run(&common, &ProcessEnv, &mut report).await;
            print!("{report}");
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Serve(args) => serve(&common, args, all_tools).await,
    }
}

/// `tools`: the tool list, as JSON or one block per tool.
fn list_tools(common: &CommonArgs, args: &ToolsArgs) -> anyhow::Result<ExitCode> {
    let selection = ToolSelection::parse(&common.toolsets, &common.tools)?;
    let registry = Registry::full(SurfaceOptions {
        allow_writes: common.allow_writes,
    })
    .select(&selection);
    if args.json {
        let tools = serde_json::json!({ "tools": registry.list() });
        println!("{}", serde_json::to_string_pretty(&tools)?);
    } else {
        // One block per tool: its signature and kind, then its description.
        for def in registry.iter() {
            let a = def.tool.annotations.clone().unwrap_or_default();
            println!(
                "{}  [{}{}]\n    {}\n",
                def.signature(),
                def.toolset.name(),
                if a.read_only_hint == Some(true) {
                    ", read-only"
                } else {
                    ", writes"
                },
                def.tool.description.as_deref().unwrap_or("")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `call`: one tool call, its text on stdout, the view or chart written when asked.
async fn call_tool(common: &CommonArgs, args: CallArgs) -> anyhow::Result<ExitCode> {
    let arguments: serde_json::Value =
        serde_json::from_str(&args.arguments).context("the arguments are not valid JSON")?;
    let serde_json::Value::Object(arguments) = arguments else {
        anyhow::bail!("the arguments must be a JSON object, e.g. '{{\"query\": \"SELECT 1\"}}'");
    };
    let meta = match args.meta.as_deref() {
        Some(m) => match serde_json::from_str(m).context("--meta is not valid JSON")? {
            serde_json::Value::Object(o) => o,
            _ => anyhow::bail!("--meta must be a JSON object"),
        },
        None => serde_json::Map::new(),
    };
    let state = startup::build_state(common, &ProcessEnv).await?;
    let server = DatabricksMcp::new(state);
    let outputs = databricks_mcp::view::Outputs {
        page: args.view.clone(),
        chart: args.chart.clone(),
        chart_kind: args
            .chart_kind
            .as_deref()
            .and_then(databricks_mcp::view::chart::ChartKind::parse),
    };
    let arguments_value = serde_json::Value::Object(arguments.clone());
    let result = server
        .call_direct(&args.tool, Some(arguments), meta)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let failed = result.is_error == Some(true);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        for content in &result.content {
            if let Some(text) = content.as_text() {
                println!("{}", text.text);
            }
        }
    }
    if failed {
        if outputs.page.is_some() || outputs.chart.is_some() {
            eprintln!("databricks-mcp: the tool failed; no view or chart written");
        }
        return Ok(ExitCode::FAILURE);
    }
    if outputs.page.is_some() || outputs.chart.is_some() {
        let written = databricks_mcp::view::write_outputs(
            &args.tool,
            &arguments_value,
            result.structured_content.as_ref(),
            &outputs,
        )
        .context("no view or chart written")?;
        for path in written {
            eprintln!("databricks-mcp: wrote {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `serve`: stdio or streamable HTTP until the client leaves or Ctrl-C.
async fn serve(
    common: &CommonArgs,
    args: ServeArgs,
    all_tools: AllTools,
) -> anyhow::Result<ExitCode> {
    let state = startup::build_state(common, &ProcessEnv)
        .await
        .context("cannot start: the Databricks configuration is incomplete or invalid (run `databricks-mcp doctor` for details)")?;
    let options = SurfaceOptions {
        allow_writes: state.settings.allow_writes,
    };
    let server = DatabricksMcp::with_all_tools(state, all_tools.wait(options));
    match args.transport {
        TransportKind::Stdio => {
            let server = match args.managed.surface()? {
                Some(surface) => server.with_surface(surface),
                None => server,
            };
            transport::serve_stdio(server).await?
        }
        TransportKind::Http => {
            if args.managed.surface.is_some() {
                anyhow::bail!(
                    "--surface applies to stdio; over HTTP every surface has its own route (/mcp, /api/2.0/mcp/sql, /api/2.0/mcp/vector-search/CATALOG/SCHEMA, ...)"
                );
            }
            let security = databricks_mcp::http_auth::Security::from_args(
                &args.managed.security,
                std::env::var(databricks_mcp::http_auth::TOKENS_ENV)
                    .ok()
                    .as_deref(),
            )?;
            if let Some(oauth) = security.oauth.clone() {
                // Discovery at startup shows a wrong --oauth-issuer in the log at once.
                tokio::spawn(async move { oauth.prefetch().await });
            }
            let shutdown = CancellationToken::new();
            let signal = shutdown.clone();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                signal.cancel();
            });
            let options = HttpOptions {
                listen: args.listen,
                allowed_hosts: args.allowed_hosts,
                allowed_origins: args.allowed_origins,
                max_body_bytes: args.max_body_bytes,
                security,
                sessions: args.limits.sessions(),
                max_connections: args.limits.max_connections,
                header_read_timeout: std::time::Duration::from_secs(
                    args.limits.header_read_timeout,
                ),
            };
            transport::serve_http(server, options, shutdown).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
