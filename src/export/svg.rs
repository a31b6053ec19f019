//! Hand-written SVG charts for the HTML report: bars, histograms, categorical lines, scatter
//! plots and heatmaps, each with a title, axes, ticks, labelled units and (for several series)
//! a legend. Output is deterministic: the same chart gives the same bytes (fixed float
//! formatting, no ids, no timestamps). Series colours are the Okabe–Ito palette and heatmaps use
//! viridis, both readable with the common colour-vision deficiencies; series also differ by
//! marker shape so they never rely on colour alone.

use std::fmt::Write as _;

/// Okabe–Ito colours, in the order series receive them (its yellow is left out: weak on white).
pub const PALETTE: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
];

const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'DejaVu Sans', sans-serif";
const INK: &str = "#1f1f1f";
const MUTED: &str = "#4d4d4d";
const GRID: &str = "#e4e4e4";
/// Approximate advance of one character of 12 px sans-serif text, used to lay labels out.
const CHAR_W: f64 = 6.8;
/// Longest category label drawn in full; longer ones are cut with an ellipsis (full in a tooltip).
const MAX_LABEL_CHARS: usize = 18;
/// Viridis, sampled at nine evenly spaced stops.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (0x44, 0x01, 0x54),
    (0x47, 0x2d, 0x7b),
    (0x3b, 0x52, 0x8b),
    (0x2c, 0x72, 0x8e),
    (0x21, 0x91, 0x8c),
    (0x28, 0xae, 0x80),
    (0x5e, 0xc9, 0x62),
    (0xad, 0xdc, 0x30),
    (0xfd, 0xe7, 0x25),
];

/// Title, axis labels and size shared by every chart.
#[derive(Clone, Debug)]
struct Head {
    title: String,
    x_label: String,
    y_label: String,
    width: f64,
    height: f64,
}

impl Head {
    fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        Head {
            title: title.to_string(),
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            width: 560.0,
            height: 340.0,
        }
    }
}

/// A bar chart of labelled values, each bar with its value written above it.
#[derive(Clone, Debug)]
pub struct BarChart {
    head: Head,
    bars: Vec<(String, f64)>,
}

impl BarChart {
    /// An empty chart with its title and axis labels (put units in the labels).
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        BarChart {
            head: Head::new(title, x_label, y_label),
            bars: Vec::new(),
        }
    }

    /// Add one bar.
    pub fn bar(mut self, label: &str, value: f64) -> Self {
        self.bars.push((label.to_string(), value));
        self
    }

    /// Set the size in pixels (default 560 × 340).
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.head.width = f64::from(width);
        self.head.height = f64::from(height);
        self
    }

    /// The chart as an `<svg>` element; every bar is a `<rect class="bar">`.
    pub fn render(&self) -> String {
        let head = &self.head;
        let values: Vec<f64> = self
            .bars
            .iter()
            .map(|b| b.1)
            .filter(|v| v.is_finite())
            .collect();
        if values.is_empty() {
            return empty_chart(head, "no data");
        }
        let (lo, hi) = span_with_zero(&values);
        // Headroom for the value written above the tallest bar.
        let y = Axis::nice(lo, hi + (hi - lo) * 0.08, 5);
        let labels: Vec<String> = self.bars.iter().map(|b| b.0.clone()).collect();
        let left = left_margin(&y);
        let right = 20.0;
        let band = (head.width - left - right) / labels.len() as f64;
        let layout = CategoryLayout::new(&labels, band);
        let plot = Plot::new(head, left, right, layout.bottom_margin());
        let mut out = open_svg(head);
        draw_y_axis(&mut out, &plot, &y, &head.y_label);
        draw_category_axis(&mut out, &plot, &labels, &layout, &head.x_label);
        let width = (band * 0.64).min(90.0);
        let zero = plot.y(&y, 0.0);
        // Values are written above the bars only when they fit the band (tooltips have them).
        let longest = self
            .bars
            .iter()
            .map(|b| format_number(b.1).chars().count())
            .max()
            .unwrap_or(1) as f64;
        let value_size = [12.0, 10.0]
            .into_iter()
            .find(|size| longest * CHAR_W * size / 12.0 + 2.0 <= band);
        for (i, (label, value)) in self.bars.iter().enumerate() {
            if !value.is_finite() {
                continue;
            }
            let cx = plot.left + band * (i as f64 + 0.5);
            let top = plot.y(&y, *value);
            let (y0, h) = if top < zero {
                (top, zero - top)
            } else {
                (zero, top - zero)
            };
            let _ = write!(
                out,
                r#"<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>"#,
                px(cx - width / 2.0),
                px(y0),
                px(width),
                px(h),
                PALETTE[0],
                escape(label),
                format_number(*value)
            );
            if let Some(size) = value_size {
                let label_y = if *value >= 0.0 {
                    top - 5.0
                } else {
                    top + size + 2.0
                };
                text(
                    &mut out,
                    (cx, label_y),
                    &format!(r#"font-size="{size}" text-anchor="middle" class="value""#),
                    INK,
                    &format_number(*value),
                );
            }
        }
        draw_baseline(&mut out, &plot, zero);
        close_svg(out)
    }
}

/// One bin of a histogram: `[lo, hi)` and its height.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bin {
    /// Left edge.
    pub lo: f64,
    /// Right edge.
    pub hi: f64,
    /// Height of the bar (a count, or a rate for binned time series).
    pub value: f64,
}

/// Bars over a numeric x axis: a histogram of values, or a time series binned into buckets.
#[derive(Clone, Debug)]
pub struct Histogram {
    head: Head,
    bins: Vec<Bin>,
    reference: Option<(String, f64)>,
}

