"""Targeted behaviour of the ``rules`` splitter (beyond the Golden Rules file)."""

from __future__ import annotations

import pytest

from segtool import registry
from segtool.options import specs_of
from segtool.sentences.rules import RulesSplitter


def pieces(text: str, lang: str = "en") -> list[str]:
    return [text[s.start:s.end] for s in RulesSplitter(lang=lang).split(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我喜欢你。你呢？好的！", ["我喜欢你。", "你呢？", "好的！"]),
        ("यह एक वाक्य है। यह दूसरा है।", ["यह एक वाक्य है। ", "यह दूसरा है।"]),
        ("هل أنت بخير؟ نعم.", ["هل أنت بخير؟ ", "نعم."]),
        ("¿Cómo estás? ¡Muy bien! Gracias.", ["¿Cómo estás? ", "¡Muy bien! ", "Gracias."]),
        ("Il a dit : « Bonjour. » Puis il part.", ["Il a dit : « Bonjour. » ", "Puis il part."]),
        ("Er sagte: „Hallo.“ Dann ging er.", ["Er sagte: „Hallo.“ ", "Dann ging er."]),
        ("See Smith v. Jones, 123 F.3d 456 (9th Cir. 1999). The court held.",
         ["See Smith v. Jones, 123 F.3d 456 (9th Cir. 1999). ", "The court held."]),
        ("Title\r\n\r\nFirst part. Second part.", ["Title\r\n\r\n", "First part. ", "Second part."]),
        ("He paid $3.50 for it. Then 4.5 kg more.", ["He paid $3.50 for it. ", "Then 4.5 kg more."]),
        ("Wait... What now?", ["Wait... ", "What now?"]),
        ("Plain text without any terminator", ["Plain text without any terminator"]),
    ],
)
def test_cases(text: str, expected: list[str]) -> None:
    assert pieces(text) == expected


def test_blank_line_is_always_a_boundary() -> None:
    assert pieces("no stop here\n\nand lowercase next") == ["no stop here\n\n", "and lowercase next"]


def test_german_ordinals_with_lang_de() -> None:
    text = "Der 2. Weltkrieg war schlimm. Am 3. Oktober feiern wir."
    assert pieces(text, "de") == ["Der 2. Weltkrieg war schlimm. ", "Am 3. Oktober feiern wir."]
    # dates are recognised whatever the language
    assert "Am 3. Oktober feiern wir." in pieces(text, "en")


def test_line_initial_legal_enumerator_is_its_own_segment() -> None:
    text = "FINDINGS OF FACT\n\n1. The evidence does not show it.\n\n2. The claim fails."
    assert pieces(text) == [
        "FINDINGS OF FACT\n\n", "1. ", "The evidence does not show it.\n\n", "2. ",
        "The claim fails.",
    ]


def test_news_list_keeps_number_with_item() -> None:
    text = "Five things:\n1. Buy a car.\n2. Take a trip."
    assert pieces(text) == ["Five things:\n", "1. Buy a car.\n", "2. Take a trip."]


def test_hard_wrapped_text_joins_lines() -> None:
    text = (
        "It was a long and quiet evening when the old man finally opened\n"
        "the door of the house and looked at the garden with tired eyes\n"
        "and a smile that nobody in the village had seen for many years.\n"
        "Then he walked down to the river where the children were playing\n"
        "with a small boat made of bark and string and talked to them.\n"
    )
    assert pieces(text) == [
        text[: text.index("Then")],
        text[text.index("Then"):],
    ]


def test_lang_option_through_registry() -> None:
    splitter = registry.create("splitters", "rules", {"lang": "de"})
    assert isinstance(splitter, RulesSplitter)
    assert splitter.lang == "de"
    assert [s.name for s in specs_of(RulesSplitter)] == ["lang"]
    with pytest.raises(TypeError, match="splitter 'rules' takes no option 'unrelated'"):
        registry.create("splitters", "rules", {"lang": "de", "unrelated": 1})
