//! Parquet reading and writing (feature `parquet`), with the low-level column API of the
//! `parquet` crate (no Arrow).
//!
//! Schema: one top-level OPTIONAL column per dictionary column (a missing value is a null).
//!
//! | dictionary type | Parquet physical type (logical type) |
//! |---|---|
//! | categorical | BYTE_ARRAY (STRING): the level label |
//! | integer | INT64 (INT32 accepted when reading) |
//! | real | DOUBLE (FLOAT accepted when reading) |
//! | date | INT32 (DATE): days since 1970-01-01 |
//! | boolean | BOOLEAN |
//! | identifier, text | BYTE_ARRAY (STRING) |
//!
//! Reading validates like CSV reading: every dictionary column present exactly once and no
//! other column, types as above, values within bounds and levels, missing values only where the
//! dictionary allows them (all with [`crate::validate::check_value`]), and the clinical rules.
//! Missing tokens do not apply: in Parquet only a null is missing.
//! Problems name the row (1-based; reported at `line` = row + 1, line 1 standing for the schema
//! as the header does in a CSV file) and the column.

use crate::date::Date;
use crate::error::{Error, Result};
use crate::schema::{Column, Dictionary, Kind};
use crate::table::{ColumnData, Table};
use crate::value::Value;
use crate::{Problem, validate};
use parquet::basic::{Compression, LogicalType, Repetition, Type as PhysicalType};
use parquet::column::reader::ColumnReaderImpl;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DataType, DoubleType, FloatType, Int32Type, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{ChunkReader, FileReader, RowGroupReader};
use parquet::file::serialized_reader::SerializedFileReader;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{ColumnDescriptor, Type};
use std::collections::HashMap;
use std::sync::Arc;

/// Rows per row group when writing.
const ROW_GROUP_ROWS: usize = 65_536;

/// The name used for the output in error messages (the writer has no file name).
const OUTPUT_NAME: &str = "parquet output";

/// Writes `table` as a Parquet file (Snappy-compressed, one OPTIONAL column per dictionary
/// column, in dictionary order).
pub fn write_parquet(writer: impl std::io::Write + Send, table: &Table) -> Result<()> {
    write_row_groups(writer, table, ROW_GROUP_ROWS)
}

fn write_error(e: ParquetError) -> Error {
    Error::Io {
        source_name: OUTPUT_NAME.into(),
        error: std::io::Error::other(e),
    }
}

