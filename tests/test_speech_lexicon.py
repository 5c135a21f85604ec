"""Lexicon loading, validation and the project < province < commune layering."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from broadcast.speech import BUILTIN, Lexicon, normalize

ROOT = Path(__file__).resolve().parent.parent

PROJECT = Lexicon.from_mapping(
    {"abbreviations": {"UBND": "ủy ban nhân dân", "HTX": "hợp tác xã"},
     "words": {"Kạn": "cạn", "Zalo": "da lô"},
     "domains": {"khonggianmang": "không gian mạng"}},
    "lexicon.yaml",
)
PROVINCE = Lexicon.from_mapping({"words": {"Kạn": "cạn tỉnh"}, "abbreviations": {"HTX": "hợp tác"}})
COMMUNE = Lexicon.from_mapping({"words": {"Kạn": "cạn xã"}})


def test_project_lexicon_file_is_valid() -> None:
    data = yaml.safe_load((ROOT / "lexicon.yaml").read_text(encoding="utf-8"))
    lex = Lexicon.from_mapping(data, "lexicon.yaml")
    assert lex.abbreviations and lex.domains and lex.scoped["words"]  # the respellings are espeak's only
    assert lex.for_voice("espeak-vi", "espeak").words["zalo"] == "da lô"
    assert "zalo" not in lex.for_voice("edge-vi", "edge").words  # a neural voice is given the written word


def test_scoped_readings_by_engine_or_voice_and_layers() -> None:
    from broadcast.speech import normalize

    lex = Lexicon.from_mapping({"words": {"Zalo": {"espeak": "da lô", "piper-vi": "da lồ"}, "app": "áp"}})
    assert normalize("Nhắn Zalo qua app.", lex.for_voice("espeak-vi", "espeak")) == "Nhắn da lô qua áp."
    assert normalize("Nhắn Zalo qua app.", lex.for_voice("piper-vi", "piper")) == "Nhắn da lồ qua áp."  # voice wins
    assert normalize("Nhắn Zalo qua app.", lex.for_voice("edge-vi", "edge")) == "Nhắn Zalo qua áp."
    assert lex.for_voice("edge-vi", "edge") is lex.for_voice("edge-vi", "edge")  # one object: rules compiled once
    province = Lexicon.from_mapping({"words": {"Zalo": "da lô ơi"}})  # a later layer replaces the entry whole
    merged = lex.merged(province)
    assert merged.for_voice("edge-vi", "edge").words["zalo"] == "da lô ơi"
    back = province.merged(Lexicon.from_mapping({"words": {"Zalo": {"espeak": "da lô"}}}))
    assert "zalo" not in back.for_voice("edge-vi", "edge").words
    with pytest.raises(ValueError, match="động cơ"):
        Lexicon.from_mapping({"words": {"Zalo": {"Espeak!": "x"}}})
    with pytest.raises(ValueError, match="chữ số"):
        Lexicon.from_mapping({"words": {"Zalo": {"espeak": "da 1"}}})


def test_readings_in_shipped_lexicons_are_fixed_points() -> None:
    # A reading that the normaliser would change again breaks idempotence.
    data = yaml.safe_load((ROOT / "lexicon.yaml").read_text(encoding="utf-8"))
    lex = BUILTIN.merged(Lexicon.from_mapping(data)).for_voice("espeak-vi", "espeak")
    for section in (lex.abbreviations, lex.words):
        for reading in section.values():
            assert normalize(reading, lex) == reading + ".", reading


def test_commune_overrides_province_overrides_project() -> None:
    layered = PROJECT.merged(PROVINCE).merged(COMMUNE)
    assert normalize("Bắc Kạn", PROJECT) == "Bắc cạn."
    assert normalize("Bắc Kạn", PROJECT.merged(PROVINCE)) == "Bắc cạn tỉnh."
    assert normalize("Bắc Kạn", layered) == "Bắc cạn xã."
    assert normalize("HTX", layered) == "hợp tác."  # province entry survives the commune layer
    assert normalize("Zalo", layered) == "da lô."  # project entry survives both


def test_builtin_is_always_underneath() -> None:
    lex = Lexicon.from_mapping({"words": {"Zalo": "da lô"}})
    assert normalize("UBND và Zalo", lex) == "ủy ban nhân dân và da lô."


def test_project_can_override_builtin() -> None:
    lex = Lexicon.from_mapping({"abbreviations": {"CA": "công an xã"}})
    assert normalize("CA", lex) == "công an xã."


def test_abbreviations_are_case_sensitive_words_are_not() -> None:
    lex = Lexicon.from_mapping({"abbreviations": {"ANM": "an ninh mạng"}, "words": {"zalo": "da lô"}})
    assert normalize("ANM anm", lex) == "an ninh mạng anm."
    assert normalize("ZALO Zalo zalo", lex) == "da lô da lô da lô."


def test_whole_word_only() -> None:
    lex = Lexicon.from_mapping({"words": {"an": "AN"}})
    assert normalize("an toàn, bản", Lexicon.from_mapping({"words": {"bả": "bã"}})) == "an toàn, bản."
    assert normalize("Bắc Kạn", Lexicon.from_mapping({"words": {"Bắc Kạn": "bắc cạn"}})) == "bắc cạn."
    assert "an" in lex.words


def test_punctuated_keys() -> None:
    lex = Lexicon.from_mapping({"abbreviations": {"Q.": "quận", "KH&ĐT": "kế hoạch và đầu tư"}})
    assert normalize("Q. Ba Đình, Sở KH&ĐT", lex) == "quận Ba Đình, Sở kế hoạch và đầu tư."


def test_domains_are_used_in_addresses() -> None:
    assert normalize("https://khonggianmang.vn", PROJECT) == "không gian mạng chấm vê en."


def test_empty_and_none_sections() -> None:
    assert Lexicon.from_mapping(None) == Lexicon()
    assert Lexicon.from_mapping({"words": None}) == Lexicon()


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (["UBND"], "bảng"),
        ({"abbreviation": {}}, "'abbreviation'"),
        ({"words": ["a", "b"]}, "'words'"),
        ({"abbreviations": {"UBND": ""}}, "'UBND'"),
        ({"abbreviations": {"UBND": ["ủy ban"]}}, "'UBND'"),
        ({"abbreviations": {113: "một một ba"}}, "113"),
        ({"abbreviations": {"113": "một một ba"}}, "'113'"),
        ({"words": {"Zalo": "zalo 2"}}, "'Zalo'"),
        ({"domains": {"gov.vn": "gờ o vê"}}, "'gov.vn'"),
        ({"abbreviations": {"": "rỗng"}}, "khóa"),
    ],
)
def test_malformed_lexicon_names_the_bad_key(data: object, needle: str) -> None:
    with pytest.raises(ValueError) as err:
        Lexicon.from_mapping(data)
    assert needle in str(err.value)


def test_multiword_local_name_in_words() -> None:
    lex = Lexicon.from_mapping({"words": {"Nà Phặc": "na phạc"}})
    assert normalize("Thị trấn Nà Phặc, NÀ PHẶC.", lex) == "Thị trấn na phạc, na phạc."
