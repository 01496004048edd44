//! `exercises/NN-name/exercise.toml` read: the course, its stages in order, their tests' ids
//! (see `mod.rs`).

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;

/// The declaration format this xtask understands. A newer course needs a newer xtask.
pub const FORMAT_VERSION: u32 = 1;

/// The course's support crates (`crates/harness`, `crates/blocks`, ...), as `/`-separated
/// paths relative to `root`, sorted: every package under `crates/` that the stages may depend
/// on. The one exception is a crate that reaches into `solutions/` (the benchmarks run the
/// reference solutions): it is never exported, graded against or shipped to a learner.
/// Everything that must travel with the stages (grading scratch, classroom export, pristine
/// copy, tamper check, verify's input hash) asks here, so a new support crate needs no edit.
pub fn support_crates(root: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(root.join("crates")) else {
        return Vec::new();
    };
    let mut crates: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            fs::read_to_string(entry.path().join("Cargo.toml"))
                .is_ok_and(|manifest| !manifest.contains("solutions/"))
        })
        .map(|entry| format!("crates/{}", entry.file_name().to_string_lossy()))
        .collect();
    crates.sort();
    crates
}

/// The course rooted at `root`: every stage that declared itself correctly, plus a problem
/// report for each one that did not (so one broken stage never hides the others).
#[derive(Debug)]
pub struct Course {
    pub root: PathBuf,
    pub stages: Vec<Stage>,
    /// `(directory, what is wrong)` for each stage whose declaration could not be read.
    pub problems: Vec<(String, String)>,
}

/// One stage, as declared by its `exercise.toml`.
#[derive(Debug, Clone)]
pub struct Stage {
    /// From the directory name: `01-manual-poll` is stage 1.
    pub order: u32,
    /// The directory name under `exercises/` and `solutions/`.
    pub dir: String,
    /// The exercise package name, which is also the name learners type.
    pub name: String,
    /// The reference solution's package name.
    pub solution: String,
    pub title: String,
    pub points: f64,
    /// Wall-clock limit for one test process.
    pub timeout: Duration,
    /// The hints file, relative to the exercise directory.
    pub hints: String,
    /// Test weights by `target::test` id; unlisted tests weigh 1.
    pub weights: BTreeMap<String, f64>,
    /// Per-test (`target::test`) or per-target (`target`) timeouts that replace `timeout`.
    pub timeouts: BTreeMap<String, Duration>,
    /// Test targets run only from the exercise package, never from the solution package
    /// (compile-fail tests, whose expected output names the exercise's paths).
    pub overlay_only: Vec<String>,
    /// Whether learner code may use `unsafe` (stages that teach pin projection or a
    /// hand-built `RawWaker`); the grader refuses it elsewhere (see `gate/source.rs`).
    pub allow_unsafe: bool,
    /// `[[gate.only_in]]`: paths learner code may name only in some files (Stage 2's
    /// `std::sync`, which must go through the `src/sync.rs` seam the model checker sees).
    pub only_in: Vec<OnlyIn>,
    /// `given = ["src/mpsc.rs", ...]`: files handed to the learner whole (nothing to write in
    /// them). Verify checks that each is identical in the stub and the reference.
    pub given: Vec<String>,
    /// `tools = ["redis-cli", ...]`: programs the stage's tests start by name. `grade`
    /// resolves each on its own PATH and lets this stage's tests (only) execute exactly those
    /// files (see `exec/tools.rs`); a missing one is said in the report.
    pub tools: Vec<String>,
    /// `tools_install = "redis-tools (Debian/Ubuntu), redis (Homebrew)"`: what to install when
    /// a declared tool is missing (the grader's note names it).
    pub tools_install: Option<String>,
    /// `tools_debian = ["redis-tools"]`: the Debian/Ubuntu packages that provide the tools.
    /// `classroom export` installs them in the Classroom workflow and the Gradescope image, so
    /// an exported assignment's grader has what the stage's tests start.
    pub tools_debian: Vec<String>,
}

/// A path the stage's code may name only in the listed files, e.g.
///
/// ```toml
/// [[gate.only_in]]
/// path = "std::sync"              # and everything under it (also as core::/alloc::)
/// files = ["src/sync.rs"]         # the only files that may name it
/// allow = ["std::sync::Arc"]      # named anywhere (and everything under them)
/// why = "the model checker only sees locks created through `crate::sync`"
/// ```
///
/// The source gate enforces it (`grade` refuses the stage; `verify` reports the reference and
/// alternatives), and says `why` to the learner.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OnlyIn {
    pub path: String,
    pub files: Vec<String>,
    #[serde(default)]
    pub allow: Vec<String>,
    pub why: String,
}

