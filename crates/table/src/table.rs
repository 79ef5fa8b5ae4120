//! The typed, columnar in-memory table.

use crate::date::Date;
use crate::schema::{Dictionary, Kind};
use crate::value::Value;
use std::sync::Arc;

/// The cells of one column. Categorical cells are level indices into the dictionary's levels.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    Bool(Vec<Option<bool>>),
    Int(Vec<Option<i64>>),
    Real(Vec<Option<f64>>),
    Date(Vec<Option<Date>>),
    Category(Vec<Option<u32>>),
    Text(Vec<Option<String>>),
}

impl ColumnData {
    /// An empty column of the storage type that `kind` uses.
    pub fn for_kind(kind: &Kind) -> ColumnData {
        match kind {
            Kind::Categorical { .. } => ColumnData::Category(Vec::new()),
            Kind::Integer { .. } => ColumnData::Int(Vec::new()),
            Kind::Real { .. } => ColumnData::Real(Vec::new()),
            Kind::Date { .. } => ColumnData::Date(Vec::new()),
            Kind::Boolean { .. } => ColumnData::Bool(Vec::new()),
            Kind::Identifier | Kind::Text => ColumnData::Text(Vec::new()),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ColumnData::Bool(v) => v.len(),
            ColumnData::Int(v) => v.len(),
            ColumnData::Real(v) => v.len(),
            ColumnData::Date(v) => v.len(),
            ColumnData::Category(v) => v.len(),
            ColumnData::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A table whose columns are exactly the dictionary's columns, in dictionary order.
#[derive(Debug, Clone)]
pub struct Table {
    dictionary: Arc<Dictionary>,
    columns: Vec<ColumnData>,
    rows: usize,
}

/// A value that does not fit its column's storage type (a programming error of the caller,
/// reported rather than panicking).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("column {column:?} ({kind}) cannot hold {value}")]
pub struct TypeMismatch {
    pub column: String,
    pub kind: &'static str,
    pub value: String,
}

impl Table {
    pub fn new(dictionary: Arc<Dictionary>) -> Table {
        let columns = dictionary
            .columns
            .iter()
            .map(|c| ColumnData::for_kind(&c.kind))
            .collect();
        Table {
            dictionary,
            columns,
            rows: 0,
        }
    }

    pub fn dictionary(&self) -> &Arc<Dictionary> {
        &self.dictionary
    }

    pub fn n_rows(&self) -> usize {
        self.rows
    }

    pub fn columns(&self) -> &[ColumnData] {
        &self.columns
    }

    pub fn column(&self, index: usize) -> &ColumnData {
        &self.columns[index]
    }

    /// The column named `name`, if the dictionary has it.
    pub fn column_by_name(&self, name: &str) -> Option<&ColumnData> {
        self.dictionary.index_of(name).map(|i| &self.columns[i])
    }

    /// Appends one row of values in dictionary order. Categorical values are given as
    /// [`Value::Text`] level labels. Nothing is appended if any value does not fit.
    pub fn push_row(&mut self, row: Vec<Value>) -> Result<(), TypeMismatch> {
        if row.len() != self.columns.len() {
            return Err(TypeMismatch {
                column: "<row>".into(),
                kind: "row",
                value: format!("{} values for {} columns", row.len(), self.columns.len()),
            });
        }
        // Check every value first so a failure leaves the table unchanged.
        for (i, v) in row.iter().enumerate() {
            self.check_fits(i, v)?;
        }
        for (i, v) in row.into_iter().enumerate() {
            let level = self.level_index(i, &v);
            match (&mut self.columns[i], v) {
                (ColumnData::Bool(c), Value::Bool(b)) => c.push(Some(b)),
                (ColumnData::Bool(c), Value::Missing) => c.push(None),
                (ColumnData::Int(c), Value::Int(x)) => c.push(Some(x)),
                (ColumnData::Int(c), Value::Missing) => c.push(None),
                (ColumnData::Real(c), Value::Real(x)) => c.push(Some(x)),
                (ColumnData::Real(c), Value::Int(x)) => c.push(Some(x as f64)),
                (ColumnData::Real(c), Value::Missing) => c.push(None),
                (ColumnData::Date(c), Value::Date(d)) => c.push(Some(d)),
                (ColumnData::Date(c), Value::Missing) => c.push(None),
                (ColumnData::Category(c), Value::Missing) => c.push(None),
                (ColumnData::Category(c), Value::Text(_)) => c.push(level),
                (ColumnData::Text(c), Value::Text(s)) => c.push(Some(s)),
                (ColumnData::Text(c), Value::Missing) => c.push(None),
                _ => unreachable!("check_fits accepted every value"),
            }
        }
        self.rows += 1;
        Ok(())
    }

    fn level_index(&self, i: usize, v: &Value) -> Option<u32> {
        match (&self.dictionary.columns[i].kind, v) {
            (Kind::Categorical { levels, .. }, Value::Text(s)) => levels.iter().position(|l| l == s).map(|p| p as u32),
            _ => None,
        }
    }

    fn check_fits(&self, i: usize, v: &Value) -> Result<(), TypeMismatch> {
        let col = &self.dictionary.columns[i];
        let ok = match (&self.columns[i], v) {
            (_, Value::Missing) => true,
            (ColumnData::Bool(_), Value::Bool(_)) => true,
            (ColumnData::Int(_), Value::Int(_)) => true,
            (ColumnData::Real(_), Value::Real(x)) => x.is_finite(),
            (ColumnData::Real(_), Value::Int(_)) => true,
            (ColumnData::Date(_), Value::Date(_)) => true,
            (ColumnData::Category(_), Value::Text(_)) => self.level_index(i, v).is_some(),
            (ColumnData::Text(_), Value::Text(_)) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(TypeMismatch {
                column: col.name.clone(),
                kind: col.kind.name(),
                value: v.to_string(),
            })
        }
    }

    /// The value at (`row`, `col`); categorical cells come back as their level label.
    pub fn value(&self, row: usize, col: usize) -> Value {
        let opt = |o: Option<Value>| o.unwrap_or(Value::Missing);
        match &self.columns[col] {
            ColumnData::Bool(c) => opt(c[row].map(Value::Bool)),
            ColumnData::Int(c) => opt(c[row].map(Value::Int)),
            ColumnData::Real(c) => opt(c[row].map(Value::Real)),
            ColumnData::Date(c) => opt(c[row].map(Value::Date)),
            ColumnData::Category(c) => opt(c[row].map(|k| match &self.dictionary.columns[col].kind {
                Kind::Categorical { levels, .. } => Value::Text(levels[k as usize].clone()),
                _ => unreachable!("category storage only for categorical columns"),
            })),
            ColumnData::Text(c) => opt(c[row].clone().map(Value::Text)),
        }
    }

    /// One row as values in dictionary order.
    pub fn row(&self, row: usize) -> Vec<Value> {
        (0..self.columns.len()).map(|c| self.value(row, c)).collect()
    }

    /// The same rows over `dictionary`, whose columns must all exist here with the same kind
    /// (e.g. [`Dictionary::modelled`] of this table's dictionary). Values are copied unchanged.
    pub fn project(&self, dictionary: Arc<Dictionary>) -> Result<Table, TypeMismatch> {
        let mut columns = Vec::with_capacity(dictionary.columns.len());
        for col in &dictionary.columns {
            let found = self
                .dictionary
                .index_of(&col.name)
                .filter(|&i| self.dictionary.columns[i].kind == col.kind);
            let Some(i) = found else {
                return Err(TypeMismatch {
                    column: col.name.clone(),
                    kind: col.kind.name(),
                    value: "<absent or of another kind>".into(),
                });
            };
            columns.push(self.columns[i].clone());
        }
        Ok(Table {
            dictionary,
            columns,
            rows: self.rows,
        })
    }

    /// Appends all rows of `other`, which must share this table's dictionary.
    pub fn append(&mut self, other: &Table) -> Result<(), TypeMismatch> {
        for r in 0..other.n_rows() {
            self.push_row(other.row(r))?;
        }
        Ok(())
    }
}