impl Histogram {
    /// An empty histogram with its title and axis labels (put units in the labels).
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        Histogram {
            head: Head::new(title, x_label, y_label),
            bins: Vec::new(),
            reference: None,
        }
    }

    /// Count `values` into about `target_bins` bins of a round width (1, 2 or 5 × 10ⁿ).
    pub fn of_values(mut self, values: &[f64], target_bins: usize) -> Self {
        self.bins = count_bins(values, target_bins);
        self
    }

    /// Use bins computed by the caller.
    pub fn bins(mut self, bins: Vec<Bin>) -> Self {
        self.bins = bins;
        self
    }

    /// Draw a dashed horizontal line at `value`, labelled `label` (e.g. the overall mean).
    pub fn reference(mut self, label: &str, value: f64) -> Self {
        self.reference = Some((label.to_string(), value));
        self
    }

    /// Set the size in pixels (default 560 × 340).
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.head.width = f64::from(width);
        self.head.height = f64::from(height);
        self
    }

    /// The chart as an `<svg>` element; every bin is a `<rect class="bar">`.
    pub fn render(&self) -> String {
        let head = &self.head;
        let bins: Vec<&Bin> = self
            .bins
            .iter()
            .filter(|b| b.lo.is_finite() && b.hi.is_finite() && b.value.is_finite() && b.hi > b.lo)
            .collect();
        let (Some(first), Some(last)) = (bins.first(), bins.last()) else {
            return empty_chart(head, "no data");
        };
        let mut heights: Vec<f64> = bins.iter().map(|b| b.value).collect();
        if let Some((_, r)) = &self.reference {
            heights.push(*r);
        }
        let (lo, hi) = span_with_zero(&heights);
        let y = Axis::nice(lo, hi, 5);
        let x_lo = bins.iter().map(|b| b.lo).fold(first.lo, f64::min);
        let x_hi = bins.iter().map(|b| b.hi).fold(last.hi, f64::max);
        let left = left_margin(&y);
        let right = 20.0;
        let x = Axis::within(x_lo, x_hi, ticks_for(head.width - left - right));
        let plot = Plot::new(head, left, right, 58.0);
        let mut out = open_svg(head);
        draw_y_axis(&mut out, &plot, &y, &head.y_label);
        draw_x_axis(&mut out, &plot, &x, &head.x_label);
        let zero = plot.y(&y, 0.0);
        for bin in &bins {
            let x0 = plot.x(&x, bin.lo);
            let x1 = plot.x(&x, bin.hi);
            let top = plot.y(&y, bin.value);
            let (y0, h) = if top < zero {
                (top, zero - top)
            } else {
                (zero, top - zero)
            };
            let _ = write!(
                out,
                r#"<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="white" stroke-width="1"><title>{} to {}: {}</title></rect>"#,
                px(x0),
                px(y0),
                px((x1 - x0).max(0.5)),
                px(h),
                PALETTE[0],
                format_number(bin.lo),
                format_number(bin.hi),
                format_number(bin.value)
            );
        }
        draw_baseline(&mut out, &plot, zero);
        if let Some((label, value)) = &self.reference {
            let ry = plot.y(&y, *value);
            let _ = write!(
                out,
                r#"<line class="reference" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2" stroke-dasharray="6 4"/>"#,
                px(plot.left),
                px(ry),
                px(plot.right),
                px(ry),
                PALETTE[1]
            );
            text(
                &mut out,
                (plot.right - 4.0, ry - 6.0),
                r#"font-size="12" text-anchor="end" font-weight="600" stroke="white" stroke-width="3" paint-order="stroke""#,
                PALETTE[1],
                label,
            );
        }
        close_svg(out)
    }
}

/// One named series of `(x, y)` points for a [`ScatterChart`].
#[derive(Clone, Debug)]
struct ScatterSeries {
    name: String,
    points: Vec<(f64, f64)>,
}

/// Points over two numeric axes, one marker shape and colour per series.
#[derive(Clone, Debug)]
pub struct ScatterChart {
    head: Head,
    series: Vec<ScatterSeries>,
    x_range: Option<(f64, f64)>,
    connect: bool,
}

impl ScatterChart {
    /// An empty chart with its title and axis labels (put units in the labels).
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        ScatterChart {
            head: Head::new(title, x_label, y_label),
            series: Vec::new(),
            x_range: None,
            connect: false,
        }
    }

    /// Add a series; the legend shows it when there are several.
    pub fn series(mut self, name: &str, points: Vec<(f64, f64)>) -> Self {
        self.series.push(ScatterSeries {
            name: name.to_string(),
            points,
        });
        self
    }

    /// Fix the x axis to `[lo, hi]` instead of fitting it to the data.
    pub fn x_range(mut self, lo: f64, hi: f64) -> Self {
        self.x_range = Some((lo, hi));
        self
    }

    /// Join all points, in x order, with a faint grey line (to show a trend).
    pub fn connect_points(mut self, connect: bool) -> Self {
        self.connect = connect;
        self
    }

    /// Set the size in pixels (default 560 × 340).
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.head.width = f64::from(width);
        self.head.height = f64::from(height);
        self
    }

    /// The chart as an `<svg>` element; every point is an element with `class="point"`.
    pub fn render(&self) -> String {
        let head = &self.head;
        let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
        let all: Vec<(f64, f64)> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter(finite).copied())
            .collect();
        if all.is_empty() {
            return empty_chart(head, "no data");
        }
        let ys: Vec<f64> = all.iter().map(|p| p.1).collect();
        let (lo, hi) = span_with_zero(&ys);
        let y = Axis::nice(lo, hi, 5);
        let entries = self.legend_entries();
        let legend = Legend::width(None, &entries);
        let left = left_margin(&y);
        let right = 20.0 + legend;
        let target = ticks_for(head.width - left - right);
        let x = match self.x_range {
            Some((a, b)) if a.is_finite() && b.is_finite() && b > a => Axis::within(a, b, target),
            _ => {
                let x_lo = all.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
                let x_hi = all.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
                Axis::nice(x_lo, x_hi, target)
            }
        };
        let plot = Plot::new(head, left, right, 58.0);
        let mut out = open_svg(head);
        draw_y_axis(&mut out, &plot, &y, &head.y_label);
        draw_x_axis(&mut out, &plot, &x, &head.x_label);
        if self.connect && all.len() > 1 {
            let mut sorted = all.clone();
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
            let points: Vec<String> = sorted
                .iter()
                .map(|p| format!("{},{}", px(plot.x(&x, p.0)), px(plot.y(&y, p.1))))
                .collect();
            let _ = write!(
                out,
                "<polyline class=\"trend\" points=\"{}\" fill=\"none\" stroke=\"#b0b0b0\" stroke-width=\"1\"/>",
                points.join(" ")
            );
        }
        for (i, series) in self.series.iter().enumerate() {
            for p in series.points.iter().filter(finite) {
                let tip = format!(
                    "{}: {} {}, {} {}",
                    series.name,
                    head.x_label,
                    format_number(p.0),
                    head.y_label,
                    format_number(p.1)
                );
                marker(
                    &mut out,
                    i,
                    (plot.x(&x, p.0), plot.y(&y, p.1)),
                    PALETTE[i % PALETTE.len()],
                    &tip,
                );
            }
        }
        if entries.len() > 1 {
            Legend::draw(&mut out, (plot.right + 16.0, plot.top), None, &entries);
        }
        close_svg(out)
    }

    fn legend_entries(&self) -> Vec<LegendEntry> {
        self.series
            .iter()
            .enumerate()
            .map(|(i, s)| LegendEntry {
                name: s.name.clone(),
                index: i,
                line: false,
            })
            .collect()
    }
}

