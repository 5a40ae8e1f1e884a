"""Outcomes: jobs, other exits from benefit, drop-out, job loss, returns from other income.

At most one dated transition per resident a year, except that a job taken this year can end this year.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    WORK_END_WINDOWS,
    Event,
    Instrument,
    Status,
)
from model.events import EventKind
from model.grouping import unique_inverse
from model.rules import outcomes as out
from model.rules import problems as prob

AT_FIRM_BIT = 1 << int(Instrument.SOCIAL_FIRM)
WORKLIKE_BIT = 1 << int(Instrument.DAY_ACTIVITIES_WORKLIKE)


def run(pop, year, funding, actors, p, streams) -> None:
    """Draw each resident's transition at a month of the year, observe it for calibration, then apply it.

    A job taken this year can also end this year, after the hire month, and an exit to other income can be
    followed by a return this year (a second dated transition).
    """
    t = year.index
    rows = pop.alive_rows()
    rows = rows[~year.moved[rows]]
    uid, unit = pop.uid[rows], pop.unit[rows]
    t0 = pop.entry_month[rows]
    frac = (MONTHS_PER_YEAR - t0) / MONTHS_PER_YEAR
    month = t0 + (MONTHS_PER_YEAR - t0) * streams.uniform(uid, t, Event.JOB_MONTH)
    guided = pop.holds(rows, GUIDANCE_BIT) | year.regie[rows] | year.light[rows]
    hazard, regular_ok, subsidy_ok = job_hazard(pop, rows, guided, year, funding, p)
    job = (pop.employment[rows] < 0) & (regular_ok | subsidy_ok) & (
        streams.uniform(uid, t, Event.JOB) < out.hazard_to_probability(hazard * frac))
    kind = np.where(regular_ok, Status.REGULAR_WORK, Status.SUBSIDISED_WORK)
    helped = job & year.light[rows] & pop.on_benefit[rows]  # light help by a generalist [R12]: who took work
    year.add("triaged_to_work", helped.sum())
    year.add("triaged_near_work_to_work", (helped & (pop.wage[rows] >= p["wage.regular_min"])).sum())
    other = _other_exits(pop, rows, unit, job, frac, t, p, streams)
    month = np.where(other, t0 + (MONTHS_PER_YEAR - t0) * streams.uniform(unit, t, Event.OTHER_EXIT_MONTH), month)
    # Drop-out from trajectories and day activities [SR].
    drop = ~job & ~other & pop.holds(rows, ACTIVITY_BITS) & (
        streams.uniform(uid, t, Event.DROPOUT) < out.dropout_probability(pop.disability[rows], guided, p) * frac)
    loss = _employed(pop, rows) & (streams.uniform(uid, t, Event.JOB_LOSS) < _job_loss_chance(
        pop, rows, pop.years_in_work[rows], frac, pop.employment[rows], p))
    back = _returns(pop, rows, unit, job | drop, t0, frac, t, p, streams)
    month = np.where(back, t0 + (MONTHS_PER_YEAR - t0) * streams.uniform(unit, t, Event.RETURN_MONTH), month)
    # A job taken this year may end before the year does: tenure 0 at the hire month [CBS24].
    after_hire = (MONTHS_PER_YEAR - month) / MONTHS_PER_YEAR
    u_hire = streams.uniform(uid, t, Event.HIRE_YEAR_LOSS)
    p_hire = _job_loss_chance(pop, rows, np.zeros(len(rows)), after_hire, kind, p)
    hire_loss = job & (u_hire < p_hire)
    # Where the loss fires, u < p, so the share of the rest of the year worked is u / p (elsewhere unused).
    worked = np.divide(u_hire, p_hire, out=np.ones(len(rows)), where=hire_loss)
    end_month = np.where(hire_loss, month + (MONTHS_PER_YEAR - month) * worked, month)
    # The other income can end in the year it began, after the exit month [DIV19].
    u_exit = streams.uniform(unit, t, Event.EXIT_YEAR_RETURN)
    p_exit = out.return_probability(np.zeros(len(rows)), (MONTHS_PER_YEAR - month) / MONTHS_PER_YEAR, p)
    quick = other & (u_exit < p_exit)
    until = np.divide(u_exit, p_exit, out=np.ones(len(rows)), where=quick)
    end_month = np.where(quick, month + (MONTHS_PER_YEAR - month) * until, end_month)
    ended = loss | hire_loss
    to_benefit = _claims_after_loss(pop, rows, job, ended, p) & (
        streams.uniform(uid, t, Event.LOSS_TO_BENEFIT) < p["work.loss_to_benefit_share"])
    moved = job | other | drop | loss | back
    year.date(rows[moved], month[moved])
    ends = Ended(loss=loss, hire_loss=hire_loss, month=end_month, to_benefit=to_benefit, back=back, quick=quick)
    observe(pop, rows, year, job, other, drop, month, t0, ends)
    _apply(pop, rows, year, job, kind, other, drop, loss, back, month, ends)
    entitlement.sync_claims(pop, pop.alive_rows(), year, p)  # a partner's job or job loss changes the claim
    pop.add_time(rows, frac, job, (ended & to_benefit) | back | quick, hired_frac=after_hire)


@dataclass(frozen=True)
class Ended:
    """This year's job ends (of jobs held before the year, and of jobs taken this year) and returns from other income."""

    loss: np.ndarray
    hire_loss: np.ndarray
    month: np.ndarray  # month the job ended (the hire month's job: after it)
    to_benefit: np.ndarray  # the job loser claims at once (else other income first)
    back: np.ndarray  # the other income ended and the household claims again
    quick: np.ndarray  # an exit to other income this year, and back on benefit at ``month``