impl OnlyIn {
    /// Whether a path (its segments, crate root as written) is one this rule restricts: under
    /// `path` and under no `allow` entry. `std`, `core` and `alloc` count as the same root.
    pub fn restricts(&self, segments: &[String]) -> bool {
        let under = |prefix: &str| {
            let wanted: Vec<&str> = prefix.split("::").collect();
            segments.len() >= wanted.len()
                && segments
                    .iter()
                    .zip(&wanted)
                    .enumerate()
                    .all(|(i, (have, want))| {
                        have == want || (i == 0 && is_root(have) && is_root(want))
                    })
        };
        under(&self.path) && !self.allow.iter().any(|allowed| under(allowed))
    }

    fn check(&self) -> Result<()> {
        let segments: Vec<&str> = self.path.split("::").collect();
        ensure!(
            segments.len() >= 2 && is_root(segments[0]) && segments.iter().all(|s| is_ident(s)),
            "[[gate.only_in]] path `{}` must be a path under std, core or alloc (`std::sync`)",
            self.path
        );
        for allowed in &self.allow {
            ensure!(
                allowed.starts_with(&format!("{}::", self.path))
                    && allowed.split("::").all(is_ident),
                "[[gate.only_in]] allow `{allowed}` must be a path under `{}`",
                self.path
            );
        }
        for file in &self.files {
            ensure!(
                file.starts_with("src/") && file.ends_with(".rs") && !file.contains(".."),
                "[[gate.only_in]] files: `{file}` must be a file under src/ (`src/sync.rs`)"
            );
        }
        ensure!(
            !self.why.trim().is_empty(),
            "[[gate.only_in]] `{}` needs a `why` (the learner reads it)",
            self.path
        );
        Ok(())
    }
}

fn is_root(segment: &str) -> bool {
    matches!(segment, "std" | "core" | "alloc")
}

fn is_ident(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !segment.starts_with(|c: char| c.is_ascii_digit())
}

/// `[gate]` in `exercise.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GateDeclaration {
    #[serde(default)]
    only_in: Vec<OnlyIn>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Declaration {
    format_version: u32,
    name: String,
    solution: String,
    title: String,
    points: f64,
    timeout: String,
    #[serde(default = "default_hints")]
    hints: String,
    #[serde(default)]
    weights: BTreeMap<String, f64>,
    #[serde(default)]
    timeouts: BTreeMap<String, String>,
    #[serde(default)]
    overlay_only: Vec<String>,
    #[serde(default)]
    allow_unsafe: bool,
    #[serde(default)]
    gate: GateDeclaration,
    #[serde(default)]
    given: Vec<String>,
    #[serde(default)]
    tools: Vec<String>,
    #[serde(default)]
    tools_install: Option<String>,
    #[serde(default)]
    tools_debian: Vec<String>,
}

/// A Debian package name (policy 5.6.7: lower-case letters, digits, `+ - .`, starting with a
/// letter or digit, two or more characters): the export writes it into shell commands.
fn check_debian_package(name: &str) -> Result<()> {
    ensure!(
        name.len() >= 2
            && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c)),
        "`tools_debian` entry `{name}` is not a Debian package name"
    );
    Ok(())
}

/// A declared tool is a program name, looked up on PATH: no path, no space, nothing a shell
/// or a PATH search would read differently.
fn check_tool(name: &str) -> Result<()> {
    ensure!(
        !name.is_empty()
            && name != "."
            && name != ".."
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c)),
        "tools: `{name}` must be a program name found on PATH (`redis-cli`), not a path"
    );
    Ok(())
}

fn default_hints() -> String {
    "hints.md".to_owned()
}

impl Course {
    /// Reads every `exercises/NN-name/exercise.toml` under `root`.
    pub fn load(root: &Path) -> Result<Course> {
        let exercises = root.join("exercises");
        let mut dirs: Vec<String> = fs::read_dir(&exercises)
            .with_context(|| format!("cannot read {}", exercises.display()))?
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.path().is_dir())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        dirs.sort();

