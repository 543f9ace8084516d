//! The dashboard's charts: pure functions from numbers and words to inline
//! SVG, drawn on the server (no script, no external file). Each chart is an
//! image with an accessible name (`role="img"`, `<title>`, `<desc>`), every
//! bar carries its own `<title>` with its number, and the page puts a data
//! table beside it for those who cannot see it.
//!
//! Colours come from classes the stylesheet sets (`bar-filed`,
//! `bar-closed`, `bar`, `axis`, …), with the same colours as attributes so
//! an SVG saved on its own still reads.

use std::fmt::Write;

/// One week of the filed-vs-closed chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekBar {
    /// Shown under the bars ("1 Dec").
    pub label: String,
    pub filed: i64,
    pub closed: i64,
}

/// One row of a horizontal bar chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub label: String,
    pub value: i64,
}

/// The words a chart needs besides its data.
#[derive(Debug, Clone, Copy)]
pub struct ChartText<'a> {
    /// Unique on the page: the ids of `<title>` and `<desc>` derive from it.
    pub id: &'a str,
    pub title: &'a str,
    /// One sentence saying what the chart shows (and that a table follows).
    pub description: &'a str,
}

const FILED_FILL: &str = "#1d4ed8";
const CLOSED_FILL: &str = "#16a34a";
const BAR_FILL: &str = "#1d4ed8";
const AXIS_STROKE: &str = "#9ca3af";

