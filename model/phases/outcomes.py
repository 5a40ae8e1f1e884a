"""Outcomes: jobs, other exits from benefit, drop-out, job loss; at most one dated transition per resident a year."""

from __future__ import annotations

import numpy as np

from model import entitlement
from model.constants import (
    ACTIVITY_BITS,
    BLOCKING_DOMAINS,
    EXIT_SPELL_EDGES,
    EXIT_SPELL_LABELS,
    GUIDANCE_BIT,
    HALF_YEAR,
    MONTHS_PER_YEAR,
    RETURN_WINDOWS,
    TRAJ_BITS,
    Event,
    Instrument,
    Status,
)
from model.events import EventKind
from model.rules import outcomes as out
from model.rules import problems as prob

AT_FIRM_BIT = 1 << int(Instrument.SOCIAL_FIRM)
WORKLIKE_BIT = 1 << int(Instrument.DAY_ACTIVITIES_WORKLIKE)


def run(pop, year, funding, actors, p, streams) -> None:
    """Draw each resident's transition at a month of the year, observe it for calibration, then apply it."""
    t = year.index
    rows = pop.alive_rows()
    rows = rows[~year.moved[rows]]
    uid = pop.uid[rows]
    t0 = pop.entry_month[rows]
    frac = (MONTHS_PER_YEAR - t0) / MONTHS_PER_YEAR
    month = t0 + (MONTHS_PER_YEAR - t0) * streams.uniform(uid, t, Event.JOB_MONTH)
    guided = pop.holds(rows, GUIDANCE_BIT) | year.regie[rows] | year.light[rows]
    hazard, regular_ok, subsidy_ok = job_hazard(pop, rows, guided, year, p)
    job = (pop.employment[rows] < 0) & (regular_ok | subsidy_ok) & (
        streams.uniform(uid, t, Event.JOB) < out.hazard_to_probability(hazard * frac))
    kind = np.where(regular_ok, Status.REGULAR_WORK, Status.SUBSIDISED_WORK)
    # Other exits from benefit (partner income, other benefits) [FW19].
    other = ~job & pop.on_benefit[rows] & (pop.persona[rows] < 0) & (
        streams.uniform(uid, t, Event.OTHER_EXIT) < out.hazard_to_probability(p["benefit.other_exit_rate"] * frac))
    # Drop-out from trajectories and day activities [SR].
    drop = ~job & ~other & pop.holds(rows, ACTIVITY_BITS) & (
        streams.uniform(uid, t, Event.DROPOUT) < out.dropout_probability(pop.disability[rows], guided, p) * frac)
    loss = _employed(pop, rows) & (streams.uniform(uid, t, Event.JOB_LOSS) < _job_loss_chance(pop, rows, p) * frac)
    moved = job | other | drop | loss
    year.date(rows[moved], month[moved])
    observe(pop, rows, year, job, other, drop, loss, month, t0)
    _apply(pop, rows, year, job, kind, drop, loss, month)
    entitlement.sync_claims(pop, pop.alive_rows(), year, p)  # a partner's job or job loss changes the claim
    year.leaving = rows[other]
    pop.add_time(rows, frac, job, loss)


def _employed(pop, rows) -> np.ndarray:
    emp = pop.employment[rows]
    return (emp == Status.REGULAR_WORK) | (emp == Status.SUBSIDISED_WORK)


def _job_loss_chance(pop, rows, p) -> np.ndarray:
    """Job loss, and for subsidised jobs also the end of the subsidised placement."""
    loss_p = out.job_loss_probability(prob.problem_load(pop.sev[rows]), p)
    return np.where(pop.employment[rows] == Status.SUBSIDISED_WORK,
                    1 - (1 - loss_p) * (1 - p["work.subsidised_end_rate"]), loss_p)


