//! JUnit XML (`junit.xml`): one suite per stage, one case per test.

use anyhow::{Context, Result};

use super::model::{Grade, Status};
use super::text::first_line;

pub(super) fn junit(grade: &Grade) -> Result<String> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    use std::time::Duration;

    let mut report = Report::new("async-from-scratch");
    for stage in &grade.stages {
        let mut suite = TestSuite::new(format!("{:02} {}", stage.order, stage.name));
        for test in &stage.tests {
            let mut status = match test.status {
                Status::Pass => TestCaseStatus::success(),
                Status::Fail | Status::Timeout | Status::Withheld => {
                    TestCaseStatus::non_success(NonSuccessKind::Failure)
                }
                Status::Crash | Status::CompileError => {
                    TestCaseStatus::non_success(NonSuccessKind::Error)
                }
                Status::NotRun => TestCaseStatus::skipped(),
            };
            if test.status != Status::Pass {
                status.set_type(test.status.label());
                status.set_message(first_line(&test.message));
                if test.status == Status::Withheld {
                    status.set_description(format!("{}\n{}", test.message, stage.review_note()));
                } else {
                    status.set_description(&test.message);
                }
            }
            let mut case = TestCase::new(&test.id, status);
            case.set_classname(&stage.name);
            case.set_time(Duration::from_millis(test.duration_ms));
            suite.add_test_case(case);
        }
        if let Some(errors) = &stage.compile_error {
            suite.set_system_err(errors);
        }
        let out: Vec<String> = [stage.review_note()]
            .into_iter()
            .chain(stage.notes.iter().map(|note| format!("note: {note}")))
            .filter(|text| !text.is_empty())
            .collect();
        if !out.is_empty() {
            suite.set_system_out(out.join("\n"));
        }
        report.add_test_suite(suite);
    }
    report.to_string().context("cannot write the JUnit report")
}
