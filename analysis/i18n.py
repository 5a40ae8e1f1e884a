"""Languages: one catalogue of labels per area (gettext ``.po`` files), Dutch and English, and Dutch number formats.

The texts in the code are English and are the catalogues' keys (``msgid``); the Dutch texts live in
``analysis/locale/nl/LC_MESSAGES/<area>.po``, one file per area so that the report, the page and the command line
can be translated apart:

- ``common``: what every screen shares: indicator names, budget holders, the law's own terms, arms, statuses;
- ``report``: the report's sections and sentences;
- ``page``: the workshop page;
- ``cli``: the command line's tables;
- ``workbook``: the controller's workbook (``report --xlsx``).

A catalogue is read with babel at first use (no compiled ``.mo`` file is kept in the repository), and an area's
catalogue falls back to ``common``, then to the English key itself. Use::

    from analysis.i18n import translator
    t = translator("nl", "report")
    t.gettext("Headline indicators")          # 'Kernindicatoren'
    t.number(1234.5)                         # '1.234,5' (Dutch), '1,234.5' (English)
    t.money(3_730_000)                       # '€ 3.730.000' (Dutch), '€3,730,000' (English)

Translators: keep ``{name}`` placeholders as they are; Python's ``str.format`` fills them after translation.
"""

from __future__ import annotations

import gettext
import io
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = {"nl": "nl_NL", "en": "en_GB"}  # the language a user names -> the locale whose formats are used
DEFAULT_LANGUAGE = "nl"
AREAS = ("common", "report", "page", "cli", "workbook")


class LanguageError(ValueError):
    """A language or area the catalogues do not have."""


def check_language(lang: str, key: str = "--lang") -> str:
    """``lang`` when it is a known language, else a one-line error naming the key, the value and what is allowed."""
    if lang not in LANGUAGES:
        raise LanguageError(f"{key}: {lang!r} is not a language of this tool; allowed: {', '.join(LANGUAGES)}")
    return lang


@cache
def _catalogue(lang: str, area: str) -> gettext.NullTranslations:
    """One area's catalogue as a gettext object (English, or an area without a file: the keys themselves)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{area}.po"
    if lang == "en" or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Translator:
    """Texts and numbers in one language for one area (with ``common`` behind it)."""

    lang: str
    area: str

    @property
    def locale(self) -> Locale:
        return Locale.parse(LANGUAGES[self.lang])

    def gettext(self, text: str) -> str:
        """``text`` in this language: the area's catalogue, then ``common``, then ``text`` itself."""
        for area in (self.area, "common"):
            found = _catalogue(self.lang, area).gettext(text)
            if found != text:
                return found
        return text

    __call__ = gettext

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The singular or plural form for ``n``, in this language."""
        for area in (self.area, "common"):
            found = _catalogue(self.lang, area).ngettext(singular, plural, n)
            if found not in (singular, plural):
                return found
        return singular if n == 1 else plural

    def number(self, value, digits: int = 0) -> str:
        """``value`` with this language's separators and ``digits`` decimals; 'n/a' (translated) when missing."""
        if value is None or not math.isfinite(float(value)):
            return self.gettext("n/a")
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(float(value), format=pattern, locale=self.locale)

    def persons(self, value) -> str:
        """A count of people: whole persons (a mean over replications is rounded, never shown as 65.60)."""
        return self.number(value, 0)

    def signed(self, value, digits: int = 0) -> str:
        """``value`` with its sign always shown (+ or −), as a difference is written."""
        if value is None or not math.isfinite(float(value)):
            return self.gettext("n/a")
        text = self.number(abs(float(value)), digits)
        return ("+" if float(value) >= 0 else "−") + text

    def money(self, euros, digits: int = 0) -> str:
        """An amount in euros in this language's form ('€ 1.234' in Dutch)."""
        if euros is None or not math.isfinite(float(euros)):
            return self.gettext("n/a")
        pattern = ("¤ #,##0" if self.lang == "nl" else "¤#,##0") + ("." + "0" * digits if digits else "")
        return format_currency(float(euros), "EUR", format=pattern, locale=self.locale, currency_digits=False)

    def millions(self, euros, digits: int = 2) -> str:
        """An amount in millions of euros ('€ 3,73 mln' in Dutch, '€3.73m' in English)."""
        if euros is None or not math.isfinite(float(euros)):
            return self.gettext("n/a")
        amount = self.number(float(euros) / 1e6, digits)
        return self.gettext("€{amount}m").format(amount=amount)

    def percent(self, share, digits: int = 0) -> str:
        """A share (0.25) as a percentage in this language ('25%')."""
        if share is None or not math.isfinite(float(share)):
            return self.gettext("n/a")
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return format_percent(float(share), format=pattern, locale=self.locale)


def translator(lang: str = DEFAULT_LANGUAGE, area: str = "common") -> Translator:
    """The translator for ``lang`` and ``area`` (both checked)."""
    check_language(lang)
    if area not in AREAS:
        raise LanguageError(f"area: {area!r} is not a catalogue; allowed: {', '.join(AREAS)}")
    return Translator(lang, area)
