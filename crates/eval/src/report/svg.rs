//! Minimal, dependency-free SVG charts for the self-contained HTML report: step curves with
//! bands (Kaplan–Meier), grouped bars (distributions), and heat maps (pairwise differences).
//! Every chart has a title, labelled axes and a legend, and text is escaped.

use std::fmt::Write;

/// Escapes text for XML/HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
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

/// Colours of the two series: real (blue) and synthetic (orange), colour-blind safe.
pub const REAL: &str = "#1f77b4";
pub const SYNTHETIC: &str = "#ff7f0e";

const W: f64 = 420.0;
const H: f64 = 260.0;
const L: f64 = 48.0;
const R: f64 = 12.0;
const T: f64 = 28.0;
const B: f64 = 40.0;

fn frame(out: &mut String, title: &str, x_label: &str, y_label: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{t}"><title>{t}</title><rect width="{W}" height="{H}" fill="white"/><text x="{cx}" y="16" text-anchor="middle" font-size="12" font-weight="bold">{t}</text><text x="{cx}" y="{xl}" text-anchor="middle" font-size="11">{x}</text><text x="12" y="{cy}" text-anchor="middle" font-size="11" transform="rotate(-90 12 {cy})">{y}</text><line x1="{L}" y1="{bot}" x2="{right}" y2="{bot}" stroke="black"/><line x1="{L}" y1="{T}" x2="{L}" y2="{bot}" stroke="black"/>"#,
        t = escape(title),
        cx = W / 2.0,
        cy = (T + H - B) / 2.0,
        xl = H - 6.0,
        x = escape(x_label),
        y = escape(y_label),
        bot = H - B,
        right = W - R,
    );
}

fn legend(out: &mut String, items: &[(&str, &str)]) {
    for (i, (label, colour)) in items.iter().enumerate() {
        let x = W - R - 110.0;
        let y = T + 8.0 + 14.0 * i as f64;
        let _ = write!(
            out,
            r#"<rect x="{x}" y="{}" width="10" height="10" fill="{colour}"/><text x="{}" y="{}" font-size="10">{}</text>"#,
            y - 8.0,
            x + 14.0,
            y,
            escape(label)
        );
    }
}

/// Maps data to pixels.
struct Scale {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Scale {
    fn x(&self, v: f64) -> f64 {
        let span = if self.x1 > self.x0 { self.x1 - self.x0 } else { 1.0 };
        L + (v - self.x0) / span * (W - L - R)
    }
    fn y(&self, v: f64) -> f64 {
        let span = if self.y1 > self.y0 { self.y1 - self.y0 } else { 1.0 };
        H - B - (v - self.y0) / span * (H - B - T)
    }
}

/// Horizontal grid lines with their labels.
fn y_grid(out: &mut String, s: &Scale, y_ticks: &[f64]) {
    for &v in y_ticks {
        let y = s.y(v);
        let _ = write!(
            out,
            r##"<line x1="{L}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end" font-size="9">{v}</text>"##,
            W - R,
            L - 4.0,
            y + 3.0
        );
    }
}

fn ticks(out: &mut String, s: &Scale, y_ticks: &[f64]) {
    y_grid(out, s, y_ticks);
    for k in 0..=4 {
        let v = s.x0 + (s.x1 - s.x0) * k as f64 / 4.0;
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" font-size="9">{}</text>"#,
            s.x(v),
            H - B + 12.0,
            short(v)
        );
    }
}

fn short(v: f64) -> String {
    if v.abs() >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// A step curve with an optional confidence band: points (t, s, lo, hi), sorted by t.
pub struct Steps<'a> {
    pub label: &'a str,
    pub colour: &'a str,
    pub points: &'a [(f64, f64, f64, f64)],
}