        let mut course = Course {
            root: root.to_owned(),
            stages: Vec::new(),
            problems: Vec::new(),
        };
        for dir in dirs {
            match Stage::load(root, &dir) {
                Ok(stage) => course.stages.push(stage),
                Err(err) => course.problems.push((dir, format!("{err:#}"))),
            }
        }
        course.check_unique();
        Ok(course)
    }

    /// Two stages may not share an order, a name or a solution package.
    fn check_unique(&mut self) {
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        let mut duplicates = Vec::new();
        for stage in &self.stages {
            for key in [
                format!("order {}", stage.order),
                format!("name `{}`", stage.name),
                format!("solution `{}`", stage.solution),
            ] {
                if let Some(first) = seen.insert(key.clone(), stage.dir.clone()) {
                    duplicates.push((stage.dir.clone(), format!("{key} is also used by {first}")));
                }
            }
        }
        let bad: Vec<String> = duplicates.iter().map(|(dir, _)| dir.clone()).collect();
        self.stages.retain(|stage| !bad.contains(&stage.dir));
        self.problems.extend(duplicates);
    }

    /// The stages named in `wanted` (all stages when it is empty), in course order.
    ///
    /// A stage may be named by its name (`manual-poll`), its directory (`01-manual-poll`) or its
    /// number (`1`). An unknown name is an error that lists the valid ones.
    pub fn select(&self, wanted: &[String]) -> Result<Vec<&Stage>> {
        if wanted.is_empty() {
            return Ok(self.stages.iter().collect());
        }
        let mut selected: Vec<&Stage> = Vec::new();
        for name in wanted {
            let Some(stage) = self.stages.iter().find(|stage| stage.answers_to(name)) else {
                bail!(
                    "unknown stage `{name}`{}\n{}",
                    self.suggest(name)
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default(),
                    self.valid_names()
                );
            };
            if !selected.iter().any(|s| s.dir == stage.dir) {
                selected.push(stage);
            }
        }
        selected.sort_by_key(|stage| stage.order);
        Ok(selected)
    }

    /// "The stages are: ..." for error messages.
    /// The stage name closest to a mistyped one, if any is close.
    pub fn suggest(&self, typed: &str) -> Option<&str> {
        let typed = typed.trim_start_matches("exercises/").replace('_', "-");
        self.stages
            .iter()
            .flat_map(|s| [(s.name.as_str(), s), (s.dir.as_str(), s)])
            .map(|(candidate, stage)| (strsim::jaro_winkler(&typed, candidate), stage))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, stage)| stage.name.as_str())
    }

    pub fn valid_names(&self) -> String {
        if self.stages.is_empty() {
            return "This course has no stages that load (see the problems above).".to_owned();
        }
        let mut text = String::from("The stages are:");
        for stage in &self.stages {
            text.push_str(&format!(
                "\n  {:>2}  {:<24} {}",
                stage.order, stage.name, stage.title
            ));
        }
        text
    }
}

impl Stage {
    fn load(root: &Path, dir: &str) -> Result<Stage> {
        let order = parse_order(dir)?;
        let path = root.join("exercises").join(dir).join("exercise.toml");
        let text = fs::read_to_string(&path)
            .with_context(|| format!("exercises/{dir} has no readable exercise.toml"))?;
        let decl: Declaration = toml::from_str(&text)
            .with_context(|| format!("exercises/{dir}/exercise.toml is not valid"))?;
        ensure!(
            decl.format_version == FORMAT_VERSION,
            "exercises/{dir}/exercise.toml has format_version {}, this xtask reads version \
             {FORMAT_VERSION}",
            decl.format_version
        );
        ensure!(decl.points >= 0.0, "points must not be negative");
        ensure!(
            decl.weights.values().all(|w| *w >= 0.0),
            "weights must not be negative"
        );
        let timeout = parse_duration(&decl.timeout)
            .with_context(|| format!("exercises/{dir}/exercise.toml: bad timeout"))?;
        let mut timeouts = BTreeMap::new();
        for (test, text) in &decl.timeouts {
            let limit = parse_duration(text).with_context(|| {
                format!("exercises/{dir}/exercise.toml: bad timeout for `{test}`")
            })?;
            timeouts.insert(test.clone(), limit);
        }
        for rule in &decl.gate.only_in {
            rule.check()
                .with_context(|| format!("exercises/{dir}/exercise.toml is not valid"))?;
        }
        for tool in &decl.tools {
            check_tool(tool)
                .with_context(|| format!("exercises/{dir}/exercise.toml is not valid"))?;
        }
        for package in &decl.tools_debian {
            check_debian_package(package)
                .with_context(|| format!("exercises/{dir}/exercise.toml is not valid"))?;
        }
        Ok(Stage {
            order,
            dir: dir.to_owned(),
            name: decl.name,
            solution: decl.solution,
            title: decl.title,
            points: decl.points,
            timeout,
            hints: decl.hints,
            weights: decl.weights,
            timeouts,
            overlay_only: decl.overlay_only,
            allow_unsafe: decl.allow_unsafe,
            only_in: decl.gate.only_in,
            given: decl.given,
            tools: decl.tools,
            tools_install: decl.tools_install,
            tools_debian: decl.tools_debian,
        })
    }

