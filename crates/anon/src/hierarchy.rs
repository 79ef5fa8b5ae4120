//! Generalisation hierarchies, encoded once per quasi-identifier: for every level, the code of
//! every row, the label of every code and its information loss.

use crate::config::{DateUnit, HierarchySpec};
use crate::error::{Error, Result};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use table::{Kind, Value};

/// The label of the top level of every hierarchy (the value is suppressed).
pub const TOP: &str = "*";

/// One quasi-identifier's hierarchy, encoded over the rows of one table.
#[derive(Debug, Clone)]
pub(crate) struct Hierarchy {
    /// The column name.
    pub name: String,
    /// `row_codes[level][row]`: the code of the row's generalised value.
    pub row_codes: Vec<Vec<u32>>,
    /// `labels[level][code]`: the generalised value; `None` is a missing value.
    pub labels: Vec<Vec<Option<String>>>,
    /// `loss[level][code]`: Iyengar's loss of a cell with that code, in `[0, 1]`.
    pub loss: Vec<Vec<f64>>,
    /// `loss_sum[level]`: Σ over rows of the cell loss.
    pub loss_sum: Vec<f64>,
}

impl Hierarchy {
    /// Number of levels, the top `*` included.
    pub fn height(&self) -> usize {
        self.labels.len()
    }

    /// Number of distinct codes at `level`.
    pub fn cardinality(&self, level: usize) -> usize {
        self.labels[level].len()
    }

