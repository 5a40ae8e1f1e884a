"""What the report shows a reader instead of the model's own keys: names of arms, practices, indicators and sources.

The report is read by a policy adviser, not by the model's author: no indicator key (``outflow_work``), no
parameter path (``scenario.pooled_share``) and no source tag (``[SR]``) reaches a screen. Every text goes
through a translator (``analysis.i18n``) for the report's language; numbers are written in that language's form
and a count of people in whole persons.
"""

from __future__ import annotations

import math
import re

from babel.numbers import format_decimal

from analysis.compare import SUMMARIES
from analysis.i18n import Translator, translator
from model.parameters import PARAMETERS

ENGLISH = translator("en", "report")  # the default of the helpers below, as the report was written before it spoke Dutch

# The report's source tags, said in words: publisher and year (the full titles are in the sources of the model).
SOURCES = {
    "SR": "ZonMw, final report on social village supermarkets (2016)",
    "M16": "Movisie & Stimulansz (2016)",
    "R12": "Radar for the Ministry of Social Affairs and Employment (2012)",
    "BK18": "Gemeente Boekel (2018)",
    "FW19": "Ferm Werk (2019)",
    "CBS24": "CBS (2023)",
    "DIV19": "Divosa (2019)",
    "ISZW21": "Inspectie SZW (2021)",
    "SCP07": "SCP (2007)",
}
TAG = re.compile(r"\[([A-Z][A-Za-z]*\d*)([^\]]*)\]")
FILE = re.compile(r"\(?\b[\w/]+\.(?:py|md|toml|csv|json|parquet)\b\)?")
KEY = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
# Practice levers (practice.<name>) and their choice values, as a reader names them.
LEVERS = {
    "outreach": "outreach",
    "household_intake": "household intake",
    "generalist_triage": "generalist triage",
    "regisseurs_per_10k": "regisseurs per 10,000 inhabitants",
    "desk_objective": "desk objective",
    "volunteering": "volunteering",
    "open_access": "walk-in day activities",
    "mixed_places": "who fills a social-firm place",
}
CHOICES = {"all-budgets": "all budgets", "benefit-savings": "benefit savings", "need-first": "need first",
           "outflow-chance": "chance of outflow", "per-stream": "per stream", "any-stream": "any stream",
           "compartmentalised": "compartmentalised", "integrated": "integrated", "gradual": "gradual"}
UNITS = {"persons", "households", "EUR m", "hours/yr", "months", "share"}
WHOLE_UNITS = ("persons", "households", "hours/yr", "places")  # shown in whole numbers
GROUP_NAMES = {"age_band": "age band", "disability": "disability", "wage_band": "wage value"}
GROUP_VALUES = {"none": "no disability", "psychiatric": "psychiatric", "intellectual": "intellectual",
                "physical": "physical", "55+": "55 and over", "<30%": "below 30%", ">=80%": "80% or more"}
SUMMARY_LABELS = {s.name: s.label.strip() for s in SUMMARIES}
SUMMARY_UNITS = {s.name: s.unit for s in SUMMARIES}


def sources_in_words(text: str, t: Translator = ENGLISH) -> str:
    """``text`` with every source tag (``[SR]``, ``[FW19] footnote 4``) written as publisher and year.

    A file of the project named in it becomes "the model's documentation", an indicator key its description.
    """
    from model.reporters import INDICATORS

    def said(match: re.Match) -> str:
        name = SOURCES.get(match.group(1))
        if name is None:
            return match.group(0).strip("[]")
        return f"({t(name)}{match.group(2)})"

    def key(match: re.Match) -> str:
        word = match.group(0)
        return t(INDICATORS[word][1]) if word in INDICATORS else word

    text = KEY.sub(key, text)  # first: a key's description may cite a source itself
    return FILE.sub(lambda _m: t("(the model's documentation)"), TAG.sub(said, text))


def arm_name(arm: str, t: Translator = ENGLISH) -> str:
    """An arm's name in the report's language: ``integrated + pooling practices`` -> ``ontschot + ...``."""
    return " + ".join(t(part.strip()) for part in str(arm).split(" + "))


def plain(value, t: Translator = ENGLISH) -> str:
    """A setting's value as a reader writes it: a number in the language's form, a choice in words."""
    if isinstance(value, bool):
        return t("yes") if value else t("no")
    if isinstance(value, int | float):
        return format_decimal(float(value), format="#,##0.###", locale=t.locale)
    if isinstance(value, list | tuple):
        return ", ".join(plain(v, t) for v in value)
    return t(CHOICES.get(str(value), str(value)))


def funding(contents: dict, t: Translator = ENGLISH) -> str:
    """An arm's funding: its form and how much of the participation and Wmo budgets is pooled."""
    from experiments.arms import BASELINE_REGIME, stored_from_year

    text = t("{regime} ({share} of the participation and Wmo budgets pooled)").format(
        regime=t(contents["regime"]), share=t.percent(float(contents["pooled_share"])))
    first = stored_from_year(contents)
    if first > 1 and contents["regime"] != BASELINE_REGIME:
        text += " " + t("from year {year}, compartmentalised before").format(year=first)
    return text


def practices(values: dict, t: Translator = ENGLISH) -> str:
    """Every practice lever with its value: ``outreach 0, household intake 1, ...``."""
    return ", ".join(f"{t(LEVERS.get(k.removeprefix('practice.'), k.removeprefix('practice.').replace('_', ' ')))} "
                     f"{plain(v, t)}" for k, v in values.items())


def parameter(path: str, t: Translator = ENGLISH) -> str:
    """A parameter's label (never its path) in the report's language."""
    return t(PARAMETERS.get(path).label) if path in PARAMETERS else t("a setting of this folder")


def summary(name: str, t: Translator = ENGLISH) -> str:
    """A summary's label (``outflow_work`` -> 'Outflow to paid work, all kinds (horizon total)')."""
    return t(SUMMARY_LABELS.get(name, name))


def minus(text: str) -> str:
    """A formatted number with a typographic minus sign (−), as a negative number is printed (none on a zero)."""
    if re.fullmatch(r"-0([.,]0+)?%?", text):  # a small negative rounded to zero
        return text[1:]
    return "−" + text[1:] if text.startswith("-") else text


def fmt(x, t: Translator = ENGLISH) -> str:
    """A number as the report prints it: 2 decimals below 100, whole numbers with thousands separators above."""
    if x is None or not math.isfinite(float(x)):
        return t("n/a")
    return minus(t.number(float(x), 2 if abs(float(x)) < 100 else 0))


def persons(x, t: Translator = ENGLISH) -> str:
    """A count of people in whole persons (a mean over replications is rounded)."""
    return minus(t.persons(x))


def percent(x, t: Translator = ENGLISH) -> str:
    """A share as a percentage."""
    return minus(t.percent(x))


def shower(unit: str, t: Translator = ENGLISH):
    """The formatter for a unit: whole persons (and households, hours, places), a percentage, or ``fmt``."""
    if unit in WHOLE_UNITS:
        return lambda x: persons(x, t)
    if unit == "share":
        return lambda x: percent(x, t)
    return lambda x: fmt(x, t)


def signed(text: str) -> str:
    """``text`` (a formatted number) with its sign always shown (none on a zero)."""
    if re.fullmatch(r"[-−+]?0([.,]0+)?", text):
        return text.lstrip("-−+")
    if text.startswith(("-", "−", "+")) or not text[:1].isdigit():
        return text.replace("-", "−", 1) if text.startswith("-") else text
    return "+" + text
