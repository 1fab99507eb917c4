//! The charts of the load harness: SVG files of horizontal bars, one bar
//! per server, drawn with `plotters`. `load_runner` makes one chart per
//! load from the medians it also writes to `RESULTS.md`.
//!
//! A chart is a title, a caption (machine, date, command) and one or more
//! panels stacked one above the other, each with its own axis. The picture
//! is 800 px wide, the width GitHub gives a README, and is drawn on a
//! white card so that it reads the same in GitHub's light and dark themes.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

/// Width of every chart, in pixels.
pub const WIDTH: u32 = 800;
/// Height of the title and caption block.
const HEAD: u32 = 92;
/// Height of one bar's band.
const BAND: u32 = 30;
/// Height of a panel's caption and axis, around its bars.
const PANEL_CHROME: u32 = 90;

/// Who a bar stands for, which sets its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The ceiling every ratio is taken against (raw TCP).
    Reference,
    /// One of this project's servers.
    Ours,
    /// A peer library.
    Peer,
}

/// One bar: a server and its figure. A server whose measurement failed has
/// no value and is drawn as a label with "failed" beside it.
#[derive(Clone, Debug)]
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub kind: Kind,
}

/// One panel: a figure for every server.
#[derive(Clone, Debug)]
pub struct Panel {
    /// Above the bars, e.g. "messages/s, as a ratio to raw TCP".
    pub title: String,
    /// Under the axis, e.g. "ratio to raw TCP (higher is better)".
    pub axis: String,
    /// How to print a bar's value beside it.
    pub format: fn(f64) -> String,
    /// A vertical line, e.g. at 1.0 on a ratio axis.
    pub mark: Option<f64>,
    pub bars: Vec<Bar>,
}

/// A whole chart.
#[derive(Clone, Debug)]
pub struct Chart {
    pub title: String,
    /// The machine, the date and the command, as the tables give them.
    pub caption: String,
    pub panels: Vec<Panel>,
}

const OURS: RGBColor = RGBColor(31, 111, 190);
const PEER: RGBColor = RGBColor(222, 128, 36);
const REFERENCE: RGBColor = RGBColor(128, 128, 128);
const INK: RGBColor = RGBColor(32, 32, 32);

impl Kind {
    fn colour(self) -> RGBColor {
        match self {
            Kind::Reference => REFERENCE,
            Kind::Ours => OURS,
            Kind::Peer => PEER,
        }
    }
}

/// The chart's height for its panels.
pub fn height(chart: &Chart) -> u32 {
    HEAD + chart
        .panels
        .iter()
        .map(|p| PANEL_CHROME + BAND * p.bars.len().max(1) as u32)
        .sum::<u32>()
}

/// Draws `chart` and returns the SVG document.
pub fn render(chart: &Chart) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height(chart))).into_drawing_area();
        draw(&root, chart).map_err(|e| format!("drawing {:?}: {e}", chart.title))?;
        root.present()
            .map_err(|e| format!("writing {:?}: {e}", chart.title))?;
    }
    Ok(svg)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;
type DrawResult =
    Result<(), DrawingAreaErrorKind<<SVGBackend<'static> as DrawingBackend>::ErrorType>>;

fn draw(root: &Area<'_>, chart: &Chart) -> DrawResult {
    root.fill(&WHITE)?;
    let (head, mut rest) = root.split_vertically(HEAD);
    head.draw(&Text::new(
        chart.title.clone(),
        (16, 12),
        ("sans-serif", 26).into_font().color(&INK),
    ))?;
    head.draw(&Text::new(
        chart.caption.clone(),
        (16, 44),
        ("sans-serif", 15).into_font().color(&REFERENCE),
    ))?;
    // The legend: what each colour stands for.
    let mut x = 16;
    for (kind, name) in [
        (Kind::Ours, "this project"),
        (Kind::Peer, "peer libraries"),
        (Kind::Reference, "raw TCP echo (the ceiling)"),
    ] {
        head.draw(&Rectangle::new(
            [(x, 68), (x + 12, 80)],
            kind.colour().filled(),
        ))?;
        head.draw(&Text::new(
            name,
            (x + 18, 67),
            ("sans-serif", 15).into_font().color(&INK),
        ))?;
        x += 18 + 8 * name.len() as i32 + 28;
    }
    for panel in &chart.panels {
        let (area, below) =
            rest.split_vertically(PANEL_CHROME + BAND * panel.bars.len().max(1) as u32);
        draw_panel(&area, panel)?;
        rest = below;
    }
    Ok(())
}

