//! `cargo xtask grade --submissions DIR`: a whole class at once, as GitHub Classroom lays it
//! out (`DIR/<assignment>-<student>/`); a broken repository costs only its row.

mod common;
use common::copy_dir;

use std::fs;
use std::path::Path;
use std::process::Command;

#[test]
fn a_whole_class_is_graded_into_one_gradebook() {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("class");
    let _ = fs::remove_dir_all(&base);
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture");
    let course = base.join("course");
    copy_dir(&fixture, &course, &[]);
    let class = base.join("repos/lab-submissions");
    let student = |name: &str, solved: &[&str]| {
        let repo = class.join(format!("lab-{name}"));
        copy_dir(&fixture, &repo, &["solutions"]);
        for stage in solved {
            fs::copy(
                fixture.join(format!("solutions/{stage}/src/lib.rs")),
                repo.join(format!("exercises/{stage}/src/lib.rs")),
            )
            .unwrap();
        }
        repo
    };
    student("ada", &["01-adder", "02-doubler"]);
    student("bob", &[]);
    student("cy", &["02-doubler"]);
    let broken = student("dee", &["01-adder"]);
    fs::write(
        broken.join("exercises/02-doubler/src/lib.rs"),
        "pub fn double(x: u32) -> u32 { x * }\n",
    )
    .unwrap();
    let flat = class.join("lab-eve");
    fs::create_dir_all(&flat).unwrap();
    fs::write(flat.join("lib.rs"), "pub fn add() {}\n").unwrap();

    let out = base.join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(&course)
        .args(["grade", "--submissions"])
        .arg(base.join("repos"))
        .arg("--out")
        .arg(&out)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_OUTPUT")
        // Test-only: cy's grader aborts, as a stack overflow in the gate would.
        .env("XTASK_TEST_CRASH_ON", "cy")
        .output()
        .unwrap();
    let text = common::output_text(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("5/5"), "progress shows done/total\n{text}");
    assert!(text.contains("ETA"), "{text}");
    let book = fs::read_to_string(out.join("gradebook.csv")).unwrap();
    let rows: Vec<Vec<&str>> = book.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0][..4],
        ["student", "01 adder (4)", "02 doubler (2)", "total (6)"],
        "{book}"
    );
    let row = |name: &str| {
        rows.iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("no row for {name}\n{book}"))
    };
    assert_eq!(row("ada")[1..4], ["4", "2", "6"], "{book}");
    assert_eq!(row("bob")[1..4], ["0", "0", "0"], "{book}");
    assert_eq!(
        row("cy")[1..4],
        ["0", "0", "0"],
        "a crashed grader gives 0, and the class goes on\n{book}"
    );
    assert!(
        row("cy")
            .last()
            .unwrap()
            .starts_with("grader crashed: signal 6"),
        "{book}"
    );
    for name in ["ada", "bob", "dee", "eve"] {
        assert_eq!(*row(name).last().unwrap(), "ok", "{book}");
    }
    assert_eq!(
        row("dee")[1..4],
        ["4", "0", "4"],
        "a compile error costs its stage\n{book}"
    );
    assert!(row("dee")[4].contains("doubler: compile error"), "{book}");
    assert_eq!(row("eve")[1..4], ["0", "0", "0"], "{book}");
    assert!(row("eve")[4].contains("not a copy of the course"), "{book}");
    for name in ["ada", "bob", "dee", "eve"] {
        assert!(
            out.join(name).join("grade.json").is_file(),
            "{name}'s report"
        );
    }
}
