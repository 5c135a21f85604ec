"""Properties of the normaliser that must hold for any text."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadcast.speech import normalize, speak

# Text shaped like scripts: Vietnamese letters, digits and the symbols the
# rules care about, so the search spends its time where the rules are.
_ALPHABET = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
    "AĂÂBCDĐEÊGHIKLMNOÔƠPQRSTUƯVXYÀÁĐỦỶfjwzFJWZ"
    "0123456789" + "0123456789" + "      \n.,;:!?-–/%@&+~=<>()[]\"'°²…\u00a0\u200b*#_|$"
)
_WORDS = st.sampled_from([
    "UBND", "TP.", "v.v...", "https://khonggianmang.vn/", "<https://a.vn>", "0889.226.999",
    "03/7/2024", "1 - 2 tỷ", "17h30", "thứ", "lần thứ", "XIV", "Chương", "ngày", "tháng",
    "số", "gọi", "113", "[từng số: 0912]", "[đọc: UBND | ủy ban]", "<<CẦN ĐIỀN: tên>>",
    "2,5%", "500.000đ", "a@b.com", "km/h", "NĐ-CP", "907/STTTT-CNTT", "hoà", "\n\n", ". ",
    "Quý IV/2024", "quý 4/2024", "7h30 - 11h00", "35.000đ/kg", "3%/tháng", "1/3", "hơn", "số", "T7", "CN", "Đ/c",
    "ĐT:", "QL1A", "(0205) 3870 123", "12 000", "mã OTP", "482913", "số tài khoản", "1903 4567 8901", "12-13/7",
    "thứ Hai - thứ Sáu", "24/24", "đầu số", "5656",
])
TEXT = st.one_of(
    st.text(),
    st.text(alphabet=_ALPHABET, max_size=80),
    st.lists(st.one_of(_WORDS, st.text(alphabet=_ALPHABET, max_size=6)), max_size=12).map(" ".join),
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_MARKUP_RE = re.compile(r"\[\s*(?:từng số|tung so|nguyên văn|nguyen van|đọc|doc)\s*:|<<", re.IGNORECASE)


@SETTINGS
@given(TEXT)
def test_never_raises_and_is_nfc(text: str) -> None:
    out = normalize(text)
    assert isinstance(out, str)
    assert unicodedata.is_normalized("NFC", out)


@SETTINGS
@given(TEXT)
def test_no_digits_or_symbols_left(text: str) -> None:
    if _MARKUP_RE.search(text):
        return  # read-as-written passages may keep anything
    out = normalize(text)
    assert not re.search(r"[0-9/%@]", out), out


@SETTINGS
@given(TEXT)
def test_idempotent(text: str) -> None:
    if _MARKUP_RE.search(text):
        return  # markup is consumed: its output is not markup any more
    once = normalize(text)
    assert normalize(once) == once


@SETTINGS
@given(TEXT)
def test_speech_matches_normalize(text: str) -> None:
    speech = speak(text)
    assert speech.text == normalize(text)
    for sentence in speech.sentences:
        assert sentence.parts and all(p.strip() == p and p for p in sentence.parts)
        assert sentence.text[-1] in ".!?;:"