    /// Builds the hierarchy of column `name` (of dictionary kind `kind`) over `values` (one per row).
    pub fn build(name: &str, kind: &Kind, spec: &HierarchySpec, values: &[Value]) -> Result<Hierarchy> {
        let col_err = |message: String| Error::Column {
            column: name.to_string(),
            message,
        };
        // Distinct leaves in natural order.
        let mut leaf_index: BTreeMap<Leaf, u32> = BTreeMap::new();
        let leaf_keys: Vec<Leaf> = values.iter().map(|v| Leaf::of(kind, v)).collect();
        for l in &leaf_keys {
            let next = leaf_index.len() as u32;
            leaf_index.entry(l.clone()).or_insert(next);
        }
        // Renumber in sorted order.
        let leaves: Vec<&Leaf> = leaf_index.keys().collect();
        let sorted_code: HashMap<&Leaf, u32> = leaves.iter().enumerate().map(|(i, l)| (*l, i as u32)).collect();
        let leaf_of_row: Vec<u32> = leaf_keys.iter().map(|l| sorted_code[l]).collect();
        let leaf_values: Vec<&Value> = {
            let mut first: Vec<Option<&Value>> = vec![None; leaves.len()];
            for (row, &c) in leaf_of_row.iter().enumerate() {
                first[c as usize].get_or_insert(&values[row]);
            }
            first.into_iter().map(|v| v.unwrap_or(&Value::Missing)).collect()
        };

        // Labels of every leaf at every level below the top.
        let mut levels: Vec<Vec<Option<String>>> = vec![leaf_values.iter().map(|v| plain(v)).collect()];
        let uncovered = |value: &str, level: usize| Error::Uncovered {
            column: name.to_string(),
            value: value.to_string(),
            level,
        };
        match spec {
            HierarchySpec::Dictionary => match kind {
                Kind::Integer { min, max, bins, .. } if !bins.is_empty() => {
                    let (Some(lo), Some(hi)) = (min, max) else {
                        return Err(col_err("dictionary bins need min and max".into()));
                    };
                    let cuts = cut_points(*lo as f64, *hi as f64, bins.iter().map(|b| *b as f64));
                    add_bin_levels(&mut levels, &leaf_values, &cuts, &uncovered)?;
                }
                Kind::Real { min, max, bins, .. } if !bins.is_empty() => {
                    let (Some(lo), Some(hi)) = (min, max) else {
                        return Err(col_err("dictionary bins need min and max".into()));
                    };
                    let cuts = cut_points(*lo, *hi, bins.iter().copied());
                    add_bin_levels(&mut levels, &leaf_values, &cuts, &uncovered)?;
                }
                Kind::Date { .. } => add_date_levels(&mut levels, &leaf_values, &[DateUnit::Month, DateUnit::Year]),
                Kind::Categorical { groups, .. } if !groups.is_empty() => {
                    let mut parent: HashMap<&str, &str> = HashMap::new();
                    for g in groups {
                        for l in &g.levels {
                            parent.insert(l.as_str(), g.name.as_str());
                        }
                    }
                    // Levels in no dictionary group stay themselves at this level.
                    let next = levels[0]
                        .iter()
                        .map(|l| {
                            l.as_ref()
                                .map(|s| parent.get(s.as_str()).map_or(s.clone(), |p| p.to_string()))
                        })
                        .collect();
                    levels.push(next);
                }
                Kind::Identifier => {
                    return Err(col_err("an identifier column cannot be a quasi-identifier".into()));
                }
                Kind::Text => {
                    return Err(col_err("a free-text quasi-identifier needs `mask` or `groups`".into()));
                }
                _ => {}
            },
            HierarchySpec::Intervals { widths, anchor } => {
                if !kind.is_numeric() {
                    return Err(col_err(format!(
                        "`intervals` needs a numeric column, not {}",
                        kind.name()
                    )));
                }
                let anchor = match (anchor, kind) {
                    (Some(a), _) => *a,
                    (None, Kind::Integer { min, .. }) => min.map_or(0.0, |m| m as f64),
                    (None, Kind::Real { min, .. }) => min.unwrap_or(0.0),
                    _ => {
                        return Err(col_err(format!(
                            "`intervals` needs a numeric column, not {}",
                            kind.name()
                        )));
                    }
                };
                for w in widths {
                    let next = leaf_values
                        .iter()
                        .map(|v| {
                            v.as_f64().map(|x| {
                                let lo = anchor + ((x - anchor) / w).floor() * w;
                                format!("[{}, {})", fmt_num(lo), fmt_num(lo + w))
                            })
                        })
                        .collect();
                    levels.push(next);
                }
            }
            HierarchySpec::Dates(units) => {
                if !matches!(kind, Kind::Date { .. }) {
                    return Err(col_err(format!("`dates` needs a date column, not {}", kind.name())));
                }
                add_date_levels(&mut levels, &leaf_values, units);
            }
            HierarchySpec::Mask(counts) => {
                if matches!(kind, Kind::Identifier) {
                    return Err(col_err("an identifier column cannot be a quasi-identifier".into()));
                }
                for &n in counts {
                    let next = levels[0]
                        .iter()
                        .map(|l| {
                            l.as_ref().map(|s| {
                                let chars: Vec<char> = s.chars().collect();
                                let keep = chars.len().saturating_sub(n);
                                let mut out: String = chars[..keep].iter().collect();
                                out.push_str(&TOP.repeat(chars.len() - keep));
                                out
                            })
                        })
                        .collect();
                    levels.push(next);
                }
            }
            HierarchySpec::Groups(tree) => {
                if matches!(kind, Kind::Identifier) {
                    return Err(col_err("an identifier column cannot be a quasi-identifier".into()));
                }
                for (i, level) in tree.iter().enumerate() {
                    let mut parent: HashMap<&str, &str> = HashMap::new();
                    for (group, members) in level {
                        for m in members {
                            if parent.insert(m.as_str(), group.as_str()).is_some() {
                                return Err(col_err(format!("level {}: {m:?} is in more than one group", i + 1)));
                            }
                        }
                    }
                    let below = &levels[levels.len() - 1];
                    let mut next = Vec::with_capacity(below.len());
                    for l in below {
                        next.push(match l {
                            None => None,
                            Some(s) => match parent.get(s.as_str()) {
                                Some(p) => Some(p.to_string()),
                                None => return Err(uncovered(s, i + 1)),
                            },
                        });
                    }
                    levels.push(next);
                }
            }
        }
        Ok(encode(name, levels, &leaf_of_row))
    }
}

