//! The picture: one swim lane per task and one for the executor, time (in steps) to the right.
//!
//! The output depends only on the events and their order (never on wall time), and every
//! number in it is an integer, so the same trace always gives the same bytes.

use std::fmt::Write as _;

use super::analysis::{Analysis, Ending, analyse};
use super::event::{Event, Record, TaskId, WokenBy};
use super::text::RenderOptions;

const MARGIN: usize = 12;
const LABEL_W: usize = 170;
const STEP_W: usize = 22;
const LANE_H: usize = 36;
const HEADER_H: usize = 48;
const LINE_H: usize = 17;
/// A generous width per character of 12px monospace, to size the canvas for the text.
const CHAR_W: usize = 8;

const POLL_FILL: &str = "#dbe8fb";
const POLL_STROKE: &str = "#3b73c4";
const PENDING: &str = "#b26a00";
const READY: &str = "#1a7f37";
const WAKE: &str = "#e07b00";
const PROBLEM: &str = "#d1242f";

/// A self-contained SVG drawing of `records` (open it in a browser; hover for details).
///
/// Lanes: `executor` first (asleep as grey bars, notes as diamonds), then one per task. In a
/// task's lane, a poll is a blue box from its start to its result, marked `P` (Pending) or `R`
/// (Ready); a wake is an orange triangle at the top of the lane, labelled with who woke it,
/// with an arrow from the waking task's lane when a task woke another. A task left waiting
/// gets a red dashed line to the end. The diagnosis is printed under the lanes.
pub fn svg(records: &[Record], options: &RenderOptions) -> String {
    let analysis = analyse(records, options.test_thread.as_deref());
    let steps = records.len().max(1);
    let lanes = 1 + analysis.tasks.len();
    let chart_left = MARGIN + LABEL_W;
    let chart_right = chart_left + steps * STEP_W;
    let lanes_bottom = HEADER_H + lanes * LANE_H;

    let mut footer = vec![
        "○ spawned   blue box: a poll   P: returned Pending   R: returned Ready   ▼ woken (by \
         whom, below)   grey: executor asleep   ◆ note"
            .to_owned(),
        String::new(),
        "diagnosis:".to_owned(),
    ];
    for finding in &analysis.findings {
        let mark = if finding.problem { '!' } else { '-' };
        footer.push(format!("  {mark} {}", finding.text));
    }
    if !analysis.findings.iter().any(|f| f.problem) {
        footer.push("  nothing suspicious".to_owned());
    }
    let text_width = footer.iter().map(|l| l.chars().count()).max().unwrap_or(0) * CHAR_W;
    let width = (chart_right + MARGIN + 200).max(MARGIN * 2 + text_width);
    let height = lanes_bottom + MARGIN + footer.len() * LINE_H + MARGIN;

    let mut svg = String::new();
    let title = format!(
        "trace: {} event{}, {} task{}",
        records.len(),
        plural(records.len()),
        analysis.tasks.len(),
        plural(analysis.tasks.len())
    );
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="12">"#
    );
    let _ = writeln!(svg, "<title>{}</title>", escape(&title));
    let _ = writeln!(
        svg,
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{WAKE}"/></marker></defs>"##
    );
    let _ = writeln!(
        svg,
        r#"<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="{MARGIN}" y="20" font-weight="bold">{}</text>"#,
        escape(&title)
    );

    // Lanes.
    let mut names = vec!["executor".to_owned()];
    names.extend(analysis.tasks.iter().map(|task| {
        let name = format!("{} {}", task.id, task.label);
        short(name.trim_end(), LABEL_W / 7)
    }));
    for (lane, name) in names.iter().enumerate() {
        let top = lane_top(lane);
        let fill = if lane % 2 == 0 { "#f6f8fa" } else { "#ffffff" };
        let _ = writeln!(
            svg,
            r##"<rect x="{MARGIN}" y="{top}" width="{}" height="{LANE_H}" fill="{fill}" stroke="#d0d7de" stroke-width="0.5"/><text x="{}" y="{}">{}</text>"##,
            chart_right - MARGIN,
            MARGIN + 6,
            top + LANE_H / 2 + 4,
            escape(name)
        );
    }

    // The step ruler and its grid.
    for step in 1..=records.len() {
        if step == 1 || step % 5 == 0 {
            let x = mid(step);
            let _ = writeln!(
                svg,
                r##"<line x1="{x}" y1="{}" x2="{x}" y2="{lanes_bottom}" stroke="#eeeeee"/><text x="{x}" y="{}" text-anchor="middle" font-size="10" fill="#666666">{step}</text>"##,
                HEADER_H - 4,
                HEADER_H - 8
            );
        }
    }
    let lane_of = |id: TaskId| -> usize {
        1 + analysis
            .tasks
            .iter()
            .position(|task| task.id == id)
            .expect("every task has a lane")
    };
    draw_executor(&mut svg, records, chart_right);
    draw_polls(&mut svg, records, &analysis, &lane_of, chart_right);
    draw_marks(&mut svg, records, &analysis, &lane_of, options);
    draw_endings(&mut svg, &analysis, &lane_of, chart_right);

    for (index, line) in footer.iter().enumerate() {
        let y = lanes_bottom + MARGIN + (index + 1) * LINE_H - 4;
        let fill = if line.starts_with("  !") {
            PROBLEM
        } else {
            "#24292f"
        };
        let _ = writeln!(
            svg,
            r#"<text x="{MARGIN}" y="{y}" fill="{fill}" xml:space="preserve">{}</text>"#,
            escape(line)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn lane_top(lane: usize) -> usize {
    HEADER_H + lane * LANE_H
}

fn left(step: usize) -> usize {
    MARGIN + LABEL_W + (step - 1) * STEP_W
}

fn mid(step: usize) -> usize {
    left(step) + STEP_W / 2
}

/// Asleep intervals and notes, in lane 0.
fn draw_executor(svg: &mut String, records: &[Record], chart_right: usize) {
    let top = lane_top(0);
    let mut asleep: Option<usize> = None;
    let bar = |svg: &mut String, from: usize, to_x: usize, open: bool| {
        let x = left(from) + 2;
        let width = to_x.saturating_sub(x).max(4);
        let (stroke, dash, what) = if open {
            (PROBLEM, r#" stroke-dasharray="4 3""#, "asleep, never woken")
        } else {
            ("#8c959f", "", "asleep")
        };
        let _ = write!(
            svg,
            r##"<rect x="{x}" y="{}" width="{width}" height="{}" fill="#e5e7ea" stroke="{stroke}"{dash} rx="3"><title>step {from}: executor {what}</title></rect>"##,
            top + 9,
            LANE_H - 18
        );
        if width >= 60 {
            let _ = write!(
                svg,
                r##"<text x="{}" y="{}" font-size="10" fill="#57606a">{what}</text>"##,
                x + 4,
                top + LANE_H / 2 + 4
            );
        }
        svg.push('\n');
    };
    for (index, record) in records.iter().enumerate() {
        let step = index + 1;
        match &record.event {
            Event::Parked => asleep = Some(step),
            Event::Unparked => {
                if let Some(from) = asleep.take() {
                    bar(svg, from, left(step) + STEP_W - 2, false);
                }
            }
            Event::Note(text) => {
                let (x, y) = (mid(step), top + LANE_H / 2);
                let _ = writeln!(
                    svg,
                    r##"<path d="M{x},{} L{},{y} L{x},{} L{},{y} z" fill="#8250df"><title>step {step}: {}</title></path>"##,
                    y - 6,
                    x + 6,
                    y + 6,
                    x - 6,
                    escape(text)
                );
            }
            _ => {}
        }
    }
    if let Some(from) = asleep {
        bar(svg, from, chart_right - 2, true);
    }
}

/// Poll boxes, from each poll's start to its result (or to the end if it never returned).
fn draw_polls(
    svg: &mut String,
    records: &[Record],
    analysis: &Analysis,
    lane_of: &dyn Fn(TaskId) -> usize,
    chart_right: usize,
) {
    let mut open: Vec<(TaskId, usize)> = Vec::new();
    for (index, record) in records.iter().enumerate() {
        let step = index + 1;
        match &record.event {
            Event::Poll { task } => open.push((*task, step)),
            Event::Pending { task } | Event::Ready { task } => {
                let Some(position) = open.iter().position(|(t, _)| t == task) else {
                    continue;
                };
                let (_, start) = open.remove(position);
                let ready = matches!(record.event, Event::Ready { .. });
                let top = lane_top(lane_of(*task));
                let x = left(start) + 2;
                let width = left(step) + STEP_W - 2 - x;
                let result = if ready { "Ready" } else { "Pending" };
                let _ = writeln!(
                    svg,
                    r#"<rect x="{x}" y="{}" width="{width}" height="{}" fill="{POLL_FILL}" stroke="{POLL_STROKE}" rx="3"><title>{}: poll at step {start} → {result} at step {step}</title></rect><text x="{}" y="{}" text-anchor="middle" font-weight="bold" fill="{}">{}</text>"#,
                    top + 9,
                    LANE_H - 18,
                    escape(&task_name(analysis, *task)),
                    mid(step),
                    top + LANE_H / 2 + 4,
                    if ready { READY } else { PENDING },
                    if ready { 'R' } else { 'P' }
                );
            }
            _ => {}
        }
    }
    for (task, start) in open {
        let top = lane_top(lane_of(task));
        let x = left(start) + 2;
        let _ = writeln!(
            svg,
            r#"<rect x="{x}" y="{}" width="{}" height="{}" fill="{POLL_FILL}" stroke="{PROBLEM}" stroke-dasharray="4 3" rx="3"><title>{}: the poll at step {start} never returned</title></rect>"#,
            top + 9,
            chart_right - 2 - x,
            LANE_H - 18,
            escape(&task_name(analysis, task))
        );
    }
}

/// Spawns and wakes.
fn draw_marks(
    svg: &mut String,
    records: &[Record],
    analysis: &Analysis,
    lane_of: &dyn Fn(TaskId) -> usize,
    options: &RenderOptions,
) {
    // Per lane: the last waker label written and where it ends, so that a burst is labelled
    // once and labels never overlap (the triangle's tooltip always names the waker).
    let mut last_label: Vec<(Option<String>, usize)> = vec![(None, 0); analysis.tasks.len() + 1];
    for (index, record) in records.iter().enumerate() {
        let step = index + 1;
        match &record.event {
            Event::Spawned { task, .. } => {
                let top = lane_top(lane_of(*task));
                let _ = writeln!(
                    svg,
                    r##"<circle cx="{}" cy="{}" r="5" fill="white" stroke="#24292f" stroke-width="1.5"><title>step {step}: {} spawned</title></circle>"##,
                    mid(step),
                    top + LANE_H / 2,
                    escape(&task_name(analysis, *task))
                );
            }
            Event::Woken { task, by } => {
                let lane = lane_of(*task);
                let top = lane_top(lane);
                let x = mid(step);
                let who = analysis.waker(*task, by, options.test_thread.as_deref());
                let description =
                    format!("step {step}: {} woken by {who}", task_name(analysis, *task));
                if let WokenBy::Task(from) = by
                    && from != task
                {
                    let from_lane = lane_of(*from);
                    let from_y = lane_top(from_lane) + LANE_H / 2;
                    let to_y = if from_lane < lane { top + 2 } else { top + 8 };
                    let _ = writeln!(
                        svg,
                        r#"<line x1="{x}" y1="{from_y}" x2="{x}" y2="{to_y}" stroke="{WAKE}" stroke-width="1.5" marker-end="url(#arrow)"/>"#
                    );
                }
                let _ = write!(
                    svg,
                    r#"<path d="M{},{} L{},{} L{x},{} z" fill="{WAKE}"><title>{}</title></path>"#,
                    x - 5,
                    top + 1,
                    x + 5,
                    top + 1,
                    top + 8,
                    escape(&description)
                );
                let label = short(&who, 14);
                let (previous, free_from) = &last_label[lane];
                if previous.as_deref() != Some(label.as_str()) && x - 4 >= *free_from {
                    let _ = write!(
                        svg,
                        r#"<text x="{}" y="{}" font-size="9" fill="{WAKE}">{}</text>"#,
                        x - 4,
                        top + LANE_H - 1,
                        escape(&label)
                    );
                    let end = x - 4 + label.chars().count() * 6 + 4;
                    last_label[lane] = (Some(label), end);
                }
                svg.push('\n');
            }
            _ => {}
        }
    }
}

/// A task left waiting, or woken and never polled again: a dashed line to the end.
fn draw_endings(
    svg: &mut String,
    analysis: &Analysis,
    lane_of: &dyn Fn(TaskId) -> usize,
    chart_right: usize,
) {
    for task in &analysis.tasks {
        let (from, colour, what) = match task.ending {
            Ending::Waiting { since } => (since, PROBLEM, "Pending, and nobody woke it"),
            Ending::WokenNotPolled { pending, woken } => {
                // From the later of the two: a wake during the poll is drawn inside the box.
                (pending.max(woken), WAKE, "woken, never polled again")
            }
            _ => continue,
        };
        let y = lane_top(lane_of(task.id)) + LANE_H / 2;
        let _ = writeln!(
            svg,
            r#"<line x1="{}" y1="{y}" x2="{chart_right}" y2="{y}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="5 4"/><text x="{}" y="{}" font-size="10" fill="{colour}">{what}</text>"#,
            mid(from) + 8,
            chart_right + 4,
            y + 4
        );
    }
}

fn task_name(analysis: &Analysis, id: TaskId) -> String {
    let label = analysis.label(id);
    if label.is_empty() {
        id.to_string()
    } else {
        format!("{id} ({label})")
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn short(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(limit.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
