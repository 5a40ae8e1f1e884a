"""A care-to-work pilot: money reserved for moving Wmo clients towards paid work, whatever the funding [BK18].

Boekel's memo to the council (2018/12): within the budget for work-like day activities EUR 50,000 is
reserved for the pilot "Van Zorg naar Werk"; a small group of candidates from day activities and individual
guidance is coached towards (paid) work at about EUR 3,000 per job-coaching trajectory, "waarbij de
financiering geen belemmering mag zijn". A practice, not a funding regime: it works the same under every
regime (``pilot.*`` levers, 0 = no pilot).

Each year the pilot takes on, in order of their job chance (the best first), Wmo clients with day activities
or guidance who are not in work or a trajectory and could work at least with a wage-cost subsidy, while the
reserved money lasts and up to ``pilot.candidates``. A candidate gets job coaching this year: the job chance of
mediation (``work.mediation_effect``) and, the financing being no barrier, an arrangement for subsidised work
without a new P-wet intake. The coaching is paid from the reserve on the Wmo line (the pooled desk's for its
residents), where the memo reserved it.
"""

from __future__ import annotations

import numpy as np

from model.constants import DAY_BITS, GUIDANCE_BIT, TRAJ_BITS, Holder, Instrument
from model.rules import outcomes as out


def eligible(pop, rows, p) -> np.ndarray:
    """Wmo clients with day activities or guidance, not in work or a trajectory, able to work at least with a subsidy."""
    return (pop.holds(rows, DAY_BITS | GUIDANCE_BIT) & ~pop.holds(rows, TRAJ_BITS) & (pop.employment[rows] < 0)
            & (pop.wage[rows] >= p["wage.subsidy_min"]))


def run(pop, rows, handled, year, funding, actors, p) -> None:
    """Choose this year's candidates within the reserve and book their job coaching on the line that reserved it."""
    fund, most = p["pilot.care_to_work_fund"], p["pilot.candidates"]
    if fund <= 0 or most <= 0 or len(rows) == 0:
        return
    price = funding.prices[Instrument.JOB_COACHING]
    can = eligible(pop, rows, p)
    year.add("pilot_eligible", can.sum())
    affordable = int(fund // price) if price > 0 else most
    idx = np.flatnonzero(can)
    r = rows[idx]
    chance = out.job_hazard(pop.wage[r], pop.years_out[r], pop.load[r], pop.motivation[r], p)
    order = idx[np.argsort(-chance, kind="stable")]
    chosen = order[: min(most, affordable)]
    year.pilot[rows[chosen]] = True
    year.add("pilot_candidates", len(chosen))
    for h_flag, holder in ((False, Holder.WMO), (True, Holder.POOLED)):
        n = int((handled[chosen] == h_flag).sum())
        if n:
            spent = np.zeros(len(actors.holders[holder].spent))
            spent[Instrument.JOB_COACHING] = n * price
            actors.holders[holder].commit(n * price, discretionary=True)
            actors.holders[holder].book(spent)
    year.add("pilot_spent", len(chosen) * price)