fn draw_panel(area: &Area<'_>, panel: &Panel) -> DrawResult {
    let n = panel.bars.len().max(1);
    let top = panel
        .bars
        .iter()
        .filter_map(|b| b.value)
        .chain(panel.mark)
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    // Room on the right for the value printed beside the longest bar.
    let x_max = if top > 0.0 { top * 1.18 } else { 1.0 };
    let labels: Vec<String> = panel.bars.iter().map(|b| b.label.clone()).collect();
    // The first bar at the top: band i from the top is segment n - 1 - i.
    let segment = |i: usize| n - 1 - i;
    let mut chart = ChartBuilder::on(area)
        .caption(
            panel.title.clone(),
            ("sans-serif", 19).into_font().color(&INK),
        )
        .margin_left(16)
        .margin_right(24)
        .margin_top(4)
        .x_label_area_size(42)
        .y_label_area_size(150)
        .build_cartesian_2d(0.0..x_max, (0..n - 1).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(6)
        .x_desc(panel.axis.clone())
        .x_label_formatter(&|v| (panel.format)(*v))
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(s) if *s < n => {
                labels.get(n - 1 - *s).cloned().unwrap_or_default()
            }
            _ => String::new(),
        })
        .label_style(("sans-serif", 15).into_font().color(&INK))
        .axis_desc_style(("sans-serif", 15).into_font().color(&INK))
        .light_line_style(RGBColor(236, 236, 236))
        .bold_line_style(RGBColor(214, 214, 214))
        .draw()?;
    for (i, bar) in panel.bars.iter().enumerate() {
        let s = segment(i);
        match bar.value.filter(|v| v.is_finite()) {
            Some(v) => {
                let mut rect = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(s)),
                        (v, SegmentValue::Exact(s + 1)),
                    ],
                    bar.kind.colour().filled(),
                );
                rect.set_margin(5, 5, 0, 0);
                chart.draw_series(std::iter::once(rect))?;
                chart.draw_series(std::iter::once(
                    EmptyElement::at((v, SegmentValue::CenterOf(s)))
                        + Text::new(
                            (panel.format)(v),
                            (6, -9),
                            ("sans-serif", 15).into_font().color(&INK),
                        ),
                ))?;
            }
            None => {
                chart.draw_series(std::iter::once(
                    EmptyElement::at((0.0, SegmentValue::CenterOf(s)))
                        + Text::new(
                            "failed",
                            (6, -9),
                            ("sans-serif", 15).into_font().color(&REFERENCE),
                        ),
                ))?;
            }
        }
    }
    if let Some(mark) = panel.mark {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![
                (mark, SegmentValue::Exact(0)),
                (mark, SegmentValue::Exact(n)),
            ],
            INK.stroke_width(1),
        )))?;
    }
    Ok(())
}

/// One line of a [`LineChart`]: a server's figure over time.
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    pub kind: Kind,
    /// (x, y) points, in order of x.
    pub points: Vec<(f64, f64)>,
}

/// A chart of figures over time, one line per server, with a legend.
#[derive(Clone, Debug)]
pub struct LineChart {
    pub title: String,
    pub caption: String,
    pub x_axis: String,
    pub y_axis: String,
    pub lines: Vec<Line>,
}

/// Height of a line chart.
pub const LINES_HEIGHT: u32 = 520;

/// Line colours: this project's servers in blues and greens, the peers in
/// warm colours, so that the two groups read apart.
const OUR_LINES: [RGBColor; 4] = [
    RGBColor(31, 111, 190),
    RGBColor(20, 150, 120),
    RGBColor(110, 80, 190),
    RGBColor(60, 170, 220),
];
const PEER_LINES: [RGBColor; 5] = [
    RGBColor(222, 128, 36),
    RGBColor(200, 50, 60),
    RGBColor(170, 120, 40),
    RGBColor(220, 90, 160),
    RGBColor(120, 120, 120),
];