def _other_exits(pop, rows, unit, job, frac, t, p, streams) -> np.ndarray:
    """Other exits from benefit (partner income, other benefits) [FW19]: the benefit unit leaves together (one draw per unit)."""
    on_benefit = pop.on_benefit[rows]
    can = on_benefit & ~job & (pop.persona[rows] < 0)
    hit = can & (streams.uniform(unit, t, Event.OTHER_EXIT)
                 < out.hazard_to_probability(p["benefit.other_exit_rate"] * frac))
    _, inv = unique_inverse(unit)
    return can & (np.bincount(inv, weights=hit)[inv] > 0)


def _returns(pop, rows, unit, moved, t0, frac, t, p, streams) -> np.ndarray:
    """Residents on other income whose income ends and whose household is below its norm claim again [DIV19]."""
    since = t + t0 / MONTHS_PER_YEAR - pop.other_income_since[rows]
    ends = pop.other_income[rows] & ~moved & (
        streams.uniform(unit, t, Event.RETURN) < out.return_probability(np.maximum(since, 0.0), frac, p))
    alive = pop.alive_rows()
    entitled = entitlement.population_benefit(pop, alive, p)[np.searchsorted(alive, rows)] > 0
    return ends & entitled


def _claims_after_loss(pop, rows, job, ended, p) -> np.ndarray:
    """Whether a job loser's unit is below its norm once the job is gone (the entitlement test, after this year's jobs)."""
    alive = pop.alive_rows()
    at = np.searchsorted(alive, rows)
    employed = pop.employment[alive] >= 0
    employed[at[job]] = True
    employed[at[ended]] = False
    monthly = entitlement.monthly_benefit(pop.household[alive], pop.unit[alive], pop.age[alive], employed, p,
                                          pop.own_income[alive])
    return monthly[at] > 0


def _employed(pop, rows) -> np.ndarray:
    emp = pop.employment[rows]
    return (emp == Status.REGULAR_WORK) | (emp == Status.SUBSIDISED_WORK)


def _job_loss_chance(pop, rows, tenure, exposure, kind, p) -> np.ndarray:
    """Job loss within ``exposure`` years, and for subsidised jobs also the end of the subsidised placement."""
    loss_p = out.job_loss_probability(tenure, exposure, pop.load[rows], pop.wage[rows], p)
    return np.where(kind == Status.SUBSIDISED_WORK,
                    1 - (1 - loss_p) * (1 - p["work.subsidised_end_rate"] * exposure), loss_p)


