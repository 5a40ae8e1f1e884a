"""The workshop page's words: its language and view from the address and ``ontschot page --lang``, and labels.

Every text the page shows goes through ``analysis.i18n.translator(lang, "page")`` (Dutch in
``analysis/locale/nl/LC_MESSAGES/page.po``, shared labels in ``common.po``). This module turns the model's
internal names (status and instrument keys, budget holders, parameter paths and choices) into the words a
room reads, so no internal key reaches the page. It imports no Solara (``ontschot page`` reads
``LANG_ENVIRONMENT`` from here), and nothing heavy.
"""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qs

from analysis.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator, translator

LANG_ENVIRONMENT = "ONTSCHOT_PAGE_LANG"  # set by ``ontschot page --lang``: the page's default language
VIEWS = ("full", "presenter")  # ?view=presenter: the trainer's projected view
DEFAULT_VIEW = "full"

# The Dutch names of languages for the switch (each in its own language).
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}

# Internal names -> English words (the catalogues' keys). Statuses are keyed by ``Status`` names.
STATUS_WORDS = {
    "regular_work": "regular work", "subsidised_work": "subsidised work", "sheltered_work": "sheltered work",
    "trajectory": "trajectory", "day_activities": "day activities", "guidance_only": "Wmo guidance only",
    "benefit_no_support": "benefit without support", "other_income": "other income (may return)",
    "not_in_sight": "not in sight",
}
INSTRUMENT_WORDS = {
    "benefit": "benefit", "mediation": "job mediation", "job_coaching": "job coaching",
    "wage_subsidy": "wage-cost subsidy", "sheltered_work": "sheltered work", "social_firm": "social-firm place",
    "training": "training", "day_activities_worklike": "work-like day activities", "day_activities": "day activities",
    "guidance": "guidance", "household_help": "household help", "case_management": "case management",
    "volunteering": "volunteering",
}
HOLDER_WORDS = {"pwet_income": "P-wet income", "pwet_participation": "P-wet participation", "wmo": "Wmo",
                "pooled": "pooled desk"}
EXIT_WORDS = {"retirement": "retired", "moved": "moved away", "death": "died",
              "recovered": "left the social domain (stable work)", "other_income": "left the social domain (other income)"}
# Persona members' roles (``model/personas.toml``) -> the words shown.
ROLE_WORDS = {"Myra": "Myra", "son (police contacts)": "son (police contacts)",
              "daughter (school drop-out)": "daughter (school drop-out)", "Theo": "Theo", "Chantal": "Chantal"}
# One line per persona for the page (the personas' file holds the source references, shown in the report).
PERSONA_WORDS = {
    "myra": "A single mother of 44, about 14 years on social assistance, regularly depressed, in debt counselling; "
            "a son with police contacts and a daughter dropping out of school.",
    "theo": "A man of 55, unemployed, divorced two years, drinking and isolated.",
    "chantal": "A young single mother on social assistance, isolated and distrustful after a history of exploitation.",
}
# The firm's business case lines the page shows (``analysis.business_case.PAGE_LINES``) -> words.
BUSINESS_CASE_WORDS = {
    "firm_case_cost": "municipality pays (contracts + guidance)",
    "firm_case_benefit_saving": "benefit saved (leavers to work)",
    "firm_case_care_saving": "Wmo care saved (care exits at the firm)",
    "firm_case_day_activity_saving": "regular day activities not bought (work-like places)",
    "firm_case_village_saving": "village channel (an assumption)",
    "firm_case_net": "net for the municipality (saves - pays)",
}
# Parameter choices -> words (the regimes are the law's: verkokerd, ontschot).
CHOICE_WORDS = {
    "compartmentalised": "compartmentalised", "integrated": "integrated", "gradual": "gradual",
    "all-budgets": "money across all budgets", "benefit-savings": "benefit savings",
    "need-first": "greatest need first", "outflow-chance": "best chance of work first",
    "per-stream": "only the stream that bought it", "any-stream": "any stream",
}


