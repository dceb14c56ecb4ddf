//! `databricks-emulator`: runs the Databricks REST emulator on a loopback port for
//! benchmarks and non-Rust tests.
//!
//! Prints one JSON line `{"base_url": "...", "pat": "..."}` on stdout once listening, logs on
//! stderr, and runs until stdin reaches end-of-file (so a parent process that dies takes the
//! emulator with it), SIGTERM or Ctrl-C.

use std::io::Write as _;
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
        latency: Duration::from_millis(args.latency_ms),
        jobs: args.jobs.unwrap_or(default.jobs),
        ..default
    };

    let emulator = match Emulator::bind(args.listen, config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("databricks-emulator: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };

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
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
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