/// Turns per-leaf labels (one vector per level below the top) into per-level codes, adds the
/// top level and computes the loss of every code.
fn encode(name: &str, levels: Vec<Vec<Option<String>>>, leaf_of_row: &[u32]) -> Hierarchy {
    let present_leaves = levels[0].iter().filter(|l| l.is_some()).count();
    let mut row_codes = Vec::new();
    let mut labels = Vec::new();
    let mut loss = Vec::new();
    let mut loss_sum = Vec::new();
    for level in &levels {
        let mut code_of: HashMap<&Option<String>, u32> = HashMap::new();
        let mut level_labels: Vec<Option<String>> = Vec::new();
        let mut covered: Vec<usize> = Vec::new();
        let leaf_code: Vec<u32> = level
            .iter()
            .map(|l| {
                let c = *code_of.entry(l).or_insert_with(|| {
                    level_labels.push(l.clone());
                    covered.push(0);
                    (level_labels.len() - 1) as u32
                });
                if l.is_some() {
                    covered[c as usize] += 1;
                }
                c
            })
            .collect();
        let code_loss: Vec<f64> = covered
            .iter()
            .map(|&n| {
                if present_leaves > 1 && n > 0 {
                    (n - 1) as f64 / (present_leaves - 1) as f64
                } else {
                    0.0
                }
            })
            .collect();
        let codes: Vec<u32> = leaf_of_row.iter().map(|&l| leaf_code[l as usize]).collect();
        loss_sum.push(codes.iter().map(|&c| code_loss[c as usize]).sum());
        row_codes.push(codes);
        labels.push(level_labels);
        loss.push(code_loss);
    }
    // The top: one code, full loss.
    row_codes.push(vec![0; leaf_of_row.len()]);
    labels.push(vec![Some(TOP.to_string())]);
    loss.push(vec![1.0]);
    loss_sum.push(leaf_of_row.len() as f64);
    Hierarchy {
        name: name.to_string(),
        row_codes,
        labels,
        loss,
        loss_sum,
    }
}

fn cut_points(min: f64, max: f64, bins: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut cuts = vec![min];
    for b in bins {
        if b > min && b < max {
            cuts.push(b);
        }
    }
    cuts.push(max);
    cuts
}

/// Level 1: the dictionary bins; each further level merges pairs of neighbouring intervals
/// until two are left.
fn add_bin_levels(
    levels: &mut Vec<Vec<Option<String>>>,
    leaf_values: &[&Value],
    cuts: &[f64],
    uncovered: &dyn Fn(&str, usize) -> Error,
) -> Result<()> {
    let n_bins = cuts.len() - 1;
    let mut bin_of_leaf = Vec::with_capacity(leaf_values.len());
    for v in leaf_values {
        bin_of_leaf.push(match v.as_f64() {
            None => None,
            Some(x) => {
                if x < cuts[0] || x > cuts[n_bins] {
                    return Err(uncovered(&plain(v).unwrap_or_default(), 1));
                }
                Some(cuts[1..].iter().position(|&c| x < c).unwrap_or(n_bins - 1))
            }
        });
    }
    let mut width = 1usize;
    while n_bins.div_ceil(width) > 1 {
        let next = bin_of_leaf
            .iter()
            .map(|b| {
                b.map(|b| {
                    let g = b / width;
                    let lo = cuts[g * width];
                    let end = ((g + 1) * width).min(n_bins);
                    let close = if end == n_bins { "]" } else { ")" };
                    format!("[{}, {}{close}", fmt_num(lo), fmt_num(cuts[end]))
                })
            })
            .collect();
        levels.push(next);
        if n_bins.div_ceil(width) <= 2 {
            break;
        }
        width *= 2;
    }
    Ok(())
}

