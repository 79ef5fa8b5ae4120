//! The budget accountant: refuses overspending, never partially spends, is monotone.

use dp::{Accountant, Error, Rho};
use proptest::prelude::*;

fn rho(value: f64) -> Rho {
    Rho::new(value).unwrap()
}

#[test]
fn refuses_overspend_and_changes_nothing() {
    let mut acct = Accountant::new(rho(1.0));
    acct.spend(rho(0.6), "marginals A,B").unwrap();
    let before = acct.clone();
    match acct.spend(rho(0.5), "marginals C,D") {
        Err(Error::BudgetExceeded { requested, remaining }) => {
            assert_eq!(requested, 0.5);
            assert!((remaining - 0.4).abs() < 1e-15 && remaining <= 0.4);
        }
        other => panic!("expected BudgetExceeded, got {other:?}"),
    }
    assert_eq!(acct, before);
    acct.spend(rho(0.4), "marginals C").unwrap();
    assert_eq!(acct.spent(), 1.0);
    assert_eq!(acct.remaining(), 0.0);
    assert!(acct.spend(rho(f64::MIN_POSITIVE), "one more").is_err());
    let whats: Vec<&str> = acct.ledger().iter().map(|c| c.what.as_str()).collect();
    assert_eq!(whats, ["marginals A,B", "marginals C"]);
}

#[test]
fn exact_splits_are_accepted_and_rounding_never_lets_the_sum_exceed_the_total() {
    // Halves and quarters are exact in binary: all accepted, total reached exactly.
    let mut acct = Accountant::new(rho(1.0));
    for _ in 0..4 {
        acct.spend(rho(0.25), "quarter").unwrap();
    }
    assert_eq!(acct.spent(), 1.0);

    // fl(1/3) < 1/3, so three of them fit.
    let mut acct = Accountant::new(rho(1.0));
    for _ in 0..3 {
        acct.spend(rho(1.0 / 3.0), "third").unwrap();
    }

    // fl(0.1) > 1/10: ten charges of it exceed 1.0 by about 5.6e-17 and the tenth is refused;
    // spending exactly `remaining()` then fills the budget without exceeding it.
    let mut acct = Accountant::new(rho(1.0));
    for _ in 0..9 {
        acct.spend(rho(0.1), "tenth").unwrap();
    }
    assert!(acct.spend(rho(0.1), "tenth").is_err());
    let rest = acct.remaining();
    acct.spend(rho(rest), "the rest").unwrap();
    assert!(acct.spent() <= 1.0);
}

proptest! {
    /// Charges on a dyadic grid (multiples of 2⁻²⁰) sum exactly in f64, so the accountant must
    /// accept exactly when the true sum stays within the total.
    #[test]
    fn accepts_exactly_the_charges_that_fit(total in 1u32..(1 << 22), charges in prop::collection::vec(1u32..(1 << 20), 1..40)) {
        let unit = 2f64.powi(-20);
        let mut acct = Accountant::new(rho(f64::from(total) * unit));
        let mut exact: u64 = 0;
        for c in charges {
            let fits = exact + u64::from(c) <= u64::from(total);
            let result = acct.spend(rho(f64::from(c) * unit), "c");
            prop_assert_eq!(result.is_ok(), fits);
            if fits {
                exact += u64::from(c);
            }
            prop_assert_eq!(acct.spent(), exact as f64 * unit);
        }
    }

    /// For arbitrary charges: spent never decreases, never exceeds the total, a refusal changes
    /// nothing, and the ledger's exact sum stays within the total.
    #[test]
    fn monotone_and_never_over_total(total in 1e-6f64..10.0, charges in prop::collection::vec(1e-9f64..3.0, 1..60)) {
        let mut acct = Accountant::new(rho(total));
        for c in charges {
            let before = acct.clone();
            match acct.spend(rho(c), "c") {
                Ok(()) => {
                    prop_assert!(acct.spent() >= before.spent());
                    prop_assert_eq!(acct.ledger().len(), before.ledger().len() + 1);
                }
                Err(Error::BudgetExceeded { requested, remaining }) => {
                    prop_assert_eq!(&acct, &before);
                    prop_assert_eq!(requested, c);
                    prop_assert!(remaining < c);
                }
                Err(other) => prop_assert!(false, "unexpected error {}", other),
            }
            prop_assert!(acct.spent() <= total);
            prop_assert!(acct.remaining() >= 0.0 && acct.remaining() <= total);
        }
        // Exact sum of the accepted charges, by compensated (TwoSum) accumulation: the sum plus
        // its residual never exceeds the total.
        let (mut sum, mut residual) = (0.0f64, 0.0f64);
        for charge in acct.ledger() {
            let s = sum + charge.rho.get();
            let bp = s - sum;
            residual += (sum - (s - bp)) + (charge.rho.get() - bp);
            sum = s;
        }
        prop_assert!(sum < total || (sum == total && residual <= 0.0), "sum {} residual {} total {}", sum, residual, total);
    }
}