/// Lines over categories (e.g. the values of a swept parameter), one line per series; a
/// missing value breaks the line.
#[derive(Clone, Debug)]
pub struct LineChart {
    head: Head,
    categories: Vec<String>,
    series: Vec<(String, Vec<Option<f64>>)>,
    /// Per series, per category: an interval `(low, high)` drawn as an error bar.
    intervals: Vec<Vec<Option<(f64, f64)>>>,
    legend_title: Option<String>,
}

impl LineChart {
    /// An empty chart over `categories` (in the order given) with its title and axis labels.
    pub fn new(title: &str, x_label: &str, y_label: &str, categories: Vec<String>) -> Self {
        LineChart {
            head: Head::new(title, x_label, y_label),
            categories,
            series: Vec::new(),
            intervals: Vec::new(),
            legend_title: None,
        }
    }

    /// Add a series: one value (or `None`) per category.
    pub fn series(self, name: &str, values: Vec<Option<f64>>) -> Self {
        self.series_with_intervals(name, values, Vec::new())
    }

    /// Add a series with an interval `(low, high)` (or `None`) per category, drawn as an
    /// error bar (`class="error-bar"`, its ends in the tooltip) behind the point.
    pub fn series_with_intervals(
        mut self,
        name: &str,
        values: Vec<Option<f64>>,
        intervals: Vec<Option<(f64, f64)>>,
    ) -> Self {
        self.series.push((name.to_string(), values));
        self.intervals.push(intervals);
        self
    }

    /// Title written above the legend (e.g. the name of the parameter the series vary).
    pub fn legend_title(mut self, title: &str) -> Self {
        self.legend_title = Some(title.to_string());
        self
    }

    /// Set the size in pixels (default 560 × 340).
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.head.width = f64::from(width);
        self.head.height = f64::from(height);
        self
    }

    /// The chart as an `<svg>` element; every data point is an element with `class="point"`.
    pub fn render(&self) -> String {
        let head = &self.head;
        let values: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.1.iter().flatten().copied())
            .filter(|v| v.is_finite())
            .collect();
        if values.is_empty() || self.categories.is_empty() {
            return empty_chart(head, "no data");
        }
        let finite_interval = |i: &&(f64, f64)| i.0.is_finite() && i.1.is_finite();
        let ends: Vec<f64> = self
            .intervals
            .iter()
            .flat_map(|s| s.iter().flatten().filter(finite_interval))
            .flat_map(|&(lo, hi)| [lo, hi])
            .collect();
        let y = fitted_axis(&[values, ends].concat());
        let entries: Vec<LegendEntry> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| LegendEntry {
                name: s.0.clone(),
                index: i,
                line: true,
            })
            .collect();
        let show_legend = entries.len() > 1;
        let legend = if show_legend {
            Legend::width(self.legend_title.as_deref(), &entries)
        } else {
            0.0
        };
        let left = left_margin(&y);
        let right = 20.0 + legend;
        let band = (head.width - left - right) / self.categories.len() as f64;
        let layout = CategoryLayout::new(&self.categories, band);
        let plot = Plot::new(head, left, right, layout.bottom_margin());
        let mut out = open_svg(head);
        draw_y_axis(&mut out, &plot, &y, &head.y_label);
        draw_category_axis(&mut out, &plot, &self.categories, &layout, &head.x_label);
        for (i, (name, series)) in self.series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let at = |c: usize, v: f64| (plot.left + band * (c as f64 + 0.5), plot.y(&y, v));
            let mut run: Vec<String> = Vec::new();
            let mut runs: Vec<Vec<String>> = Vec::new();
            for (c, v) in series.iter().enumerate().take(self.categories.len()) {
                match v {
                    Some(v) if v.is_finite() => {
                        let (px_x, px_y) = at(c, *v);
                        run.push(format!("{},{}", px(px_x), px(px_y)));
                    }
                    _ => runs.push(std::mem::take(&mut run)),
                }
            }
            runs.push(run);
            let intervals = self.intervals.get(i).map_or(&[][..], Vec::as_slice);
            for (c, interval) in intervals.iter().enumerate().take(self.categories.len()) {
                let Some((lo, hi)) = interval.filter(|i| i.0.is_finite() && i.1.is_finite()) else {
                    continue;
                };
                let (x, top) = at(c, hi);
                let bottom = plot.y(&y, lo);
                let cap = 5.0;
                let _ = write!(
                    out,
                    r#"<g class="error-bar" stroke="{colour}" stroke-width="1.5"><line x1="{x}" y1="{t}" x2="{x}" y2="{b}"/><line x1="{l}" y1="{t}" x2="{r}" y2="{t}"/><line x1="{l}" y1="{b}" x2="{r}" y2="{b}"/><title>95 % interval: {lo} to {hi}</title></g>"#,
                    x = px(x),
                    t = px(top),
                    b = px(bottom),
                    l = px(x - cap),
                    r = px(x + cap),
                    lo = format_number(lo),
                    hi = format_number(hi),
                );
            }
            for run in runs.iter().filter(|r| r.len() > 1) {
                let _ = write!(
                    out,
                    r#"<polyline class="line" points="{}" fill="none" stroke="{colour}" stroke-width="2"{}/>"#,
                    run.join(" "),
                    dash(i)
                );
            }
            for (c, v) in series.iter().enumerate().take(self.categories.len()) {
                if let Some(v) = v.filter(|v| v.is_finite()) {
                    let tip = format!(
                        "{}{}{} = {}: {}",
                        name,
                        if name.is_empty() { "" } else { ", " },
                        head.x_label,
                        self.categories[c],
                        format_number(v)
                    );
                    marker(&mut out, i, at(c, v), colour, &tip);
                }
            }
        }
        if show_legend {
            Legend::draw(
                &mut out,
                (plot.right + 16.0, plot.top),
                self.legend_title.as_deref(),
                &entries,
            );
        }
        close_svg(out)
    }
}

