//! The anonymisation pipeline: resolve the config against the dictionary, shift dates, encode
//! hierarchies, search, and build the output table.

use crate::Outcome;
use crate::config::{Config, Distance, IdentifierAction, SuppressedRecords};
use crate::error::{Error, NoSolution, Result};
use crate::hierarchy::{Hierarchy, TOP};
use crate::key::Key;
use crate::model::{self, SensitiveCodes};
use crate::report::{self, Report, SearchSummary};
use crate::search::{NodeFigures, Problem};
use crate::strategy::{Generalisation, Strategy};
use std::sync::Arc;
use table::schema::Group;
use table::{Column, Dictionary, Kind, Rule, Table, Value};

/// The input, resolved and encoded once.
pub(crate) struct Prepared<'a> {
    pub table: &'a Table,
    pub config: &'a Config,
    key: Option<&'a Key>,
    /// Column-major values after date shifting.
    values: Vec<Vec<Value>>,
    /// Dictionary index of every quasi-identifier, in config order.
    qi_columns: Vec<usize>,
    pub hierarchies: Vec<Hierarchy>,
    pub sensitive: Vec<SensitiveCodes>,
    shifted: bool,
}

impl<'a> Prepared<'a> {
    pub fn new(table: &'a Table, config: &'a Config, key: Option<&'a Key>) -> Result<Prepared<'a>> {
        let dict = table.dictionary();
        let find = |name: &str| {
            dict.index_of(name).ok_or_else(|| Error::Column {
                column: name.to_string(),
                message: format!("not in dictionary {:?}", dict.name),
            })
        };
        let mut qi_columns = Vec::new();
        for q in &config.quasi_identifiers {
            let i = find(&q.column)?;
            if dict.columns[i].kind == Kind::Identifier {
                return Err(Error::Column {
                    column: q.column.clone(),
                    message: "an identifier column cannot be a quasi-identifier (it is removed or pseudonymised)"
                        .into(),
                });
            }
            qi_columns.push(i);
        }
        for s in &config.sensitive {
            if config.quasi_identifiers.iter().any(|q| q.column == s.column) {
                return Err(Error::SensitiveIsQuasiIdentifier {
                    column: s.column.clone(),
                });
            }
            let i = find(&s.column)?;
            if matches!(dict.columns[i].kind, Kind::Identifier) {
                return Err(Error::Column {
                    column: s.column.clone(),
                    message: "an identifier column cannot be a sensitive attribute".into(),
                });
            }
        }
        if matches!(config.identifiers, IdentifierAction::Pseudonymize { .. })
            && key.is_none()
            && dict.columns.iter().any(|c| c.kind == Kind::Identifier)
        {
            return Err(Error::KeyRequired {
                operation: "pseudonymisation",
            });
        }
        let n = table.n_rows();
        let mut values: Vec<Vec<Value>> = (0..dict.columns.len())
            .map(|c| (0..n).map(|r| table.value(r, c)).collect())
            .collect();
        let mut shifted = false;
        if let Some(shift) = &config.date_shift {
            let key = key.ok_or(Error::KeyRequired {
                operation: "date shifting",
            })?;
            let p = find(&shift.patient)?;
            let mut offsets = Vec::with_capacity(n);
            for (row, v) in values[p].iter().enumerate() {
                let id = crate::hierarchy::plain(v).ok_or_else(|| Error::MissingPatient {
                    row: row + 1,
                    column: shift.patient.clone(),
                })?;
                offsets.push(key.date_offset(&id, shift.max_days));
            }
            for (c, col) in dict.columns.iter().enumerate() {
                if matches!(col.kind, Kind::Date { .. }) {
                    shifted = true;
                    for (v, &o) in values[c].iter_mut().zip(&offsets) {
                        if let Value::Date(d) = v {
                            *d = table::Date::from_days(d.days() + o);
                        }
                    }
                }
            }
        }
        let mut hierarchies = Vec::new();
        for (q, &c) in config.quasi_identifiers.iter().zip(&qi_columns) {
            hierarchies.push(Hierarchy::build(
                &q.column,
                &dict.columns[c].kind,
                &q.hierarchy,
                &values[c],
            )?);
        }
        let mut sensitive = Vec::new();
        for s in &config.sensitive {
            let c = find(&s.column)?;
            let kind = &dict.columns[c].kind;
            let distance = s.distance.unwrap_or(match kind {
                Kind::Integer { .. } | Kind::Real { .. } | Kind::Date { .. } => Distance::Ordered,
                _ => Distance::Equal,
            });
            let h = crate::hierarchy::identity(&s.column, kind, &values[c]);
            sensitive.push(SensitiveCodes::new(&h, distance));
        }
        Ok(Prepared {
            table,
            config,
            key,
            values,
            qi_columns,
            hierarchies,
            sensitive,
            shifted,
        })
    }

    pub fn problem(&self) -> Problem<'_> {
        let allowed = (self.config.suppression_limit * self.table.n_rows() as f64 + 1e-9).floor() as usize;
        Problem {
            hierarchies: &self.hierarchies,
            sensitive: &self.sensitive,
            privacy: &self.config.privacy,
            allowed,
            metric: self.config.metric,
        }
    }

