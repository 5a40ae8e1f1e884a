"""One browser session's workshop: a municipality to steer and the same municipality under both regimes.

A ``Workshop`` holds three models built from the same parameter values and the same seed:

* ``main`` — "your municipality": starts in the chosen regime; "switch regime now" changes its funding
  regime from the next simulated year on (``SocialDomainModel.set_regime``);
* ``pair`` — the same municipality compartmentalised and integrated throughout, stepped together with
  ``main``, so the room sees the difference caused by policy alone (common random numbers). Both arms
  of the pair have the practices set in the controls: "integrated" differs from "compartmentalised" in
  its funding alone, as in ``ontschot run`` (``pair_arms`` states what each holds). The pair does not
  depend on what a participant does, so every session with the same settings and seed shares it
  (``SharedTrack``; each session reads it up to its own year through a ``PairView``).

After every year it keeps what the views show: residents by status and on each participation step,
who moved up or down the ladder and between statuses this year (matched by resident id), spending and
own result per budget holder, social-firm places by funding stream, and the personas' paths. It reads
public model state only (the population's columns, the yearly indicators, the agents' booked figures)
and imports nothing from Solara, so it is tested without a browser.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.constants import Domain, Holder, Status, Step
from model.model import SocialDomainModel
from model.parameters import PARAMETERS, InputError, Values
from model.personas import PERSONAS
from model.rules import problems as prob

# The controls, in the order the page shows them. Keys not (yet) in the parameter set are skipped, so
# the practice levers appear once ``model/parameters.toml`` has them.
CONTROL_KEYS = (
    "scenario.inhabitants",
    "scenario.regime",
    "scenario.pooled_share",
    "scenario.years",
    "scenario.social_firms",
    "scenario.social_firm_places",
    "staff.client_manager_caseload",
    "staff.wmo_consultant_caseload",
    "staff.generalist_caseload",
    "staff.regisseur_caseload",
    "practice.outreach",
    "practice.household_intake",
    "practice.generalist_triage",
    "practice.regisseurs_per_10k",
    "practice.desk_objective",
)
PAIR = ("compartmentalised", "integrated")  # the side-by-side regimes
PERSONA_NAMES = tuple(PERSONAS)
DEFAULT_SEED = 1
SEED_RANGE = (0, 2**63 - 1)  # what numpy's generator accepts as a seed here
# A participation-step column of the population, if the model keeps one (the first found is read).
LADDER_COLUMNS = ("participation_step", "ladder_step", "step")

STATUS_ORDER = (Status.REGULAR_WORK, Status.SUBSIDISED_WORK, Status.SHELTERED_WORK, Status.TRAJECTORY,
                Status.DAY_ACTIVITIES, Status.GUIDANCE_ONLY, Status.BENEFIT_NO_SUPPORT, Status.OTHER_INCOME,
                Status.NOT_IN_SIGHT)
STATUS_LABELS = {
    Status.REGULAR_WORK: "regular work",
    Status.SUBSIDISED_WORK: "subsidised work",
    Status.SHELTERED_WORK: "sheltered work",
    Status.TRAJECTORY: "trajectory",
    Status.DAY_ACTIVITIES: "day activities",
    Status.GUIDANCE_ONLY: "Wmo guidance only",
    Status.BENEFIT_NO_SUPPORT: "benefit without support",
    Status.OTHER_INCOME: "other income (may return)",
    Status.NOT_IN_SIGHT: "not in sight",
}
STEP_LABELS = {s: f"{s.value} {s.name.lower().replace('_', ' ')}" for s in Step}
HOLDER_LABELS = {Holder.PWET_INCOME: "P-wet income", Holder.PWET_PARTICIPATION: "P-wet participation",
                 Holder.WMO: "Wmo", Holder.POOLED: "pooled desk"}
FIRM_STREAMS = (Holder.PWET_PARTICIPATION, Holder.WMO, Holder.POOLED)  # who buys social-firm places


def control_keys(keys=CONTROL_KEYS) -> tuple[str, ...]:
    """The control keys that the parameter set has, in order (missing ones are skipped)."""
    return tuple(k for k in keys if k in PARAMETERS)


def default_settings(keys=CONTROL_KEYS) -> dict[str, Any]:
    """Each control's default, read from the parameter set."""
    return {k: PARAMETERS.get(k).value for k in control_keys(keys)}


