"""Persona paths side by side: one scripted household, the same seed, two regimes, and why each year went as it did.

The why line of a year is the run's trace (``model/trace.py``): which desk saw the resident, what it offered,
the resident's place in its queue, the money left at their turn, and the rule that decided.
"""

from __future__ import annotations

import pandas as pd

KEY_DOMAINS = ("mental", "debts", "isolation", "household")


def path_frame(paths_by_regime: dict[str, list[dict]]) -> pd.DataFrame:
    """Long frame of persona paths: regime, year, member, status, provisions, payers, severities."""
    rows = []
    for regime, paths in paths_by_regime.items():
        for rec in paths:
            rows.append({
                "regime": regime, "year": rec["year"], "persona": rec["persona"], "member": rec["member"],
                "status": rec["status"], "on_benefit": rec["on_benefit"],
                "provisions": ", ".join(rec["provisions"]) or "-",
                "payers": ", ".join(sorted(set(rec["payers"].values()))) or "-",
                **{f"sev_{d}": rec["severities"].get(d) for d in KEY_DOMAINS},
                "why": rec.get("why", ""),
            })
    return pd.DataFrame(rows)


def _cell(r: pd.Series) -> str:
    sev = "/".join("  -" if pd.isna(r[f"sev_{d}"]) else f"{r[f'sev_{d}']:.2f}" for d in KEY_DOMAINS)
    what = r["provisions"] if r["provisions"] != "-" else ""
    paid = f" <{r['payers']}>" if r["payers"] != "-" else ""
    return f"{r['status']}{' + ' + what if what else ''}{paid}  [{sev}]"


def format_paths(frame: pd.DataFrame, regimes: list[str], label: str, source: str, why: bool = True) -> str:
    """Year-by-year table per household member, regimes side by side; under each year the why line per regime."""
    width = 62
    lines = [f"Persona {label} — {source}",
             f"Each cell: status + instruments <who pays>  [severity {'/'.join(KEY_DOMAINS)}, 0-1]", ""]
    for member, part in frame.groupby("member", sort=False):
        lines.append(f"{member}")
        lines.append(f"  {'year':>4}  " + "".join(f"{r[:width]:<{width}}" for r in regimes))
        for year, yr in part.groupby("year"):
            cells = []
            for regime in regimes:
                row = yr[yr["regime"] == regime]
                cells.append(_cell(row.iloc[0])[: width - 2] if len(row) else "")
            lines.append(f"  {year:>4}  " + "".join(f"{c:<{width}}" for c in cells))
            if why:
                for regime in regimes:
                    row = yr[yr["regime"] == regime]
                    if len(row) and row.iloc[0]["why"]:
                        lines.append(f"        why ({regime}): {row.iloc[0]['why']}")
        lines.append("")
    return "\n".join(lines)


def format_uid(paths_by_regime: dict[str, list[dict]], uid: int) -> str:
    """One resident's status and why line per year and regime (``ontschot persona --uid``)."""
    lines = [f"Resident {uid} — status at the end of each year, then why, per regime", ""]
    years = sorted({r["year"] for recs in paths_by_regime.values() for r in recs})
    if not years:
        return (f"Resident {uid} is not in this municipality in any reported year (uids are kept from the spin-up: "
                "some low numbers have left; the largest are the newest)")
    for year in years:
        for regime, recs in paths_by_regime.items():
            rec = next((r for r in recs if r["year"] == year), None)
            if rec is not None:
                lines.append(f"  {year:>4}  {regime:<18} {rec['status']}")
                lines.append(f"        why: {rec['why']}")
    return "\n".join(lines)
