//! Domain encoding: every modelled column of a dictionary becomes an attribute with a finite
//! number of integer codes, and tables become compact columns of codes ([`Encoded`]) that the
//! synthesizers count marginals over. Decoding turns codes back into a [`Table`].
//!
//! The domain is public: it is built from the data dictionary alone (levels, bounds, bin edges)
//! and never from data, so publishing it or using it in a DP mechanism costs no privacy.
//!
//! | column kind | codes |
//! |---|---|
//! | categorical | one per level, in dictionary order |
//! | boolean | `0` = false, `1` = true |
//! | integer | one per integer when `max − min + 1 ≤` [`EncodeOptions::max_exact_integer_levels`] and no `bins`; otherwise one per bin (see [`IntegerBins`]) |
//! | real | one per bin (see [`RealBins`]) |
//! | date | like integer, on day numbers (see [`Mapping::Date`]) |
//! | identifier, text | not encoded |
//!
//! A column whose missing policy is [`Missing::Allowed`] gets one extra code, the last, that
//! means "missing".
//!
//! [`Table`]: crate::Table

mod bins;
mod encoded;

pub use bins::{IntegerBins, RealBins};
pub use encoded::{CodeColumn, Encoded};

use crate::error::{Error, Result};
use crate::schema::{Column, Dictionary, Kind, Missing};
use std::sync::Arc;

/// The largest number of codes one attribute may have: codes are stored in at most 16 bits.
pub const MAX_ATTRIBUTE_SIZE: usize = 1 << 16;

/// How numeric and date columns are discretised when the dictionary gives no bin edges.
///
/// Not a privacy parameter: it only shapes the public domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Number of equal-width bins for a numeric or date column that has no `bins` in the
    /// dictionary (and, for integers and dates, too wide a range for one code per value).
    pub default_bins: usize,
    /// An integer or date column without `bins` whose range holds at most this many values gets
    /// one code per value.
    pub max_exact_integer_levels: usize,
}

impl Default for EncodeOptions {
    /// 16 default bins; one code per value for ranges of at most 64 values.
    fn default() -> Self {
        EncodeOptions {
            default_bins: 16,
            max_exact_integer_levels: 64,
        }
    }
}

/// How the codes of one attribute map back to values of its column (the missing code, if any,
/// is not part of the mapping; see [`Attribute::missing_code`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Mapping {
    /// Code `i` is `levels[i]`.
    Categorical { levels: Vec<String> },
    /// Code `0` is false, code `1` is true.
    Boolean,
    /// Code `i` is bin `i` of integer values.
    Integer(IntegerBins),
    /// Code `i` is bin `i` of real values.
    Real(RealBins),
    /// Code `i` is bin `i` of day numbers (days since 1970-01-01, see [`crate::Date::days`]).
    Date(IntegerBins),
}

impl Mapping {
    /// Number of value codes (without the missing code).
    pub fn len(&self) -> usize {
        match self {
            Mapping::Categorical { levels } => levels.len(),
            Mapping::Boolean => 2,
            Mapping::Integer(b) | Mapping::Date(b) => b.len(),
            Mapping::Real(b) => b.len(),
        }
    }

    /// Whether the mapping has no value codes (never true for a mapping built from a checked
    /// dictionary).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One modelled column of the dictionary as a finite set of codes `0..size`.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    name: String,
    column_index: usize,
    mapping: Mapping,
    missing: bool,
}

impl Attribute {
    /// The column name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Index of the column in the dictionary (and in a [`crate::Table`] of that dictionary).
    pub fn column_index(&self) -> usize {
        self.column_index
    }

    /// Number of codes, including the missing code if the column may be missing.
    pub fn size(&self) -> usize {
        self.mapping.len() + usize::from(self.missing)
    }

    /// How value codes map back to values.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// The code that means "missing" (the last code), if the column may be missing.
    pub fn missing_code(&self) -> Option<usize> {
        self.missing.then(|| self.mapping.len())
    }
}

/// The public domain of a dictionary's modelled columns: one [`Attribute`] per column, in the
/// order chosen (dictionary order for [`Domain::from_dictionary`]).
#[derive(Debug, Clone)]
pub struct Domain {
    dictionary: Arc<Dictionary>,
    attributes: Vec<Attribute>,
}

impl PartialEq for Domain {
    /// Two domains are equal when their attributes are (the dictionaries are not compared
    /// beyond the columns the attributes describe).
    fn eq(&self, other: &Domain) -> bool {
        self.attributes == other.attributes
    }
}