def check_seed(seed: Any) -> int:
    """The seed as an int, or an InputError naming the value and what is allowed."""
    lo, hi = SEED_RANGE
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not lo <= int(seed) <= hi:
        raise InputError(f"seed = {seed!r} is not allowed: expected a whole number from {lo} to {hi:,}")
    return int(seed)


def participation_steps(model: SocialDomainModel, rows: np.ndarray) -> np.ndarray:
    """Participation step (1-6) of the residents in ``rows``.

    Read from the population's participation-step column when the model keeps one (``LADDER_COLUMNS``);
    otherwise, and for residents the column has not placed yet (a value outside 1-6), derived from status
    and isolation as ``model/reporters.py`` does.
    """
    pop = model.pop
    for name in LADDER_COLUMNS:
        column = getattr(pop, name, None)
        if isinstance(column, np.ndarray) and len(column) >= pop.n:
            steps = column[rows].astype(np.int8)
            unplaced = (steps < min(Step)) | (steps > max(Step))
            if not unplaced.any():
                return steps
            derived = _derived_steps(model, rows)
            return np.where(unplaced, derived, steps).astype(np.int8)
    return _derived_steps(model, rows)


def _derived_steps(model: SocialDomainModel, rows: np.ndarray) -> np.ndarray:
    """Participation step from status and isolation (``rules.problems.participation_step``)."""
    return prob.participation_step(model.pop.status(rows), model.pop.sev[rows, Domain.ISOLATION],
                                   model.p["dynamics.isolation_step_threshold"])


def firm_places(model: SocialDomainModel) -> dict[str, dict[str, int]]:
    """Social-firm places this year: bought and filled per funding stream, and empty, over all firms.

    Read from each firm's ledger (``model/social_firm.py``): the places each stream bought this year and
    those it filled; a stream fills only the places it bought.
    """
    bought = {h: 0 for h in FIRM_STREAMS}
    filled = {h: 0 for h in FIRM_STREAMS}
    places = 0
    for firm in model.firms:
        for h in FIRM_STREAMS:
            bought[h] += int(firm.bought.get(h, 0))
            filled[h] += int(firm.occupied_by.get(h, 0))
        places += firm.places
    return {"places": {"total": places, "empty": max(places - sum(filled.values()), 0)},
            "bought": {HOLDER_LABELS[h]: n for h, n in bought.items()},
            "filled": {HOLDER_LABELS[h]: n for h, n in filled.items()}}


