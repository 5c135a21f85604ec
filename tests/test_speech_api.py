"""speak() structure, pauses, inline markup and check_readings()."""

from __future__ import annotations

import re

from broadcast.speech import Finding, Lexicon, Sentence, check_readings, normalize, speak


# -- structure and pauses ------------------------------------------------------
def test_paragraphs_and_sentences() -> None:
    speech = speak("Câu một. Câu hai!\n\nĐoạn hai; vế sau.")
    assert [[s.text for s in p.sentences] for p in speech.paragraphs] == [
        ["Câu một.", "Câu hai!"],
        ["Đoạn hai;", "vế sau."],
    ]
    assert speech.text == "Câu một.\nCâu hai!\n\nĐoạn hai;\nvế sau."


def test_phone_groups_are_parts() -> None:
    (sentence,) = speak("Điện thoại: 0889.226.999.").sentences
    assert sentence.parts == ("Điện thoại: không tám tám chín", "hai hai sáu", "chín chín chín.")
    assert sentence.text == "Điện thoại: không tám tám chín, hai hai sáu, chín chín chín."


def test_sentence_lines() -> None:
    speech = speak("Dòng một.\n\nDòng ba. Câu nữa.\nDòng bốn")
    assert [s.line for s in speech.sentences] == [1, 3, 3, 4]


def test_wrapped_line_joins_sentence() -> None:
    (sentence,) = speak("Các đối tượng sử dụng\ncông nghệ cao.").sentences
    assert sentence.text == "Các đối tượng sử dụng công nghệ cao."


def test_empty_text() -> None:
    assert normalize("") == ""
    assert speak(" \n\n ").paragraphs == ()


def test_sentence_is_frozen() -> None:
    s = Sentence(("a", "b."))
    assert s.text == "a, b."
    try:
        s.parts = ()  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("Sentence must be frozen")


# -- inline markup ---------------------------------------------------------------
def test_markup_digits() -> None:
    assert normalize("Gọi [từng số: 0889226999] ngay.") == (
        "Gọi không tám tám chín hai hai sáu chín chín chín ngay."
    )
    (sentence,) = speak("Số [từng số: 1900 1234].").sentences
    assert sentence.parts == ("Số một chín không không", "một hai ba bốn.")


def test_markup_digits_spells_letters() -> None:
    assert normalize("Mã [từng số: AB12].") == "Mã a bê một hai."


def test_markup_verbatim() -> None:
    assert normalize("Dùng [nguyên văn: iPhone 15] nhé.") == "Dùng iPhone 15 nhé."


def test_markup_say() -> None:
    assert normalize("[đọc: UBND | ủy ban nhân dân] xã.") == "ủy ban nhân dân xã."
    assert normalize("Xã [đọc: Nà Phặc | na phạc].") == "Xã na phạc."
    assert normalize("Xã [đọc: na phạc].") == "Xã na phạc."


def test_markup_that_says_no_word_is_no_part() -> None:
    # a part of punctuation only was synthesised as an empty clip: the build stopped at it, blamed
    # as a damaged recording
    text = "Kính thưa bà con.\n\n[nguyên văn: ...]\n\n[đọc: x | .]\n\nHết."
    assert speak(text).parts == ("Kính thưa bà con.", "Hết.")
    assert speak("[đọc: UBND | ] [nguyên văn: ...] [từng số: -]").parts == ()


def test_markup_keywords_without_diacritics() -> None:
    assert normalize("[tung so: 113] [nguyen van: 24/7] [doc: a | bê]") == "một một ba 24/7 bê."


def test_markup_not_split_into_sentences() -> None:
    assert normalize("[nguyên văn: A. B. C] hết.") == "A. B. C hết."


def test_ordinary_brackets_are_read() -> None:
    assert normalize("Xem [1] và [ghi chú: 2 điều].") == "Xem, một, và, ghi chú: hai điều."


def test_placeholder_is_left_alone() -> None:
    assert normalize("Gọi <<CẦN ĐIỀN: số điện thoại 113>>.") == "Gọi <<CẦN ĐIỀN: số điện thoại 113>>."


