//! Exercism's test runner format (v3) `results.json`.

use serde_json::{Value, json};

use super::model::{Grade, Status};
use super::text::truncate;

/// Exercism's test-runner interface, version 3: tests in file order, `task_id` = the stage.
pub(super) fn exercism(grade: &Grade) -> Value {
    let ran = grade
        .stages
        .iter()
        .flat_map(|s| &s.tests)
        .any(|t| !matches!(t.status, Status::CompileError | Status::NotRun));
    let mut tests = Vec::new();
    for stage in &grade.stages {
        for test in &stage.tests {
            let status = match test.status {
                Status::Pass => "pass",
                Status::Fail | Status::Withheld => "fail",
                _ => "error",
            };
            let mut entry = json!({
                "name": test.id,
                "status": status,
                "test_code": "",
                "task_id": stage.order,
            });
            if test.status != Status::Pass {
                let mut message = format!("[{}] {}", test.status.label(), test.message);
                if test.status == Status::Withheld {
                    message = format!("{message}\n{}", stage.review_note());
                }
                entry["message"] = json!(message);
            }
            tests.push(entry);
        }
    }
    if !ran {
        let message: Vec<String> = grade
            .stages
            .iter()
            .filter_map(|s| {
                s.compile_error
                    .as_ref()
                    .map(|e| format!("{}:\n{e}", s.name))
            })
            .collect();
        let mut message = message.join("\n\n");
        truncate(&mut message, 65_000);
        return json!({ "version": 3, "status": "error", "message": message });
    }
    json!({
        "version": 3,
        "status": if grade.all_passed() { "pass" } else { "fail" },
        "tests": tests,
    })
}