/// Draws `chart` and returns the SVG document.
pub fn render_lines(chart: &LineChart) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, LINES_HEIGHT)).into_drawing_area();
        draw_lines(&root, chart).map_err(|e| format!("drawing {:?}: {e}", chart.title))?;
        root.present()
            .map_err(|e| format!("writing {:?}: {e}", chart.title))?;
    }
    Ok(svg)
}

fn draw_lines(root: &Area<'_>, chart: &LineChart) -> DrawResult {
    root.fill(&WHITE)?;
    let (head, body) = root.split_vertically(HEAD - 28);
    head.draw(&Text::new(
        chart.title.clone(),
        (16, 12),
        ("sans-serif", 26).into_font().color(&INK),
    ))?;
    head.draw(&Text::new(
        chart.caption.clone(),
        (16, 44),
        ("sans-serif", 15).into_font().color(&REFERENCE),
    ))?;
    let points = chart.lines.iter().flat_map(|l| l.points.iter());
    let (x_max, y_max) = points.fold((0.0f64, 0.0f64), |(x, y), p| (x.max(p.0), y.max(p.1)));
    let x_max = if x_max > 0.0 { x_max } else { 1.0 };
    let y_max = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
    let mut plot = ChartBuilder::on(&body)
        .margin_left(16)
        .margin_right(24)
        .margin_top(8)
        .x_label_area_size(42)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
    plot.configure_mesh()
        .x_desc(chart.x_axis.clone())
        .y_desc(chart.y_axis.clone())
        .x_labels(10)
        .y_labels(8)
        .label_style(("sans-serif", 15).into_font().color(&INK))
        .axis_desc_style(("sans-serif", 15).into_font().color(&INK))
        .light_line_style(RGBColor(236, 236, 236))
        .bold_line_style(RGBColor(214, 214, 214))
        .draw()?;
    let (mut ours, mut peers) = (0, 0);
    for line in &chart.lines {
        let colour = match line.kind {
            Kind::Ours => {
                ours += 1;
                OUR_LINES[(ours - 1) % OUR_LINES.len()]
            }
            Kind::Peer | Kind::Reference => {
                peers += 1;
                PEER_LINES[(peers - 1) % PEER_LINES.len()]
            }
        };
        let width = if line.kind == Kind::Ours { 3 } else { 2 };
        plot.draw_series(LineSeries::new(
            line.points.iter().copied(),
            colour.stroke_width(width),
        ))?
        .label(line.label.clone())
        .legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(width))
        });
    }
    plot.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(200, 200, 200))
        .label_font(("sans-serif", 15).into_font().color(&INK))
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_decimals(v: f64) -> String {
        format!("{v:.2}")
    }

    fn sample() -> Chart {
        let bar = |label: &str, value, kind| Bar {
            label: label.into(),
            value,
            kind,
        };
        Chart {
            title: "(t) 10 connections x 64 KiB text, mixed UTF-8".into(),
            caption: "2 x Test CPU, 2026-12-07 10:00 UTC, benches/load.sh".into(),
            panels: vec![
                Panel {
                    title: "messages/s, as a ratio to raw TCP".into(),
                    axis: "ratio to raw TCP (higher is better)".into(),
                    format: two_decimals,
                    mark: Some(1.0),
                    bars: vec![
                        bar("raw", Some(1.0), Kind::Reference),
                        bar("facade-mio", Some(0.91), Kind::Ours),
                        bar("fastwebsockets", Some(0.76), Kind::Peer),
                        bar("ws-rs", None, Kind::Peer),
                    ],
                },
                Panel {
                    title: "server CPU per message".into(),
                    axis: "µs per message (lower is better)".into(),
                    format: two_decimals,
                    mark: None,
                    bars: vec![
                        bar("raw", Some(0.3), Kind::Reference),
                        bar("facade-mio", Some(9.5), Kind::Ours),
                        bar("fastwebsockets", Some(7.8), Kind::Peer),
                        bar("ws-rs", None, Kind::Peer),
                    ],
                },
            ],
        }
    }

    /// The text of every `<text>` element, in order.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("</text>")
            .filter_map(|chunk| chunk.rsplit_once('>'))
            .map(|(_, text)| text.trim().to_string())
            .collect()
    }

    fn count(texts: &[String], text: &str) -> usize {
        texts.iter().filter(|t| *t == text).count()
    }

    /// The filled rectangles of one colour: the bars of that kind.
    fn bars_of(svg: &str, c: RGBColor) -> usize {
        let fill = format!("fill=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2);
        svg.lines()
            .filter(|l| l.contains("<rect") && l.contains(&fill))
            .count()
    }

    #[test]
    fn a_chart_has_its_title_labels_axes_and_one_bar_per_measured_server() {
        let chart = sample();
        let svg = render(&chart).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(svg.contains(&format!("width=\"{WIDTH}\"")));
        assert!(svg.contains(&format!("height=\"{}\"", height(&chart))));
        let texts = texts(&svg);
        for text in [
            "(t) 10 connections x 64 KiB text, mixed UTF-8",
            "2 x Test CPU, 2026-12-07 10:00 UTC, benches/load.sh",
            "messages/s, as a ratio to raw TCP",
            "ratio to raw TCP (higher is better)",
            "server CPU per message",
            "µs per message (lower is better)",
            "this project",
            "peer libraries",
        ] {
            assert_eq!(count(&texts, text), 1, "{text:?} in {texts:?}");
        }
        // Every server is named on each panel's axis.
        for server in ["raw", "facade-mio", "fastwebsockets", "ws-rs"] {
            assert_eq!(count(&texts, server), 2, "{server} in {texts:?}");
        }
        // One bar per server and panel, in its kind's colour (and one
        // swatch per kind in the legend); the failed one has none and says
        // so.
        assert_eq!(bars_of(&svg, REFERENCE), 3);
        assert_eq!(bars_of(&svg, OURS), 3);
        assert_eq!(bars_of(&svg, PEER), 3);
        assert_eq!(count(&texts, "failed"), 2);
        // The values, as the panel formats them.
        for value in ["0.91", "0.76", "9.50", "7.80"] {
            assert_eq!(count(&texts, value), 1, "{value} in {texts:?}");
        }
    }

    #[test]
    fn a_panel_without_any_figure_still_renders() {
        let mut chart = sample();
        for panel in &mut chart.panels {
            for bar in &mut panel.bars {
                bar.value = None;
            }
        }
        let svg = render(&chart).unwrap();
        assert_eq!(count(&texts(&svg), "failed"), 8);
    }

    #[test]
    fn a_line_chart_has_a_line_and_a_legend_entry_per_server() {
        let line = |label: &str, kind, k: f64| Line {
            label: label.into(),
            kind,
            points: (0..20).map(|i| (i as f64 * 0.1, k * i as f64)).collect(),
        };
        let chart = LineChart {
            title: "(s) 16 slow readers".into(),
            caption: "2 x Test CPU".into(),
            x_axis: "seconds".into(),
            y_axis: "server RSS, MiB".into(),
            lines: vec![
                line("facade-mio", Kind::Ours, 1.0),
                line("native", Kind::Ours, 2.0),
                line("tungstenite", Kind::Peer, 3.0),
            ],
        };
        let svg = render_lines(&chart).unwrap();
        let texts = texts(&svg);
        for text in [
            "(s) 16 slow readers",
            "2 x Test CPU",
            "seconds",
            "server RSS, MiB",
            "facade-mio",
            "native",
            "tungstenite",
        ] {
            assert_eq!(count(&texts, text), 1, "{text:?} in {texts:?}");
        }
        // A polyline per series and one per legend entry, each in its own
        // colour.
        for c in [OUR_LINES[0], OUR_LINES[1], PEER_LINES[0]] {
            let stroke = format!("stroke=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2);
            let drawn = svg
                .lines()
                .filter(|l| l.contains("<polyline") && l.contains(&stroke))
                .count();
            assert_eq!(drawn, 2, "{stroke}");
        }
    }
}
