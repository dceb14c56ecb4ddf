//! Writes are confirmed by the person, not the model.
//!
//! The operator decides whether writes exist at all (`--allow-writes`); with them, every
//! write tool (and every SQL write of `run_sql_query`) calls [`CallContext::confirm`] with
//! the exact action before anything is sent. How the person is asked depends on the
//! client and `--confirm-writes`:
//!
//! - `elicit` (default): a 2025-era session that declared elicitation gets an
//!   `elicitation/create` request and the call waits for the answer; a 2026-07-28 request
//!   whose client declared elicitation gets an `input_required` result (MRTR) and the
//!   action runs on the retry that carries the answer. A client that cannot elicit falls
//!   back to `token`.
//! - `token`: the first call answers with a one-time code bound to the tool, its exact
//!   arguments and the client, valid five minutes; the model asks the person and calls
//!   again with `confirmation_code`.
//! - `never`: unattended agents; the operator takes the responsibility.
//!
//! The MRTR `requestState` is only an opaque handle to server-side state (the binding and
//! its expiry), so an attacker-controlled echo cannot change what is confirmed.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema,
    InputRequest, InputRequests, InputResponses, JsonObject,
};
use rmcp::{Peer, RoleServer};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::context::CallContext;
use crate::error::ToolError;

/// `--confirm-writes`: how a write is confirmed by the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ConfirmMode {
    /// Ask through the client (MCP elicitation); a one-time code when it cannot ask.
    #[default]
    Elicit,
    /// Always the one-time code the model passes back after asking the person.
    Token,
    /// Never ask: for unattended agents.
    Never,
}

/// How long a confirmation code (or a pending MRTR confirmation) stays valid.
pub const CODE_TTL: Duration = Duration::from_secs(5 * 60);
/// How long a 2025-era elicitation waits for the person before giving up.
const ELICIT_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Pending confirmations kept at most (oldest dropped first): bounded memory whatever
/// the clients do.
const MAX_PENDING: usize = 1024;
/// The `inputRequests` key of the confirmation.
const INPUT_KEY: &str = "confirm";
/// The argument that carries a code back.
pub const CODE_ARGUMENT: &str = "confirmation_code";

/// How this call can reach the person.
#[derive(Clone, Default)]
pub enum Channel {
    /// Nobody can be asked through the client: the one-time code.
    #[default]
    Code,
    /// A 2025-era session that declared elicitation: ask and wait.
    Elicit(Peer<RoleServer>),
    /// A 2026-07-28 request whose client declared elicitation: ask with
    /// `input_required`; the retry carries the answer.
    Rounds {
        responses: Option<InputResponses>,
        state: Option<String>,
    },
    /// The `call` command in a terminal: ask on the terminal.
    Terminal,
    /// The `call` command without a terminal: nobody can confirm.
    Nobody,
}

impl Channel {
    /// The channel of the `call` command.
    pub fn for_command_line() -> Channel {
        if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            Channel::Terminal
        } else {
            Channel::Nobody
        }
    }
}

/// One tool call as the confirmation and the audit log see it.
#[derive(Clone, Default)]
pub struct WriteCall {
    pub tool: String,
    /// The arguments without `confirmation_code`: what a confirmation is bound to.
    pub arguments: JsonObject,
    pub code: Option<String>,
    pub channel: Channel,
    /// Who called (audit log, binding): `stdio`, `cli`, or the HTTP client.
    pub client: String,
    /// What the confirmation found, for the audit line.
    pub record: Arc<Mutex<Record>>,
}

/// The confirmation's part of an audit line.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub target: Option<String>,
    pub confirmation: Option<&'static str>,
}

impl WriteCall {
    fn note(&self, target: &str, confirmation: &'static str) {
        let mut record = self.record.lock().unwrap_or_else(|p| p.into_inner());
        record.target = Some(target.to_string());
        record.confirmation = Some(confirmation);
    }

    pub fn recorded(&self) -> Record {
        self.record
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Confirmations handed out and not yet used: codes and MRTR handles alike.
#[derive(Default)]
pub struct Pending {
    entries: Mutex<HashMap<String, Binding>>,
}

#[derive(Clone, PartialEq, Eq)]
struct Binding {
    digest: [u8; 32],
    client: String,
    expires: Instant,
}

/// Why a code or handle was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    Unknown,
    Expired,
    OtherCall,
}

impl Pending {
    /// A new one-time code for `call` (8 characters, unambiguous alphabet).
    fn issue(&self, call: &WriteCall) -> String {
        let code = new_code();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        entries.retain(|_, b| b.expires > now);
        if entries.len() >= MAX_PENDING
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, b)| b.expires)
                .map(|(k, _)| k.clone())
        {
            entries.remove(&oldest);
        }
        entries.insert(
            code.clone(),
            Binding {
                digest: digest(&call.tool, &call.arguments),
                client: call.client.clone(),
                expires: now + CODE_TTL,
            },
        );
        code
    }

    /// Uses `code` for `call`: it must exist, be unexpired and bound to this tool, these
    /// arguments and this client. A code is used once, whatever the outcome.
    fn take(&self, code: &str, call: &WriteCall) -> Result<(), Stale> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let binding = entries.remove(code.trim()).ok_or(Stale::Unknown)?;
        if binding.expires <= Instant::now() {
            return Err(Stale::Expired);
        }
        if binding.digest != digest(&call.tool, &call.arguments) || binding.client != call.client {
            return Err(Stale::OtherCall);
        }
        Ok(())
    }
}