    pub fn no_solution(&self, closest: &NodeFigures, nodes_checked: usize) -> Error {
        Error::NoSolution(Box::new(NoSolution {
            closest: self.named(&closest.node),
            suppressed_needed: closest.suppressed,
            suppression_allowed: self.problem().allowed,
            rows: self.table.n_rows(),
            nodes_checked,
        }))
    }

    fn named(&self, node: &[usize]) -> Vec<(String, usize)> {
        self.hierarchies
            .iter()
            .zip(node)
            .map(|(h, &l)| (h.name.clone(), l))
            .collect()
    }

    /// The node of a saved strategy, checked against this config's hierarchies.
    pub fn node_of(&self, strategy: &Strategy) -> Result<Vec<usize>> {
        if strategy.generalisation.len() != self.hierarchies.len() {
            return Err(Error::Strategy {
                message: format!(
                    "the strategy has {} quasi-identifiers, the config {}",
                    strategy.generalisation.len(),
                    self.hierarchies.len()
                ),
            });
        }
        let mut node = Vec::new();
        for (g, h) in strategy.generalisation.iter().zip(&self.hierarchies) {
            if g.column != h.name || g.levels != h.height() {
                return Err(Error::Strategy {
                    message: format!(
                        "strategy entry {:?} with {} levels does not match quasi-identifier {:?} with {} levels",
                        g.column,
                        g.levels,
                        h.name,
                        h.height()
                    ),
                });
            }
            node.push(g.level);
        }
        Ok(node)
    }

    /// Builds the output, strategy and report for the chosen `node`.
    pub fn finish(&self, node: &[usize], summary: SearchSummary) -> Result<Outcome> {
        let problem = self.problem();
        let (fig, classes, kept) = problem.evaluate(node);
        let keep_row: Vec<bool> = classes.class_of_row.iter().map(|&c| kept[c as usize]).collect();
        let output = self.output(node, &keep_row)?;
        let strategy = Strategy {
            generalisation: self
                .hierarchies
                .iter()
                .zip(node)
                .map(|(h, &level)| Generalisation {
                    column: h.name.clone(),
                    level,
                    levels: h.height(),
                })
                .collect(),
            optimal: summary.optimal,
        };
        let before = model::classes(&self.hierarchies, &vec![0; self.hierarchies.len()]);
        let figures = model::class_figures(&classes, &self.sensitive, &self.config.privacy);
        let report: Report = report::build(self, node, &fig, &classes, &kept, &figures, &before, summary);
        Ok(Outcome {
            output,
            strategy,
            report,
        })
    }

