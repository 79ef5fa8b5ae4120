//! Property tests of factor algebra against direct enumeration.

mod common;

use common::cell;
use pgm::{Clique, Domain, Factor};
use proptest::prelude::*;

fn setup() -> impl Strategy<Value = (Vec<usize>, Vec<f64>, Vec<f64>, u8, u8, u8)> {
    (
        proptest::collection::vec(2usize..=3, 4),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
    )
        .prop_flat_map(|(sizes, m1, m2, m3)| {
            let n: usize = sizes.iter().product();
            (
                Just(sizes),
                proptest::collection::vec(-3.0f64..3.0, n),
                proptest::collection::vec(-3.0f64..3.0, n),
                Just(m1),
                Just(m2),
                Just(m3),
            )
        })
}

fn clique_of(mask: u8) -> Clique {
    Clique::new((0..4).filter(|i| mask >> i & 1 == 1))
}

/// Enumerates every assignment of `clique`'s attributes.
fn assignments(domain: &Domain, clique: &Clique) -> Vec<Vec<u32>> {
    common::records(domain)
        .into_iter()
        .filter(|r| r.iter().enumerate().all(|(a, &x)| clique.contains(a) || x == 0))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn product_and_projection_match_enumeration((sizes, va, vb, ma, mb, mc) in setup()) {
        let domain = Domain::new(sizes).unwrap();
        let (ca, cb) = (clique_of(ma), clique_of(mb));
        let cells = |c: &Clique| domain.table_size(c).unwrap();
        let a = Factor::new(&domain, ca.clone(), va[..cells(&ca)].to_vec()).unwrap();
        let b = Factor::new(&domain, cb.clone(), vb[..cells(&cb)].to_vec()).unwrap();
        let p = a.product(&b).unwrap();
        let union = ca.union(&cb);
        prop_assert_eq!(p.clique(), &union);
        for r in assignments(&domain, &union) {
            let expect = a.log_values()[cell(&domain, &ca, &r)] + b.log_values()[cell(&domain, &cb, &r)];
            prop_assert!((p.log_values()[cell(&domain, &union, &r)] - expect).abs() < 1e-12);
        }
        // Projection onto a subset equals the log of the enumerated sum.
        let onto = clique_of(mc).intersection(&union);
        let q = p.project(&onto).unwrap();
        let mut sums = vec![0.0; cells(&onto)];
        for r in assignments(&domain, &union) {
            sums[cell(&domain, &onto, &r)] += p.log_values()[cell(&domain, &union, &r)].exp();
        }
        for (x, s) in q.log_values().iter().zip(&sums) {
            prop_assert!((x - s.ln()).abs() < 1e-10);
        }
        // Projecting in two steps is projecting once; marginalising is projecting onto the rest.
        let two_step = p.project(&onto).unwrap().project(&onto.intersection(&ca)).unwrap();
        let one_step = p.project(&onto.intersection(&ca)).unwrap();
        for (x, y) in two_step.log_values().iter().zip(one_step.log_values()) {
            prop_assert!((x - y).abs() < 1e-10);
        }
        let rest = union.difference(&onto);
        let marginalised = p.marginalise(&rest);
        prop_assert_eq!(marginalised.log_values(), q.log_values());
        // Broadcasting back and normalising keeps the total mass at one.
        let back = q.broadcast(&domain, &union).unwrap();
        prop_assert_eq!(back.clique(), &union);
        prop_assert!((p.normalise().log_partition()).abs() < 1e-12);
    }
}
