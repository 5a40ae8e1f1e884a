"""The label catalogues: every Dutch entry is filled, keeps its placeholders, and numbers take Dutch forms."""

from __future__ import annotations

import re
import string

import pytest
from babel.messages.pofile import read_po

from analysis.i18n import AREAS, LOCALE_DIR, LanguageError, translator

CATALOGUES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_there_are_catalogues_and_they_are_areas():
    assert CATALOGUES, "no .po catalogue found"
    for path in CATALOGUES:
        assert path.stem in AREAS, f"{path.name}: not an area ({AREAS})"


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_entry_is_translated_and_keeps_its_placeholders(path):
    with path.open("rb") as handle:
        catalog = read_po(handle)
    seen = set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strs = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strs), f"{path.name}: {ids[0]!r} has no translation"
        assert not message.fuzzy, f"{path.name}: {ids[0]!r} is marked fuzzy"
        for s in strs:
            assert _fields(s) == _fields(ids[0]), f"{path.name}: {ids[0]!r} -> {s!r} changes the placeholders"
        assert ids[0] not in seen
        seen.add(ids[0])


def test_dutch_numbers_money_and_persons():
    t = translator("nl", "report")
    assert t.number(1234.5, 1) == "1.234,5"
    assert t.persons(65.6) == "66"
    assert t.signed(-1.25, 1) == "−1,2" or t.signed(-1.25, 1) == "−1,3"
    assert re.fullmatch(r"€\s3\.730\.000", t.money(3_730_000))
    assert t.millions(3_730_000) == "€ 3,73 mln"
    assert t.percent(0.253) == "25%"
    assert t("Integrated") == "Ontschot"


def test_english_is_the_key_itself():
    t = translator("en", "report")
    assert t("Integrated") == "Integrated"
    assert t.number(1234.5, 1) == "1,234.5"
    assert t.millions(3_730_000) == "€3.73m"


def test_an_unknown_language_is_refused_in_one_line():
    with pytest.raises(LanguageError, match=r"--lang: 'de' is not a language of this tool; allowed: nl, en"):
        translator("de")


def test_the_printed_tables_follow_an_explicit_lang_and_stay_english_without_it(tmp_path, capsys):
    from experiments.cli import main

    small = ["--set", "scenario.inhabitants=2000", "--years", "3", "--replications", "2", "--no-explain",
             "--no-progress"]
    assert main(["run", "--out", str(tmp_path / "nl"), "--lang", "nl", *small]) == 0
    dutch = capsys.readouterr().out
    assert "2.000 inwoners, 3 jaar, 2 gepaarde herhalingen" in dutch
    assert "verschil ontschot" in dutch and "Businesscase tegenover verkokerd" in dutch
    assert "Zorgklanten in de bijstand die ondersteuning krijgen" in dutch and "verdient zich terug:" in dutch
    assert "paired replications" not in dutch and "Business case against" not in dutch
    assert "Care clients on benefit served" not in dutch
    assert main(["run", "--out", str(tmp_path / "en"), *small]) == 0
    english = capsys.readouterr().out
    assert "2,000 inhabitants, 3 years, 2 paired replications" in english
    assert "Business case against compartmentalised" in english and "diff integrated" in english