@dataclass
class Track:
    """What the views show of one model, year by year (index 0 = the municipality before year 1)."""

    model: SocialDomainModel
    status_counts: list[dict[str, int]] = field(default_factory=list)
    step_counts: list[dict[int, int]] = field(default_factory=list)
    ladder_moves: list[dict[str, dict[int, int]]] = field(default_factory=list)
    status_moves: list[dict[tuple[str, str], int]] = field(default_factory=list)
    spend: list[dict[str, float]] = field(default_factory=list)
    own_result: list[float] = field(default_factory=list)
    firms: list[dict] = field(default_factory=list)
    regime_in_force: list[str] = field(default_factory=list)
    _uid: np.ndarray = field(default=None, repr=False)
    _status: np.ndarray = field(default=None, repr=False)
    _step: np.ndarray = field(default=None, repr=False)

    def __post_init__(self):
        self._observe(first=True)

    def _observe(self, first: bool = False) -> None:
        m = self.model
        rows = m.pop.alive_rows()
        uid = m.pop.uid[rows]
        status = m.pop.status(rows)
        steps = participation_steps(m, rows)
        self.status_counts.append({STATUS_LABELS[s]: int((status == s).sum()) for s in STATUS_ORDER})
        self.step_counts.append({int(s): int((steps == s).sum()) for s in Step})
        if first:
            self.ladder_moves.append({"up": {}, "down": {}, "stayed": {}, "entered": {}})
            self.status_moves.append({})
        else:
            self.ladder_moves.append(self._ladder_moves(uid, steps))
            self.status_moves.append(self._status_moves(uid, status))
        order = np.argsort(uid)
        self._uid, self._status, self._step = uid[order], status[order], steps[order]

    def _matched(self, uid: np.ndarray):
        """Indices of the residents present last year and now (by id): (previous index, current index)."""
        _, prev, now = np.intersect1d(self._uid, uid, assume_unique=True, return_indices=True)
        return prev, now

    def _ladder_moves(self, uid, steps) -> dict[str, dict[int, int]]:
        """Per step this year: residents who moved up into it, moved down into it, stayed, or entered."""
        prev, now = self._matched(uid)
        before, after = self._step[prev], steps[now]
        new = np.ones(len(uid), dtype=bool)
        new[now] = False

        def per_step(mask, where):
            return {int(s): int((where[mask] == s).sum()) for s in Step}

        return {"up": per_step(after > before, after), "down": per_step(after < before, after),
                "stayed": per_step(after == before, after), "entered": per_step(new, steps)}

    def _status_moves(self, uid, status) -> dict[tuple[str, str], int]:
        """Residents who changed status this year, per (from, to) pair; entries and exits of the social domain too."""
        prev, now = self._matched(uid)
        before, after = self._status[prev], status[now]
        moved = before != after
        pairs, counts = np.unique(np.stack([before[moved], after[moved]]), axis=1, return_counts=True)
        out = {(STATUS_LABELS[Status(int(a))], STATUS_LABELS[Status(int(b))]): int(c)
               for (a, b), c in zip(pairs.T, counts, strict=True)}
        new = np.ones(len(uid), dtype=bool)
        new[now] = False
        for s, c in zip(*np.unique(status[new], return_counts=True), strict=True):
            out[("entered", STATUS_LABELS[Status(int(s))])] = int(c)
        gone = np.ones(len(self._uid), dtype=bool)
        gone[prev] = False
        for s, c in zip(*np.unique(self._status[gone], return_counts=True), strict=True):
            out[(STATUS_LABELS[Status(int(s))], "left")] = int(c)
        return out

    def after_step(self) -> None:
        """Record the year just simulated."""
        m = self.model
        ind = m.indicators
        self._observe()
        self.spend.append({HOLDER_LABELS[h]: float(ind[f"spend_{h.name.lower()}"]) for h in Holder})
        self.own_result.append(float(ind["own_result_total"]))
        self.firms.append(firm_places(m))
        self.regime_in_force.append(regime_in_force(m))

    @property
    def year(self) -> int:
        """Years simulated."""
        return self.model.year

    def indicator(self, name: str) -> list[float]:
        """One yearly indicator over the years simulated (units in ``model.reporters.INDICATORS``)."""
        return [float(v) for v in self.model.datacollector.model_vars.get(name, [])]

    def persona(self, name: str) -> list[dict]:
        """The persona's yearly records (one per household member and year), oldest first."""
        return [r for r in self.model.persona_paths if r["persona"] == name]

    def decisions(self, record: dict) -> list:
        """The why-trace's entries (``model/trace.py``) for one persona record: its resident and year."""
        return trace_entries(self.model, record)


def trace_entries(model: SocialDomainModel, record: dict) -> list:
    """The decisions the run traced about a persona record's resident in its year (none when not traced)."""
    tracer = getattr(model, "tracer", None)
    return tracer.entries(int(record["uid"]), int(record["year"])) if tracer else []


def regime_in_force(model: SocialDomainModel) -> str:
    """The regime of the pooled share in force in the last simulated year (before year 1: in year 1)."""
    share = model.share if model.year else model.funding.share_for_year(0)
    if share <= 0:
        return "compartmentalised"
    return "integrated" if share >= 1 else f"gradual ({share:.0%} pooled)"


