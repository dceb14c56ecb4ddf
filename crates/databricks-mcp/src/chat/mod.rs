//! `databricks-mcp chat`: an assistant in the terminal on a Databricks Model Serving chat
//! endpoint (or any OpenAI-compatible server) that uses this server's tools in-process,
//! or any MCP server's tools as a client.
//!
//! `--prompt TEXT` answers once (the answer on stdout, tool activity on stderr, `--json`
//! for the whole transcript); without it, an interactive session: streamed answers, a
//! line per tool call, Ctrl-C cancels the turn (and the statement upstream), a second
//! Ctrl-C exits; `/tools`, `/reset`, `/model NAME`, `/exit`.

pub mod agent;
pub mod model;
pub mod tools;

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use tokio::io::AsyncBufReadExt;
use tokio_util::sync::CancellationToken;

use agent::{Agent, Observer, ToolRecord, TurnError, brief_arguments};
use model::Model;
use tools::ToolHost;

#[derive(Debug, Args, Clone)]
pub struct ChatArgs {
    /// The Model Serving chat endpoint to talk to (task llm/v1/chat). Without it (and without --model-url) the workspace's chat endpoints are listed.
    #[arg(long, env = "DATABRICKS_MCP_CHAT_MODEL")]
    pub model: Option<String>,
    /// An OpenAI-compatible server instead (e.g. http://127.0.0.1:11434/v1 for Ollama): POST {url}/chat/completions. --model then names its model.
    #[arg(long)]
    pub model_url: Option<String>,
    /// Environment variable holding the bearer token for --model-url.
    #[arg(long)]
    pub model_token_env: Option<String>,
    /// Ask this once and print the answer (tool activity goes to stderr); without it, an interactive session.
    #[arg(long)]
    pub prompt: Option<String>,
    /// With --prompt: print the whole transcript as JSON (messages, tool calls, results, timings).
    #[arg(long)]
    pub json: bool,
    /// Most tool rounds per question.
    #[arg(long, default_value_t = 8)]
    pub max_tool_rounds: usize,
    /// Most tokens of each model answer.
    #[arg(long, default_value_t = 4096)]
    pub max_tokens: u32,
    /// Use the tools of the MCP server at this URL (streamable HTTP) instead of this server's own.
    #[arg(long, conflicts_with = "server_command")]
    pub server: Option<String>,
    /// Environment variable holding the bearer token for --server.
    #[arg(long)]
    pub server_token_env: Option<String>,
    /// Use the tools of the MCP server this command starts (stdio); it takes the rest of the command line, so put it last: --server-command databricks-mcp serve --local DIR.
    #[arg(long, num_args = 1.., allow_hyphen_values = true)]
    pub server_command: Vec<String>,
    /// Extra system instructions appended to the built-in ones.
    #[arg(long)]
    pub system: Option<PathBuf>,
}

/// Why the chat could not start or answer.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Connect(#[from] tools::ConnectError),
    #[error(transparent)]
    Turn(#[from] TurnError),
}

const SYSTEM: &str = "You are an assistant for a Databricks workspace. Answer questions by calling the tools: explore with the catalog tools before writing SQL, run SQL with run_sql_query, and diagnose jobs, clusters and pipelines with their tools. Keep answers short and say which tables or objects an answer comes from. Never invent data: if a tool fails, say so.";

/// Runs the chat; the exit status (0: answered).
pub async fn run(
    args: ChatArgs,
    state: std::sync::Arc<crate::AppState>,
) -> Result<std::process::ExitCode, ChatError> {
    let client = state.client.clone();
    let model = match (&args.model_url, &args.model) {
        (Some(url), model) => {
            let token = match &args.model_token_env {
                Some(var) => Some(std::env::var(var).map_err(|_| {
                    ChatError::Setup(format!("--model-token-env {var}: the variable is not set"))
                })?),
                None => None,
            };
            Model::OpenAi {
                http: reqwest::Client::new(),
                url: url.clone(),
                token,
                model: model.clone(),
            }
        }
        (None, Some(endpoint)) => Model::Databricks {
            client: client.clone(),
            endpoint: endpoint.clone(),
        },
        (None, None) => {
            let names = model::chat_endpoints(&client).await.map_err(|e| {
                ChatError::Setup(format!(
                    "no --model given, and listing the workspace's serving endpoints failed: {e}"
                ))
            })?;
            let mut text = String::from(
                "Pick a chat model with --model NAME (or DATABRICKS_MCP_CHAT_MODEL), or --model-url URL for an OpenAI-compatible server.\n",
            );
            if names.is_empty() {
                text.push_str("This workspace has no chat endpoints (task llm/v1/chat).");
            } else {
                text.push_str("The workspace's chat endpoints:\n");
                for n in &names {
                    text.push_str(&format!("  {n}\n"));
                }
            }
            return Err(ChatError::Setup(text.trim_end().to_string()));
        }
    };
    let host = if let Some(url) = &args.server {
        let token = args
            .server_token_env
            .as_ref()
            .and_then(|v| std::env::var(v).ok());
        ToolHost::http(url, token).await?
    } else if !args.server_command.is_empty() {
        ToolHost::command(&args.server_command).await?
    } else {
        ToolHost::InProcess(crate::DatabricksMcp::new(state.clone()))
    };
    let mut system = SYSTEM.to_string();
    if let Some(path) = &args.system {
        let extra = std::fs::read_to_string(path)
            .map_err(|e| ChatError::Setup(format!("--system {}: {e}", path.display())))?;
        system.push('\n');
        system.push_str(&extra);
    }
    let mut agent = Agent::new(model, host, args.max_tool_rounds.max(1), system);
    agent.max_tokens = args.max_tokens.max(16);
    match &args.prompt {
        Some(prompt) => once(&mut agent, prompt, args.json).await,
        None => interactive(&mut agent, &client).await,
    }
}