impl Domain {
    /// Builds the domain of every modelled column (not identifier, not text) of `dictionary`,
    /// in dictionary order, from the dictionary alone.
    ///
    /// Errors ([`Error::Domain`]) when a numeric or date column lacks `min` or `max` (bounds
    /// must come from the public dictionary, never from data), when an option is unusable, or
    /// when a column would have more than [`MAX_ATTRIBUTE_SIZE`] codes.
    pub fn from_dictionary(dictionary: &Dictionary, options: &EncodeOptions) -> Result<Domain> {
        let mut attributes = Vec::new();
        for (column_index, column) in dictionary.columns.iter().enumerate() {
            if !column.kind.is_modelled() {
                continue;
            }
            let mapping = mapping_of(column, options)?;
            let attribute = Attribute {
                name: column.name.clone(),
                column_index,
                mapping,
                missing: column.missing == Missing::Allowed,
            };
            if attribute.size() > MAX_ATTRIBUTE_SIZE {
                return Err(domain_error(
                    column,
                    format!(
                        "{} codes exceed the limit of {MAX_ATTRIBUTE_SIZE} codes per attribute",
                        attribute.size()
                    ),
                ));
            }
            attributes.push(attribute);
        }
        Ok(Domain {
            dictionary: Arc::new(dictionary.clone()),
            attributes,
        })
    }

    /// The sub-domain of the attributes named in `names`, in that order.
    ///
    /// Errors when a name is not an attribute of this domain (unknown, identifier or text
    /// column) or is named twice.
    pub fn select(&self, names: &[&str]) -> Result<Domain> {
        let mut attributes: Vec<Attribute> = Vec::with_capacity(names.len());
        for name in names {
            if attributes.iter().any(|a| a.name == *name) {
                return Err(Error::Domain {
                    column: (*name).to_string(),
                    message: "selected twice".into(),
                });
            }
            let attribute = self.attribute(name).ok_or_else(|| Error::Domain {
                column: (*name).to_string(),
                message: "not an attribute of the domain (unknown, identifier or text column)".into(),
            })?;
            attributes.push(attribute.clone());
        }
        Ok(Domain {
            dictionary: Arc::clone(&self.dictionary),
            attributes,
        })
    }

    /// The attributes, in domain order.
    pub fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }

    /// The attribute named `name`, if any.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Position of the attribute named `name` in this domain (the index [`Encoded::marginal`]
    /// takes), if any.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.attributes.iter().position(|a| a.name == name)
    }

    /// Number of codes of each attribute, in domain order.
    pub fn sizes(&self) -> Vec<usize> {
        self.attributes.iter().map(Attribute::size).collect()
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.attributes.len()
    }

    /// Whether the domain has no attribute.
    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty()
    }

    /// The dictionary the domain was built from.
    pub fn dictionary(&self) -> &Arc<Dictionary> {
        &self.dictionary
    }
}

pub(crate) fn domain_error(column: &Column, message: impl Into<String>) -> Error {
    Error::Domain {
        column: column.name.clone(),
        message: message.into(),
    }
}

fn mapping_of(column: &Column, options: &EncodeOptions) -> Result<Mapping> {
    let need_bounds = || {
        domain_error(
            column,
            format!(
                "a {} column needs both `min` and `max` in the dictionary to be encoded: bounds must \
                 come from the public dictionary, never from the data",
                column.kind.name()
            ),
        )
    };
    let default_bins = || {
        if options.default_bins == 0 {
            Err(domain_error(column, "EncodeOptions::default_bins must be at least 1"))
        } else {
            Ok(options.default_bins)
        }
    };
    Ok(match &column.kind {
        Kind::Categorical { levels, .. } => Mapping::Categorical { levels: levels.clone() },
        Kind::Boolean { .. } => Mapping::Boolean,
        Kind::Integer { min, max, bins, .. } => {
            let (Some(min), Some(max)) = (*min, *max) else {
                return Err(need_bounds());
            };
            Mapping::Integer(integer_bins(column, min, max, bins, options, default_bins)?)
        }
        Kind::Real { min, max, bins, .. } => {
            let (Some(min), Some(max)) = (*min, *max) else {
                return Err(need_bounds());
            };
            let bins = if bins.is_empty() {
                RealBins::equal_width(min, max, default_bins()?)
            } else {
                RealBins::from_edges(min, max, bins)
            };
            Mapping::Real(bins.map_err(|m| domain_error(column, m))?)
        }
        Kind::Date { min, max, .. } => {
            let (Some(min), Some(max)) = (*min, *max) else {
                return Err(need_bounds());
            };
            let (min, max) = (i64::from(min.days()), i64::from(max.days()));
            Mapping::Date(integer_bins(column, min, max, &[], options, default_bins)?)
        }
        Kind::Identifier | Kind::Text => {
            return Err(domain_error(column, "identifier and text columns are not encoded"));
        }
    })
}

fn integer_bins(
    column: &Column,
    min: i64,
    max: i64,
    edges: &[i64],
    options: &EncodeOptions,
    default_bins: impl Fn() -> Result<usize>,
) -> Result<IntegerBins> {
    let values = i128::from(max) - i128::from(min) + 1;
    let bins = if !edges.is_empty() {
        IntegerBins::from_edges(min, max, edges)
    } else if values <= options.max_exact_integer_levels as i128 {
        IntegerBins::exact(min, max)
    } else {
        IntegerBins::equal_width(min, max, default_bins()?)
    };
    bins.map_err(|m| domain_error(column, m))
}

#[cfg(test)]
mod tests;