/// A grid of cells coloured by value (viridis), each with its number written in it, and a
/// colour bar. Row 0 is drawn at the bottom, like a y axis.
#[derive(Clone, Debug)]
pub struct Heatmap {
    head: Head,
    columns: Vec<String>,
    rows: Vec<String>,
    values: Vec<Vec<Option<f64>>>,
    unit: String,
}

impl Heatmap {
    /// A heatmap with `values[row][column]`; `unit` labels the colour bar.
    pub fn new(
        title: &str,
        x_label: &str,
        y_label: &str,
        columns: Vec<String>,
        rows: Vec<String>,
    ) -> Self {
        let values = vec![vec![None; columns.len()]; rows.len()];
        Heatmap {
            head: Head::new(title, x_label, y_label),
            columns,
            rows,
            values,
            unit: String::new(),
        }
    }

    /// Set the value of one cell (ignored when out of range).
    pub fn cell(mut self, row: usize, column: usize, value: f64) -> Self {
        if let Some(cell) = self.values.get_mut(row).and_then(|r| r.get_mut(column)) {
            *cell = Some(value);
        }
        self
    }

    /// The unit written above the colour bar.
    pub fn unit(mut self, unit: &str) -> Self {
        self.unit = unit.to_string();
        self
    }

    /// Set the size in pixels (default 560 × 340).
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.head.width = f64::from(width);
        self.head.height = f64::from(height);
        self
    }

    /// The chart as an `<svg>` element; every cell (rows × columns) is a `<rect class="cell">`.
    pub fn render(&self) -> String {
        let head = &self.head;
        let values: Vec<f64> = self
            .values
            .iter()
            .flatten()
            .flatten()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        if self.rows.is_empty() || self.columns.is_empty() {
            return empty_chart(head, "no data");
        }
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let scale = Axis::within(lo.min(hi), hi.max(lo), 5);
        let row_chars = self
            .rows
            .iter()
            .map(|r| shorten(r).chars().count())
            .max()
            .unwrap_or(1);
        let bar_labels = scale
            .ticks
            .iter()
            .map(|t| scale.label(*t).chars().count())
            .max()
            .unwrap_or(1)
            .max(self.unit.chars().count().saturating_sub(2));
        let left = 40.0 + row_chars as f64 * CHAR_W;
        let right = 46.0 + bar_labels as f64 * CHAR_W + 12.0;
        let band = (head.width - left - right) / self.columns.len() as f64;
        let layout = CategoryLayout::new(&self.columns, band);
        let plot = Plot::new(head, left, right, layout.bottom_margin());
        let mut out = open_svg(head);
        let cw = (plot.right - plot.left) / self.columns.len() as f64;
        let ch = (plot.bottom - plot.top) / self.rows.len() as f64;
        for (r, row) in self.values.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                let x0 = plot.left + cw * c as f64;
                let y0 = plot.bottom - ch * (r as f64 + 1.0);
                let finite = value.filter(|v| v.is_finite());
                let (fill, ink, label) = match finite {
                    Some(v) => {
                        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                        let (rgb, dark) = viridis(t);
                        (
                            rgb,
                            if dark { "white" } else { "#000000" },
                            format_number(v),
                        )
                    }
                    None => ("#eeeeee".to_string(), MUTED, "n/a".to_string()),
                };
                let _ = write!(
                    out,
                    r#"<rect class="cell" x="{}" y="{}" width="{}" height="{}" fill="{fill}" stroke="white" stroke-width="1.5"><title>{} = {}, {} = {}: {}</title></rect>"#,
                    px(x0),
                    px(y0),
                    px(cw),
                    px(ch),
                    escape(&head.x_label),
                    escape(&self.columns[c]),
                    escape(&head.y_label),
                    escape(self.rows.get(r).map_or("", String::as_str)),
                    escape(&label)
                );
                let size = (ch * 0.42)
                    .min(cw / (label.chars().count() as f64 * 0.62 + 0.6))
                    .clamp(7.0, 14.0);
                text(
                    &mut out,
                    (x0 + cw / 2.0, y0 + ch / 2.0 + size * 0.35),
                    &format!(
                        r#"font-size="{}" text-anchor="middle" class="cell-value""#,
                        px(size)
                    ),
                    ink,
                    &label,
                );
            }
        }
        // Row labels on the left, like a y axis.
        for (r, row) in self.rows.iter().enumerate() {
            let cy = plot.bottom - ch * (r as f64 + 0.5);
            text(
                &mut out,
                (plot.left - 8.0, cy + 4.0),
                r#"font-size="12" text-anchor="end""#,
                INK,
                &shorten(row),
            );
        }
        let cy = (plot.top + plot.bottom) / 2.0;
        let _ = write!(
            out,
            r#"<text x="16" y="{}" transform="rotate(-90 16 {})" font-size="13" text-anchor="middle" fill="{INK}">{}</text>"#,
            px(cy),
            px(cy),
            escape(&head.y_label)
        );
        draw_category_axis(&mut out, &plot, &self.columns, &layout, &head.x_label);
        self.draw_colour_bar(&mut out, &plot, &scale, (lo, hi));
        close_svg(out)
    }

    fn draw_colour_bar(&self, out: &mut String, plot: &Plot, scale: &Axis, (lo, hi): (f64, f64)) {
        let x0 = plot.right + 18.0;
        let (top, bottom) = (plot.top + 18.0, plot.bottom);
        text(
            out,
            (x0, plot.top + 6.0),
            r#"font-size="12" text-anchor="start" font-weight="600""#,
            INK,
            &self.unit,
        );
        const SLICES: usize = 40;
        let slice = (bottom - top) / SLICES as f64;
        for s in 0..SLICES {
            let t = (s as f64 + 0.5) / SLICES as f64;
            let _ = write!(
                out,
                r#"<rect x="{}" y="{}" width="14" height="{}" fill="{}"/>"#,
                px(x0),
                px(bottom - slice * (s as f64 + 1.0)),
                px(slice + 0.3),
                viridis(t).0
            );
        }
        let _ = write!(
            out,
            r#"<rect x="{}" y="{}" width="14" height="{}" fill="none" stroke="{MUTED}" stroke-width="0.8"/>"#,
            px(x0),
            px(top),
            px(bottom - top)
        );
        if hi.is_nan() || lo.is_nan() || hi <= lo {
            if lo.is_finite() {
                text(
                    out,
                    (x0 + 20.0, (top + bottom) / 2.0 + 4.0),
                    r#"font-size="12" text-anchor="start""#,
                    INK,
                    &format_number(lo),
                );
            }
            return;
        }
        for tick in &scale.ticks {
            let ty = bottom - (tick - lo) / (hi - lo) * (bottom - top);
            let _ = write!(
                out,
                r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{MUTED}"/>"#,
                px(x0 + 14.0),
                px(ty),
                px(x0 + 18.0),
                px(ty)
            );
            text(
                out,
                (x0 + 21.0, ty + 4.0),
                r#"font-size="12" text-anchor="start""#,
                INK,
                &scale.label(*tick),
            );
        }
    }
}

