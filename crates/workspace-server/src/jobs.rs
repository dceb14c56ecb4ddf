//! Jobs API 2.2 (REFERENCE.md §4): the protocol of `runs/repair`, shared by the fronts
//! that still route jobs themselves (the emulator, the local workspace) until jobs move
//! here. Runs are the JSON objects those fronts keep (`Run` with its `tasks[]`).

use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::jobs::RepairRunRequest;
use serde_json::Value;

/// The body of `POST jobs/runs/repair`, type-checked: `run_id` is required (an integer,
/// or a string of one as some clients send int64s), `rerun_tasks` an array of task keys,
/// the flags booleans.
pub fn repair_request(body: Option<&Value>) -> Result<RepairRunRequest, ApiError> {
    let Some(Value::Object(body)) = body else {
        return Err(ApiError::invalid_parameter(
            "The request body must be a JSON object.",
        ));
    };
    let integer = |name: &str| -> Result<Option<i64>, ApiError> {
        match body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .map(Some)
                .ok_or_else(|| {
                    ApiError::invalid_parameter(format!("{name} must be an integer, got {v}."))
                }),
        }
    };
    let flag = |name: &str| -> Result<Option<bool>, ApiError> {
        match body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(ApiError::invalid_parameter(format!(
                "{name} must be a boolean, got {v}."
            ))),
        }
    };
    let rerun_tasks = match body.get("rerun_tasks") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(keys)) => keys
            .iter()
            .map(|k| {
                k.as_str().map(str::to_string).ok_or_else(|| {
                    ApiError::invalid_parameter("rerun_tasks must be an array of task keys.")
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ApiError::invalid_parameter(
                "rerun_tasks must be an array of task keys.",
            ));
        }
    };
    let job_parameters = match body.get("job_parameters") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(v) => {
            return Err(ApiError::invalid_parameter(format!(
                "job_parameters must be a map of strings, got {v}."
            )));
        }
    };
    Ok(RepairRunRequest {
        run_id: integer("run_id")?.ok_or_else(|| ApiError::missing_parameter("run_id"))?,
        rerun_tasks,
        rerun_all_failed_tasks: flag("rerun_all_failed_tasks")?,
        rerun_dependent_tasks: flag("rerun_dependent_tasks")?,
        latest_repair_id: integer("latest_repair_id")?,
        job_parameters,
    })
}

/// Whether a run or task run has finished.
pub fn is_finished(run: &Value) -> bool {
    matches!(
        run.pointer("/state/life_cycle_state")
            .and_then(Value::as_str),
        Some("TERMINATED" | "SKIPPED" | "INTERNAL_ERROR")
    )
}

/// Whether a finished task did not succeed: what `rerun_all_failed_tasks` re-runs
/// (failed, timed out, canceled, skipped because an upstream task failed).
pub fn is_unsuccessful(task: &Value) -> bool {
    let life = task
        .pointer("/state/life_cycle_state")
        .and_then(Value::as_str);
    let result = task.pointer("/state/result_state").and_then(Value::as_str);
    matches!(life, Some("SKIPPED" | "INTERNAL_ERROR"))
        || matches!(
            result,
            Some(
                "FAILED"
                    | "TIMEDOUT"
                    | "CANCELED"
                    | "UPSTREAM_FAILED"
                    | "UPSTREAM_CANCELED"
                    | "MAXIMUM_CONCURRENT_RUNS_REACHED"
            )
        )
}

/// The id of a run's latest repair, if it was repaired.
pub fn latest_repair_id(run: &Value) -> Option<i64> {
    run.get("repair_history")?
        .as_array()?
        .iter()
        .rev()
        .find_map(|r| r.get("id").and_then(Value::as_i64))
}

fn task_key(task: &Value) -> &str {
    task.get("task_key").and_then(Value::as_str).unwrap_or("")
}