/// Shows tool activity on stderr; streams text to stdout when `stream_text`.
struct Terminal {
    stream_text: bool,
    wrote_text: bool,
}

impl Observer for Terminal {
    fn text(&mut self, delta: &str) {
        if self.stream_text {
            print!("{delta}");
            let _ = std::io::stdout().flush();
            self.wrote_text = true;
        }
    }

    fn tool_started(&mut self, name: &str, arguments: &str) {
        if self.wrote_text {
            println!();
            self.wrote_text = false;
        }
        eprint!("  ⏺ {name}({}) …", brief_arguments(arguments));
        let _ = std::io::stderr().flush();
    }

    fn tool_finished(&mut self, record: &ToolRecord) {
        eprintln!(
            "\r  {} {}({}) → {} chars, {:.1} s",
            if record.is_error { "✗" } else { "✓" },
            record.name,
            brief_arguments(&record.arguments.to_string()),
            record.result_chars,
            record.elapsed_ms as f64 / 1000.0
        );
    }
}

async fn once(
    agent: &mut Agent,
    prompt: &str,
    json: bool,
) -> Result<std::process::ExitCode, ChatError> {
    let mut terminal = Terminal {
        stream_text: false,
        wrote_text: false,
    };
    let cancel = CancellationToken::new();
    let turn = until_ctrl_c(agent.ask(prompt, &mut terminal, &cancel), &cancel).await?;
    if json {
        let transcript = serde_json::json!({
            "model": agent.model.label(),
            "answer": turn.answer,
            "rounds": turn.rounds,
            "stopped_at_round_limit": turn.stopped_at_round_limit,
            "elapsed_ms": turn.elapsed_ms,
            "tool_calls": turn.tool_calls,
            "messages": agent.messages,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&transcript).unwrap_or_default()
        );
    } else {
        println!("{}", turn.answer.trim_end());
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Drives `turn`, cancelling `cancel` on Ctrl-C and letting the turn wind down (its tool
/// cancels its statement upstream) rather than dropping it. The signal is awaited in this
/// future, not a spawned task: a busy runtime (the local engine at work) cannot delay it.
async fn until_ctrl_c<T>(
    turn: impl std::future::Future<Output = T>,
    cancel: &CancellationToken,
) -> T {
    tokio::pin!(turn);
    loop {
        tokio::select! {
            result = &mut turn => return result,
            signal = tokio::signal::ctrl_c(), if !cancel.is_cancelled() => {
                if signal.is_ok() {
                    cancel.cancel();
                }
            }
        }
    }
}

async fn interactive(
    agent: &mut Agent,
    client: &databricks_client::DatabricksClient,
) -> Result<std::process::ExitCode, ChatError> {
    eprintln!(
        "Chatting with {} ({} tools). /tools, /reset, /model NAME, /exit; Ctrl-C cancels a turn, twice exits.",
        agent.model.label(),
        agent.tools.list().await.len()
    );
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut terminal = Terminal {
        stream_text: true,
        wrote_text: false,
    };
    loop {
        eprint!("> ");
        let _ = std::io::stderr().flush();
        // Ctrl-C at the prompt exits.
        let line = tokio::select! {
            l = lines.next_line() => l,
            _ = tokio::signal::ctrl_c() => {
                eprintln!();
                break;
            }
        };
        let Ok(Some(line)) = line else { break };
        let line = line.trim();
        match line.split_whitespace().next() {
            None => continue,
            Some("/exit" | "/quit") => break,
            Some("/reset") => {
                agent.reset();
                eprintln!("(conversation forgotten)");
                continue;
            }
            Some("/tools") => {
                for t in agent.tools.list().await {
                    eprintln!("  {}", t.name);
                }
                continue;
            }
            Some("/model") => {
                match (line.split_whitespace().nth(1), &mut agent.model) {
                    (Some(name), Model::Databricks { endpoint, .. }) => {
                        *endpoint = name.to_string();
                        eprintln!("(now {})", agent.model.label());
                    }
                    (Some(name), Model::OpenAi { model, .. }) => {
                        *model = Some(name.to_string());
                        eprintln!("(now {})", agent.model.label());
                    }
                    (None, _) => match model::chat_endpoints(client).await {
                        Ok(names) => eprintln!("chat endpoints: {}", names.join(", ")),
                        Err(e) => eprintln!("cannot list the chat endpoints: {e}"),
                    },
                }
                continue;
            }
            Some(command) if command.starts_with('/') => {
                eprintln!("unknown command {command}: /tools, /reset, /model NAME, /exit");
                continue;
            }
            Some(_) => {}
        }
        let cancel = CancellationToken::new();
        let result = until_ctrl_c(agent.ask(line, &mut terminal, &cancel), &cancel).await;
        if terminal.wrote_text {
            println!();
            terminal.wrote_text = false;
        }
        match result {
            Ok(turn) if turn.stopped_at_round_limit || !terminal.stream_text => {
                println!("{}", turn.answer);
            }
            Ok(_) => {}
            Err(TurnError::Cancelled) => {
                eprintln!("(cancelled; Ctrl-C again to exit)");
                // A second Ctrl-C right away exits.
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => break,
                    () = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
                }
            }
            Err(e) => eprintln!("error: {e}"),
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