/// Kaplan–Meier-style step curves on [0, 1].
pub fn step_chart(title: &str, x_label: &str, series: &[Steps<'_>]) -> String {
    let x1 = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(0.0, f64::max);
    let s = Scale {
        x0: 0.0,
        x1,
        y0: 0.0,
        y1: 1.0,
    };
    let mut out = String::new();
    frame(&mut out, title, x_label, "survival");
    ticks(&mut out, &s, &[0.0, 0.25, 0.5, 0.75, 1.0]);
    for ser in series {
        if ser.points.is_empty() {
            continue;
        }
        // Band: upper edge forward, lower edge back.
        let mut band = String::new();
        let mut prev_hi = 1.0;
        let mut prev_t = 0.0;
        for &(t, _, _, hi) in ser.points {
            let _ = write!(band, "{:.1},{:.1} {:.1},{:.1} ", s.x(t), s.y(prev_hi), s.x(t), s.y(hi));
            prev_hi = hi;
            prev_t = t;
        }
        let mut prev_lo = ser.points.last().map_or(1.0, |p| p.2);
        let _ = write!(band, "{:.1},{:.1} ", s.x(prev_t), s.y(prev_lo));
        for &(t, _, lo, _) in ser.points.iter().rev() {
            let _ = write!(band, "{:.1},{:.1} {:.1},{:.1} ", s.x(t), s.y(prev_lo), s.x(t), s.y(lo));
            prev_lo = lo;
        }
        let _ = write!(band, "{:.1},{:.1}", s.x(0.0), s.y(1.0));
        let _ = write!(
            out,
            r#"<polygon points="{band}" fill="{}" fill-opacity="0.15" stroke="none"/>"#,
            ser.colour
        );
        let mut line = format!("{:.1},{:.1} ", s.x(0.0), s.y(1.0));
        let mut prev = 1.0;
        for &(t, v, _, _) in ser.points {
            let _ = write!(line, "{:.1},{:.1} {:.1},{:.1} ", s.x(t), s.y(prev), s.x(t), s.y(v));
            prev = v;
        }
        let _ = write!(
            out,
            r#"<polyline points="{line}" fill="none" stroke="{}" stroke-width="1.6"/>"#,
            ser.colour
        );
    }
    let items: Vec<(&str, &str)> = series.iter().map(|s| (s.label, s.colour)).collect();
    legend(&mut out, &items);
    out.push_str("</svg>");
    out
}

/// Grouped bars of shares per category: `(label, real, synthetic)`.
pub fn bar_chart(title: &str, bars: &[(String, f64, f64)]) -> String {
    let y1 = bars.iter().map(|b| b.1.max(b.2)).fold(0.0, f64::max).max(1e-9);
    let s = Scale {
        x0: 0.0,
        x1: bars.len().max(1) as f64,
        y0: 0.0,
        y1,
    };
    let mut out = String::new();
    frame(&mut out, title, "", "share");
    let half = (y1 / 2.0 * 100.0).round() / 100.0;
    y_grid(&mut out, &s, &[0.0, half, (y1 * 100.0).floor() / 100.0]);
    let slot = (W - L - R) / bars.len().max(1) as f64;
    for (i, (label, real, synth)) in bars.iter().enumerate() {
        let x = L + slot * i as f64;
        let bw = (slot * 0.4).max(1.0);
        for (k, (v, colour)) in [(*real, REAL), (*synth, SYNTHETIC)].iter().enumerate() {
            let top = s.y(*v);
            let _ = write!(
                out,
                r#"<rect x="{:.1}" y="{top:.1}" width="{bw:.1}" height="{:.1}" fill="{colour}"><title>{}: {:.3}</title></rect>"#,
                x + slot * 0.1 + bw * k as f64,
                (H - B - top).max(0.0),
                escape(label),
                v
            );
        }
        if bars.len() <= 12 {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{}" text-anchor="middle" font-size="8">{}</text>"#,
                x + slot / 2.0,
                H - B + 12.0,
                escape(&label.chars().take(10).collect::<String>())
            );
        }
    }
    legend(&mut out, &[("real", REAL), ("synthetic", SYNTHETIC)]);
    out.push_str("</svg>");
    out
}

/// A heat map of values in [0, 1] (1 = agreement), rows × columns with labels.
pub fn heat_map(title: &str, labels: &[String], values: &[Vec<Option<f64>>]) -> String {
    let n = labels.len().max(1);
    let size = 16.0_f64.min(520.0 / n as f64).max(4.0);
    let left = 110.0;
    let top = 30.0;
    let w = left + size * n as f64 + 10.0;
    let h = top + size * n as f64 + 10.0;
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" role="img" aria-label="{t}"><title>{t}</title><rect width="{w:.0}" height="{h:.0}" fill="white"/><text x="{left}" y="16" font-size="12" font-weight="bold">{t}</text>"#,
        t = escape(title)
    );
    for (i, row) in values.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="{:.0}">{}</text>"#,
            left - 4.0,
            top + size * (i as f64 + 0.75),
            (size * 0.7).clamp(5.0, 10.0),
            escape(&labels[i].chars().take(18).collect::<String>())
        );
        for (j, v) in row.iter().enumerate() {
            let fill = match v {
                Some(v) => {
                    // 1 → white, 0 → deep red.
                    let v = v.clamp(0.0, 1.0);
                    let g = (255.0 * v) as u8;
                    format!("rgb(255,{g},{g})")
                }
                None => "#eee".to_string(),
            };
            let tip = v.map_or("not computed".to_string(), |v| format!("{v:.3}"));
            let _ = write!(
                out,
                r#"<rect x="{:.1}" y="{:.1}" width="{size:.1}" height="{size:.1}" fill="{fill}" stroke="white" stroke-width="0.5"><title>{} × {}: {tip}</title></rect>"#,
                left + size * j as f64,
                top + size * i as f64,
                escape(&labels[i]),
                escape(labels.get(j).map_or("", String::as_str))
            );
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_well_formed_and_escaped() {
        let pts = [(0.0, 1.0, 1.0, 1.0), (10.0, 0.8, 0.7, 0.9), (20.0, 0.5, 0.4, 0.6)];
        let svg = step_chart(
            "OS <all>",
            "days",
            &[Steps {
                label: "real",
                colour: REAL,
                points: &pts,
            }],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("OS &lt;all&gt;"));
        assert!(!svg.contains("NaN"));
        let bars = bar_chart("ELN", &[("fav".into(), 0.3, 0.35), ("adv".into(), 0.7, 0.65)]);
        assert_eq!(bars.matches("<rect").count(), 1 + 4 + 2);
        let heat = heat_map(
            "pairs",
            &["a".into(), "b".into()],
            &[vec![None, Some(0.5)], vec![Some(0.5), None]],
        );
        assert!(heat.contains("not computed") && heat.contains("rgb(255,127,127)"));
    }
}
