//! Tables as columns of codes, and the conversions between [`Table`] and [`Encoded`].

use super::{Attribute, Domain, Mapping, domain_error};
use crate::date::Date;
use crate::error::{Error, Result};
use crate::table::{ColumnData, Table};
use crate::value::Value;
use rand::Rng;

/// The codes of one attribute, one per row, stored in 8 bits when the attribute has at most
/// 256 codes and in 16 bits otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeColumn {
    U8(Vec<u8>),
    U16(Vec<u16>),
}

impl CodeColumn {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            CodeColumn::U8(v) => v.len(),
            CodeColumn::U16(v) => v.len(),
        }
    }

    /// Whether the column has no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The code of `row`, or `None` past the last row.
    #[inline]
    pub fn get(&self, row: usize) -> Option<usize> {
        match self {
            CodeColumn::U8(v) => v.get(row).map(|c| usize::from(*c)),
            CodeColumn::U16(v) => v.get(row).map(|c| usize::from(*c)),
        }
    }

    /// An empty column with room for `rows` codes of an attribute with `size` codes.
    fn with_capacity(size: usize, rows: usize) -> CodeColumn {
        if size <= 256 {
            CodeColumn::U8(Vec::with_capacity(rows))
        } else {
            CodeColumn::U16(Vec::with_capacity(rows))
        }
    }

    /// Appends `code`, which the caller has checked is below the attribute's size (at most
    /// 256 for `U8`, at most 65,536 for `U16`).
    #[inline]
    fn push(&mut self, code: usize) {
        match self {
            CodeColumn::U8(v) => v.push(code as u8),
            CodeColumn::U16(v) => v.push(code as u16),
        }
    }
}

/// A table encoded over a [`Domain`]: one [`CodeColumn`] per attribute, every code below its
/// attribute's size (an invariant every constructor checks).
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    pub(crate) domain: Domain,
    pub(crate) columns: Vec<CodeColumn>,
    pub(crate) rows: usize,
}

impl Encoded {
    /// Builds an encoded table from codes, e.g. codes sampled by a synthesizer: `columns[i]`
    /// holds the codes of attribute `i` of `domain`.
    ///
    /// Errors when the number of columns differs from the number of attributes, when columns
    /// have different lengths, or when a code is not below its attribute's size.
    pub fn from_codes(domain: &Domain, columns: &[Vec<u16>]) -> Result<Encoded> {
        if columns.len() != domain.len() {
            return Err(Error::Domain {
                column: "<all>".into(),
                message: format!(
                    "{} code columns given for a domain of {} attributes",
                    columns.len(),
                    domain.len()
                ),
            });
        }
        let rows = columns.first().map_or(0, Vec::len);
        let mut encoded = Vec::with_capacity(columns.len());
        for (attribute, codes) in domain.attributes.iter().zip(columns) {
            if codes.len() != rows {
                return Err(Error::Domain {
                    column: attribute.name.clone(),
                    message: format!("{} codes, but the first column has {rows}", codes.len()),
                });
            }
            let size = attribute.size();
            if let Some(row) = codes.iter().position(|c| usize::from(*c) >= size) {
                return Err(Error::Domain {
                    column: attribute.name.clone(),
                    message: format!("row {}: code {} is not below the size {size}", row + 1, codes[row]),
                });
            }
            encoded.push(if size <= 256 {
                CodeColumn::U8(codes.iter().map(|c| *c as u8).collect())
            } else {
                CodeColumn::U16(codes.clone())
            });
        }
        Ok(Encoded {
            domain: domain.clone(),
            columns: encoded,
            rows,
        })
    }

    /// The domain the codes refer to.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.rows
    }

    /// The code columns, in domain order.
    pub fn columns(&self) -> &[CodeColumn] {
        &self.columns
    }

    /// The code of attribute `attribute` at `row`, or `None` if either is out of range.
    pub fn code(&self, row: usize, attribute: usize) -> Option<usize> {
        self.columns.get(attribute)?.get(row)
    }
}