def default_language() -> str:
    """The page's default language: ``ontschot page --lang`` (through the environment), else Dutch."""
    lang = os.environ.get(LANG_ENVIRONMENT, DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def page_options(search: str | None, default_lang: str | None = None) -> tuple[str, str]:
    """Language and view from the address's query (``lang=en``, ``view=presenter``); unknown values: the defaults."""
    query = parse_qs(search or "")
    lang = (query.get("lang") or [default_lang or default_language()])[-1]
    view = (query.get("view") or [DEFAULT_VIEW])[-1]
    return (lang if lang in LANGUAGES else default_lang or default_language(),
            view if view in VIEWS else DEFAULT_VIEW)


def page_translator(lang: str) -> Translator:
    """The page's translator for ``lang``."""
    return translator(lang, "page")


def status(t: Translator, key: str) -> str:
    """A status (``Status`` name, any case, or a record's ``left (...)``) in words."""
    key = key.lower()
    if key.startswith("left (") and key.endswith(")"):
        return t(EXIT_WORDS.get(key[6:-1], "left"))
    return t(STATUS_WORDS.get(key, key))


def instrument(t: Translator, key: str) -> str:
    return t(INSTRUMENT_WORDS.get(key.lower(), key))


def holder(t: Translator, key: str) -> str:
    return t(HOLDER_WORDS.get(key.lower(), key))


def role(t: Translator, key: str) -> str:
    return t(ROLE_WORDS.get(key, key))


def choice(t: Translator, value: str) -> str:
    return t(CHOICE_WORDS.get(value, value))


def regime(t: Translator, name: str, share: float | None = None) -> str:
    """A funding regime in the law's words; a gradual one with its pooled share."""
    if name == "gradual" and share is not None:
        return t("gradual ({share} pooled)").format(share=t.percent(share))
    return choice(t, name)


def control_label(t: Translator, key: str, label: str) -> str:
    """A control's label (from the parameter metadata) in this language."""
    return t(label)


def unit(t: Translator, text: str) -> str:
    return t(text)


def number_field_hint(t: Translator, lo, hi) -> str:
    """What a whole-number field accepts, in this language's numbers."""
    return t("a whole number from {lo} to {hi}").format(lo=t.number(lo), hi=t.number(hi))


def value_text(t: Translator, kind: str, value) -> str:
    """A control's value as the page shows it (whole numbers with separators, shares with two decimals)."""
    if kind == "int":
        return t.number(value)
    return t.number(value, 2)


REFUSED = re.compile(r"parameter '([\w.]+)' = (\S+)")
SEED_REFUSED = re.compile(r"^seed = (\S+) is not allowed")


def refusal(t: Translator, message: str) -> str:
    """A refused setting (``InputError``'s one line) in the page's words: the control's label, the value, what is allowed.

    The model's message names the parameter path (``scenario.inhabitants``), which the page never shows.
    """
    from model.parameters import PARAMETERS  # the model's parameter set (not needed by ``ontschot page`` itself)

    match = REFUSED.search(message)
    if match and match[1] in PARAMETERS:
        p = PARAMETERS.get(match[1])
        if p.kind == "choice":
            allowed = ", ".join(choice(t, c) for c in p.choices)
        elif p.kind == "int":
            allowed = number_field_hint(t, p.range[0], p.range[1])
        else:
            allowed = t("a number from {lo} to {hi}").format(lo=t.number(p.range[0], 2), hi=t.number(p.range[1], 2))
        return t("{label}: {value} is not allowed; allowed: {allowed}").format(label=t(p.label), value=match[2],
                                                                              allowed=allowed)
    match = SEED_REFUSED.search(message)
    if match:
        return t("Seed: {value} is not allowed; allowed: a whole number from 0").format(value=match[1])
    return message