class SharedTrack:
    """A side-by-side model and its track, shared by every session with the same values and seed.

    The pair (compartmentalised and integrated throughout) does not depend on what a participant does,
    only on the settings and the seed, and a room usually starts from one scenario: each year of it is
    simulated once, by whichever session reaches it first, and every session reads it up to its own
    year (``PairView``). The same values and seed give the same years whoever steps them.
    """

    def __init__(self, key: tuple, track: Track):
        self.key = key
        self.track = track
        self.lock = threading.Lock()  # one session steps it at a time
        self.users = 0


_SHARED: dict[tuple, SharedTrack] = {}
_SHARED_LOCK = threading.Lock()


def shared_track(values: Values, seed: int, make) -> SharedTrack:
    """The shared track for these values and seed, made with ``make()`` by the first session that needs it."""
    key = (seed, tuple(sorted((k, repr(dict.__getitem__(values, k))) for k in values)))
    with _SHARED_LOCK:
        shared = _SHARED.get(key)
        if shared is None:
            shared = _SHARED[key] = SharedTrack(key, Track(make()))
        shared.users += 1
    return shared


def drop_shared(shared: SharedTrack) -> None:
    """A session no longer reads this track; the last one out releases its model."""
    with _SHARED_LOCK:
        shared.users -= 1
        if shared.users > 0:
            return
        _SHARED.pop(shared.key, None)
    shared.track.model.release()


class _UpToYear:
    """A list of the shared track's, as far as the view's year (``extra``: entries before year 1)."""

    def __init__(self, extra: int):
        self.extra = extra

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, view: PairView | None, owner=None):
        if view is None:  # read on the class
            return self
        return getattr(view.shared.track, self.name)[: view.year + self.extra]


class PairView:
    """One session's view of a shared side-by-side track: every figure up to the session's own year."""

    def __init__(self, shared: SharedTrack):
        self.shared = shared
        self.year = 0

    @property
    def model(self) -> SocialDomainModel:
        """The shared model (for what it runs on: its values; its state may be years ahead of this view)."""
        return self.shared.track.model

    def advance(self) -> None:
        """This session's next year: simulated now if no other session reached it first."""
        with self.shared.lock:
            if self.shared.track.year <= self.year:
                self.shared.track.model.step()
                self.shared.track.after_step()
        self.year += 1

    # Observed before year 1 and after every year: one entry more than the years.
    status_counts = _UpToYear(1)
    step_counts = _UpToYear(1)
    ladder_moves = _UpToYear(1)
    status_moves = _UpToYear(1)
    # Recorded after every year.
    spend = _UpToYear(0)
    own_result = _UpToYear(0)
    firms = _UpToYear(0)
    regime_in_force = _UpToYear(0)

    def indicator(self, name: str) -> list[float]:
        """One yearly indicator over this session's years."""
        return self.shared.track.indicator(name)[: self.year]

    def persona(self, name: str) -> list[dict]:
        """The persona's yearly records up to this session's year."""
        return [r for r in self.shared.track.persona(name) if r["year"] <= self.year]

    def decisions(self, record: dict) -> list:
        """The why-trace's entries for one persona record (a year this view has reached)."""
        return trace_entries(self.model, record)