impl Domain {
    /// Encodes the attributes of `table` (a table of the same dictionary) into codes.
    ///
    /// Errors ([`Error::Domain`], naming the column and the 1-based data row) when a value lies
    /// outside the dictionary's bounds or levels, or is missing although the dictionary forbids
    /// it. Nothing is clamped or dropped.
    pub fn encode(&self, table: &Table) -> Result<Encoded> {
        let rows = table.n_rows();
        let mut columns = Vec::with_capacity(self.attributes.len());
        for attribute in &self.attributes {
            let column = self.dictionary.columns.get(attribute.column_index);
            let theirs = table.dictionary().columns.get(attribute.column_index);
            let (Some(column), Some(theirs)) = (column, theirs) else {
                return Err(Error::Domain {
                    column: attribute.name.clone(),
                    message: "the table has no such column".into(),
                });
            };
            if column.name != theirs.name || column.kind != theirs.kind || column.missing != theirs.missing {
                return Err(domain_error(
                    column,
                    "the table's dictionary describes this column differently from the domain's",
                ));
            }
            columns.push(encode_column(attribute, table.column(attribute.column_index), rows)?);
        }
        Ok(Encoded {
            domain: self.clone(),
            columns,
            rows,
        })
    }

    /// Decodes codes back into a table of the domain's dictionary.
    ///
    /// Categorical and boolean codes decode exactly; a bin decodes to a value drawn uniformly
    /// inside the bin (integers among its integers, reals in the interval, dates among its days),
    /// so always within the dictionary's `[min, max]`; the missing code decodes to missing.
    /// Columns outside the domain — identifier and text columns, and columns left out by
    /// [`Domain::select`] — are missing in every row: a synthesizer never produces them.
    ///
    /// Errors when `encoded` was made over a different domain.
    pub fn decode(&self, encoded: &Encoded, rng: &mut (impl Rng + ?Sized)) -> Result<Table> {
        if encoded.domain != *self {
            return Err(Error::Domain {
                column: "<all>".into(),
                message: "the codes were made over a different domain".into(),
            });
        }
        let width = self.dictionary.columns.len();
        let mut table = Table::new(self.dictionary.clone());
        let mut row_values = vec![Value::Missing; width];
        for row in 0..encoded.rows {
            for (attribute, codes) in self.attributes.iter().zip(&encoded.columns) {
                let code = codes.get(row).ok_or_else(|| Error::Domain {
                    column: attribute.name.clone(),
                    message: format!("row {}: no code", row + 1),
                })?;
                row_values[attribute.column_index] = decode_value(attribute, code, rng)?;
            }
            table.push_row(row_values.clone()).map_err(|e| Error::Domain {
                column: e.column,
                message: format!("row {}: decoded value {} does not fit the column", row + 1, e.value),
            })?;
        }
        Ok(table)
    }
}

impl Domain {
    /// Decodes one row of codes (`codes[i]` for attribute `i`) into `row`, a row of values in
    /// the dictionary's column order (columns outside the domain are left as they are), with the
    /// same rules as [`Domain::decode`]. For samplers that check clinical rules row by row.
    pub fn decode_row(&self, codes: &[usize], row: &mut [Value], rng: &mut (impl Rng + ?Sized)) -> Result<()> {
        if codes.len() != self.attributes.len() || row.len() != self.dictionary.columns.len() {
            return Err(Error::Domain {
                column: "<all>".into(),
                message: format!(
                    "{} codes and {} values for {} attributes and {} columns",
                    codes.len(),
                    row.len(),
                    self.attributes.len(),
                    self.dictionary.columns.len()
                ),
            });
        }
        for (attribute, &code) in self.attributes.iter().zip(codes) {
            row[attribute.column_index] = decode_value(attribute, code, rng)?;
        }
        Ok(())
    }

    /// Decodes one code of attribute `attribute` (its position in the domain), with the same
    /// rules as [`Domain::decode`].
    pub fn decode_code(&self, attribute: usize, code: usize, rng: &mut (impl Rng + ?Sized)) -> Result<Value> {
        let a = self.attributes.get(attribute).ok_or_else(|| Error::Domain {
            column: format!("attribute {attribute}"),
            message: format!("the domain has {} attributes", self.attributes.len()),
        })?;
        decode_value(a, code, rng)
    }
}

