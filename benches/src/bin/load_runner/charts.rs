//! The charts of a run, beside `RESULTS.md`: for each throughput load,
//! messages/s as a ratio to raw TCP and server CPU per message for every
//! server; for the idle load, RSS per connection. Each names the machine,
//! the date and the command.

use std::path::{Path, PathBuf};

use ws_benches::chart::{Bar, Chart, Kind, Panel, render};

use crate::report::{IDLE, Results, THROUGHPUT, command_line, fmt, group, machine, stats};
use crate::{Harness, Load, OURS};

fn two_decimals(v: f64) -> String {
    format!("{v:.2}")
}

fn whole(v: f64) -> String {
    group(v)
}

fn kind(server: &str) -> Kind {
    if server == "raw" {
        Kind::Reference
    } else if OURS.contains(&server) {
        Kind::Ours
    } else {
        Kind::Peer
    }
}

/// The charts of this run, one per load, with the file name of each.
pub(crate) fn charts(
    h: &Harness,
    loads: &[Load],
    results: &Results,
    started: &str,
) -> Vec<(String, Chart)> {
    let (nproc, model) = machine();
    let runs = h.o.runs;
    let caption = format!(
        "{nproc} × {model} · {started} · median of {runs} run{} · {}",
        if runs == 1 { "" } else { "s" },
        command_line(&h.o)
    );
    let median = |load: &Load, server: &str, key: &str| {
        stats(results, load.key, server, key).map(|(m, _, _)| m)
    };
    let bars = |value: &dyn Fn(&str) -> Option<f64>| -> Vec<Bar> {
        h.o.servers
            .iter()
            .map(|server| Bar {
                label: server.clone(),
                value: value(server),
                kind: kind(server),
            })
            .collect()
    };
    let mut out = Vec::new();
    for load in loads {
        let panels = if load.idle {
            let m = &IDLE[0];
            vec![Panel {
                title: m.name.to_string(),
                axis: "bytes per connection (lower is better)".into(),
                format: whole,
                mark: None,
                bars: bars(&|s| median(load, s, m.key)),
            }]
        } else {
            let (rate, cpu) = (&THROUGHPUT[0], &THROUGHPUT[2]);
            let raw = median(load, "raw", rate.key).filter(|r| *r > 0.0);
            let rate_panel = match raw {
                Some(raw) => Panel {
                    title: "messages/s, as a ratio to raw TCP".into(),
                    axis: "ratio to the raw TCP echo (higher is better)".into(),
                    format: two_decimals,
                    mark: Some(1.0),
                    bars: bars(&|s| median(load, s, rate.key).map(|v| v / raw)),
                },
                // Without the ceiling, the figures themselves.
                None => Panel {
                    title: "messages/s".into(),
                    axis: "messages/s (higher is better)".into(),
                    format: fmt,
                    mark: None,
                    bars: bars(&|s| median(load, s, rate.key)),
                },
            };
            vec![
                rate_panel,
                Panel {
                    title: "server CPU per message".into(),
                    axis: "µs of server CPU per message (lower is better)".into(),
                    format: fmt,
                    mark: None,
                    bars: bars(&|s| median(load, s, cpu.key)),
                },
            ]
        };
        out.push((
            format!("load-{}.svg", load.key),
            Chart {
                title: load.title(),
                caption: caption.clone(),
                panels,
            },
        ));
    }
    out
}

/// Renders every chart into `dir`; the paths written, or the first
/// failure.
pub(crate) fn write(dir: &Path, charts: &[(String, Chart)]) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for (name, chart) in charts {
        let svg = render(chart)?;
        let path = dir.join(name);
        std::fs::write(&path, svg).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
