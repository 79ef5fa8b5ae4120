//! Measures, once, the cost of sharding and verifying one report of 10,000 cells × 10 bits.
//! Run in release: `cargo run --release -p secagg --example shard_verify_timing`.

use std::time::Instant;

use secagg::{
    AggregationParams, Helper, HelperInput, HelperOutput, Leader, LeaderInput, LeaderOutput, ReportId, TotalBound,
    VerifyKey, share,
};

fn main() -> Result<(), secagg::SecaggError> {
    const LENGTH: usize = 10_000;
    const BITS: usize = 10;
    let vector: Vec<u64> = (0..LENGTH as u64).map(|i| (i * 37) % 1024).collect();
    let total: u64 = vector.iter().sum();
    for (bound, declared) in [(TotalBound::CellsOnly, None), (TotalBound::DeclaredCount, Some(total))] {
        let params = AggregationParams::new(LENGTH, BITS, bound, b"timing")?;
        let started = Instant::now();
        let [leader_share, helper_share] = share(&params, &vector, declared, ReportId::from_bytes([1; 16]))?;
        let shard_time = started.elapsed();
        let leader_bytes = leader_share.encode()?.len();
        let helper_bytes = helper_share.encode()?.len();

        let mut leader = Leader::new(params.clone(), VerifyKey::from_bytes([9; 32]))?;
        let mut helper = Helper::new(params, VerifyKey::from_bytes([9; 32]))?;
        let started = Instant::now();
        helper.handle(HelperInput::Report(helper_share))?;
        let mut to_helper: Vec<_> = leader.handle(LeaderInput::Report(leader_share))?;
        let mut accepted = false;
        while let Some(LeaderOutput::ToHelper(message)) = to_helper.pop() {
            for out in helper.handle(HelperInput::FromLeader(message))? {
                if let HelperOutput::ToLeader(reply) = out {
                    for event in leader.handle(LeaderInput::FromHelper(reply))? {
                        match event {
                            LeaderOutput::ToHelper(m) => to_helper.push(LeaderOutput::ToHelper(m)),
                            LeaderOutput::Accepted(_) => accepted = true,
                            LeaderOutput::Rejected(r) => println!("rejected: {r:?}"),
                        }
                    }
                }
            }
        }
        let verify_time = started.elapsed();
        println!(
            "{bound:?}: {LENGTH} cells x {BITS} bits: shard {:.1} ms, verify (both aggregators) {:.1} ms, \
             leader share {leader_bytes} B, helper share {helper_bytes} B, accepted {accepted}",
            shard_time.as_secs_f64() * 1e3,
            verify_time.as_secs_f64() * 1e3,
        );
    }
    Ok(())
}
