//! What a run says while it runs, on stderr: first its plan and how long it
//! should take, then one line per measurement (load, run, server, figure,
//! how far along and how long is left). With a terminal attached the lines
//! scroll above an `indicatif` bar; without one (CI, a log file) they are
//! plain lines.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

pub(crate) struct Progress {
    total: usize,
    done: usize,
    started: Instant,
    bar: Option<ProgressBar>,
}

/// Minutes and seconds, e.g. "4 min 05 s".
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{s} s")
    }
}

impl Progress {
    /// Prints the plan: `total` measurements, about `estimate` in all.
    pub(crate) fn start(plan: &str, total: usize, estimate: Duration) -> Progress {
        eprintln!(
            "load_runner: {plan}: {total} measurements, about {} (the slowest servers \
             take longer under load d)",
            clock(estimate)
        );
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:40} {pos}/{len} measurements, {elapsed} ({eta} left)",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            total,
            done: 0,
            started: Instant::now(),
            bar,
        }
    }

    /// One measurement is over; `line` says what it got.
    pub(crate) fn done(&mut self, line: &str) {
        self.done += 1;
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
            }
            None => {
                let spent = self.started.elapsed();
                let left = spent.mul_f64((self.total - self.done) as f64 / self.done as f64);
                eprintln!(
                    "{line}  [{}/{}, {} left]",
                    self.done,
                    self.total,
                    clock(left)
                );
            }
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
