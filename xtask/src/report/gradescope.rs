//! Gradescope's `results.json`.

use serde_json::{Value, json};

use super::human::summary;
use super::model::{Grade, Status};

/// Gradescope's `results.json` (gradescope-autograders specs). The top-level `score` is the
/// exact total (Gradescope would otherwise add up the tests' scores as floats).
pub(super) fn gradescope(grade: &Grade) -> Value {
    let mut tests = Vec::new();
    for stage in &grade.stages {
        for (i, test) in stage.tests.iter().enumerate() {
            let mut output = test.message.clone();
            if test.status == Status::CompileError
                && let Some(errors) = &stage.compile_error
            {
                output = format!("The stage did not compile:\n\n{errors}");
            }
            if test.status == Status::Withheld {
                output = format!("{output}\n{}", stage.review_note());
            }
            tests.push(json!({
                "name": format!("{:02} {} › {}", stage.order, stage.name, test.id),
                "number": format!("{}.{}", stage.order, i + 1),
                "score": test.score,
                "max_score": test.max_score,
                "status": if test.status == Status::Pass { "passed" } else { "failed" },
                "output": if test.status == Status::Pass { String::new() } else {
                    format!("[{}] {output}", test.status.label())
                },
                "output_format": "text",
                "tags": [stage.name],
            }));
        }
    }
    json!({
        "score": grade.score,
        "execution_time": grade.elapsed_secs.round() as u64,
        "output": summary(grade),
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
    })
}
