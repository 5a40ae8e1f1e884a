"""Paired regime comparison: per indicator the mean per regime, the paired difference and its 95% interval.

Works only on the tidy results frame (as stored), never on a model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
MILLION = 1e6


@dataclass(frozen=True)
class Summary:
    """How one headline figure is made from the yearly series of one run."""

    name: str
    indicator: str
    how: str  # "sum" over the horizon, "mean" over years, or "last" year
    unit: str
    label: str
    scale: float = 1.0


SUMMARIES = (
    Summary("outflow_work", "outflow_work", "sum", "persons", "Outflow to paid work, all kinds (horizon total)"),
    Summary("outflow_regular", "outflow_regular_work", "sum", "persons", "  of which regular work"),
    Summary("outflow_subsidised", "outflow_subsidised_work", "sum", "persons", "  of which subsidised work"),
    Summary("outflow_sheltered", "outflow_sheltered_work", "sum", "persons", "  of which sheltered work"),
    Summary("benefit_stock_end", "benefit_stock", "last", "persons", "Benefit stock, final year"),
    Summary("benefit_spell_end", "benefit_mean_spell_months", "last", "months", "Mean elapsed benefit spell, final year"),
    Summary("hidden_end", "not_in_sight", "last", "persons", "Residents with problems out of sight, final year"),
    Summary("came_into_sight", "came_into_sight", "sum", "persons", "Came into sight (outreach, household intake)"),
    Summary("wmo_clients", "wmo_clients", "mean", "persons", "Wmo clients (yearly mean)"),
    Summary("day_activities", "in_day_activities", "mean", "persons", "In day activities (yearly mean)"),
    Summary("guidance_hours", "guidance_hours", "mean", "hours/yr", "Guidance hours (yearly mean)"),
    Summary("care_clients_served", "care_clients_served_share", "mean", "share", "Care clients on benefit served"),
    Summary("firm_utilisation", "firm_utilisation", "mean", "share", "Social-firm utilisation"),
    Summary("professionals", "professionals_per_mp_household", "mean", "persons", "Professionals per multi-problem household"),
    Summary("spend_total", "spend_total", "sum", "EUR m", "Municipal spending (horizon total)", MILLION),
    Summary("spend_income", "spend_pwet_income", "sum", "EUR m", "  P-wet income (benefits, wage subsidy)", MILLION),
    Summary("spend_participation", "spend_pwet_participation", "sum", "EUR m", "  P-wet participation", MILLION),
    Summary("spend_wmo", "spend_wmo", "sum", "EUR m", "  Wmo", MILLION),
    Summary("spend_pooled", "spend_pooled", "sum", "EUR m", "  Pooled desk", MILLION),
    Summary("spend_rights_benefit", "spend_benefits", "sum", "EUR m",
            "  by kind: benefits (a right: the household's norm)", MILLION),
    Summary("spend_rights_wmo", "spend_wmo_support", "sum", "EUR m",
            "  by kind: Wmo support (a right after assessment)", MILLION),
    Summary("spend_instruments", "spend_reintegration", "sum", "EUR m",
            "  by kind: re-integration instruments, wage subsidy, sheltered work", MILLION),
    Summary("spend_contracts", "firm_contract_income", "sum", "EUR m", "  by kind: social-firm places bought", MILLION),
    Summary("spend_staff", "spend_instrument_case_management", "sum", "EUR m", "  by kind: staff", MILLION),
    Summary("own_result_total", "own_result_total", "sum", "EUR m",
            "Own result (budgets + safety net - spending, horizon)", MILLION),
    Summary("own_result_income", "own_result_pwet_income", "sum", "EUR m", "  P-wet income (incl. the safety net)",
            MILLION),
    Summary("own_result_participation", "own_result_pwet_participation", "sum", "EUR m", "  P-wet participation",
            MILLION),
    Summary("own_result_wmo", "own_result_wmo", "sum", "EUR m", "  Wmo", MILLION),
    Summary("own_result_pooled", "own_result_pooled", "sum", "EUR m", "  Pooled desk", MILLION),
    Summary("benefit_units_end", "benefit_units", "last", "households", "Benefits (households), final year"),
    Summary("wmo_waiting", "wmo_waiting", "mean", "persons", "Eligible Wmo applicants waiting (yearly mean)"),
    Summary("firm_result", "firm_result", "sum", "EUR m", "Social firms' own result (horizon)", MILLION),
    Summary("overspend", "overspend_total", "sum", "EUR m", "Overspend above budgets (horizon total)", MILLION),
    Summary("savings_benefit", "savings_benefit_pwet_income", "sum", "EUR m",
            "Benefits not paid after moves to work (P-wet income)", MILLION),
    Summary("savings_care", "savings_care_total", "sum", "EUR m", "Wmo care no longer needed (Wmo or pooled)", MILLION),
)


# Spending by what the law makes of it: rights (benefits, Wmo support after assessment) and instruments.
# Social-firm places are booked on the firm instruments; their contracts are shown apart (firm_contract_income).
SPENDING_KINDS = {
    "spend_benefits": ("benefit",),
    "spend_wmo_support": ("day_activities_worklike", "day_activities", "guidance", "household_help"),
    "spend_reintegration": ("mediation", "job_coaching", "wage_subsidy", "sheltered_work", "social_firm", "training",
                            "volunteering"),
}


def _overall(frame: pd.DataFrame) -> pd.DataFrame:
    """Only the whole-population rows (not the by-group breakdowns), with an ``arm`` column (the regime if none)."""
    whole = frame[frame["group_by"] == "all"]
    return whole if "arm" in whole.columns else whole.assign(arm=whole["regime"])


def run_summaries(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per run (arm, regime, replication, seed — and design point, in a sweep) and one column per summary.

    A frame without an ``arm`` column (a sweep) names each arm by its regime.
    """
    whole = _overall(frame)
    keys = (["point"] if "point" in whole.columns else []) + ["arm", "regime", "replication", "seed"]
    # One value per run, year and indicator: unstacking is the pivot without its aggregation (and much faster).
    wide = whole.set_index([*keys, "year", "indicator"])["value"].unstack("indicator").sort_index()
    wide["overspend_total"] = wide[[c for c in wide.columns if c.startswith("overspend_")]].sum(axis=1)
    wide["came_into_sight"] = wide["reached"] + wide["found_in_household"]
    wide["savings_care_total"] = wide["savings_care_wmo"] + wide["savings_care_pooled"]
    for group, instruments in SPENDING_KINDS.items():
        wide[group] = sum(wide[f"spend_instrument_{i}"] for i in instruments)
    grouped = wide.groupby(level=keys)
    columns = sorted({s.indicator for s in SUMMARIES})
    by_how = {"sum": grouped[columns].sum(), "mean": grouped[columns].mean(), "last": grouped[columns].last()}
    out = {s.name: by_how[s.how][s.indicator] / s.scale for s in SUMMARIES}
    return pd.DataFrame(out).reset_index()


