"""Persona paths side by side: one scripted household, the same seed, two regimes."""

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
            })
    return pd.DataFrame(rows)


def _cell(r: pd.Series) -> str:
    sev = "/".join("  -" if pd.isna(r[f"sev_{d}"]) else f"{r[f'sev_{d}']:.2f}" for d in KEY_DOMAINS)
    what = r["provisions"] if r["provisions"] != "-" else ""
    paid = f" <{r['payers']}>" if r["payers"] != "-" else ""
    return f"{r['status']}{' + ' + what if what else ''}{paid}  [{sev}]"


def format_paths(frame: pd.DataFrame, regimes: list[str], label: str, source: str) -> str:
    """Year-by-year table per household member, regimes side by side."""
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
        lines.append("")
    return "\n".join(lines)