/// Text and attribute values, escaped for XML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The smallest "round" number (1, 2 or 5 times a power of ten) at or
/// above `n`, and at least 1: the top of a value axis.
pub fn nice_ceiling(n: i64) -> i64 {
    if n <= 1 {
        return 1;
    }
    let mut step = 1_i64;
    loop {
        for m in [1, 2, 5] {
            let candidate = step.saturating_mul(m);
            if candidate >= n {
                return candidate;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// Coordinates are written with one decimal at most.
fn num(x: f64) -> String {
    let rounded = (x * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

fn open_svg(out: &mut String, text: &ChartText<'_>, width: f64, height: f64) {
    let id = escape(text.id);
    let _ = write!(
        out,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" \
         role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" focusable=\"false\">\
         <title id=\"{id}-title\">{title}</title><desc id=\"{id}-desc\">{desc}</desc>",
        w = num(width),
        h = num(height),
        title = escape(text.title),
        desc = escape(text.description),
    );
}

/// Filed and closed complaints per week: two bars a week, a value axis
/// with three ticks, a legend, and the week under each pair (thinned out
/// when there are many weeks). `filed_label` and `closed_label` name the
/// series; each bar's tooltip names its week, series and number.
pub fn weekly_chart(
    text: &ChartText<'_>,
    weeks: &[WeekBar],
    filed_label: &str,
    closed_label: &str,
) -> String {
    // Narrow enough that its words stay legible scaled to a phone.
    let (width, height) = (480.0, 280.0);
    let (left, right, top, bottom) = (44.0, 12.0, 36.0, 44.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let max = nice_ceiling(
        weeks
            .iter()
            .map(|w| w.filed.max(w.closed))
            .max()
            .unwrap_or(0),
    );
    let y = |v: i64| top + plot_h - plot_h * (v as f64) / (max as f64);
    let mut out = String::new();
    open_svg(&mut out, text, width, height);
    // Legend.
    let _ = write!(
        out,
        "<g class=\"legend\"><rect class=\"bar-filed\" fill=\"{FILED_FILL}\" x=\"{l}\" y=\"8\" width=\"12\" height=\"12\"/>\
         <text x=\"{lt}\" y=\"18\">{filed}</text>\
         <rect class=\"bar-closed\" fill=\"{CLOSED_FILL}\" x=\"{c}\" y=\"8\" width=\"12\" height=\"12\"/>\
         <text x=\"{ct}\" y=\"18\">{closed}</text></g>",
        l = num(left),
        lt = num(left + 18.0),
        c = num(left + 150.0),
        ct = num(left + 168.0),
        filed = escape(filed_label),
        closed = escape(closed_label),
    );
    // Value axis: 0, half, top.
    for v in [0, max / 2, max] {
        if v == max / 2 && (max % 2 != 0 || max < 2) {
            continue;
        }
        let _ = write!(
            out,
            "<line class=\"grid\" stroke=\"#e5e7eb\" x1=\"{x1}\" x2=\"{x2}\" y1=\"{yy}\" y2=\"{yy}\"/>\
             <text class=\"tick\" x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{v}</text>",
            x1 = num(left),
            x2 = num(width - right),
            yy = num(y(v)),
            tx = num(left - 6.0),
            ty = num(y(v) + 4.0),
        );
    }
    let n = weeks.len().max(1);
    let group = plot_w / n as f64;
    let bar_w = (group * 0.38).min(24.0);
    // Label at most ~12 weeks so the dates do not run into each other.
    let every = n.div_ceil(12);
    for (i, week) in weeks.iter().enumerate() {
        let x0 = left + group * i as f64 + (group - 2.0 * bar_w) / 2.0;
        for (series, value, class, fill, dx) in [
            (filed_label, week.filed, "bar-filed", FILED_FILL, 0.0),
            (closed_label, week.closed, "bar-closed", CLOSED_FILL, bar_w),
        ] {
            if value <= 0 {
                continue;
            }
            let _ = write!(
                out,
                "<rect class=\"{class}\" fill=\"{fill}\" x=\"{x}\" y=\"{yy}\" width=\"{w}\" height=\"{h}\">\
                 <title>{label}: {series} {value}</title></rect>",
                x = num(x0 + dx),
                yy = num(y(value)),
                w = num(bar_w),
                h = num(top + plot_h - y(value)),
                label = escape(&week.label),
                series = escape(series),
            );
        }
        if i % every == 0 {
            let _ = write!(
                out,
                "<text class=\"week\" x=\"{x}\" y=\"{yy}\" text-anchor=\"middle\">{label}</text>",
                x = num(left + group * i as f64 + group / 2.0),
                yy = num(top + plot_h + 18.0),
                label = escape(&week.label),
            );
        }
    }
    let _ = write!(
        out,
        "<line class=\"axis\" stroke=\"{AXIS_STROKE}\" x1=\"{x1}\" x2=\"{x2}\" y1=\"{yy}\" y2=\"{yy}\"/></svg>",
        x1 = num(left),
        x2 = num(width - right),
        yy = num(top + plot_h),
    );
    out
}

/// One horizontal bar per row, its label above it and its number at its
/// end: long labels (any language) never collide with the bars, and the
/// chart stays legible on a narrow screen.
pub fn horizontal_bars(text: &ChartText<'_>, bars: &[Bar]) -> String {
    let width = 320.0;
    let (row, label_h, bar_h) = (42.0, 16.0, 16.0);
    let height = (row * bars.len() as f64).max(row) + 4.0;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    // Room for the number after the longest bar.
    let track = width - 40.0;
    let mut out = String::new();
    open_svg(&mut out, text, width, height);
    for (i, bar) in bars.iter().enumerate() {
        let y0 = row * i as f64 + 2.0;
        let w = track * (bar.value.max(0) as f64) / (max as f64);
        let _ = write!(
            out,
            "<text class=\"label\" x=\"0\" y=\"{ly}\">{label}</text>\
             <rect class=\"bar\" fill=\"{BAR_FILL}\" x=\"0\" y=\"{by}\" width=\"{w}\" height=\"{bar_h}\">\
             <title>{label}: {value}</title></rect>\
             <text class=\"value\" x=\"{vx}\" y=\"{vy}\">{value}</text>",
            ly = num(y0 + label_h - 4.0),
            by = num(y0 + label_h),
            w = num(w),
            bar_h = num(bar_h),
            vx = num(w + 6.0),
            vy = num(y0 + label_h + bar_h - 3.0),
            label = escape(&bar.label),
            value = bar.value,
        );
    }
    out.push_str("</svg>");
    out
}

/// A rate (0 to 1) as a bar on a track from 0 % to 100 %, with a marker at
/// `target` when there is one. `value_text` and `target_text` are the
/// figures in the reader's words ("83 %").
pub fn rate_meter(
    text: &ChartText<'_>,
    rate: Option<f64>,
    value_text: &str,
    target: Option<(f64, &str)>,
) -> String {
    let (width, height, track_y, track_h) = (240.0, 40.0, 6.0, 14.0);
    let mut out = String::new();
    open_svg(&mut out, text, width, height);
    let _ = write!(
        out,
        "<rect class=\"meter-track\" fill=\"#e5e7eb\" x=\"0\" y=\"{ty}\" width=\"{w}\" height=\"{th}\" rx=\"3\"/>",
        ty = num(track_y),
        w = num(width),
        th = num(track_h),
    );
    if let Some(rate) = rate {
        let meets = target.is_none_or(|(t, _)| rate >= t);
        let _ = write!(
            out,
            "<rect class=\"meter-fill {class}\" fill=\"{fill}\" x=\"0\" y=\"{ty}\" width=\"{w}\" height=\"{th}\" rx=\"3\">\
             <title>{value}</title></rect>",
            class = if meets { "meets" } else { "misses" },
            fill = if meets { "#166534" } else { "#991b1b" },
            ty = num(track_y),
            w = num(width * rate.clamp(0.0, 1.0)),
            th = num(track_h),
            value = escape(value_text),
        );
    }
    if let Some((t, label)) = target {
        let x = width * t.clamp(0.0, 1.0);
        let _ = write!(
            out,
            "<line class=\"target-line\" stroke=\"#111827\" stroke-width=\"2\" x1=\"{x}\" x2=\"{x}\" y1=\"2\" y2=\"{y2}\">\
             <title>{label}</title></line>\
             <text class=\"tick\" x=\"{x}\" y=\"{ty}\" text-anchor=\"{anchor}\">{label}</text>",
            x = num(x),
            // A target near either end is labelled inwards, never cut off.
            anchor = if t > 0.85 {
                "end"
            } else if t < 0.15 {
                "start"
            } else {
                "middle"
            },
            y2 = num(track_y + track_h + 4.0),
            ty = num(height - 2.0),
            label = escape(label),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text() -> ChartText<'static> {
        ChartText {
            id: "c1",
            title: "Filed & closed",
            description: "Per week; a table follows.",
        }
    }

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    #[test]
    fn axis_tops_are_round_numbers() {
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(1), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(7), 10);
        assert_eq!(nice_ceiling(11), 20);
        assert_eq!(nice_ceiling(200), 200);
        assert_eq!(nice_ceiling(201), 500);
    }

    #[test]
    fn weekly_chart_is_an_accessible_image_with_a_bar_per_nonzero_value() {
        let weeks = vec![
            WeekBar {
                label: "30 Nov".into(),
                filed: 4,
                closed: 0,
            },
            WeekBar {
                label: "7 Dec".into(),
                filed: 2,
                closed: 3,
            },
        ];
        let svg = weekly_chart(&text(), &weeks, "Filed", "Closed");
        assert!(svg.starts_with("<svg class=\"chart\""));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("aria-labelledby=\"c1-title c1-desc\""));
        assert!(svg.contains("<title id=\"c1-title\">Filed &amp; closed</title>"));
        // Three bars (a zero draws none) plus the two legend squares.
        assert_eq!(count(&svg, "class=\"bar-filed\""), 3);
        assert_eq!(count(&svg, "class=\"bar-closed\""), 2);
        assert!(svg.contains("<title>7 Dec: Closed 3</title>"));
        assert!(svg.contains(">30 Nov</text>"));
        // The axis goes up to 5 (the round number above 4).
        assert!(svg.contains(">5</text>"));
        // The tallest bar (4 of 5) is 80 % of the plot's 200 px.
        assert!(svg.contains("height=\"160\""), "{svg}");
    }

    #[test]
    fn weekly_chart_without_data_still_draws_axes() {
        let svg = weekly_chart(&text(), &[], "Filed", "Closed");
        assert!(svg.contains("class=\"axis\""));
        assert_eq!(count(&svg, "<rect"), 2, "only the legend");
    }

    #[test]
    fn many_weeks_are_labelled_sparsely() {
        let weeks: Vec<WeekBar> = (0..26)
            .map(|i| WeekBar {
                label: format!("w{i}"),
                filed: i,
                closed: 0,
            })
            .collect();
        let svg = weekly_chart(&text(), &weeks, "Filed", "Closed");
        // Every third of 26 weeks: at most 12 labels.
        assert_eq!(count(&svg, "class=\"week\""), 9);
        assert!(svg.contains(">w0</text>") && svg.contains(">w3</text>"));
        assert!(!svg.contains(">w1</text>") && !svg.contains(">w2</text>"));
    }

    #[test]
    fn horizontal_bars_scale_to_the_largest_and_escape_labels() {
        let bars = vec![
            Bar {
                label: "Damaged <on arrival>".into(),
                value: 10,
            },
            Bar {
                label: "Late".into(),
                value: 5,
            },
            Bar {
                label: "Wrong item".into(),
                value: 0,
            },
        ];
        let svg = horizontal_bars(&text(), &bars);
        assert!(svg.contains("Damaged &lt;on arrival&gt;"));
        assert!(!svg.contains("<on arrival>"));
        assert!(svg.contains("width=\"280\""), "the largest fills the track");
        assert!(svg.contains("width=\"140\""), "half of it");
        assert!(svg.contains("<title>Wrong item: 0</title>"));
        assert_eq!(count(&svg, "class=\"bar\""), 3);
    }

    #[test]
    fn rate_meter_marks_the_target_and_whether_it_is_met() {
        let meets = rate_meter(&text(), Some(0.9), "90 %", Some((0.8, "80 %")));
        assert!(meets.contains("meter-fill meets"));
        assert!(meets.contains("width=\"216\""));
        assert!(meets.contains("class=\"target-line\""));
        assert!(meets.contains("x1=\"192\""));
        let misses = rate_meter(&text(), Some(0.5), "50 %", Some((0.98, "98 %")));
        assert!(misses.contains("meter-fill misses"));
        let unknown = rate_meter(&text(), None, "–", None);
        assert!(!unknown.contains("meter-fill"));
    }
}
