//! The HTML rendering of a [`Report`]: one self-contained page, no script, no network.

use crate::report::{Report, Risk, SizeBucket};
use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "—".to_string(), |x| x.to_string())
}

/// Horizontal bars of records per class-size bucket, before and after.
fn bars(before: &[SizeBucket], after: &[SizeBucket]) -> String {
    let max = before.iter().chain(after).map(|b| b.records).max().unwrap_or(0).max(1) as f64;
    let row_h = 22.0;
    let height = row_h * before.len() as f64 + 30.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"{height}\" role=\"img\" \
         aria-label=\"records per equivalence-class size, before and after\">"
    );
    let _ = write!(
        svg,
        "<text x=\"90\" y=\"14\" font-size=\"12\" fill=\"#888\">before</text>\
         <text x=\"370\" y=\"14\" font-size=\"12\" fill=\"#2a6\">after</text>"
    );
    for (i, (b, a)) in before.iter().zip(after).enumerate() {
        let y = 24.0 + row_h * i as f64;
        let wb = 250.0 * b.records as f64 / max;
        let wa = 250.0 * a.records as f64 / max;
        let _ = write!(
            svg,
            "<text x=\"80\" y=\"{ty}\" font-size=\"12\" text-anchor=\"end\">{label}</text>\
             <rect x=\"90\" y=\"{y}\" width=\"{wb:.1}\" height=\"16\" fill=\"#bbb\"><title>{br} records in {bc} classes</title></rect>\
             <rect x=\"370\" y=\"{y}\" width=\"{wa:.1}\" height=\"16\" fill=\"#2a6\"><title>{ar} records in {ac} classes</title></rect>",
            ty = y + 12.0,
            label = esc(&b.label),
            br = b.records,
            bc = b.classes,
            ar = a.records,
            ac = a.classes,
        );
    }
    svg.push_str("</svg>");
    svg
}

fn risk_rows(before: &Risk, after: &Risk) -> String {
    let mut s = String::new();
    let row = |s: &mut String, name: &str, b: String, a: String| {
        let _ = write!(s, "<tr><th>{name}</th><td>{b}</td><td>{a}</td></tr>");
    };
    row(&mut s, "records", before.records.to_string(), after.records.to_string());
    row(
        &mut s,
        "equivalence classes",
        before.classes.to_string(),
        after.classes.to_string(),
    );
    row(
        &mut s,
        "prosecutor risk, highest",
        format!("{:.4}", before.prosecutor_highest),
        format!("{:.4}", after.prosecutor_highest),
    );
    row(
        &mut s,
        "prosecutor risk, average",
        format!("{:.4}", before.prosecutor_average),
        format!("{:.4}", after.prosecutor_average),
    );
    row(
        &mut s,
        &format!("records with risk &gt; {}", before.threshold),
        before.records_above_threshold.to_string(),
        after.records_above_threshold.to_string(),
    );
    row(
        &mut s,
        "journalist risk, highest",
        format!("{:.4}", before.journalist_highest),
        format!("{:.4}", after.journalist_highest),
    );
    row(
        &mut s,
        "journalist risk, average",
        format!("{:.4}", before.journalist_average),
        format!("{:.4}", after.journalist_average),
    );
    row(
        &mut s,
        "marketer risk",
        format!("{:.4}", before.marketer),
        format!("{:.4}", after.marketer),
    );
    row(
        &mut s,
        "sample uniques",
        before.sample_uniques.to_string(),
        after.sample_uniques.to_string(),
    );
    s
}

/// Renders the report.
pub(crate) fn render(r: &Report) -> String {
    let mut h = String::new();
    h.push_str(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Anonymisation report</title>\
         <style>body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}\
         table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}\
         .warn{color:#a40}</style></head><body><h1>Anonymisation report</h1>",
    );
    let _ = write!(
        h,
        "<p>{} records in, {} out, {} suppressed (limit {:.2} %, suppressed records: {:?}).</p>",
        r.rows_in,
        r.rows_out,
        r.suppressed,
        100.0 * r.suppression_limit,
        r.suppressed_records
    );
    let method_class = if r.search.optimal { "" } else { " class=\"warn\"" };
    let _ = write!(
        h,
        "<h2>Search</h2><p{method_class}>{} — lattice of {} nodes, {} checked; metric {:?}; loss {:.4}; discernibility {:.0}.</p>",
        esc(&r.search.method),
        r.search.lattice_size,
        r.search.nodes_checked,
        r.search.metric,
        r.loss,
        r.discernibility
    );
    h.push_str("<h2>Privacy models</h2><table><tr><th></th><th>requested</th><th>reached</th></tr>");
    let _ = write!(
        h,
        "<tr><th>k</th><td>{}</td><td>{}</td></tr>",
        r.requested.k,
        opt(r.reached.k)
    );
    let _ = write!(
        h,
        "<tr><th>l-diversity</th><td>{}</td><td>distinct {} / entropy {}</td></tr>",
        esc(&opt(r.requested.l_diversity.clone())),
        opt(r.reached.l_distinct),
        opt(r.reached.l_entropy.map(|x| format!("{x:.3}")))
    );
    let _ = write!(
        h,
        "<tr><th>t-closeness</th><td>{}</td><td>{}</td></tr></table>",
        opt(r.requested.t),
        opt(r.reached.t.map(|x| format!("{x:.4}")))
    );
    let _ = write!(h, "<p>Sensitive attributes: {}</p>", esc(&r.sensitive.join(", ")));
    h.push_str(
        "<h2>Quasi-identifiers</h2><table><tr><th>column</th><th>level</th><th>distinct values</th><th>loss</th></tr>",
    );
    for q in &r.quasi_identifiers {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{} of {}</td><td>{}</td><td>{:.4}</td></tr>",
            esc(&q.column),
            q.level,
            q.levels - 1,
            q.distinct_values,
            q.loss
        );
    }
    h.push_str("</table><h2>Re-identification risk</h2><table><tr><th></th><th>before</th><th>after</th></tr>");
    h.push_str(&risk_rows(&r.risk_before, &r.risk_after));
    let _ = write!(h, "</table><p>Population: {}.</p>", esc(&r.risk_after.population));
    h.push_str("<h2>Records per equivalence-class size</h2>");
    h.push_str(&bars(&r.class_sizes_before, &r.class_sizes_after));
    h.push_str("<h2>Notes</h2><ul>");
    for n in &r.notes {
        let _ = write!(h, "<li>{}</li>", esc(n));
    }
    h.push_str("</ul></body></html>\n");
    h
}