def job_hazard(pop, rows, guided, year, funding, p) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Yearly job hazard and who can be hired at all: regular work needs the wage value, subsidised work an arrangement."""
    handled = year.handled(pop.desk_draw[rows])
    prov = pop.provisions[rows]
    wage = pop.wage[rows]
    sev = pop.sev[rows]
    load = pop.load[rows]
    unaddressed = np.where(guided, 0, prob.count_severe(sev, BLOCKING_DOMAINS, p["problems.severe_threshold"]))
    has = {i: (prov & (1 << int(i))) != 0 for i in Instrument}
    # A work-like place counts as an arrangement for subsidised work where one desk decides for both laws.
    one_desk = funding.desk_field("care_to_work", handled) == "continue"
    # So does a care-to-work pilot's job coaching, where the financing may be no barrier [BK18].
    arranged = ((prov & TRAJ_BITS) != 0) | (has[Instrument.DAY_ACTIVITIES_WORKLIKE] & one_desk) | year.pilot[rows]
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
    h *= np.where(year.pilot[rows], p["work.mediation_effect"], 1.0)  # the pilot's job coach mediates [BK18]
    h *= out.unaddressed_multiplier(unaddressed, p["work.unaddressed_penalty"])
    h *= np.where(pop.on_benefit[rows] & (pop.spell_years[rows] < 1.0), p["benefit.first_year_exit_boost"], 1.0)
    return h, regular_ok, subsidy_ok


def _apply(pop, rows, year, job, kind, other, drop, loss, back, month, ended: Ended) -> None:
    """Jobs, other exits, drop-outs, job losses and returns become transitions of the population."""
    if year.trace:
        year.trace.outcomes(year, pop, rows, job, kind, other, drop, loss | ended.hire_loss, month)
    j, kinds = rows[job], kind[job]
    pop.take_job(j, kinds, year.index, month[job])
    sub = j[kinds == Status.SUBSIDISED_WORK]
    year.job_coaching[sub] = True
    year.outflow.append(j)
    year.hired_kind[j] = kinds
    year.add("outflow_regular_work", (kinds == Status.REGULAR_WORK).sum())
    year.add("outflow_subsidised_work", len(sub))
    o = rows[other]
    pop.leave_for_other_income(o, year.index, month[other])
    year.add("leavers_for_other_income", len(o))
    d = rows[drop]
    pop.end(d, ACTIVITY_BITS, year.index, EventKind.DROP_OUT, month[drop])
    year.add("dropouts", len(d))
    lost = loss | ended.hire_loss
    lo = rows[lost]
    pop.lose_job(lo, year.index, ended.month[lost], ended.to_benefit[lost])
    hl = ended.hire_loss
    year.second_month[rows[hl]] = ended.month[hl]
    year.second_subsidised[rows[hl]] = kind[hl] == Status.SUBSIDISED_WORK
    year.add("job_losses", len(lo))
    year.add("hire_year_losses", hl.sum())
    b = rows[back]
    pop.return_to_benefit(b, year.index, month[back])
    q = rows[ended.quick]
    pop.return_to_benefit(q, year.index, ended.month[ended.quick])
    year.second_month[q] = ended.month[ended.quick]
    year.add("returns_to_benefit", len(b) + len(q))
    year.add("returns_in_exit_year", len(q))


def observe(pop, rows, year, job, other, drop, month, t0, ended: Ended) -> None:
    """Record the dynamics that calibration checks: spells at exit, returns, work spells, firm outcomes."""
    elapsed = (month - t0) / MONTHS_PER_YEAR
    spell = pop.spell_years[rows] + elapsed  # benefit spell at the moment of exit
    from_benefit = pop.on_benefit[rows]
    for kind, left in (("work", job & from_benefit), ("other", other)):
        bands = np.searchsorted(np.asarray(EXIT_SPELL_EDGES), spell[left], side="right")
        for k, label in enumerate(EXIT_SPELL_LABELS):
            year.add(f"exits_{kind}_spell_{label}", (bands == k).sum())
    completed = (job & from_benefit) | other
    year.add("outflow_work_within_half_year", (job & from_benefit & (spell < HALF_YEAR)).sum())
    year.add("completed_spells", completed.sum())
    year.add("completed_spell_months", spell[completed].sum() * MONTHS_PER_YEAR)
    year.add("leavers_for_work", (job & from_benefit).sum())
    _observe_returns(pop, rows, year, job, from_benefit, month, elapsed, ended)
    at_firm = pop.holds(rows, AT_FIRM_BIT)
    year.add("firm_trajectories_to_work", (job & at_firm).sum())
    pop.note_job_origin(rows[job], at_firm[job], year.benefit_monthly[rows[job]])  # the firm's business case counts these leavers' benefit
    year.add("firm_trajectories_ended", ((job | drop | other) & at_firm).sum())
    started_now = pop.activity_start_year[rows] == year.index
    year.firm_dropped[rows[drop & (pop.firm[rows] >= 0) & started_now]] = True


def _observe_returns(pop, rows, year, job, from_benefit, month, elapsed, ended: Ended) -> None:
    """Job ends and returns to benefit by time since leaving benefit, for work exits and for other exits [DIV19][CBS24].

    A return is the first move back onto benefit after an exit: a job loser who claims at once, or a resident
    whose other income ended. A job end counts once per exit to work (the first after it).
    """
    now = year.index + ended.month / MONTHS_PER_YEAR
    hire = ended.hire_loss
    since_work = np.where(hire, (ended.month - month) / MONTHS_PER_YEAR, now - pop.left_benefit_at[rows])
    after_work = np.where(hire, job & from_benefit, pop.left_for_work[rows])
    unseen_end = np.where(hire, job & from_benefit, pop.left_for_work[rows] & ~pop.work_end_seen[rows])
    quick = ended.quick
    after_other = (~hire & pop.left_for_other[rows]) | quick
    since_other = np.where(quick, (ended.month - month) / MONTHS_PER_YEAR, now - pop.left_other_at[rows])
    first_end = (ended.loss | hire) & unseen_end
    for m in WORK_END_WINDOWS:
        year.add(f"work_ends_within_{m}m", (first_end & (since_work <= m / MONTHS_PER_YEAR)).sum())
    returned = ((ended.loss | hire) & ended.to_benefit) | ended.back
    work_return = returned & after_work
    other_return = (ended.back | quick) & after_other
    year.add("returns", work_return.sum())
    year.add("returns_other", other_return.sum())
    for w in RETURN_WINDOWS:
        year.add(f"returns_within_{int(w)}y", (work_return & (since_work <= w)).sum())
        year.add(f"returns_other_within_{int(w)}y", (other_return & (since_other <= w)).sum())
    lost = ended.loss | hire
    tenure = np.where(hire, since_work, pop.years_in_work[rows] + elapsed)
    year.add("work_spells_ended", lost.sum())
    year.add("work_spell_years_sum", tenure[lost].sum())