fn write_row_groups(writer: impl std::io::Write + Send, table: &Table, rows_per_group: usize) -> Result<()> {
    let dict = table.dictionary();
    let schema = Arc::new(file_schema(dict).map_err(write_error)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("synthema table {}", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    let mut file = SerializedFileWriter::new(writer, schema, props).map_err(write_error)?;
    let rows = table.n_rows();
    let mut start = 0;
    // An empty table still gets one (empty) row group so that readers see its schema in use.
    loop {
        let end = (start + rows_per_group.max(1)).min(rows);
        let mut group = file.next_row_group().map_err(write_error)?;
        for (i, column) in dict.columns.iter().enumerate() {
            let Some(mut out) = group.next_column().map_err(write_error)? else {
                return Err(write_error(ParquetError::General(format!(
                    "the writer has no column for {:?}",
                    column.name
                ))));
            };
            write_column(&mut out, column, table.column(i), start..end).map_err(write_error)?;
            out.close().map_err(write_error)?;
        }
        group.close().map_err(write_error)?;
        start = end;
        if start >= rows {
            break;
        }
    }
    file.close().map_err(write_error)?;
    Ok(())
}

/// The Parquet schema of a dictionary.
fn file_schema(dict: &Dictionary) -> parquet::errors::Result<Type> {
    let fields = dict
        .columns
        .iter()
        .map(|c| {
            let (physical, logical) = match &c.kind {
                Kind::Categorical { .. } | Kind::Identifier | Kind::Text => {
                    (PhysicalType::BYTE_ARRAY, Some(LogicalType::String))
                }
                Kind::Integer { .. } => (PhysicalType::INT64, None),
                Kind::Real { .. } => (PhysicalType::DOUBLE, None),
                Kind::Date { .. } => (PhysicalType::INT32, Some(LogicalType::Date)),
                Kind::Boolean { .. } => (PhysicalType::BOOLEAN, None),
            };
            Type::primitive_type_builder(&c.name, physical)
                .with_repetition(Repetition::OPTIONAL)
                .with_logical_type(logical)
                .build()
                .map(Arc::new)
        })
        .collect::<parquet::errors::Result<Vec<_>>>()?;
    Type::group_type_builder("schema").with_fields(fields).build()
}

/// Definition levels (1 = present, 0 = null) and the present values of `cells`.
fn levels<T, U>(cells: &[Option<T>], f: impl Fn(&T) -> U) -> (Vec<i16>, Vec<U>) {
    let defs = cells.iter().map(|c| i16::from(c.is_some())).collect();
    let values = cells.iter().flatten().map(f).collect();
    (defs, values)
}

fn write_column(
    out: &mut parquet::file::writer::SerializedColumnWriter<'_>,
    column: &Column,
    data: &ColumnData,
    rows: std::ops::Range<usize>,
) -> parquet::errors::Result<()> {
    match data {
        ColumnData::Bool(v) => {
            let (defs, values) = levels(&v[rows], |b| *b);
            out.typed::<BoolType>().write_batch(&values, Some(&defs), None)?;
        }
        ColumnData::Int(v) => {
            let (defs, values) = levels(&v[rows], |x| *x);
            out.typed::<Int64Type>().write_batch(&values, Some(&defs), None)?;
        }
        ColumnData::Real(v) => {
            let (defs, values) = levels(&v[rows], |x| *x);
            out.typed::<DoubleType>().write_batch(&values, Some(&defs), None)?;
        }
        ColumnData::Date(v) => {
            let (defs, values) = levels(&v[rows], |d| d.days());
            out.typed::<Int32Type>().write_batch(&values, Some(&defs), None)?;
        }
        ColumnData::Category(v) => {
            let Kind::Categorical { levels: labels, .. } = &column.kind else {
                return Err(ParquetError::General(format!(
                    "column {:?} stores categories but is {}",
                    column.name,
                    column.kind.name()
                )));
            };
            let mut values = Vec::new();
            let mut defs = Vec::with_capacity(rows.len());
            for cell in &v[rows] {
                match cell {
                    Some(k) => {
                        let label = labels.get(*k as usize).ok_or_else(|| {
                            ParquetError::General(format!("column {:?}: level index {k} out of range", column.name))
                        })?;
                        values.push(ByteArray::from(label.as_str()));
                        defs.push(1);
                    }
                    None => defs.push(0),
                }
            }
            out.typed::<ByteArrayType>().write_batch(&values, Some(&defs), None)?;
        }
        ColumnData::Text(v) => {
            let (defs, values) = levels(&v[rows], |s| ByteArray::from(s.as_str()));
            out.typed::<ByteArrayType>().write_batch(&values, Some(&defs), None)?;
        }
    }
    Ok(())
}

/// Reads a Parquet file into a table described by `dict`, validating it (see the module
/// documentation). `reader` is anything the `parquet` crate reads from, such as a
/// [`std::fs::File`]; `source_name` names it in error messages.
pub fn read_parquet<R: ChunkReader + 'static>(reader: R, source_name: &str, dict: Arc<Dictionary>) -> Result<Table> {
    let data_err = |line: u64, message: String| Error::Data {
        source_name: source_name.into(),
        line,
        message,
    };
    let file =
        SerializedFileReader::new(reader).map_err(|e| data_err(0, format!("not a readable Parquet file: {e}")))?;
    let schema = file.metadata().file_metadata().schema_descr_ptr();
    let leaves = schema.columns();
    // Dictionary column → leaf index in the file.
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    for (j, leaf) in leaves.iter().enumerate() {
        let name = leaf.path().string();
        if leaf.path().parts().len() != 1 || leaf.max_rep_level() > 0 {
            return Err(data_err(
                1,
                format!("parquet schema: column {name:?} is nested or repeated; only flat columns are read"),
            ));
        }
        if dict.index_of(leaf.name()).is_none() {
            return Err(data_err(
                1,
                format!(
                    "parquet schema: column {name:?} is not in the dictionary {:?}",
                    dict.name
                ),
            ));
        }
        if by_name.insert(leaf.name(), j).is_some() {
            return Err(data_err(1, format!("parquet schema: column {name:?} appears twice")));
        }
    }
    let mut plan = Vec::with_capacity(dict.columns.len());
    for column in &dict.columns {
        let Some(&j) = by_name.get(column.name.as_str()) else {
            return Err(data_err(
                1,
                format!("parquet schema: column {:?} is missing", column.name),
            ));
        };
        let leaf = &leaves[j];
        let storage = storage_for(column, leaf).map_err(|m| {
            data_err(
                1,
                format!("parquet schema: column {:?} ({}): {m}", column.name, column.kind.name()),
            )
        })?;
        plan.push((j, storage));
    }

    let mut table = Table::new(dict.clone());
    let mut first_row = 0usize;
    for g in 0..file.num_row_groups() {
        let group = file
            .get_row_group(g)
            .map_err(|e| data_err(first_row as u64 + 2, format!("row group {g}: {e}")))?;
        let rows = usize::try_from(group.metadata().num_rows())
            .map_err(|_| data_err(first_row as u64 + 2, format!("row group {g} has a negative row count")))?;
        let mut cells: Vec<Vec<Value>> = Vec::with_capacity(plan.len());
        for (column, (j, storage)) in dict.columns.iter().zip(&plan) {
            let has_nulls = leaves[*j].max_def_level() > 0;
            let values = read_leaf(group.as_ref(), *j, rows, has_nulls, *storage).map_err(|e| {
                data_err(
                    first_row as u64 + 2,
                    format!("row group {g}, column {:?}: {e}", column.name),
                )
            })?;
            cells.push(values);
        }
        for r in 0..rows {
            let row_number = first_row + r + 1;
            let mut row = Vec::with_capacity(cells.len());
            for (c, column) in dict.columns.iter().enumerate() {
                let value = std::mem::replace(&mut cells[c][r], Value::Missing);
                validate::check_value(column, &value).map_err(|rule| {
                    Error::Invalid(Box::new(Problem {
                        source_name: source_name.into(),
                        line: row_number as u64 + 1,
                        column: Some(column.name.clone()),
                        field: Some(plan[c].0 + 1),
                        value: match &value {
                            Value::Missing => None,
                            Value::Text(s) => Some(s.clone()),
                            v => Some(v.to_string()),
                        },
                        rule: format!("row {row_number}: {rule}"),
                    }))
                })?;
                row.push(value);
            }
            if let Some(rule) = validate::broken_rules(&dict, &row).next() {
                return Err(Error::Invalid(Box::new(Problem {
                    source_name: source_name.into(),
                    line: row_number as u64 + 1,
                    column: None,
                    field: None,
                    value: None,
                    rule: format!("row {row_number}: {}", validate::rule_broken(rule)),
                })));
            }
            table
                .push_row(row)
                .map_err(|e| data_err(row_number as u64 + 1, format!("row {row_number}: {e}")))?;
        }
        first_row += rows;
    }
    Ok(table)
}

/// How a file column is decoded into values.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Storage {
    Bool,
    Int32,
    Int64,
    Float,
    Double,
    Date,
    Utf8,
}