def job_hazard(pop, rows, guided, year, p) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Yearly job hazard and who can be hired at all: regular work needs the wage value, subsidised work an arrangement."""
    handled = year.handled(pop.desk_draw[rows])
    prov = pop.provisions[rows]
    wage = pop.wage[rows]
    sev = pop.sev[rows]
    load = prob.problem_load(sev)
    unaddressed = np.where(guided, 0, prob.count_severe(sev, BLOCKING_DOMAINS, p["problems.severe_threshold"]))
    has = {i: (prov & (1 << int(i))) != 0 for i in Instrument}
    arranged = ((prov & TRAJ_BITS) != 0) | (has[Instrument.DAY_ACTIVITIES_WORKLIKE] & handled)
    regular_ok = wage >= p["wage.regular_min"]
    subsidy_ok = (wage >= p["wage.subsidy_min"]) & arranged
    h = out.job_hazard(wage, pop.years_out[rows], load, pop.motivation[rows], p)
    hard_core = load >= p["economy.hard_core_severity"]
    h *= out.cycle_multiplier(year.slack, p["economy.reference_unemployed_per_vacancy"],
                              p["economy.job_elasticity"], hard_core)
    h *= np.select(
        [has[Instrument.MEDIATION], has[Instrument.SOCIAL_FIRM], has[Instrument.TRAINING],
         has[Instrument.DAY_ACTIVITIES_WORKLIKE]],
        [p["work.mediation_effect"], p["work.trajectory_effect"], p["work.training_effect"],
         p["work.worklike_effect"]],
        1.0,
    )
    h *= np.where(has[Instrument.SOCIAL_FIRM],
                  out.firm_group_multiplier(pop.age[rows], pop.years_out[rows], pop.discrimination[rows], p), 1.0)
    h *= np.where(pop.locked_in[rows], p["firm.lock_in_job_factor"], 1.0)
    h *= out.unaddressed_multiplier(unaddressed, p["work.unaddressed_penalty"])
    h *= np.where(pop.on_benefit[rows] & (pop.spell_years[rows] < 1.0), p["benefit.first_year_exit_boost"], 1.0)
    return h, regular_ok, subsidy_ok


def _apply(pop, rows, year, job, kind, drop, loss, month) -> None:
    """Jobs, drop-outs and job losses become transitions of the population; other exits leave after accounting."""
    j, kinds = rows[job], kind[job]
    pop.take_job(j, kinds, year.index, month[job])
    sub = j[kinds == Status.SUBSIDISED_WORK]
    year.job_coaching[sub] = True
    year.outflow.append(j)
    year.add("outflow_regular_work", (kinds == Status.REGULAR_WORK).sum())
    year.add("outflow_subsidised_work", len(sub))
    d = rows[drop]
    pop.end(d, ACTIVITY_BITS, year.index, EventKind.DROP_OUT, month[drop])
    year.add("dropouts", len(d))
    lo = rows[loss]
    pop.lose_job(lo, year.index, month[loss])
    year.add("job_losses", len(lo))


def observe(pop, rows, year, job, other, drop, loss, month, t0) -> None:
    """Record the dynamics that calibration checks: spells at exit, returns, work spells, firm outcomes."""
    elapsed = (month - t0) / MONTHS_PER_YEAR
    spell = pop.spell_years[rows] + elapsed  # benefit spell at the moment of exit
    from_benefit = pop.on_benefit[rows]
    for kind, ended in (("work", job & from_benefit), ("other", other)):
        bands = np.searchsorted(np.asarray(EXIT_SPELL_EDGES), spell[ended], side="right")
        for k, label in enumerate(EXIT_SPELL_LABELS):
            year.add(f"exits_{kind}_spell_{label}", (bands == k).sum())
    completed = (job & from_benefit) | other
    year.add("outflow_work_within_half_year", (job & from_benefit & (spell < HALF_YEAR)).sum())
    year.add("completed_spells", completed.sum())
    year.add("completed_spell_months", spell[completed].sum() * MONTHS_PER_YEAR)
    year.add("leavers_for_work", (job & from_benefit).sum())
    # Returns: job losses of residents who had left benefit for work, by time since leaving.
    since = year.index + month / MONTHS_PER_YEAR - pop.left_benefit_at[rows]
    returned = loss & np.isfinite(since)
    year.add("returns", returned.sum())
    for w in RETURN_WINDOWS:
        year.add(f"returns_within_{int(w)}y", (returned & (since <= w)).sum())
    year.add("work_spells_ended", loss.sum())
    year.add("work_spell_years_sum", (pop.years_in_work[rows] + elapsed)[loss].sum())
    at_firm = pop.holds(rows, AT_FIRM_BIT)
    year.add("firm_trajectories_to_work", (job & at_firm).sum())
    year.add("firm_trajectories_ended", ((job | drop | other) & at_firm).sum())
    started_now = pop.activity_start_year[rows] == year.index
    year.firm_dropped[rows[drop & (pop.firm[rows] >= 0) & started_now]] = True