/// A code like `K7QX-M2PD`: 40 bits from a v4 UUID, in letters and digits that cannot be
/// confused (no 0/O, 1/I/L).
fn new_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let chars: String = bytes
        .iter()
        .take(8)
        .filter_map(|b| ALPHABET.get(usize::from(*b) % ALPHABET.len()))
        .map(|b| char::from(*b))
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// The tool and its arguments, canonically (object keys sorted at every level).
fn digest(tool: &str, arguments: &JsonObject) -> [u8; 32] {
    fn canonical(value: &Value) -> Value {
        match value {
            Value::Object(o) => {
                let mut keys: Vec<&String> = o.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), canonical(&o[k])))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
            other => other.clone(),
        }
    }
    let text = canonical(&Value::Object(arguments.clone())).to_string();
    let mut hasher = Sha256::new();
    hasher.update(tool.as_bytes());
    hasher.update([0]);
    hasher.update(text.as_bytes());
    hasher.finalize().into()
}

impl CallContext {
    /// Asks the person to confirm `question` (one sentence naming the exact action and
    /// target, e.g. "Terminate cluster 0101-… 'etl-prod' (RUNNING, 8 workers)?") before a
    /// write. `Ok` means go ahead; otherwise the error is the answer: declined, a code to
    /// pass back, or (2026-07-28) the `input_required` round.
    pub async fn confirm(&self, target: &str, question: &str) -> Result<(), ToolError> {
        let gate = &self.state.writes;
        let call = &self.write;
        if gate.mode == ConfirmMode::Never {
            call.note(target, "not_required");
            return Ok(());
        }
        if let Some(code) = &call.code {
            return match gate.pending.take(code, call) {
                Ok(()) => {
                    call.note(target, "code_accepted");
                    Ok(())
                }
                Err(stale) => {
                    call.note(target, "code_refused");
                    Err(ToolError::new(format!(
                        "confirmation_code {code:?} {}. Nothing was done: call {} again without confirmation_code to get a new one.",
                        match stale {
                            Stale::Unknown => "is not one this server issued, or was already used",
                            Stale::Expired => "has expired (codes last 5 minutes)",
                            Stale::OtherCall => "was issued for other arguments or another client",
                        },
                        call.tool
                    )))
                }
            };
        }
        match (&call.channel, gate.mode) {
            (Channel::Elicit(peer), ConfirmMode::Elicit) => {
                match elicit(peer, question).await {
                    Some(action) => self.decided(target, question, action),
                    // The client declared elicitation but did not answer it: the code.
                    None => Err(self.code_answer(target, question)),
                }
            }
            (Channel::Rounds { responses, state }, ConfirmMode::Elicit) => {
                match (responses, state) {
                    (Some(responses), Some(state)) => {
                        if let Err(stale) = gate.pending.take(state, call) {
                            call.note(target, "stale_round");
                            return Err(ToolError::new(format!(
                                "the confirmation round of {} is {} ({stale:?}); nothing was done: call it again.",
                                call.tool,
                                if stale == Stale::Expired {
                                    "over"
                                } else {
                                    "not valid"
                                }
                            )));
                        }
                        let action = responses
                            .get(INPUT_KEY)
                            .and_then(|v| serde_json::from_value::<ElicitResult>(v.clone()).ok())
                            .map(|r| r.action)
                            .unwrap_or(ElicitationAction::Cancel);
                        self.decided(target, question, action)
                    }
                    _ => {
                        call.note(target, "asked");
                        let handle = gate.pending.issue(call);
                        Err(ToolError::input_required(input_request(question), handle))
                    }
                }
            }
            (Channel::Terminal, _) => {
                let action = ask_terminal(question.to_string()).await;
                self.decided(target, question, action)
            }
            (Channel::Nobody, _) => {
                call.note(target, "unavailable");
                Err(ToolError::new(format!(
                    "{} changes the workspace and needs the person's confirmation, but this command has no terminal to ask on. Run it in a terminal, or start it with --confirm-writes never to act without asking.",
                    call.tool
                )))
            }
            _ => Err(self.code_answer(target, question)),
        }
    }