def test_phone_numbers_are_found_while_speaking_with_their_lines() -> None:
    text = "Bà con gọi 0912 345 678 hoặc 113.\nTheo Điều 115 của luật, 3 người.\n\nLiên hệ số 113 ngay."
    speech = speak(text)
    assert speech.phones == (("0912 345 678", 1), ("113", 1), ("113", 4))  # not "Điều 115", not "3 người"
    assert "không chín một hai" in speech.text  # each read digit by digit
    assert speak(text).phones == speech.phones  # the second time from memory: the same lines
    assert speak("Dòng trống.\n\n" + text).phones == (("0912 345 678", 3), ("113", 3), ("113", 6))


def test_a_number_too_long_for_int_is_read_digit_by_digit_and_checked_as_a_phone_number() -> None:
    # Python's int() refuses over 4,300 digits: such a number after "gọi" is still a number to call
    # (lint checks it against the declared ones), read digit by digit like any long number
    speech = speak("Bà con gọi " + "9" * 5000 + " ngay.")
    assert speech.phones == (("9" * 5000, 1),)
    assert speech.text.startswith("Bà con gọi chín chín chín")
    assert speak("Số tiền 1234567890123456789012 đồng.").phones == ()


def test_a_sentence_is_not_closed_into_an_abbreviation() -> None:
    # "Tp" + "." is "Tp." (thành phố): the closing mark must not change what a second reading says
    assert normalize("Đến Tp") == "Đến Tp;"
    assert normalize(normalize("Đến Tp")) == "Đến Tp;"
    assert normalize("Đến Tp. Hà Nội") == "Đến thành phố Hà Nội."


def test_a_line_spoken_before_with_other_readings_keeps_its_own() -> None:
    # the two lines look alike once their markup is set aside: each sentence is remembered with it
    assert normalize("Gọi [đọc: ABC | a bê xê] ngay.") == "Gọi a bê xê ngay."
    assert normalize("Gọi [đọc: ABC | a bờ cờ] ngay.") == "Gọi a bờ cờ ngay."


# -- check_readings ------------------------------------------------------------------------
def test_report_spelled_and_unchanged_with_lines() -> None:
    text = "UBND xã thông báo.\nLưu: VT, XYZT.\nDùng Facebook và iMessage."
    findings = check_readings(text)
    assert [(f.token, f.kind, f.line) for f in findings] == [
        ("XYZT", "spelled", 2),
        ("Facebook", "unchanged", 3),
        ("iMessage", "unchanged", 3),
    ]
    assert findings[0].reading == "ích xì i dài dét tê"
    assert speak(text).unknown == tuple(findings)


def test_report_respects_lexicon() -> None:
    lex = Lexicon.from_mapping({"abbreviations": {"XYZT": "ích"}, "words": {"facebook": "phây búc"}})
    assert [f.token for f in check_readings("XYZT Facebook iMessage", lex)] == ["iMessage"]


def test_report_domain_pieces() -> None:
    (finding,) = check_readings("Vào https://abcxyz.gov.vn nhé")
    assert finding == Finding("abcxyz", "spelled", 1, "a bê xê ích xì i dài dét")


def test_report_codes_and_line_after_blank_lines() -> None:
    findings = check_readings("\n\nPhòng PV01.\n\n\n(Báo cáo) DEEPFAKE")
    assert [(f.token, f.line) for f in findings] == [("PV01", 3), ("DEEPFAKE", 6)]


def test_vietnamese_words_are_not_reported() -> None:
    text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM. Người dân Đắk Lắk cần cảnh giác, khuya rồi."
    assert check_readings(text) == []


def test_capitals_single_letter_is_named_not_reported() -> None:
    assert normalize("Phương án B") == "Phương án bê."
    assert check_readings("Phương án B") == []


def test_output_has_no_digits_for_seed_like_text() -> None:
    out = normalize("Ngày 04/12/2024, gọi 113 hoặc 0889.226.999; chuyển 1 - 2 tỷ (2,5%).")
    assert not re.search(r"[0-9/%@]", out)