/// Escape text for HTML and SVG content and attribute values.
pub fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&#39;"),
            c => s.push(c),
        }
    }
    s
}

/// A number for people: about three significant digits, trailing zeros dropped, no `-0`.
pub fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let a = v.abs();
    let s = if a == 0.0 {
        "0".to_string()
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.1 {
        format!("{v:.3}")
    } else if a >= 0.001 {
        format!("{v:.4}")
    } else {
        return format!("{v:.2e}");
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".to_string() } else { s }
}

/// Count `values` into bins of a round width covering them all.
fn count_bins(values: &[f64], target_bins: usize) -> Vec<Bin> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return Vec::new();
    }
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let spread = if hi > lo {
        hi - lo
    } else {
        lo.abs().max(1e-3) * 0.1
    };
    let step = nice_step(spread / target_bins.max(1) as f64);
    let start = (lo / step).floor() * step;
    let count = (((hi - start) / step).floor() as usize + 1).clamp(1, 1000);
    let mut bins: Vec<Bin> = (0..count)
        .map(|i| Bin {
            lo: start + step * i as f64,
            hi: start + step * (i as f64 + 1.0),
            value: 0.0,
        })
        .collect();
    for v in finite {
        let i = (((v - start) / step).floor().max(0.0) as usize).min(count - 1);
        bins[i].value += 1.0;
    }
    bins
}

/// A linear axis: its range, tick step and tick positions.
#[derive(Clone, Debug)]
struct Axis {
    lo: f64,
    hi: f64,
    step: f64,
    ticks: Vec<f64>,
}

impl Axis {
    /// An axis covering `[lo, hi]`, widened to multiples of a round step.
    fn nice(lo: f64, hi: f64, target: usize) -> Axis {
        let (lo, hi) = widen(lo, hi);
        let step = nice_step((hi - lo) / target.max(1) as f64);
        let lo = (lo / step).floor() * step;
        let hi = (hi / step).ceil() * step;
        Axis::with_step(lo, hi, step)
    }

    /// An axis over exactly `[lo, hi]`, with round ticks inside it.
    fn within(lo: f64, hi: f64, target: usize) -> Axis {
        let (lo, hi) = if lo.is_finite() && hi.is_finite() {
            widen(lo, hi)
        } else {
            (0.0, 1.0)
        };
        let step = nice_step((hi - lo) / target.max(1) as f64);
        Axis::with_step(lo, hi, step)
    }

    fn with_step(lo: f64, hi: f64, step: f64) -> Axis {
        let first = (lo / step - 1e-9).ceil() as i64;
        let last = (hi / step + 1e-9).floor() as i64;
        let ticks = (first..=last.min(first + 100))
            .map(|i| {
                let t = i as f64 * step;
                if t.abs() < step * 1e-9 { 0.0 } else { t }
            })
            .collect();
        Axis {
            lo,
            hi,
            step,
            ticks,
        }
    }

    /// A tick label with just enough decimals for the step; thousands as `k`, millions as `M`.
    fn label(&self, v: f64) -> String {
        if v == 0.0 {
            return "0".to_string();
        }
        let (scaled, step, suffix) = if self.step >= 1e6 {
            (v / 1e6, self.step / 1e6, "M")
        } else if self.step >= 1e3 {
            (v / 1e3, self.step / 1e3, "k")
        } else {
            (v, self.step, "")
        };
        let decimals = if step >= 1.0 {
            0
        } else {
            (-step.log10() - 1e-9).ceil().clamp(0.0, 12.0) as usize
        };
        let s = format!("{scaled:.decimals$}{suffix}");
        if s.starts_with('-') && s.trim_start_matches(['-', '0', '.']).is_empty() {
            s.trim_start_matches('-').to_string()
        } else {
            s
        }
    }
}

