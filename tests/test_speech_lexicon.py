"""Lexicon loading, validation and the project < province < commune layering."""

from __future__ import annotations

import re
from pathlib import Path
from re import _parser  # type: ignore[attr-defined]

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadcast.speech import BUILTIN, Lexicon, normalize, rules

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


def _flat_keys(abbreviations: list[str], words: list[str]) -> str:
    """The matcher of multi-word keys before the key tree: one alternative per key, longest first."""
    def keyed(key: str) -> str:
        body = re.escape(key)
        if key[0].isalnum():
            body = r"(?<!\w)" + body
        if key[-1].isalnum():
            body += r"(?!\w)"
        return body

    keys = [keyed(k) for k in sorted(abbreviations, key=len, reverse=True)]
    keys += ["(?i:" + keyed(k) + ")" for k in sorted(words, key=len, reverse=True)]
    return f"(?:{'|'.join(keys)})"


def _both(lex: Lexicon) -> tuple[rules.Normaliser, rules.Normaliser]:
    """The normaliser of `lex` as it is, and as it was with the flat alternation of its keys."""
    merged = BUILTIN.merged(lex)
    new = rules.Normaliser(merged)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rules, "_lexicon_keys", _flat_keys)
        old = rules.Normaliser(merged)
    assert old.pattern.pattern != new.pattern.pattern
    return old, new


# Letters re's IGNORECASE folds in more than pairs (ı i I İ, ſ s S, K k K, µ μ, σ ς Σ, the iota with
# U+0345, not a letter), punctuation and a space: keys overlap, nest and touch words.
_KEY_CHARS = "aAbBđĐıiIİſsSKkKµμσςΣ\u0345ι1 .-&/"
_TWINS = str.maketrans("iıIsſSkKKµμσςΣ\u0345ι", "ıiİſsſKkkμµςσςι\u0345")
_KEY = st.text(alphabet=_KEY_CHARS, min_size=1, max_size=5).filter(lambda k: not k.isalnum())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_KEY, max_size=12), st.lists(_KEY, max_size=12), st.data())
def test_the_key_tree_reads_as_the_flat_alternation_did(abbreviations: list[str], words: list[str],
                                                        data: st.DataObject) -> None:
    if words:  # a longer key spelled with the other form of a letter ("ıa.b" after "ia."): the longer wins
        words += [k.translate(_TWINS) + tail for k, tail in
                  data.draw(st.lists(st.tuples(st.sampled_from(words), st.text(_KEY_CHARS, max_size=2)), max_size=3))]
    lex = Lexicon(abbreviations={k: f"viết {i}" for i, k in enumerate(abbreviations)},
                  words={k: f"từ {i}" for i, k in enumerate(words)})
    old, new = _both(lex)
    known = [*abbreviations, *words]
    piece = st.text(alphabet=_KEY_CHARS, max_size=4)
    if known:
        piece |= st.sampled_from(known) | st.sampled_from(known).map(str.upper) | st.sampled_from(known).map(str.title)
    text = data.draw(st.lists(piece, max_size=10).map("".join) | st.lists(piece, max_size=10).map(" ".join))
    assert [(m.lastgroup, m.span()) for m in new.pattern.finditer(text)] == \
        [(m.lastgroup, m.span()) for m in old.pattern.finditer(text)]
    assert new.sentence(text, 1, [], []) == old.sentence(text, 1, [], [])


@pytest.mark.parametrize(("words", "text"), [
    (["x.i-", "x.ı-a"], "X.I-A x.i-a"),  # the longer key down the other branch of a letter re folds together
    (["a.\u0345", "a.ι"], "a.ιb a.Ιb"),  # U+0345 folds with "ι" but is no letter: no word boundary after it
    (["\u0345.a", "ι.a"], "1ι.a 2Ι.a"),  # nor before it
])
def test_the_key_tree_folds_case_as_re_does(words: list[str], text: str) -> None:
    old, new = _both(Lexicon(words={k: f"từ {i}" for i, k in enumerate(words)}))
    assert [m.span() for m in new.pattern.finditer(text) if m.lastgroup == "special"] == \
        [m.span() for m in old.pattern.finditer(text) if m.lastgroup == "special"] != []


def test_keys_nested_hundreds_deep_compile_and_the_longest_wins() -> None:
    # "a-a", "a-a-a", ...: each key a prefix of the next; a tree of nested groups that deep overflowed re's parser
    keys = ["-".join(["a"] * n) for n in range(2, 1_000)]
    lex = Lexicon(abbreviations={k: "dài" if k.count("a") == 700 else "ngắn" for k in keys})
    old, new = _both(lex)
    text = "Đọc " + "-".join(["a"] * 700) + " và " + "-".join(["a"] * 1_050) + " nhé."
    assert new.sentence(text, 1, [], []) == old.sentence(text, 1, [], [])
    assert new.sentence(text, 1, [], []).split() == ["Đọc", "dài", "và", "ngắn", "ngắn", "nhé", "."]


def _branches(tree: list) -> list[list]:
    """Every alternation in a parsed pattern (re's own parser), as its list of alternatives."""
    out, todo = [], [tree]
    while todo:
        for op, av in todo.pop():
            if op is _parser.BRANCH:
                out.append(av[1])
                todo.extend(av[1])
            elif op is _parser.SUBPATTERN:
                todo.append(av[3])
            elif op in (_parser.ASSERT, _parser.ASSERT_NOT):
                todo.append(av[1])
            elif op in (_parser.MAX_REPEAT, _parser.MIN_REPEAT, _parser.POSSESSIVE_REPEAT):
                todo.append(av[2])
    return out


def test_twenty_thousand_multiword_entries_are_one_tree_not_twenty_thousand_alternatives() -> None:
    # The keys were one alternation, every key tried at every letter: 20,000 of them made a 73,000-character
    # script take 12 s to read, for each commune. In a tree, at each alternation only the branch of the next
    # character goes on: its work at a position is that of the longest key, whatever the number of keys.
    names = ("Tân", "Hòa", "Yên", "Phú", "Bắc", "Minh", "Quang", "Đồng", "Lạng", "Nà")
    words = {f"Công an xã {name} {n}": f"công an xã {name.lower()} số {i}" for i, (name, n) in
             enumerate((name, n) for name in names for n in range(1_900))}
    lex = Lexicon(abbreviations={f"NĐ-CP{i}": f"nghị định {i}" for i in range(1_000)}, words=words)
    assert len(lex.words) + len(lex.abbreviations) == 20_000
    normaliser = rules.Normaliser(BUILTIN.merged(lex))
    special = normaliser.pattern.pattern.split("|(?P<code>")[0]
    alternations = _branches(_parser.parse(special).data)
    chars = set("".join(lex.words) + "".join(lex.abbreviations) + "".join(BUILTIN.abbreviations))
    for alternatives in alternations:
        firsts = [a[0] for a in alternatives if a and a[0][0] is _parser.LITERAL]
        assert len(firsts) == len(set(firsts)), "two branches begin with the same character"
        assert len(alternatives) - len(firsts) <= 2, "more than a word-boundary check and an end besides"
        assert len(alternatives) <= len(chars) + 2
    assert normalize("Gọi Công an xã Tân 1899 hoặc công an xã nà 5, xem NĐ-CP999 và NĐ-CP9999.", lex) == (
        "Gọi công an xã tân số 1899 hoặc công an xã nà số 17105, xem nghị định 999 và nghị định chính phủ chín nghìn "
        "chín trăm chín mươi chín.")
