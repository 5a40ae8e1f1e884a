"""A lever for full utilisation of the social firms' places [SR Resultaten points 5-6].

Why places stay empty without it: a stream fills only the places it bought, and only with its own
candidates. The P-wet desk places a benefit client in a firm trajectory only when the client's wage value
falls in the firm band and its caseload and discretionary money allow (``allocation.allocate_work``); the
Wmo desk places a new day activity at the firm only with its referral chance
(``firm.wmo_referral_partitioned``, low under partitions) and never moves a resident already in other day
activities (``allocation.allocate_support``). [SR] says municipalities can raise utilisation by widening the
target group with day-activity clients and by better embedding; ``firm.fill_target`` does the first: after
the desks have allocated, each open firm's free bought places, of any stream, are filled up to the target
share of its places with residents in other (not work-like) Wmo day activities, closest to work first. They
move into work-like day activities at the firm: the Wmo (or the pooled desk) pays their guidance as for any
work-like place, the stream that bought the place keeps it in its ledger. At 0 (the default) nothing moves.
"""

from __future__ import annotations

import numpy as np

from model.constants import Holder, Instrument

DAY_ACTIVITY_BIT = 1 << int(Instrument.DAY_ACTIVITIES)
# The stream whose free place a moved client takes first: the Wmo's own, the pooled desk's, then the P-wet's.
STREAM_ORDER = (Holder.WMO, Holder.POOLED, Holder.PWET_PARTICIPATION)


def run(pop, rows, year, actors, p) -> None:
    """Fill free bought places up to ``firm.fill_target`` of each open firm's places with day-activity clients."""
    target = p["firm.fill_target"]
    if target <= 0:
        return
    cand = pop.holds(rows, DAY_ACTIVITY_BIT) & (pop.firm[rows] < 0) & (pop.employment[rows] < 0)
    queue = rows[cand][np.argsort(-pop.wage[rows[cand]], kind="stable")]  # closest to work first
    firm, stream = pop.firm[rows], pop.place_stream[rows]
    for f in actors.firms:
        if not f.open or len(queue) == 0:
            continue
        at = firm == f.index
        occupied = int(at.sum())
        room = min(round(target * f.places), f.places) - occupied
        taken = 0
        for h in STREAM_ORDER:
            n = min(max(f.bought.get(h, 0) - int((at & (stream == h)).sum()), 0), room - taken, len(queue))
            if n <= 0:
                continue
            moved, queue = queue[:n], queue[n:]
            pop.end(moved, DAY_ACTIVITY_BIT, year.index)
            pop.start(moved, np.full(n, Instrument.DAY_ACTIVITIES_WORKLIKE, dtype=np.int8), year.index,
                      firm=np.full(n, f.index, dtype=np.int32), payer=int(h))
            year.firm_started[moved] = True
            taken += n
