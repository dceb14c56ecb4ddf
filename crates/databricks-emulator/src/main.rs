//! `databricks-emulator`: runs the Databricks REST emulator on a loopback port for
//! benchmarks and non-Rust tests.
//!
//! Prints one JSON line `{"base_url": "...", "pat": "..."}` on stdout once listening, logs on
//! stderr, and runs until stdin reaches end-of-file (so a parent process that dies takes the
//! emulator with it), SIGTERM or Ctrl-C.

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use databricks_emulator::{Emulator, EmulatorConfig};

#[derive(Debug, Parser)]
#[command(
    name = "databricks-emulator",
    version,
    about = "Loopback emulator of the Databricks REST API (test support)"
)]
struct Args {
    /// Address to listen on; must be a loopback address.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Latency added to every /api/ response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Accepted personal access token.
    #[arg(long)]
    pat: Option<String>,
    /// Number of jobs served by jobs/list (default: the fixture's).
    #[arg(long)]
    jobs: Option<usize>,
    /// OAuth M2M client id.
    #[arg(long)]
    client_id: Option<String>,
    /// OAuth M2M client secret.
    #[arg(long)]
    client_secret: Option<String>,
    /// Lifetime of issued OAuth tokens, in seconds.
    #[arg(long)]
    token_ttl_secs: Option<u64>,
    /// Statements answer PENDING for this many polls before their result.
    #[arg(long, default_value_t = 0)]
    statement_pending_polls: u32,
    /// Answer the hybrid disposition INLINE_OR_EXTERNAL_LINKS as a workspace that does
    /// not know it (400), as older workspaces may.
    #[arg(long)]
    no_hybrid_disposition: bool,
    /// Do not record requests (long benchmarks).
    #[arg(long)]
    no_record: bool,
    /// Keep running when stdin closes (e.g. when started with stdin from /dev/null).
    #[arg(long)]
    ignore_stdin: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(false)
        .init();

    if !args.listen.ip().is_loopback() {
        eprintln!(
            "databricks-emulator: refusing to listen on {}: only loopback addresses are allowed",
            args.listen
        );
        return ExitCode::from(2);
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("databricks-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    let default = EmulatorConfig::default();
    let config = EmulatorConfig {
        pat: args.pat.unwrap_or(default.pat),
        client_id: args.client_id.unwrap_or(default.client_id),
        client_secret: args.client_secret.unwrap_or(default.client_secret),
        m2m_token_ttl: args
            .token_ttl_secs
            .map_or(default.m2m_token_ttl, Duration::from_secs),
        latency: Duration::from_millis(args.latency_ms),
        jobs: args.jobs.unwrap_or(default.jobs),
        statement_pending_polls: args.statement_pending_polls,
        hybrid_disposition: !args.no_hybrid_disposition,
    };

    let emulator = match Emulator::bind(args.listen, config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("databricks-emulator: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    emulator.set_recording(!args.no_record);

    let line = serde_json::json!({ "base_url": emulator.base_url(), "pat": emulator.pat() });
    {
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            return ExitCode::FAILURE;
        }
    }
    tracing::info!(base_url = %emulator.base_url(), "databricks-emulator listening");

    // stdin EOF, watched on a plain thread (blocking read).
    let (eof_tx, eof_rx) = tokio::sync::oneshot::channel::<()>();
    if !args.ignore_stdin {
        std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            let mut stdin = std::io::stdin().lock();
            while let Ok(n) = stdin.read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
            let _ = eof_tx.send(());
        });
    }
    let stdin_closed = async {
        if args.ignore_stdin {
            std::future::pending::<()>().await;
        }
        let _ = eof_rx.await;
    };

    tokio::select! {
        () = stdin_closed => tracing::info!("stdin closed; stopping"),
        () = ctrl_c() => tracing::info!("interrupted; stopping"),
        () = sigterm() => tracing::info!("SIGTERM; stopping"),
    }
    // Don't wait for lingering keep-alive connections for long.
    let _ = tokio::time::timeout(Duration::from_secs(2), emulator.shutdown()).await;
    ExitCode::SUCCESS
}

async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(unix)]
async fn sigterm() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending::<()>().await,
    }
}

#[cfg(not(unix))]
async fn sigterm() {
    std::future::pending::<()>().await;
}