/// The pixel area the data is drawn in.
#[derive(Clone, Copy, Debug)]
struct Plot {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Plot {
    fn new(head: &Head, left: f64, right: f64, bottom: f64) -> Plot {
        Plot {
            left,
            right: (head.width - right).max(left + 40.0),
            top: 46.0,
            bottom: (head.height - bottom).max(86.0),
        }
    }

    fn x(&self, axis: &Axis, v: f64) -> f64 {
        self.left + (v - axis.lo) / (axis.hi - axis.lo) * (self.right - self.left)
    }

    fn y(&self, axis: &Axis, v: f64) -> f64 {
        self.bottom - (v - axis.lo) / (axis.hi - axis.lo) * (self.bottom - self.top)
    }
}

/// How category labels fit under their bands: straight, slanted, and how many are skipped.
#[derive(Clone, Copy, Debug)]
struct CategoryLayout {
    slanted: bool,
    every: usize,
    longest: usize,
}

impl CategoryLayout {
    fn new(labels: &[String], band: f64) -> CategoryLayout {
        let longest = labels
            .iter()
            .map(|l| shorten(l).chars().count())
            .max()
            .unwrap_or(1);
        let straight = longest as f64 * CHAR_W + 6.0;
        if straight <= band {
            return CategoryLayout {
                slanted: false,
                every: 1,
                longest,
            };
        }
        // Short labels (numbers) stay straight and are thinned; long ones are slanted.
        if longest <= 4 {
            let every = (straight / band.max(1.0)).ceil().max(1.0) as usize;
            return CategoryLayout {
                slanted: false,
                every,
                longest,
            };
        }
        let every = (16.0 / band.max(1.0)).ceil().max(1.0) as usize;
        CategoryLayout {
            slanted: true,
            every,
            longest,
        }
    }

    /// Space below the plot for tick labels and the axis title.
    fn bottom_margin(&self) -> f64 {
        if self.slanted {
            // Labels slant at 40°: their height is their length × sin 40°.
            30.0 + self.longest as f64 * CHAR_W * 0.643 + 24.0
        } else {
            58.0
        }
    }
}

/// One line of a legend.
#[derive(Clone, Debug)]
struct LegendEntry {
    name: String,
    index: usize,
    line: bool,
}

/// A legend drawn to the right of the plot.
struct Legend;

impl Legend {
    const MAX_CHARS: usize = 30;

    fn width(title: Option<&str>, entries: &[LegendEntry]) -> f64 {
        if entries.len() < 2 {
            return 0.0;
        }
        let longest = entries
            .iter()
            .map(|e| e.name.chars().count().min(Self::MAX_CHARS) + 4)
            .chain(title.map(|t| t.chars().count().min(Self::MAX_CHARS)))
            .max()
            .unwrap_or(4);
        longest as f64 * CHAR_W + 20.0
    }

    fn draw(out: &mut String, (x, y): (f64, f64), title: Option<&str>, entries: &[LegendEntry]) {
        let mut y = y + 6.0;
        if let Some(title) = title {
            text(
                out,
                (x, y + 4.0),
                r#"font-size="12" text-anchor="start" font-weight="600""#,
                INK,
                &cut(title, Self::MAX_CHARS),
            );
            y += 20.0;
        }
        for e in entries {
            let colour = PALETTE[e.index % PALETTE.len()];
            if e.line {
                let _ = write!(
                    out,
                    r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{colour}" stroke-width="2"{}/>"#,
                    px(x),
                    px(y),
                    px(x + 24.0),
                    px(y),
                    dash(e.index)
                );
            }
            marker_shape(out, e.index, (x + 12.0, y), colour, "legend-marker");
            text(
                out,
                (x + 30.0, y + 4.0),
                r#"font-size="12" text-anchor="start""#,
                INK,
                &cut(&e.name, Self::MAX_CHARS),
            );
            y += 19.0;
        }
    }
}

fn open_svg(head: &Head) -> String {
    let mut s = String::new();
    let (w, h) = (px(head.width), px(head.height));
    let title = escape(&head.title);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT}" role="img" aria-label="{title}"><title>{title}</title><rect width="{w}" height="{h}" fill="white"/>"#
    );
    let chars = head.title.chars().count().max(1) as f64;
    let size = ((head.width - 24.0) / (chars * 0.6)).clamp(10.0, 16.0);
    let _ = write!(
        s,
        r#"<text class="chart-title" x="{}" y="26" font-size="{}" font-weight="700" text-anchor="middle" fill="{INK}">{title}</text>"#,
        px(head.width / 2.0),
        px(size)
    );
    s
}

fn close_svg(mut out: String) -> String {
    out.push_str("</svg>");
    out
}

/// A chart with nothing to plot: its title and a message where the data would be.
fn empty_chart(head: &Head, message: &str) -> String {
    let mut out = open_svg(head);
    let plot = Plot::new(head, 60.0, 20.0, 58.0);
    let _ = write!(
        out,
        r#"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="{GRID}"/>"#,
        px(plot.left),
        px(plot.top),
        px(plot.right - plot.left),
        px(plot.bottom - plot.top)
    );
    text(
        &mut out,
        (
            (plot.left + plot.right) / 2.0,
            (plot.top + plot.bottom) / 2.0,
        ),
        r#"font-size="14" text-anchor="middle""#,
        MUTED,
        message,
    );
    close_svg(out)
}