def t_interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% t interval over replications (paired values); non-finite values left out, NaN bounds below two."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    n = len(values)
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(np.mean(values))
    if n < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * np.std(values, ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half


def compare(summaries: pd.DataFrame, arms: list[str]) -> pd.DataFrame:
    """Per summary: mean and 95% interval per arm, and the paired difference of each arm vs the first.

    Columns ``<arm>_mean``, ``<arm>_lo``, ``<arm>_hi``, ``diff_<arm>``... are named after the arms.
    """
    regimes = arms
    base = regimes[0]
    rows = []
    column = "arm" if "arm" in summaries.columns else "regime"
    by = {r: summaries[summaries[column] == r].set_index("replication").sort_index() for r in regimes}
    for s in SUMMARIES:
        row = {"summary": s.name, "label": s.label, "unit": s.unit}
        for r in regimes:
            row[f"{r}_mean"], row[f"{r}_lo"], row[f"{r}_hi"] = t_interval(by[r][s.name].to_numpy())
        for r in regimes[1:]:
            diff = (by[r][s.name] - by[base][s.name]).dropna().to_numpy()
            row[f"diff_{r}"], row[f"diff_{r}_lo"], row[f"diff_{r}_hi"] = t_interval(diff)
        rows.append(row)
    return pd.DataFrame(rows)


def payback(frame: pd.DataFrame, arms: list[str]) -> dict[str, dict]:
    """Business case per budget holder on the municipality's own result against the baseline arm (the first).

    Per holder: the paired difference in spending, in budget (the grant share and the staff it pays),
    in safety-net compensation and in own result (budget + compensation - spending) over the
    horizon; per arm they reconcile: own result = budget + compensation - spending, difference by
    difference. The payback year is the first year from which the mean cumulative own result under
    the arm stays at or above the baseline's, or None when that does not happen within the horizon.
    """
    regimes = arms
    whole = _overall(frame)
    names = whole["indicator"]
    money = whole[(names.str.startswith("spend_") & ~names.str.startswith("spend_instrument"))
                  | names.str.startswith("own_result_") | names.str.startswith("budget_")
                  | (names == "vangnet_compensation")]
    wide = money.pivot_table(index=["arm", "replication", "year"], columns="indicator", values="value")
    base = wide.loc[regimes[0]]
    result = {}
    for r in regimes[1:]:
        diff = (wide.loc[r] - base).dropna()
        cum = diff["own_result_total"].groupby(level="replication").cumsum().groupby(level="year").mean()
        ok = (cum >= 0)[::-1].cummin()[::-1]
        year = int(ok.idxmax()) if ok.any() else None
        horizon = diff.groupby(level="replication").sum().mean() / MILLION
        result[r] = {"payback_year": year, "spend_difference_by_holder_eur_m": _by_holder(diff, "spend_"),
                     "own_result_difference_by_holder_eur_m": _by_holder(diff, "own_result_"),
                     "budget_difference_by_holder_eur_m": _by_holder(diff, "budget_"),
                     "reconciliation_eur_m": {
                         "budget_difference": float(sum(horizon[c] for c in diff.columns if c.startswith("budget_"))),
                         "safety_net_difference": float(horizon.get("vangnet_compensation", 0.0)),
                         "spend_difference": float(horizon["spend_total"]),
                         "own_result_difference": float(horizon["own_result_total"])},
                     "cumulative_own_result_difference_by_year_eur_m": {int(y): float(v / MILLION)
                                                                        for y, v in cum.items()}}
    return result


def _by_holder(diff: pd.DataFrame, prefix: str) -> dict[str, float]:
    """Horizon total of the paired difference per holder (EUR million), from columns ``<prefix><holder>``."""
    return {c.removeprefix(prefix): float(diff[c].groupby(level="replication").sum().mean() / MILLION)
            for c in diff.columns if c.startswith(prefix) and not c.endswith("_total")}


def _table_words(lang: str):
    """The command line's translator (its own sentences) and the report's (indicators, units, arms)."""
    from analysis.i18n import translator

    return translator(lang, "cli"), translator(lang, "report")


def format_table(comparison: pd.DataFrame, arms: list[str], meta: dict, described: list[str] | None = None,
                 lang: str = "en") -> str:
    """The comparison as a fixed-width text table a policymaker can read; ``described`` lists each arm's contents.

    ``lang`` is the table's language ("en" or "nl"): sentences, indicator names, units, arm names and numbers.
    """
    from analysis.report import words

    t, labels = _table_words(lang)
    base = arms[0]
    shown = {a: words.arm_name(a, labels) for a in arms}
    lines = [
        t("Ontschot — {inhabitants} inhabitants, {years} years, {replications} paired replications (root seed "
          "{seed})").format(inhabitants=t.number(meta["inhabitants"]), years=meta["years"],
                            replications=meta["replications"], seed=meta["seed"]),
    ]
    if described:
        lines += [t("Arms (each runs on the same seeds; funding, then every practice lever with its value):"),
                  *(f"  {d}" for d in described)]
    lines += [t("Means with 95% intervals; 'diff' is the paired difference against {base} (same seeds).").format(
        base=shown[base]), ""]
    diff = t("diff")
    widths = {a: max(22, len(shown[a]) + 2) for a in arms}
    diff_widths = {a: max(32, len(shown[a]) + len(diff) + 3) for a in arms[1:]}
    head = f"{t('indicator'):<54}{t('unit'):>9}"
    for r in arms:
        head += f"{shown[r]:>{widths[r]}}"
    for r in arms[1:]:
        head += f"{diff + ' ' + shown[r]:>{diff_widths[r]}}"
    lines += [head, "-" * len(head)]

    def num(x: float) -> str:
        if not np.isfinite(x):
            return t("n/a")
        return t.number(x, 2) if abs(x) < 100 else t.number(x, 0)

    for _, row in comparison.iterrows():
        label = row["label"] if lang == "en" else labels(t(str(row["label"]).strip()))
        line = f"{label[:54]:<54}{labels(row['unit']):>9}"
        for r in arms:
            line += f"{num(row[f'{r}_mean']):>{widths[r]}}"
        for r in arms[1:]:
            cell = f"{num(row[f'diff_{r}'])} [{num(row[f'diff_{r}_lo'])}, {num(row[f'diff_{r}_hi'])}]"
            line += f"{cell:>{diff_widths[r]}}"
        lines.append(line)
    return "\n".join(lines)


def format_business_case(cases: dict[str, dict], regimes: list[str], lang: str = "en") -> str:
    """Who pays, who saves and when it pays back, per arm against the baseline; how the own result adds up."""
    from analysis.report import words

    t, labels = _table_words(lang)

    from analysis.report.tables import HOLDER_NAMES

    def amount(v: float) -> str:
        return f"{v:+.2f}" if lang == "en" else ("+" if v >= 0 else "−") + t.number(abs(v), 2)

    def holders(values: dict[str, float]) -> str:  # English keeps the holders' keys, as scripts read them
        return ", ".join(f"{h if lang == 'en' else labels(HOLDER_NAMES.get(h, h))} {amount(v)}"
                         for h, v in values.items())

    lines = ["", t("Business case against {base} (EUR million over the horizon, paired mean):").format(
        base=words.arm_name(regimes[0], labels))]
    for r, case in cases.items():
        name = words.arm_name(r, labels)
        when = (t("year {year}").format(year=case["payback_year"]) if case["payback_year"]
                else t("not within the horizon"))
        lines.append("  " + t("{arm}: spending (+ = spends more): {spend}").format(
            arm=name, spend=holders(case["spend_difference_by_holder_eur_m"])))
        lines.append(f"  {' ' * len(name)}  " + t("own result (+ = better for the municipality): {own}; pays back: "
                                                   "{when}").format(
            own=holders(case["own_result_difference_by_holder_eur_m"]), when=when))
        rec = case.get("reconciliation_eur_m")
        if rec:
            lines.append(f"  {' ' * len(name)}  " + t(
                "own result {own} = budgets {budget} (grant shares and the staff each pays) + safety net {net} - "
                "spending {spend}").format(own=amount(rec["own_result_difference"]),
                                           budget=amount(rec["budget_difference"]),
                                           net=amount(rec["safety_net_difference"]),
                                           spend=amount(rec["spend_difference"])))
    return "\n".join(lines)
