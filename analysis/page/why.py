"""One sentence per year on why a persona's year went as it did, in the page's language.

Built from the run's why-trace (``model/trace.py``: one ``Entry`` per decision about a followed resident:
the desk, what was decided, the resident's place in the queue, how many were chosen) and the status the
year ended in. The trace's rule texts are English for the command line (``ontschot persona``); the page
reads the entries' fields and the few figures in a rule (self-reliance and its threshold, wage value),
and says it in the law's words. The sentence names the status first, then the desks' decisions in the
order they were taken.
"""

from __future__ import annotations

import re

from analysis.i18n import Translator
from analysis.page import texts

DESKS = {"pwet": "the client manager (Participation Act)", "wmo": "the Wmo consultant",
         "pooled": "the pooled desk", "sheltered": "sheltered work", "regie": "the regisseurs",
         "triage": "the generalists"}
RANKINGS = (("outflow-chance ranking", "ranked by chance of work"), ("greatest need first", "ranked by need"),
            ("ranking by money across all budgets", "ranked by money across all budgets"),
            ("benefit savings", "ranked by benefit savings"), ("money breaking ties", "ranked by need"),
            ("regisseur coordination", "first in the queue (regisseur)"),
            ("lowest wage value first", "lowest wage value first"))
NUMBER = r"(-?[\d.]+)"
MOST_CLAUSES = 3  # a sentence a room reads: the status and at most this many reasons


def _ranking(t: Translator, rule: str) -> str:
    for phrase, words in RANKINGS:
        if phrase in rule:
            return t(words)
    return ""


def _instrument(t: Translator, name: str | None) -> str:
    parts = [texts.instrument(t, p.strip().replace(" ", "_")) for p in (name or "").split("+") if p.strip()]
    return t(" and ").join(parts) if parts else t("support")


def _queue(t: Translator, e) -> str:
    """Place in the queue: 'ranked 486 of 505 by money across all budgets'."""
    place = t("ranked {rank} of {n}").format(rank=t.number(e.rank), n=t.number(e.candidates))
    ranking = _ranking(t, e.rule)
    return f"{place}, {ranking}" if ranking else place


def _not_candidate(t: Translator, e) -> str | None:
    """Why a resident was not in a desk's queue; None where it is not worth a clause."""
    rule = e.rule
    if "not known to" in rule:
        return "unknown"
    if "not on benefit" in rule or rule.endswith("in work"):
        return None  # nothing to explain: no benefit or a job
    if match := re.search(rf"self-reliance {NUMBER} >= need threshold {NUMBER}", rule):
        return t("the Wmo assessment found no need for support (self-reliance {sr}; support only below {threshold})").format(
            sr=t.number(float(match[1]), 2), threshold=t.number(float(match[2]), 2))
    if match := re.search(rf"wage value {NUMBER} < care-client threshold {NUMBER}", rule):
        return t("no re-integration instrument fits a wage value of {wage} (below {threshold})").format(
            wage=t.number(float(match[1]), 2), threshold=t.number(float(match[2].rstrip(".")), 2))
    if "trajectory already" in rule:
        return t("already in a re-integration trajectory")
    if "Wmo support already" in rule:
        return t("already has Wmo support")
    if "no cross-law intake" in rule:
        return t("has Wmo day activities and no intake across both laws")
    if "may not deploy" in rule:
        return t("{desk} may not deploy that instrument").format(desk=t(DESKS.get(e.desk, e.desk)))
    return None


def _note(t: Translator, e) -> list[str]:
    rule = e.rule
    if "referral" in rule:
        return [t("referred for a Wmo assessment")]
    if match := re.search(rf"trajectory ended after {NUMBER} years", rule):
        years = float(match[1])
        return [t.ngettext("the trajectory ended after {years} year", "the trajectory ended after {years} years",
                           round(years)).format(years=t.number(years))]
    if "Wmo support ended" in rule:
        return [t("Wmo support ended: self-reliance recovered")]
    out = []
    for match in re.finditer(r"took (.+?) in month (\d+)", rule):
        out.append(t("took {what} in month {month}").format(what=t(match[1]), month=match[2]))
    for match in re.finditer(r"dropped out of the activity in month (\d+)", rule):
        out.append(t("dropped out of the activity in month {month}").format(month=match[1]))
    if "other income" in rule:
        out.append(t("left the benefit for other income"))
    if "lost the job" in rule:
        out.append(t("lost the job"))
    return out


def _clauses(t: Translator, entries) -> list[str]:
    out: list[str] = []
    unknown = 0
    for e in entries:
        desk = t(DESKS.get(e.desk, e.desk))
        what = _instrument(t, e.instrument) + (t(" (no social-firm place left)") if "no firm place left" in e.rule
                                               else "")
        if e.outcome == "note":
            out += _note(t, e)
        elif e.outcome == "chosen" and e.stage == "work":
            out.append(t("{desk} offered {what} ({queue})").format(desk=desk, what=what, queue=_queue(t, e)))
        elif e.outcome == "chosen" and e.stage == "support":
            out.append(t("{desk} granted {what}").format(desk=desk, what=what))
        elif e.outcome == "chosen" and e.stage == "sheltered":
            out.append(t("got a sheltered-work place"))
        elif e.outcome == "chosen" and e.stage == "regie":
            out.append(t("a regisseur coordinated the household"))
        elif e.outcome == "chosen" and e.stage == "triage":
            out.append(t("a generalist handled a light problem directly"))
        elif e.outcome == "not chosen" and e.stage in ("work", "support", "sheltered"):
            if "budget ran out" in e.rule or "no discretionary money" in e.rule:
                out.append(t("{desk} had no money left for {what} ({queue}; money for {chosen})").format(
                    desk=desk, what=what, queue=_queue(t, e), chosen=t.number(e.chosen)))
            elif e.stage == "sheltered":
                out.append(t("no sheltered-work place left ({queue}; places for {chosen})").format(
                    queue=_queue(t, e), chosen=t.number(e.chosen)))
            else:
                out.append(t("{desk} had no caseload room for {what} ({queue}; room for {chosen})").format(
                    desk=desk, what=what, queue=_queue(t, e), chosen=t.number(e.chosen)))
        elif e.outcome == "not chosen" and e.stage == "regie":
            out.append(t("no regisseur: their caseload was full"))
        elif e.outcome == "not a candidate":
            clause = _not_candidate(t, e)
            if clause == "unknown":
                unknown += 1
            elif clause:
                out.append(clause)
    if unknown and not out:
        out.append(t("no desk knew of them"))
    return list(dict.fromkeys(out))  # the same clause once


def sentence(t: Translator, status: str, entries) -> str:
    """Why this year went as it did: the status it ended in, then the desks' decisions (one sentence)."""
    head = texts.status(t, status)
    if status.lower().startswith("left"):
        return t("{status}: no longer in the municipality's social domain.").format(status=head[:1].upper() + head[1:])
    clauses = _clauses(t, entries)[:MOST_CLAUSES]
    if not clauses:
        return t("{status}: no desk decided on them this year.").format(status=head[:1].upper() + head[1:])
    body = "; ".join(clauses)
    return f"{head[:1].upper()}{head[1:]}: {body}."