fn draw_y_axis(out: &mut String, plot: &Plot, axis: &Axis, label: &str) {
    for tick in &axis.ticks {
        let y = plot.y(axis, *tick);
        let _ = write!(
            out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{GRID}" stroke-width="1"/>"#,
            px(plot.left),
            px(y),
            px(plot.right),
            px(y)
        );
        let _ = write!(
            out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{MUTED}" stroke-width="1"/>"#,
            px(plot.left - 5.0),
            px(y),
            px(plot.left),
            px(y)
        );
        text(
            out,
            (plot.left - 8.0, y + 4.0),
            r#"font-size="12" text-anchor="end" class="tick""#,
            INK,
            &axis.label(*tick),
        );
    }
    let _ = write!(
        out,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{MUTED}" stroke-width="1"/>"#,
        px(plot.left),
        px(plot.top),
        px(plot.left),
        px(plot.bottom)
    );
    let cy = (plot.top + plot.bottom) / 2.0;
    let _ = write!(
        out,
        r#"<text class="axis-label" x="16" y="{}" transform="rotate(-90 16 {})" font-size="13" text-anchor="middle" fill="{INK}">{}</text>"#,
        px(cy),
        px(cy),
        escape(label)
    );
}

fn draw_x_axis(out: &mut String, plot: &Plot, axis: &Axis, label: &str) {
    for tick in &axis.ticks {
        let x = plot.x(axis, *tick);
        let _ = write!(
            out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{MUTED}" stroke-width="1"/>"#,
            px(x),
            px(plot.bottom),
            px(x),
            px(plot.bottom + 5.0)
        );
        text(
            out,
            (x, plot.bottom + 19.0),
            r#"font-size="12" text-anchor="middle" class="tick""#,
            INK,
            &axis.label(*tick),
        );
    }
    draw_baseline(out, plot, plot.bottom);
    text(
        out,
        ((plot.left + plot.right) / 2.0, plot.bottom + 44.0),
        r#"font-size="13" text-anchor="middle" class="axis-label""#,
        INK,
        label,
    );
}

fn draw_category_axis(
    out: &mut String,
    plot: &Plot,
    labels: &[String],
    layout: &CategoryLayout,
    title: &str,
) {
    let band = (plot.right - plot.left) / labels.len().max(1) as f64;
    for (i, label) in labels.iter().enumerate() {
        if i % layout.every != 0 {
            continue;
        }
        let x = plot.left + band * (i as f64 + 0.5);
        let _ = write!(
            out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{MUTED}" stroke-width="1"/>"#,
            px(x),
            px(plot.bottom),
            px(x),
            px(plot.bottom + 5.0)
        );
        let shown = shorten(label);
        let tip = if shown == *label {
            String::new()
        } else {
            format!("<title>{}</title>", escape(label))
        };
        if layout.slanted {
            let (tx, ty) = (x + 4.0, plot.bottom + 14.0);
            let _ = write!(
                out,
                r#"<text class="tick" x="{}" y="{}" transform="rotate(-40 {} {})" font-size="12" text-anchor="end" fill="{INK}">{}{tip}</text>"#,
                px(tx),
                px(ty),
                px(tx),
                px(ty),
                escape(&shown)
            );
        } else {
            let _ = write!(
                out,
                r#"<text class="tick" x="{}" y="{}" font-size="12" text-anchor="middle" fill="{INK}">{}{tip}</text>"#,
                px(x),
                px(plot.bottom + 19.0),
                escape(&shown)
            );
        }
    }
    let label_y = if layout.slanted {
        plot.bottom + 14.0 + layout.longest as f64 * CHAR_W * 0.643 + 22.0
    } else {
        plot.bottom + 44.0
    };
    text(
        out,
        ((plot.left + plot.right) / 2.0, label_y),
        r#"font-size="13" text-anchor="middle" class="axis-label""#,
        INK,
        title,
    );
}

fn draw_baseline(out: &mut String, plot: &Plot, y: f64) {
    let _ = write!(
        out,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{MUTED}" stroke-width="1"/>"#,
        px(plot.left),
        px(y),
        px(plot.right),
        px(y)
    );
}

/// A data marker (`class="point"`) with a tooltip; the shape follows the series index.
fn marker(out: &mut String, series: usize, at: (f64, f64), colour: &str, tip: &str) {
    marker_shape(out, series, at, colour, "point");
    // Put the tooltip on the element just written: reopen it by replacing its `/>`.
    if out.ends_with("/>") {
        out.truncate(out.len() - 2);
        let tag = match series % 4 {
            0 => "circle",
            2 => "rect",
            _ => "path",
        };
        let _ = write!(out, "><title>{}</title></{tag}>", escape(tip));
    }
}

fn marker_shape(out: &mut String, series: usize, (x, y): (f64, f64), colour: &str, class: &str) {
    let style = format!(r#"fill="{colour}" stroke="white" stroke-width="0.8""#);
    let _ = match series % 4 {
        0 => write!(
            out,
            r#"<circle class="{class}" cx="{}" cy="{}" r="4" {style}/>"#,
            px(x),
            px(y)
        ),
        1 => write!(
            out,
            r#"<path class="{class}" d="M{},{} L{},{} L{},{} Z" {style}/>"#,
            px(x),
            px(y - 5.5),
            px(x + 5.0),
            px(y + 3.5),
            px(x - 5.0),
            px(y + 3.5)
        ),
        2 => write!(
            out,
            r#"<rect class="{class}" x="{}" y="{}" width="7.5" height="7.5" {style}/>"#,
            px(x - 3.75),
            px(y - 3.75)
        ),
        _ => write!(
            out,
            r#"<path class="{class}" d="M{},{} L{},{} L{},{} L{},{} Z" {style}/>"#,
            px(x),
            px(y - 5.5),
            px(x + 5.0),
            px(y),
            px(x),
            px(y + 5.5),
            px(x - 5.0),
            px(y)
        ),
    };
}

/// A dash pattern per series after the first, so lines differ without colour.
fn dash(series: usize) -> &'static str {
    match series % 4 {
        0 => "",
        1 => r#" stroke-dasharray="7 4""#,
        2 => r#" stroke-dasharray="2 3""#,
        _ => r#" stroke-dasharray="10 3 2 3""#,
    }
}

/// Write escaped `content` at `at` with extra attributes `attrs` and fill `colour`.
fn text(out: &mut String, (x, y): (f64, f64), attrs: &str, colour: &str, content: &str) {
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" {attrs} fill="{colour}">{}</text>"#,
        px(x),
        px(y),
        escape(content)
    );
}

