//! Attributes, their domain sizes, and cliques (sets of attributes).

use crate::error::{PgmError, Result};

/// Largest number of cells a single table may have: cell indices are `u32`.
pub const MAX_TABLE_CELLS: u128 = u32::MAX as u128;

/// A set of attributes, kept sorted and without repeats. Attributes are indices `0..d` into a
/// [`Domain`]; tables over a clique are laid out row-major in this order (the last attribute
/// varies fastest).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Clique(Vec<usize>);

impl Clique {
    /// The clique of the given attributes (sorted, repeats removed).
    pub fn new(attrs: impl IntoIterator<Item = usize>) -> Clique {
        let mut attrs: Vec<usize> = attrs.into_iter().collect();
        attrs.sort_unstable();
        attrs.dedup();
        Clique(attrs)
    }

    /// The empty clique (the table over it is a single cell: the total).
    pub fn empty() -> Clique {
        Clique(Vec::new())
    }

    /// The attributes, in increasing order.
    pub fn attrs(&self) -> &[usize] {
        &self.0
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the clique has no attribute.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `attr` belongs to the clique.
    pub fn contains(&self, attr: usize) -> bool {
        self.0.binary_search(&attr).is_ok()
    }

    /// Position of `attr` in the clique's order.
    pub fn position(&self, attr: usize) -> Option<usize> {
        self.0.binary_search(&attr).ok()
    }

    /// True when every attribute of `self` is in `other`.
    pub fn is_subset(&self, other: &Clique) -> bool {
        self.0.iter().all(|&a| other.contains(a))
    }

    /// Attributes in either clique.
    pub fn union(&self, other: &Clique) -> Clique {
        Clique::new(self.0.iter().chain(other.0.iter()).copied())
    }

    /// Attributes in both cliques.
    pub fn intersection(&self, other: &Clique) -> Clique {
        Clique(self.0.iter().copied().filter(|&a| other.contains(a)).collect())
    }

    /// Attributes of `self` that are not in `other`.
    pub fn difference(&self, other: &Clique) -> Clique {
        Clique(self.0.iter().copied().filter(|&a| !other.contains(a)).collect())
    }
}

impl From<&[usize]> for Clique {
    fn from(attrs: &[usize]) -> Clique {
        Clique::new(attrs.iter().copied())
    }
}

impl<const N: usize> From<[usize; N]> for Clique {
    fn from(attrs: [usize; N]) -> Clique {
        Clique::new(attrs)
    }
}

/// The attributes of a data set, `0..d`, with the number of values (codes `0..size`) of each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    sizes: Vec<usize>,
}

impl Domain {
    /// A domain whose attribute `i` takes the codes `0..sizes[i]`. Every size must be at least 1
    /// and at most `u32::MAX`.
    pub fn new(sizes: Vec<usize>) -> Result<Domain> {
        for (attr, &size) in sizes.iter().enumerate() {
            if size == 0 {
                return Err(PgmError::EmptyAttribute { attr });
            }
            if size > u32::MAX as usize {
                return Err(PgmError::AttributeTooLarge {
                    attr,
                    size,
                    limit: u32::MAX as usize,
                });
            }
        }
        Ok(Domain { sizes })
    }

    /// Number of attributes `d`.
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    /// True when the domain has no attribute.
    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }

    /// Domain size of every attribute, by index.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Domain size of one attribute.
    pub fn size(&self, attr: usize) -> Result<usize> {
        self.sizes.get(attr).copied().ok_or(PgmError::UnknownAttribute {
            attr,
            attributes: self.sizes.len(),
        })
    }

    /// The clique of the given attributes, checked against the domain.
    pub fn clique(&self, attrs: &[usize]) -> Result<Clique> {
        let clique = Clique::from(attrs);
        self.check(&clique)?;
        Ok(clique)
    }

    /// Checks that every attribute of `clique` belongs to the domain.
    pub fn check(&self, clique: &Clique) -> Result<()> {
        match clique.attrs().iter().find(|&&a| a >= self.sizes.len()) {
            Some(&attr) => Err(PgmError::UnknownAttribute {
                attr,
                attributes: self.sizes.len(),
            }),
            None => Ok(()),
        }
    }

    /// The sub-domain of a clique: the sizes of its attributes, in the clique's order.
    pub fn shape(&self, clique: &Clique) -> Result<Vec<usize>> {
        self.check(clique)?;
        Ok(clique.attrs().iter().map(|&a| self.sizes[a]).collect())
    }

    /// The domain of the clique's attributes alone, re-indexed `0..clique.len()` in the clique's
    /// order (attribute `clique.attrs()[i]` becomes attribute `i`).
    pub fn subdomain(&self, clique: &Clique) -> Result<Domain> {
        Ok(Domain {
            sizes: self.shape(clique)?,
        })
    }

    /// Number of cells of a table over `clique` (1 for the empty clique), or `None` past `u128`.
    pub fn cells(&self, clique: &Clique) -> Result<Option<u128>> {
        let shape = self.shape(clique)?;
        Ok(shape.iter().try_fold(1u128, |acc, &s| acc.checked_mul(s as u128)))
    }

    /// Number of cells of a table over `clique`, refused when past [`MAX_TABLE_CELLS`].
    pub fn table_size(&self, clique: &Clique) -> Result<usize> {
        match self.cells(clique)? {
            Some(cells) if cells <= MAX_TABLE_CELLS => Ok(cells as usize),
            cells => Err(PgmError::TableTooLarge {
                clique: clique.attrs().to_vec(),
                cells: cells.unwrap_or(u128::MAX),
                limit: MAX_TABLE_CELLS,
            }),
        }
    }

    /// The clique of all attributes.
    pub fn full_clique(&self) -> Clique {
        Clique((0..self.sizes.len()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clique_is_sorted_and_deduplicated() {
        let c = Clique::new([3, 1, 3, 0]);
        assert_eq!(c.attrs(), &[0, 1, 3]);
        assert!(Clique::from([1, 3]).is_subset(&c));
        assert!(!Clique::from([2]).is_subset(&c));
        assert_eq!(c.intersection(&Clique::from([3, 4])).attrs(), &[3]);
        assert_eq!(c.difference(&Clique::from([3, 4])).attrs(), &[0, 1]);
        assert_eq!(c.union(&Clique::from([4])).attrs(), &[0, 1, 3, 4]);
    }

    #[test]
    fn domain_rejects_empty_attribute_and_unknown_attributes() {
        assert_eq!(Domain::new(vec![2, 0]), Err(PgmError::EmptyAttribute { attr: 1 }));
        let d = Domain::new(vec![2, 3, 4]).unwrap();
        assert_eq!(d.table_size(&Clique::from([0, 2])).unwrap(), 8);
        assert_eq!(d.table_size(&Clique::empty()).unwrap(), 1);
        assert_eq!(
            d.clique(&[0, 5]),
            Err(PgmError::UnknownAttribute { attr: 5, attributes: 3 })
        );
    }

    #[test]
    fn huge_tables_are_refused() {
        let d = Domain::new(vec![1 << 20; 4]).unwrap();
        assert!(matches!(
            d.table_size(&d.full_clique()),
            Err(PgmError::TableTooLarge { .. })
        ));
        assert_eq!(d.cells(&d.full_clique()).unwrap(), Some(1u128 << 80));
    }
}
