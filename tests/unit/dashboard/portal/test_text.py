"""The portal's translation table: every key in both languages, formats that agree, every state and offence named."""

from __future__ import annotations

import re
import string

from core.appeals import CITIZEN_STATES
from core.types import IncidentKind
from dashboard.portal.text import LANGS, TEXT, lang_of, t

URDU = re.compile(r"[\u0600-\u06FF]")


def test_every_key_in_every_language() -> None:
    assert set(TEXT) == set(LANGS) == {"en", "ur"}
    assert set(TEXT["en"]) == set(TEXT["ur"])
    for lang in LANGS:
        assert all(v.strip() for v in TEXT[lang].values()), lang


def test_placeholders_agree() -> None:
    fields = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}  # noqa: E731
    for key, en in TEXT["en"].items():
        assert fields(en) == fields(TEXT["ur"][key]), key


def test_urdu_is_urdu() -> None:
    untranslated = [k for k, v in TEXT["ur"].items() if not URDU.search(v)]
    assert untranslated == []


def test_states_and_offences_are_named() -> None:
    for s in CITIZEN_STATES:
        assert f"st_{s.value}" in TEXT["en"]
    for k in (IncidentKind.OVERSPEED, IncidentKind.WRONG_WAY, IncidentKind.RED_LIGHT, IncidentKind.STALLED):
        assert f"k_{k.value}" in TEXT["en"]


def test_lookup_helpers() -> None:
    assert lang_of("ur") == "ur" and lang_of("fr") == "en" and lang_of(None) == "en"
    assert "90" in t("ur", "too_many", s=90) and t("en", "pay", amount="1,500") == "Pay PKR 1,500"