/// A pixel coordinate with one decimal (stable formatting).
fn px(v: f64) -> String {
    let s = format!("{v:.1}");
    if s == "-0.0" { "0.0".to_string() } else { s }
}

fn left_margin(axis: &Axis) -> f64 {
    let chars = axis
        .ticks
        .iter()
        .map(|t| axis.label(*t).chars().count())
        .max()
        .unwrap_or(1);
    38.0 + chars as f64 * CHAR_W
}

/// About one x tick per 90 pixels.
fn ticks_for(width: f64) -> usize {
    ((width / 90.0) as usize).clamp(2, 12)
}

/// The range of `values` stretched to include zero.
fn span_with_zero(values: &[f64]) -> (f64, f64) {
    let lo = values.iter().copied().fold(0.0, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    (lo, hi)
}

/// A y axis fitted to `values` (lines need no zero baseline), reaching down to zero only
/// when the data comes close to it anyway.
fn fitted_axis(values: &[f64]) -> Axis {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if lo >= 0.0 && lo <= hi * 0.3 {
        return Axis::nice(0.0, hi, 5);
    }
    let pad = (hi - lo) * 0.08;
    Axis::nice(lo - pad, hi + pad, 5)
}

/// A non-empty range: equal ends are pulled apart.
fn widen(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        (lo, hi)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    }
}

/// The round number (1, 2 or 5 × 10ⁿ) nearest above `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// A category label cut to [`MAX_LABEL_CHARS`].
fn shorten(label: &str) -> String {
    cut(label, MAX_LABEL_CHARS)
}

fn cut(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// Viridis at `t` in `[0, 1]` as `#rrggbb`, and whether it is dark (white text reads on it).
fn viridis(t: f64) -> (String, bool) {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = t * (VIRIDIS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(VIRIDIS.len() - 2);
    let f = pos - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let (r, g, bl) = (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2));
    let luminance = 0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(bl);
    (format!("#{r:02x}{g:02x}{bl:02x}"), luminance < 120.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(svg: &str, needle: &str) -> usize {
        svg.matches(needle).count()
    }

    #[test]
    fn bar_chart_draws_one_rect_per_bar_with_its_value() {
        let svg = BarChart::new("Latency", "percentile", "latency (s)")
            .bar("p50", 0.5)
            .bar("p99", 1.25)
            .bar("max", 2.0)
            .render();
        assert_eq!(count(&svg, r#"class="bar""#), 3);
        assert!(svg.contains(">1.25</text>"));
        assert!(svg.contains(">latency (s)</text>"));
    }

    #[test]
    fn bar_values_are_left_to_tooltips_when_bars_are_too_narrow() {
        let mut chart = BarChart::new("Rounds", "rounds", "heights");
        for i in 0..60 {
            chart = chart.bar(&i.to_string(), 12345.0);
        }
        let svg = chart.render();
        assert_eq!(count(&svg, r#"class="bar""#), 60);
        assert_eq!(count(&svg, r#"class="value""#), 0);
        // Labels of 60 narrow categories are thinned, not piled up.
        assert!(count(&svg, r#"class="tick" x"#) < 30);
    }

    #[test]
    fn nice_axis_ticks_are_round_and_cover_the_data() {
        let axis = Axis::nice(0.0, 9.3, 5);
        assert_eq!(axis.step, 2.0);
        assert_eq!(axis.ticks, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let small = Axis::nice(0.0, 0.27, 5);
        assert_eq!(small.step, 0.1);
        assert_eq!(small.label(small.ticks[3]), "0.3");
        let big = Axis::nice(0.0, 12_000.0, 5);
        assert_eq!(big.label(5000.0), "5k");
        assert_eq!(big.label(0.0), "0");
    }

    #[test]
    fn histogram_counts_every_value_into_round_bins() {
        let bins = count_bins(&[0.1, 0.15, 0.22, 0.9, 1.0], 5);
        let total: f64 = bins.iter().map(|b| b.value).sum();
        assert_eq!(total, 5.0);
        assert!((bins[0].lo - 0.0).abs() < 1e-12);
        assert!((bins[0].hi - 0.2).abs() < 1e-12);
        assert_eq!(bins.len(), 6);
        assert_eq!(bins[0].value, 2.0);
        assert_eq!(bins[5].value, 1.0);
    }

    #[test]
    fn heatmap_has_rows_times_columns_cells_with_numbers() {
        let cols = vec!["1".to_string(), "2".to_string(), "3".to_string()];
        let rows = vec!["a".to_string(), "b".to_string()];
        let svg = Heatmap::new("t", "x", "y", cols, rows)
            .cell(0, 0, 1.5)
            .cell(1, 2, 7.0)
            .unit("tx/s")
            .render();
        assert_eq!(count(&svg, r#"class="cell""#), 6);
        assert_eq!(count(&svg, r#"class="cell-value""#), 6);
        assert_eq!(count(&svg, ">n/a</text>"), 4);
        assert!(svg.contains(">7</text>"));
    }

    #[test]
    fn text_is_escaped() {
        let svg = BarChart::new("a <b> & \"c\"", "x", "y")
            .bar("<p>", 1.0)
            .render();
        assert!(svg.contains("a &lt;b&gt; &amp; &quot;c&quot;"));
        assert!(!svg.contains("<p>"));
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(format_number(1234.4), "1234");
        assert_eq!(format_number(12.34), "12.3");
        assert_eq!(format_number(1.5), "1.5");
        assert_eq!(format_number(0.1234), "0.123");
        assert_eq!(format_number(-0.0001), "-1.00e-4");
        assert_eq!(format_number(-0.00004), "-4.00e-5");
        assert_eq!(format_number(2.0), "2");
    }

    #[test]
    fn viridis_ends_are_dark_purple_and_light_yellow() {
        assert_eq!(viridis(0.0), ("#440154".to_string(), true));
        assert_eq!(viridis(1.0), ("#fde725".to_string(), false));
    }
}