/// The task keys a repair of `run` re-runs, in the run's task order. Only a finished run
/// may be repaired (400 `INVALID_STATE`); `latest_repair_id`, when given, must be the
/// run's latest repair; an unknown key in `rerun_tasks` or nothing to re-run is a 400
/// `INVALID_PARAMETER_VALUE`.
pub fn repair_plan(run: &Value, request: &RepairRunRequest) -> Result<Vec<String>, ApiError> {
    let id = request.run_id;
    if !is_finished(run) {
        return Err(ApiError::new(
            ErrorCode::InvalidState,
            format!("Run {id} is still active: only a finished run can be repaired."),
        ));
    }
    if let Some(given) = request.latest_repair_id
        && Some(given) != latest_repair_id(run)
    {
        return Err(ApiError::invalid_parameter(format!(
            "latest_repair_id {given} is not the latest repair of run {id}."
        )));
    }
    let tasks: &[Value] = run
        .get("tasks")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    if let Some(unknown) = request
        .rerun_tasks
        .iter()
        .find(|k| !tasks.iter().any(|t| task_key(t) == k.as_str()))
    {
        return Err(ApiError::invalid_parameter(format!(
            "Task key '{unknown}' does not exist in run {id}."
        )));
    }
    let all_failed = request.rerun_all_failed_tasks == Some(true);
    if !all_failed && request.rerun_tasks.is_empty() {
        return Err(ApiError::invalid_parameter(
            "Either rerun_tasks or rerun_all_failed_tasks must be set.",
        ));
    }
    let mut keys: Vec<&str> = tasks
        .iter()
        .filter(|t| {
            request.rerun_tasks.iter().any(|k| k == task_key(t))
                || (all_failed && is_unsuccessful(t))
        })
        .map(task_key)
        .collect();
    if request.rerun_dependent_tasks == Some(true) {
        // Whatever depends on a re-run task, directly or not.
        loop {
            let added: Vec<&str> = tasks
                .iter()
                .filter(|t| !keys.contains(&task_key(t)))
                .filter(|t| {
                    t.get("depends_on")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|d| d.get("task_key").and_then(Value::as_str))
                        .any(|d| keys.contains(&d))
                })
                .map(task_key)
                .collect();
            if added.is_empty() {
                break;
            }
            keys.extend(added);
        }
        keys.sort_by_key(|k| tasks.iter().position(|t| task_key(t) == *k));
    }
    if keys.is_empty() {
        return Err(ApiError::invalid_parameter(format!(
            "Run {id} has no failed tasks to repair."
        )));
    }
    Ok(keys.into_iter().map(str::to_string).collect())
}

/// Appends a `REPAIR` entry to the run's `repair_history` (adding `original`, the run's
/// first attempt, when the history is new), as both backends record a repair.
pub fn record_repair(
    run: &mut Value,
    original: Value,
    repair_id: i64,
    now: i64,
    task_run_ids: Vec<i64>,
) {
    let history = run.as_object_mut().map(|o| {
        o.entry("repair_history")
            .or_insert_with(|| Value::Array(Vec::new()))
    });
    if let Some(Value::Array(h)) = history {
        if h.is_empty() {
            h.push(original);
        }
        h.push(serde_json::json!({
            "type": "REPAIR",
            "id": repair_id,
            "start_time": now,
            "end_time": 0,
            "task_run_ids": task_run_ids,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run() -> Value {
        json!({
            "run_id": 1,
            "state": {"life_cycle_state": "TERMINATED", "result_state": "FAILED"},
            "tasks": [
                {"task_key": "a", "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"}},
                {"task_key": "b", "state": {"life_cycle_state": "TERMINATED", "result_state": "FAILED"}},
                {"task_key": "c", "depends_on": [{"task_key": "b"}], "state": {"life_cycle_state": "SKIPPED"}},
                {"task_key": "d", "depends_on": [{"task_key": "a"}], "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"}},
            ],
        })
    }

    fn request(body: Value) -> RepairRunRequest {
        repair_request(Some(&body)).expect("a valid request")
    }

    #[test]
    fn failed_listed_and_dependent_tasks_are_chosen() {
        let r = run();
        assert_eq!(
            repair_plan(
                &r,
                &request(json!({"run_id": 1, "rerun_all_failed_tasks": true}))
            ),
            Ok(vec!["b".to_string(), "c".to_string()])
        );
        assert_eq!(
            repair_plan(
                &r,
                &request(
                    json!({"run_id": "1", "rerun_tasks": ["a"], "rerun_dependent_tasks": true})
                )
            ),
            Ok(vec!["a".to_string(), "d".to_string()])
        );
    }

    #[test]
    fn bad_repairs_are_refused() {
        let r = run();
        let code = |body: Value| {
            repair_plan(&r, &request(body)).map_err(|e| (e.status, e.body.error_code))
        };
        let invalid = Err((400, "INVALID_PARAMETER_VALUE".to_string()));
        assert_eq!(code(json!({"run_id": 1, "rerun_tasks": ["zz"]})), invalid);
        assert_eq!(code(json!({"run_id": 1})), invalid);
        assert_eq!(
            code(json!({"run_id": 1, "rerun_tasks": ["a"], "latest_repair_id": 9})),
            invalid
        );
        let mut active = run();
        active["state"] = json!({"life_cycle_state": "RUNNING"});
        assert_eq!(
            repair_plan(
                &active,
                &request(json!({"run_id": 1, "rerun_all_failed_tasks": true}))
            )
            .map_err(|e| e.body.error_code),
            Err("INVALID_STATE".to_string())
        );
        assert!(repair_request(Some(&json!({"rerun_tasks": ["a"]}))).is_err());
        assert!(repair_request(Some(&json!({"run_id": 1, "rerun_tasks": "a"}))).is_err());
        assert!(repair_request(None).is_err());
    }
}