fn add_date_levels(levels: &mut Vec<Vec<Option<String>>>, leaf_values: &[&Value], units: &[DateUnit]) {
    for unit in units {
        let next = leaf_values
            .iter()
            .map(|v| match v {
                Value::Date(d) => {
                    let (y, m, _) = d.ymd();
                    Some(match unit {
                        DateUnit::Month => format!("{y:04}-{m:02}"),
                        DateUnit::Year => format!("{y:04}"),
                    })
                }
                _ => None,
            })
            .collect();
        levels.push(next);
    }
}

/// A number without a trailing `.0` for whole values.
pub(crate) fn fmt_num(x: f64) -> String {
    let r = (x * 1e9).round() / 1e9;
    if r == 0.0 { "0".to_string() } else { format!("{r}") }
}

/// The value as plain text (no quotes); `None` when missing.
pub(crate) fn plain(v: &Value) -> Option<String> {
    match v {
        Value::Missing => None,
        Value::Text(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A distinct leaf value, ordered naturally (numbers by value, categories by level order).
#[derive(Debug, Clone)]
enum Leaf {
    Missing,
    Number(f64),
    Category(usize),
    Other(String),
}

impl Leaf {
    fn of(kind: &Kind, v: &Value) -> Leaf {
        match (kind, v) {
            (_, Value::Missing) => Leaf::Missing,
            (Kind::Categorical { levels, .. }, Value::Text(s)) => levels
                .iter()
                .position(|l| l == s)
                .map_or_else(|| Leaf::Other(s.clone()), Leaf::Category),
            (_, Value::Date(d)) => Leaf::Number(f64::from(d.days())),
            (_, v) => v
                .as_f64()
                .map_or_else(|| Leaf::Other(plain(v).unwrap_or_default()), Leaf::Number),
        }
    }
    fn rank(&self) -> u8 {
        match self {
            Leaf::Number(_) => 0,
            Leaf::Category(_) => 1,
            Leaf::Other(_) => 2,
            Leaf::Missing => 3,
        }
    }
}

impl PartialEq for Leaf {
    fn eq(&self, other: &Leaf) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Leaf {}
impl PartialOrd for Leaf {
    fn partial_cmp(&self, other: &Leaf) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Leaf {
    fn cmp(&self, other: &Leaf) -> Ordering {
        match (self, other) {
            (Leaf::Number(a), Leaf::Number(b)) => a.total_cmp(b),
            (Leaf::Category(a), Leaf::Category(b)) => a.cmp(b),
            (Leaf::Other(a), Leaf::Other(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}
impl std::hash::Hash for Leaf {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.rank().hash(state);
        match self {
            Leaf::Number(x) => x.to_bits().hash(state),
            Leaf::Category(c) => c.hash(state),
            Leaf::Other(s) => s.hash(state),
            Leaf::Missing => {}
        }
    }
}

/// Codes of one column at level 0 only (used to measure a table as it is).
pub(crate) fn identity(name: &str, kind: &Kind, values: &[Value]) -> Hierarchy {
    // A spec that adds no level cannot fail.
    let mut leaf_index: BTreeMap<Leaf, u32> = BTreeMap::new();
    let keys: Vec<Leaf> = values.iter().map(|v| Leaf::of(kind, v)).collect();
    for l in &keys {
        leaf_index.entry(l.clone()).or_insert(0);
    }
    let sorted: HashMap<Leaf, u32> = leaf_index
        .keys()
        .enumerate()
        .map(|(i, l)| (l.clone(), i as u32))
        .collect();
    let leaf_of_row: Vec<u32> = keys.iter().map(|l| sorted[l]).collect();
    let mut labels = vec![None; sorted.len()];
    for (row, &c) in leaf_of_row.iter().enumerate() {
        if labels[c as usize].is_none() {
            labels[c as usize] = Some(plain(&values[row]));
        }
    }
    let level0 = labels.into_iter().map(|l| l.flatten()).collect();
    encode(name, vec![level0], &leaf_of_row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use table::Date;

    fn labels_of(h: &Hierarchy, level: usize) -> Vec<Option<String>> {
        h.row_codes[level]
            .iter()
            .map(|&c| h.labels[level][c as usize].clone())
            .collect()
    }

    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn dictionary_bins_then_doubling_then_top() {
        let kind = Kind::Real {
            unit: None,
            min: Some(18.0),
            max: Some(90.0),
            bins: vec![30.0, 40.0, 50.0, 60.0, 70.0, 80.0],
        };
        let values = vec![Value::Real(18.0), Value::Real(45.5), Value::Real(90.0), Value::Missing];
        let h = Hierarchy::build("AGE", &kind, &HierarchySpec::Dictionary, &values).unwrap();
        // 7 bins → 4 → 2 groups, then *.
        assert_eq!(h.height(), 5);
        assert_eq!(
            labels_of(&h, 1),
            vec![s("[18, 30)"), s("[40, 50)"), s("[80, 90]"), None]
        );
        assert_eq!(
            labels_of(&h, 2),
            vec![s("[18, 40)"), s("[40, 60)"), s("[80, 90]"), None]
        );
        assert_eq!(
            labels_of(&h, 3),
            vec![s("[18, 60)"), s("[18, 60)"), s("[60, 90]"), None]
        );
        assert_eq!(labels_of(&h, 4), vec![s("*"); 4]);
        // Loss: 3 present leaves; [18, 60) covers 2 of them → ½.
        assert_eq!(h.loss[3][h.row_codes[3][0] as usize], 0.5);
        let out = Hierarchy::build("AGE", &kind, &HierarchySpec::Dictionary, &[Value::Real(95.0)]).unwrap_err();
        assert_eq!(
            out,
            Error::Uncovered {
                column: "AGE".into(),
                value: "95".into(),
                level: 1
            }
        );
    }

    #[test]
    fn intervals_dates_and_masks() {
        let int = Kind::Integer {
            unit: None,
            min: Some(17),
            max: Some(90),
            bins: vec![],
        };
        let spec = HierarchySpec::Intervals {
            widths: vec![5.0, 10.0],
            anchor: Some(15.0),
        };
        let h = Hierarchy::build("age", &int, &spec, &[Value::Int(17), Value::Int(39)]).unwrap();
        assert_eq!(labels_of(&h, 1), vec![s("[15, 20)"), s("[35, 40)")]);
        assert_eq!(labels_of(&h, 2), vec![s("[15, 25)"), s("[35, 45)")]);
        let date = Kind::Date {
            format: "%Y-%m-%d".into(),
            min: None,
            max: None,
        };
        let d = Value::Date(Date::from_ymd(2024, 3, 9).unwrap());
        let h = Hierarchy::build("dx", &date, &HierarchySpec::Dictionary, &[d]).unwrap();
        assert_eq!(h.height(), 4);
        assert_eq!(labels_of(&h, 1), vec![s("2024-03")]);
        assert_eq!(labels_of(&h, 2), vec![s("2024")]);
        let h = Hierarchy::build(
            "zip",
            &Kind::Text,
            &HierarchySpec::Mask(vec![2, 9]),
            &[Value::Text("75012".into())],
        )
        .unwrap();
        assert_eq!(labels_of(&h, 1), vec![s("750**")]);
        assert_eq!(labels_of(&h, 2), vec![s("*****")]);
        let refused = Hierarchy::build("x", &Kind::Text, &HierarchySpec::Dictionary, &[Value::Text("a".into())]);
        assert!(matches!(refused, Err(Error::Column { .. })));
        // Intervals on a date column are refused, even with an explicit anchor.
        let spec = HierarchySpec::Intervals {
            widths: vec![30.0],
            anchor: Some(0.0),
        };
        let refused = Hierarchy::build("dx", &date, &spec, &[Value::Date(Date::from_ymd(2024, 1, 1).unwrap())]);
        assert!(matches!(refused, Err(Error::Column { .. })));
    }
}