/// Checks that the file column `leaf` can hold `column`, and says how to decode it.
fn storage_for(column: &Column, leaf: &ColumnDescriptor) -> Result<Storage, String> {
    let physical = leaf.physical_type();
    let logical = leaf.logical_type_ref();
    let plain_int = match logical {
        None => true,
        Some(LogicalType::Integer(t)) => t.is_signed,
        Some(_) => false,
    };
    let found = || match logical {
        Some(l) => format!("found {physical} ({l:?})"),
        None => format!("found {physical}"),
    };
    let storage = match (&column.kind, physical) {
        (Kind::Boolean { .. }, PhysicalType::BOOLEAN) => Storage::Bool,
        (Kind::Integer { .. }, PhysicalType::INT64) if plain_int => Storage::Int64,
        (Kind::Integer { .. }, PhysicalType::INT32) if plain_int => Storage::Int32,
        (Kind::Real { .. }, PhysicalType::DOUBLE) => Storage::Double,
        (Kind::Real { .. }, PhysicalType::FLOAT) => Storage::Float,
        (Kind::Date { .. }, PhysicalType::INT32) if logical == Some(&LogicalType::Date) => Storage::Date,
        (Kind::Categorical { .. } | Kind::Identifier | Kind::Text, PhysicalType::BYTE_ARRAY)
            if matches!(logical, None | Some(LogicalType::String | LogicalType::Enum)) =>
        {
            Storage::Utf8
        }
        (kind, _) => {
            let expected = match kind {
                Kind::Boolean { .. } => "BOOLEAN",
                Kind::Integer { .. } => "INT64 or INT32",
                Kind::Real { .. } => "DOUBLE or FLOAT",
                Kind::Date { .. } => "INT32 (DATE)",
                Kind::Categorical { .. } | Kind::Identifier | Kind::Text => "BYTE_ARRAY (STRING)",
            };
            return Err(format!("expected {expected}, {}", found()));
        }
    };
    Ok(storage)
}