    fn output(&self, node: &[usize], keep_row: &[bool]) -> Result<Table> {
        let dict = self.table.dictionary();
        let mask = self.config.suppressed_records == SuppressedRecords::Mask;
        let mut columns = Vec::new();
        let mut unchanged = Vec::new();
        for (c, col) in dict.columns.iter().enumerate() {
            if let Some(q) = self.qi_columns.iter().position(|&i| i == c) {
                let h = &self.hierarchies[q];
                let mut levels: Vec<String> = h.labels[node[q]].iter().flatten().cloned().collect();
                if mask && !levels.iter().any(|l| l == TOP) {
                    levels.push(TOP.to_string());
                }
                if let Some(t) = col.missing_tokens.iter().find(|t| levels.contains(t)) {
                    return Err(Error::Output(format!(
                        "column {:?}: generalised value {t:?} is also a missing token",
                        col.name
                    )));
                }
                columns.push(Column {
                    kind: Kind::Categorical {
                        levels,
                        groups: Vec::<Group>::new(),
                    },
                    description: format!(
                        "{} (generalised, level {} of {})",
                        col.description,
                        node[q],
                        h.height() - 1
                    ),
                    ..col.clone()
                });
                continue;
            }
            match (&col.kind, self.config.identifiers) {
                (Kind::Identifier, IdentifierAction::Remove) => continue,
                (Kind::Identifier, IdentifierAction::Pseudonymize { .. }) => {
                    columns.push(Column {
                        description: format!("{} (keyed pseudonym, HMAC-SHA-256)", col.description),
                        ..col.clone()
                    });
                }
                (Kind::Date { format, min, max }, _) if self.shifted => {
                    let n = self.config.date_shift.as_ref().map_or(0, |s| s.max_days as i32);
                    columns.push(Column {
                        kind: Kind::Date {
                            format: format.clone(),
                            min: min.map(|d| table::Date::from_days(d.days() - n)),
                            max: max.map(|d| table::Date::from_days(d.days() + n)),
                        },
                        description: format!("{} (shifted per patient by at most ±{n} days)", col.description),
                        ..col.clone()
                    });
                }
                _ => {
                    columns.push(col.clone());
                    unchanged.push(col.name.clone());
                }
            }
        }
        let kept_names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        let mut out_dict = Dictionary {
            name: dict.name.clone(),
            description: format!("{} (anonymised)", dict.description),
            columns,
            time_to_event: dict
                .time_to_event
                .iter()
                .filter(|t| unchanged.contains(&t.time) && unchanged.contains(&t.status))
                .cloned()
                .collect(),
            rules: Vec::new(),
        };
        let rules: Vec<Rule> = dict
            .rules
            .iter()
            .filter(|r| r.columns().iter().all(|&i| unchanged.contains(&dict.columns[i].name)))
            .filter_map(|r| Rule::parse(&r.name, &r.source, &r.description, &out_dict).ok())
            .collect();
        out_dict.rules = rules;
        let out_dict = Arc::new(out_dict);
        let mut out = Table::new(Arc::clone(&out_dict));
        for (row, &keep) in keep_row.iter().enumerate() {
            if !keep && !mask {
                continue;
            }
            let mut values = Vec::with_capacity(kept_names.len());
            for (c, col) in dict.columns.iter().enumerate() {
                if !kept_names.contains(&col.name) {
                    continue;
                }
                let v = if let Some(q) = self.qi_columns.iter().position(|&i| i == c) {
                    let h = &self.hierarchies[q];
                    if keep {
                        match &h.labels[node[q]][h.row_codes[node[q]][row] as usize] {
                            Some(l) => Value::Text(l.clone()),
                            None => Value::Missing,
                        }
                    } else {
                        Value::Text(TOP.to_string())
                    }
                } else if col.kind == Kind::Identifier {
                    match (&self.values[c][row], self.key, self.config.identifiers) {
                        (Value::Missing, _, _) => Value::Missing,
                        (v, Some(key), IdentifierAction::Pseudonymize { hex_chars }) => {
                            Value::Text(key.pseudonym(&crate::hierarchy::plain(v).unwrap_or_default(), hex_chars))
                        }
                        _ => {
                            return Err(Error::KeyRequired {
                                operation: "pseudonymisation",
                            });
                        }
                    }
                } else {
                    self.values[c][row].clone()
                };
                values.push(v);
            }
            out.push_row(values).map_err(|e| Error::Output(e.to_string()))?;
        }
        Ok(out)
    }
}