class Workshop:
    """The models of one browser session, built from control settings and a seed, stepped together.

    The session's own municipality (``main``) is its own; the side-by-side pair is shared with every
    session of the same settings and seed (``SharedTrack``), so a room stepping one scenario simulates
    each year of the pair once.
    """

    def __init__(self, settings: Mapping[str, Any] | None = None, seed: int = DEFAULT_SEED):
        """Validate the settings against the parameter set and build the three models.

        Raises:
            InputError: a setting that is unknown, mistyped or out of range, or a bad seed (one line).
        """
        self.seed = check_seed(seed)
        self.settings = {**default_settings(), **dict(settings or {})}
        self.values: Values = PARAMETERS.resolve(self.settings, origin="the page's controls")
        self.lock = threading.Lock()
        self.main = Track(self._model(self.values))
        self.released = False
        self.pair: dict[str, PairView] = {}
        for r in PAIR:
            values = self.values.with_changes({"scenario.regime": r, "scenario.from_year": 1})
            self.pair[r] = PairView(shared_track(values, self.seed, lambda v=values: self._model(v)))
        self.switches: list[tuple[int, str, float | None]] = []  # (from year, regime, pooled share)

    def pair_arms(self) -> dict[str, dict[str, Any]]:
        """What each side-by-side arm holds, read from its model's own values (``experiments.arms.Arm.contents``)."""
        from experiments.arms import Arm

        return {r: Arm(r, t.model.p).contents() for r, t in self.pair.items()}

    def _model(self, values: Values) -> SocialDomainModel:
        return SocialDomainModel(params=values, personas=PERSONA_NAMES, rng=self.seed)

    @property
    def year(self) -> int:
        """Years simulated (all three models are at the same year)."""
        return self.main.year

    @property
    def horizon(self) -> int:
        """The run's horizon in years (``scenario.years``)."""
        return self.main.model.years

    @property
    def running(self) -> bool:
        """False once the horizon is reached."""
        return self.year < self.horizon

    def tracks(self) -> dict[str, Track | PairView]:
        """Every model's track by name: "main" and the side-by-side regimes (views of the shared pair)."""
        return {"main": self.main, **self.pair}

    def step(self) -> int:
        """One more year in all three models (the pair's simulated unless another session did); returns the year."""
        with self.lock:
            if not self.running:
                return self.year
            self.main.model.step()
            self.main.after_step()
            for view in self.pair.values():
                view.advance()
            return self.year

    def switch_regime(self, regime: str, pooled_share: float | None = None) -> int:
        """Switch the main model's funding regime from the next simulated year on; returns that year (1-based).

        Raises:
            InputError: an unknown regime or a pooled share out of range.
        """
        regime = PARAMETERS.get("scenario.regime").coerce(regime, "switch regime now")
        if pooled_share is not None:
            pooled_share = PARAMETERS.get("scenario.pooled_share").coerce(pooled_share, "switch regime now")
        with self.lock:
            self.main.model.set_regime(regime, pooled_share)
            self.switches.append((self.year + 1, regime, pooled_share))
            return self.year + 1

    def regimes(self) -> list[tuple[int, str, float | None]]:
        """The run in force: (from year, regime, pooled share or None) from its start, then each switch.

        A switch before year N is simulated holds from year N and replaces what was set for year N on.

        Year numbers are 1-based, as ``scenario.from_year``: a regime set to start later than year 1 runs
        compartmentalised before it; a switch made after year N holds from year N + 1.
        """
        regime, first = self.values["scenario.regime"], self.values["scenario.from_year"]
        share = self.values["scenario.pooled_share"] if regime == "gradual" else None
        if first <= 1:
            runs = [(1, regime, share)]
        else:  # compartmentalised before; a start after the horizon never comes
            runs = [(1, "compartmentalised", None)] + ([(first, regime, share)] if first <= self.horizon else [])
        for switch in self.switches:  # a switch replaces what was to hold from its year on
            runs = [r for r in runs if r[0] < switch[0]] + [switch]
        return runs

    def release(self) -> None:
        """Let Python free the models (a reset or a closed browser tab); see ``SocialDomainModel.release``.

        The shared pair is released when the last session that reads it is.
        """
        self.main.model.release()
        if not self.released:  # a second release must not count this session out of the shared pair twice
            self.released = True
            for view in self.pair.values():
                drop_shared(view.shared)

    def business_case(self) -> dict[str, list[float]]:
        """Cumulative own result (EUR) of each side-by-side regime, and integrated minus compartmentalised."""
        cum = {r: np.cumsum(t.own_result).tolist() for r, t in self.pair.items()}
        cum["difference"] = (np.asarray(cum[PAIR[1]]) - np.asarray(cum[PAIR[0]])).tolist()
        return cum