fn decode_value(attribute: &Attribute, code: usize, rng: &mut (impl Rng + ?Sized)) -> Result<Value> {
    if attribute.missing_code() == Some(code) {
        return Ok(Value::Missing);
    }
    let value = match &attribute.mapping {
        Mapping::Categorical { levels } => levels.get(code).map(|l| Value::Text(l.clone())),
        Mapping::Boolean => match code {
            0 => Some(Value::Bool(false)),
            1 => Some(Value::Bool(true)),
            _ => None,
        },
        Mapping::Integer(bins) => bins.sample(code, rng).map(Value::Int),
        Mapping::Real(bins) => bins.sample(code, rng).map(Value::Real),
        Mapping::Date(bins) => bins
            .sample(code, rng)
            .and_then(|d| i32::try_from(d).ok())
            .map(|d| Value::Date(Date::from_days(d))),
    };
    value.ok_or_else(|| Error::Domain {
        column: attribute.name.clone(),
        message: format!("code {code} is not below the size {}", attribute.size()),
    })
}

/// The codes of one column. `data` is the table's storage for the attribute's column.
fn encode_column(attribute: &Attribute, data: &ColumnData, rows: usize) -> Result<CodeColumn> {
    let mut codes = CodeColumn::with_capacity(attribute.size(), rows);
    let missing = attribute.missing_code();
    let fail = |row: usize, message: String| Error::Domain {
        column: attribute.name.clone(),
        message: format!("data row {}: {message}", row + 1),
    };
    let missing_code = |row: usize| {
        missing.ok_or_else(|| {
            fail(
                row,
                "value is missing, but the dictionary forbids missing values in this column".into(),
            )
        })
    };
    match (&attribute.mapping, data) {
        (Mapping::Categorical { levels }, ColumnData::Category(cells)) => {
            for (row, cell) in cells.iter().enumerate() {
                let code = match cell {
                    Some(level) if (*level as usize) < levels.len() => *level as usize,
                    Some(level) => return Err(fail(row, format!("level index {level} is not a level"))),
                    None => missing_code(row)?,
                };
                codes.push(code);
            }
        }
        (Mapping::Boolean, ColumnData::Bool(cells)) => {
            for (row, cell) in cells.iter().enumerate() {
                codes.push(match cell {
                    Some(b) => usize::from(*b),
                    None => missing_code(row)?,
                });
            }
        }
        (Mapping::Integer(bins), ColumnData::Int(cells)) => {
            for (row, cell) in cells.iter().enumerate() {
                codes.push(match cell {
                    Some(x) => bins.code_of(*x).ok_or_else(|| {
                        fail(
                            row,
                            format!(
                                "value {x} lies outside [{}, {}] from the dictionary",
                                bins.min(),
                                bins.max()
                            ),
                        )
                    })?,
                    None => missing_code(row)?,
                });
            }
        }
        (Mapping::Real(bins), ColumnData::Real(cells)) => {
            for (row, cell) in cells.iter().enumerate() {
                codes.push(match cell {
                    Some(x) => bins.code_of(*x).ok_or_else(|| {
                        fail(
                            row,
                            format!(
                                "value {x} lies outside [{}, {}] from the dictionary",
                                bins.min(),
                                bins.max()
                            ),
                        )
                    })?,
                    None => missing_code(row)?,
                });
            }
        }
        (Mapping::Date(bins), ColumnData::Date(cells)) => {
            for (row, cell) in cells.iter().enumerate() {
                codes.push(match cell {
                    Some(d) => bins.code_of(i64::from(d.days())).ok_or_else(|| {
                        let day = |n: i64| {
                            i32::try_from(n).map_or_else(|_| n.to_string(), |n| Date::from_days(n).to_string())
                        };
                        fail(
                            row,
                            format!(
                                "date {d} lies outside [{}, {}] from the dictionary",
                                day(bins.min()),
                                day(bins.max())
                            ),
                        )
                    })?,
                    None => missing_code(row)?,
                });
            }
        }
        _ => {
            return Err(Error::Domain {
                column: attribute.name.clone(),
                message: "the table stores this column with a type that does not match its kind".into(),
            });
        }
    }
    if codes.len() != rows {
        return Err(Error::Domain {
            column: attribute.name.clone(),
            message: format!("{} cells, but the table has {rows} rows", codes.len()),
        });
    }
    Ok(codes)
}
