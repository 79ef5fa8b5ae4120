#!/usr/bin/env python3
"""Golden values for the zCDP <-> (epsilon, delta) conversions of the `dp` crate.

Computed with an implementation we did not write: OpenDP's `make_zCDP_to_approxDP` (the CKS20
conversion, Canonne, Kamath & Steinke 2020, Prop. 12 / Cor. 13, as proved in OpenDP's
`cdp_delta` proof). A measurement with a fixed zCDP map rho is cast to approximate DP and its
privacy profile is queried:

- eps_from_rho_delta: profile.epsilon(delta) for rho on a grid;
- rho_from_eps_delta: the largest rho with profile.delta(eps) <= delta, by bisection on rho
  (100 halvings; the lower end, which OpenDP certifies, is recorded).

Run:  python3 -m venv /tmp/dpvenv && /tmp/dpvenv/bin/pip install opendp==0.16.0
      /tmp/dpvenv/bin/python make_golden.py > conversions.json
"""

import json

from importlib.metadata import version
import opendp.prelude as dp

dp.enable_features("contrib", "honest-but-curious")

RHOS = [0.001, 0.01, 0.1, 0.5, 1.0, 5.0]
EPSILONS = [0.1, 0.5, 1.0, 2.0, 5.0, 10.0]
DELTAS = [1e-9, 1e-6, 1e-5]


def profile(rho):
    """The privacy profile of a rho-zCDP measurement cast to approximate DP."""
    meas = dp.m.make_user_measurement(
        dp.atom_domain(T=int),
        dp.absolute_distance(T=int),
        dp.zero_concentrated_divergence(),
        lambda x: x,
        lambda d_in: rho,
    )
    return dp.c.make_zCDP_to_approxDP(meas).map(1)


def rho_for(eps, delta):
    lo, hi = 0.0, eps
    for _ in range(100):
        mid = (lo + hi) / 2
        if mid <= lo or mid >= hi:
            break
        if profile(mid).delta(eps) <= delta:
            lo = mid
        else:
            hi = mid
    return lo


def main():
    eps_from_rho = [
        {"rho": rho, "delta": delta, "epsilon": profile(rho).epsilon(delta)}
        for rho in RHOS
        for delta in DELTAS
    ]
    rho_from_eps = [
        {"epsilon": eps, "delta": delta, "rho": rho_for(eps, delta)}
        for eps in EPSILONS
        for delta in DELTAS
    ]
    out = {
        "source": f"opendp {version('opendp')}: make_zCDP_to_approxDP privacy profile",
        "eps_from_rho_delta": eps_from_rho,
        "rho_from_eps_delta": rho_from_eps,
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