    /// The time limit for one test: its own `[timeouts]` entry, else its target's, else the
    /// stage's `timeout`.
    pub fn timeout_for(&self, id: &TestId) -> Duration {
        self.timeouts
            .get(&id.to_string())
            .or_else(|| self.timeouts.get(&id.target))
            .copied()
            .unwrap_or(self.timeout)
    }

    /// A stage answers to its name, its crate name (`manual_poll`), its directory (with or
    /// without `exercises/`, `./` or a trailing `/`) and its number (`1`, `01`).
    pub fn answers_to(&self, name: &str) -> bool {
        let name = name.trim_start_matches("./").trim_end_matches('/');
        let name = name.strip_prefix("exercises/").unwrap_or(name);
        name == self.name
            || name == self.dir
            || name.replace('_', "-") == self.name
            || name.parse::<u32>().is_ok_and(|order| order == self.order)
    }

    pub fn exercise_dir(&self, root: &Path) -> PathBuf {
        root.join("exercises").join(&self.dir)
    }

    pub fn solution_dir(&self, root: &Path) -> PathBuf {
        root.join("solutions").join(&self.dir)
    }
}

/// `01-manual-poll` -> 1. Stage directories are `NN-name`.
fn parse_order(dir: &str) -> Result<u32> {
    let (number, rest) = dir
        .split_once('-')
        .with_context(|| format!("exercises/{dir}: stage directories are named NN-name"))?;
    ensure!(
        number.len() == 2 && !rest.is_empty(),
        "exercises/{dir}: stage directories are named NN-name (two digits, a dash, a name)"
    );
    number
        .parse()
        .with_context(|| format!("exercises/{dir}: `{number}` is not a stage number"))
}

/// Parses `"10s"`, `"500ms"`, `"2m"`.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .with_context(|| format!("`{text}` has no unit (use ms, s or m)"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .with_context(|| format!("`{text}` does not start with a number"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(number),
        "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number * 60),
        _ => bail!("`{text}`: unknown unit `{unit}` (use ms, s or m)"),
    })
}

/// A test, named the way learners and reports see it: `test_file::test_name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TestId {
    /// The test target (the file name under `tests/` without `.rs`).
    pub target: String,
    /// The test's path inside the target, as libtest lists it.
    pub name: String,
}

impl TestId {
    pub fn parse(text: &str) -> Result<TestId> {
        let (target, name) = text
            .split_once("::")
            .with_context(|| format!("`{text}` is not a test id (target::test_name)"))?;
        ensure!(
            !target.is_empty() && !name.is_empty(),
            "`{text}` is not a test id"
        );
        Ok(TestId {
            target: target.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for TestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}", self.target, self.name)
    }
}

/// For unit tests elsewhere in xtask: the one stage of a course made under `root`, its
/// `exercise.toml` the minimal declaration plus `extra` (TOML lines).
#[cfg(test)]
pub fn stage_for_test(root: &Path, extra: &str) -> Stage {
    let dir = root.join("exercises/01-x");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("exercise.toml"),
        format!(
            "format_version = 1\nname = \"x\"\nsolution = \"x-solution\"\ntitle = \"X\"\n\
             points = 1\ntimeout = \"1s\"\n{extra}"
        ),
    )
    .unwrap();
    Course::load(root).unwrap().stages.remove(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("10h").is_err());
    }

    #[test]
    fn stage_order_comes_from_the_directory_name() {
        assert_eq!(parse_order("01-manual-poll").unwrap(), 1);
        assert_eq!(parse_order("12-x").unwrap(), 12);
        assert!(parse_order("manual-poll").is_err());
        assert!(parse_order("1-manual-poll").is_err());
    }

    #[test]
    fn a_declared_tool_is_a_name_not_a_path() {
        for good in ["redis-cli", "true", "python3.12", "g++"] {
            assert!(check_tool(good).is_ok(), "{good}");
        }
        for good in ["redis-tools", "g++", "libc6.1"] {
            assert!(check_debian_package(good).is_ok(), "{good}");
        }
        for bad in ["", "a", "Redis", "-x", "a b", "x;rm", "$(id)"] {
            assert!(check_debian_package(bad).is_err(), "{bad:?}");
        }
        for bad in ["", ".", "..", "/usr/bin/true", "bin/x", "a b", "x;y"] {
            assert!(check_tool(bad).is_err(), "{bad}");
        }
    }
}