    fn decided(
        &self,
        target: &str,
        question: &str,
        action: ElicitationAction,
    ) -> Result<(), ToolError> {
        let call = &self.write;
        match action {
            ElicitationAction::Accept => {
                call.note(target, "accepted");
                Ok(())
            }
            ElicitationAction::Decline => {
                call.note(target, "declined");
                Err(ToolError::not_confirmed(format!(
                    "Not done: the user declined \"{}\". Nothing was changed.",
                    question.trim_end_matches('?')
                )))
            }
            _ => {
                call.note(target, "cancelled");
                Err(ToolError::not_confirmed(format!(
                    "Not done: the user cancelled the confirmation of \"{}\". Nothing was changed.",
                    question.trim_end_matches('?')
                )))
            }
        }
    }

    /// The first call of the code flow: a code bound to this call, and what to do with it.
    fn code_answer(&self, target: &str, question: &str) -> ToolError {
        let call = &self.write;
        call.note(target, "code_issued");
        let code = self.state.writes.pending.issue(call);
        ToolError::not_confirmed(format!(
            "Confirmation needed, nothing was done yet. Ask the user: \"{question}\" Only if they agree, call {} again with the same arguments plus confirmation_code: \"{code}\" (valid 5 minutes, once).",
            call.tool
        ))
    }
}

/// The `elicitation/create` form of a confirmation: no fields, the answer is the action.
fn form(question: &str) -> ElicitRequestParams {
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: question.to_string(),
        requested_schema: ElicitationSchema::new(Default::default()),
    }
}

fn input_request(question: &str) -> InputRequests {
    let mut requests = InputRequests::new();
    requests.insert(
        INPUT_KEY.to_string(),
        InputRequest::Elicitation(ElicitRequest::new(form(question))),
    );
    requests
}

/// Asks a 2025-era client; `None` when it did not answer (error or timeout).
async fn elicit(peer: &Peer<RoleServer>, question: &str) -> Option<ElicitationAction> {
    match peer
        .create_elicitation_with_timeout(form(question), Some(ELICIT_TIMEOUT))
        .await
    {
        Ok(result) => Some(result.action),
        Err(e) => {
            tracing::warn!(error = %e, "elicitation failed; answering with a confirmation code");
            None
        }
    }
}

/// Asks on the terminal (`call` command): only `y`/`yes` goes ahead.
async fn ask_terminal(question: String) -> ElicitationAction {
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{BufRead, Write};
        let mut stderr = std::io::stderr();
        let _ = write!(stderr, "{question} [y/N] ");
        let _ = stderr.flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await;
    match answer {
        Ok(Ok(line)) if matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes") => {
            ElicitationAction::Accept
        }
        Ok(Ok(line)) if line.is_empty() => ElicitationAction::Cancel,
        _ => ElicitationAction::Decline,
    }
}

/// The operator's write policy at run time: the mode, the codes handed out, the audit log.
#[derive(Default)]
pub struct WriteGate {
    pub mode: ConfirmMode,
    pub pending: Pending,
    pub audit: Option<crate::audit::AuditLog>,
}

impl WriteGate {
    pub fn new(mode: ConfirmMode, audit: Option<crate::audit::AuditLog>) -> WriteGate {
        WriteGate {
            mode,
            pending: Pending::default(),
            audit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(tool: &str, args: Value, client: &str) -> WriteCall {
        WriteCall {
            tool: tool.into(),
            arguments: args.as_object().cloned().unwrap_or_default(),
            client: client.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_code_is_bound_to_the_tool_the_arguments_and_the_client_and_used_once() {
        let pending = Pending::default();
        let a = call("cancel_run", json!({"run_id": 1}), "stdio");
        let code = pending.issue(&a);
        assert_eq!(code.len(), 9);
        let other_args = call("cancel_run", json!({"run_id": 2}), "stdio");
        assert_eq!(pending.take(&code, &other_args), Err(Stale::OtherCall));
        // Refused once, gone: a guess cannot be retried against it.
        assert_eq!(pending.take(&code, &a), Err(Stale::Unknown));
        let code = pending.issue(&a);
        let other_client = call("cancel_run", json!({"run_id": 1}), "http");
        assert_eq!(pending.take(&code, &other_client), Err(Stale::OtherCall));
        let code = pending.issue(&a);
        assert_eq!(pending.take(&code, &a), Ok(()));
        assert_eq!(pending.take(&code, &a), Err(Stale::Unknown));
    }

    #[test]
    fn argument_order_does_not_change_the_binding() {
        let a = json!({"a": 1, "b": {"x": 1, "y": 2}});
        let b = json!({"b": {"y": 2, "x": 1}, "a": 1});
        assert_eq!(
            digest("t", a.as_object().expect("test value")),
            digest("t", b.as_object().expect("test value"))
        );
        assert_ne!(
            digest("t", a.as_object().expect("test value")),
            digest("u", a.as_object().expect("test value"))
        );
    }

    #[test]
    fn pending_confirmations_are_bounded() {
        let pending = Pending::default();
        let a = call("t", json!({}), "c");
        for _ in 0..(MAX_PENDING + 10) {
            pending.issue(&a);
        }
        assert!(pending.entries.lock().expect("test value").len() <= MAX_PENDING);
    }
}