/// Reads `rows` cells of leaf `j` of a row group as values (null → [`Value::Missing`]).
fn read_leaf(
    group: &dyn RowGroupReader,
    j: usize,
    rows: usize,
    has_nulls: bool,
    storage: Storage,
) -> parquet::errors::Result<Vec<Value>> {
    let reader = group.get_column_reader(j)?;
    match storage {
        Storage::Bool => read_typed::<BoolType>(reader, rows, has_nulls, |b| Ok(Value::Bool(b))),
        Storage::Int32 => read_typed::<Int32Type>(reader, rows, has_nulls, |x| Ok(Value::Int(i64::from(x)))),
        Storage::Int64 => read_typed::<Int64Type>(reader, rows, has_nulls, |x| Ok(Value::Int(x))),
        Storage::Float => read_typed::<FloatType>(reader, rows, has_nulls, |x| Ok(Value::Real(f64::from(x)))),
        Storage::Double => read_typed::<DoubleType>(reader, rows, has_nulls, |x| Ok(Value::Real(x))),
        Storage::Date => read_typed::<Int32Type>(reader, rows, has_nulls, |d| Ok(Value::Date(Date::from_days(d)))),
        Storage::Utf8 => read_typed::<ByteArrayType>(reader, rows, has_nulls, |b| {
            b.as_utf8()
                .map(|s| Value::Text(s.to_string()))
                .map_err(|e| ParquetError::General(format!("a value is not UTF-8: {e}")))
        }),
    }
}

fn read_typed<T: DataType>(
    reader: parquet::column::reader::ColumnReader,
    rows: usize,
    has_nulls: bool,
    convert: impl Fn(T::T) -> parquet::errors::Result<Value>,
) -> parquet::errors::Result<Vec<Value>> {
    let mut typed: ColumnReaderImpl<T> = T::get_column_reader(reader).ok_or_else(|| {
        ParquetError::General(format!("the column reader does not decode {}", T::get_physical_type()))
    })?;
    // The row count comes from the file: reserve no more than one written row group up front.
    let reserve = rows.min(ROW_GROUP_ROWS);
    let mut defs: Vec<i16> = Vec::with_capacity(reserve);
    let mut values: Vec<T::T> = Vec::with_capacity(reserve);
    let mut read = 0;
    while read < rows {
        let (records, _, _) = typed.read_records(rows - read, has_nulls.then_some(&mut defs), None, &mut values)?;
        if records == 0 {
            return Err(ParquetError::General(format!(
                "the column chunk holds {read} values, the row group {rows} rows"
            )));
        }
        read += records;
    }
    let mut present = values.into_iter();
    let mut out = Vec::with_capacity(reserve);
    for r in 0..rows {
        let is_present = !has_nulls || defs.get(r).is_some_and(|d| *d > 0);
        if is_present {
            let v = present
                .next()
                .ok_or_else(|| ParquetError::General("fewer values than definition levels say".into()))?;
            out.push(convert(v)?);
        } else {
            out.push(Value::Missing);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_row_groups_are_read_in_order() {
        let dict = Dictionary::from_toml(
            "format_version = 1\nname = \"t\"\n[[column]]\nname = \"x\"\ntype = \"integer\"\nmissing = \"allowed\"\n",
            "t.toml",
        )
        .unwrap();
        let dict = Arc::new(dict);
        let mut table = Table::new(dict.clone());
        for i in 0..10 {
            let v = if i % 3 == 0 { Value::Missing } else { Value::Int(i) };
            table.push_row(vec![v]).unwrap();
        }
        let mut bytes = Vec::new();
        write_row_groups(&mut bytes, &table, 4).unwrap();
        let path = std::env::temp_dir().join(format!("synthema-parquet-unit-{}.parquet", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let reader = SerializedFileReader::new(file.try_clone().unwrap()).unwrap();
        assert_eq!(reader.num_row_groups(), 3);
        let back = read_parquet(file, "t.parquet", dict).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(back.columns(), table.columns());
    }
}
