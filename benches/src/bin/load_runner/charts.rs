//! The charts of a run, beside `RESULTS.md`: for each throughput load,
//! messages/s as a ratio to raw TCP and server CPU per message for every
//! server; for the idle load, RSS per connection; for the slow readers,
//! every server's RSS over time; for the fan-out, deliveries per server
//! CPU-second and server CPU per delivery. Each names the machine, the date and the
//! command.

use std::path::{Path, PathBuf};

use ws_benches::chart::{Bar, Chart, Kind, Line, LineChart, Panel, render, render_lines};
use ws_benches::load::parse_series;

use crate::report::{FANOUT, IDLE, Results, THROUGHPUT, command_line, fmt, group, machine, stats};
use crate::{FANOUT_OURS, Harness, Load, OURS};

fn two_decimals(v: f64) -> String {
    format!("{v:.2}")
}

fn whole(v: f64) -> String {
    group(v)
}

fn kind(server: &str) -> Kind {
    if server == "raw" {
        Kind::Reference
    } else if OURS.contains(&server) || FANOUT_OURS.contains(&server) {
        Kind::Ours
    } else {
        Kind::Peer
    }
}

/// A chart of either shape.
pub(crate) enum Figure {
    Bars(Chart),
    Lines(LineChart),
}

/// The server's RSS over time under a slow-readers load, from the run
/// whose peak is the median one.
fn rss_over_time(results: &Results, load: &Load, server: &str) -> Option<Vec<(f64, f64)>> {
    let mut runs: Vec<_> = results
        .get(&(load.key.to_string(), server.to_string()))?
        .iter()
        .collect();
    runs.sort_by(|a, b| {
        let peak = |r: &&ws_benches::load::Report| r.get_num("rss_peak_kib").unwrap_or(0.0);
        peak(a).total_cmp(&peak(b))
    });
    let run = runs.get(runs.len() / 2)?;
    let points = parse_series(run.get_str("rss_series")?);
    (!points.is_empty()).then(|| {
        points
            .into_iter()
            .map(|(t, kib)| (t, kib / 1024.0))
            .collect()
    })
}

/// The charts of this run, one per load, with the file name of each.
pub(crate) fn charts(
    h: &Harness,
    loads: &[Load],
    results: &Results,
    started: &str,
) -> Vec<(String, Figure)> {
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
    let bars = |load: &Load, value: &dyn Fn(&str) -> Option<f64>| -> Vec<Bar> {
        h.o.servers
            .iter()
            .filter(|s| load.measures(s))
            .map(|server| Bar {
                label: server.clone(),
                value: value(server),
                kind: kind(server),
            })
            .collect()
    };
    let mut out = Vec::new();
    for load in loads {
        let name = format!("load-{}.svg", load.key);
        if load.slow {
            let lines =
                h.o.servers
                    .iter()
                    .filter(|s| load.measures(s))
                    .filter_map(|server| {
                        Some(Line {
                            label: server.clone(),
                            kind: kind(server),
                            points: rss_over_time(results, load, server)?,
                        })
                    })
                    .collect();
            out.push((
                name,
                Figure::Lines(LineChart {
                    title: load.title(),
                    caption: caption.clone(),
                    x_axis: "seconds since the slow readers started".into(),
                    y_axis: "server RSS, MiB".into(),
                    lines,
                }),
            ));
            continue;
        }
        let panels = if load.fanout {
            let (per_cpu, cpu) = (&FANOUT[2], &FANOUT[1]);
            vec![
                Panel {
                    title: "deliveries per server CPU-second".into(),
                    axis: "deliveries per CPU-second (higher is better)".into(),
                    format: fmt,
                    mark: None,
                    bars: bars(load, &|s| median(load, s, per_cpu.key)),
                },
                Panel {
                    title: "server CPU per delivery".into(),
                    axis: "µs of server CPU per delivery (lower is better)".into(),
                    format: fmt,
                    mark: None,
                    bars: bars(load, &|s| median(load, s, cpu.key)),
                },
            ]
        } else if load.idle {
            let m = &IDLE[0];
            vec![Panel {
                title: m.name.to_string(),
                axis: "bytes per connection (lower is better)".into(),
                format: whole,
                mark: None,
                bars: bars(load, &|s| median(load, s, m.key)),
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
                    bars: bars(load, &|s| median(load, s, rate.key).map(|v| v / raw)),
                },
                // Without the ceiling, the figures themselves.
                None => Panel {
                    title: "messages/s".into(),
                    axis: "messages/s (higher is better)".into(),
                    format: fmt,
                    mark: None,
                    bars: bars(load, &|s| median(load, s, rate.key)),
                },
            };
            vec![
                rate_panel,
                Panel {
                    title: "server CPU per message".into(),
                    axis: "µs of server CPU per message (lower is better)".into(),
                    format: fmt,
                    mark: None,
                    bars: bars(load, &|s| median(load, s, cpu.key)),
                },
            ]
        };
        out.push((
            name,
            Figure::Bars(Chart {
                title: load.title(),
                caption: caption.clone(),
                panels,
            }),
        ));
    }
    out
}

/// Renders every chart into `dir`; the paths written, or the first
/// failure.
pub(crate) fn write(dir: &Path, charts: &[(String, Figure)]) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for (name, chart) in charts {
        let svg = match chart {
            Figure::Bars(chart) => render(chart)?,
            Figure::Lines(chart) => render_lines(chart)?,
        };
        let path = dir.join(name);
        std::fs::write(&path, svg).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
