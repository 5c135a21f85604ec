"""Loading, inheritance and validation of a broadcast project."""

from __future__ import annotations

import re
import textwrap
from datetime import date, time
from pathlib import Path

import pytest

from broadcast.errors import ContentError, UsageError
from broadcast.model import Week
from broadcast.project import deep_merge, load_project, read_project
from broadcast.render import render
from conftest import MINIMAL, REPO, run


def test_minimal_project_loads_with_inheritance(project):
    root = project()
    p = load_project(root)
    assert [s.id for s in p.scripts] == ["canh-bao"]
    loc = p.locale("xa-chi-lang")
    assert loc is p.locale("lang-son/xa-chi-lang")
    assert loc.name == "Xã Chi Lăng" and loc.code == "06463" and loc.schedule == "sang-chieu"
    # the commune overrides the police name but inherits the phone and the province
    assert loc.data["contacts"]["police"] == {"name": "Công an xã Chi Lăng", "phone": "113"}
    assert loc.data["province"]["name"] == "Lạng Sơn"
    slots = p.schedules[0].slots
    assert slots[0].days == (1, 2, 3, 4, 5, 6, 7) and slots[0].start == time(6, 0)
    # 17:00 unquoted is a time, not YAML 1.1's sexagesimal 1020
    assert slots[1].days == (1, 3, 5) and slots[1].start == time(17, 0) and slots[1].minutes == 20
    script = p.scripts[0]
    assert script.valid.covers(date(2025, 1, 1)) and not script.valid.covers(date(2028, 1, 1))
    assert script.voice is None and p.voice_for(script, loc) == "espeak-vi" and script.body_line == 8


def test_deep_merge_replaces_leaves_and_merges_mappings():
    base = {"a": {"x": 1, "y": {"z": 2}}, "b": [1, 2], "c": 3}
    over = {"a": {"y": {"w": 4}}, "b": [9]}
    assert deep_merge(base, over) == {"a": {"x": 1, "y": {"z": 2, "w": 4}}, "b": [9], "c": 3}
    assert base["a"]["y"] == {"z": 2}  # inputs untouched


def test_example_project_loads_and_renders_a_known_commune():
    p = load_project(REPO)
    assert len(p.scripts) >= 6 and len(p.locales) >= 9
    provinces = {loc.data["province"]["name"] for loc in p.locales}
    assert {"Thái Nguyên", "Phú Thọ", "Lạng Sơn"} <= provinces
    for prov in provinces:
        assert sum(loc.data["province"]["name"] == prov for loc in p.locales) >= 3
    text = render(p.script("khi-bi-de-doa"), p.locale("xa-cho-don"), Week(2026, 49))
    assert "Xã Chợ Đồn" in text and "Công an xã Chợ Đồn" in text and "113" in text
    assert "{{" not in text and "{%" not in text
    paragraphs = text.split("\n\n")
    assert len(paragraphs) >= 3 and all(par.strip() == par for par in paragraphs)


def test_example_phone_numbers_are_only_113_or_from_the_directives():
    p = load_project(REPO)
    allowed = {"113", "0889.226.999"}
    for script in p.scripts:
        for locale in p.locales:
            for number in re.findall(r"\d[\d. ]{2,}\d", render(script, locale, Week(2026, 49))):
                if re.fullmatch(r"[\d.]+", number) and "." in number and len(number) <= 7:
                    continue  # dates like 12/2024 are split by '/', numbers like 4/2020 never reach here
                digits = number.replace(" ", "")
                assert digits in allowed or re.fullmatch(r"\d{1,4}", digits), (script.id, number)


def test_phu_tho_number_only_for_phu_tho_communes():
    p = load_project(REPO)
    script = p.script("cat-ghep-anh-tong-tien")
    assert "0889.226.999" in render(script, p.locale("phuong-viet-tri"), Week(2026, 49))
    assert "0889.226.999" not in render(script, p.locale("xa-chi-lang"), Week(2026, 49))


def test_lint_example_project_is_clean():
    result = run("lint", "--strict", "--project", str(REPO))
    assert result.exit_code == 0, result.output
    assert "0 cảnh báo" in result.output and "0 lỗi" in result.output


def test_every_problem_is_reported_in_one_run(project):
    root = project({
        "scripts/canh-bao.yaml": MINIMAL_SCRIPT.replace("level: normal", "level: urgent").replace("repeat: 1", "repeat: hai"),
        "voices/espeak-vi.yaml": "id: espeak-vi\nengine: espeak\nparmas: {}\n",
        "locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: abc\n",
    })
    _, report = read_project(root)
    fields = sorted((p.file, p.field) for p in report.errors)
    assert fields == [
        ("locales/lang-son/xa-chi-lang.yaml", "code"),
        ("scripts/canh-bao.yaml", "level"),
        ("scripts/canh-bao.yaml", "repeat"),
        ("voices/espeak-vi.yaml", "parmas"),
    ]
    typo = next(p for p in report.errors if p.field == "parmas")
    assert "params" in typo.hint and typo.line == 3


# --- a voice's params are validated against its engine's PARAMS while the project is read ---

BAD_PARAMS = """\
id: espeak-vi
engine: espeak
description: thử
params:
  voice: vi
  rate: 900
  pitchh: 50
  volume: to
"""


def test_each_bad_param_is_reported_at_its_own_line(project):
    root = project({"voices/espeak-vi.yaml": BAD_PARAMS})
    _, report = read_project(root)
    found = {p.field: p for p in report.errors}
    assert sorted(found) == ["params.pitchh", "params.rate", "params.volume"]
    assert [found[f].line for f in ("params.rate", "params.pitchh", "params.volume")] == [6, 7, 8]
    assert all(p.file == "voices/espeak-vi.yaml" for p in report.errors)
    rate = found["params.rate"]
    assert "900" in rate.message and "80" in rate.message and "450" in rate.message and "(out of range)" in rate.message
    assert found["params.pitchh"].hint == "có phải ý bạn là 'pitch'?"  # did you mean
    assert "(unknown parameter)" in found["params.pitchh"].message
    assert "số nguyên" in found["params.volume"].message and "(wrong type)" in found["params.volume"].message
    with pytest.raises(ContentError) as exc:
        load_project(root)
    assert "voices/espeak-vi.yaml:6: lỗi [params.rate]:" in str(exc.value)


def test_lint_reports_a_bad_param_once_at_its_line(project):
    root = project({"voices/espeak-vi.yaml": BAD_PARAMS})
    result = run("lint", "--project", str(root))
    assert result.exit_code == 2
    rate = [line for line in result.output.splitlines() if "params.rate" in line]
    assert len(rate) == 1 and rate[0].startswith("voices/espeak-vi.yaml:6: lỗi [params.rate]:")


def test_unknown_engine_lists_the_valid_ones_and_params_wait_for_it(project):
    root = project({"voices/espeak-vi.yaml": "id: espeak-vi\nengine: espeak-ng\nparams: {rate: 900}\n"})
    _, report = read_project(root)
    assert [(p.line, p.field) for p in report.errors] == [(2, "engine")]  # params unchecked without an engine
    problem = report.errors[0]
    assert "espeak-ng" in problem.message
    for name in ("espeak", "gtts", "piper", "recorded"):
        assert name in problem.message and name in problem.hint


def test_voice_params_come_typed_with_defaults_filled_in(project):
    root = project({"voices/gtts-vi.yaml": "id: gtts-vi\nengine: gtts\nparams: {backoff: 2}\n"
                                          "fallback: espeak-vi\n",
                    "voices/ghi-am.yaml": "id: ghi-am\nengine: recorded\n"})
    voices = {v.id: v for v in load_project(root).voices}
    assert voices["espeak-vi"].params == {"voice": "vi", "variant": "", "rate": 150, "pitch": 50, "range": 50,
                                          "volume": 100, "word_gap": 0, "syllables_per_second": None}
    assert voices["gtts-vi"].params["backoff"] == 2 and voices["gtts-vi"].params["tld"] == "com.vn"
    assert voices["ghi-am"].params == {"folder": "assets/recordings", "rate": 0}  # no params: all defaults


MINIMAL_SCRIPT = """\
id: canh-bao
title: Cảnh báo thử
source: Công an tỉnh Lạng Sơn
level: normal
valid: {from: 2024-12-04}
repeat: 1
body: |
  Kính thưa bà con {{ locale.name }}!
"""


def test_placeholders_warn_in_lint_and_strict_fails(project):
    root = project({"locales/lang-son/xa-chi-lang.yaml": """\
        name: Xã Chi Lăng
        code: "06463"
        contacts:
          police:
            phone: "<<CẦN ĐIỀN: số trực ban Công an xã>>"
        """})
    result = run("lint", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert "locales/lang-son/xa-chi-lang.yaml:5: cảnh báo" in result.output
    assert "1 cảnh báo" in result.output
    assert run("lint", "--strict", "--project", str(root)).exit_code == 1


def test_init_creates_a_project_that_lints_with_placeholder_warnings(tmp_path):
    target = tmp_path / "moi"
    result = run("init", str(target))
    assert result.exit_code == 0, result.output
    lint = run("lint", "--project", str(target))
    assert lint.exit_code == 0, lint.output
    assert "CẦN ĐIỀN" in lint.output and "0 lỗi" in lint.output
    assert run("lint", "--strict", "--project", str(target)).exit_code == 1
    again = run("init", str(target))
    assert again.exit_code != 0 and "không ghi đè" in again.output
    inside_a_file = run("init", str(target / "broadcast.yaml" / "moi"))  # a file where a folder must be
    assert inside_a_file.exit_code == 3 and "broadcast.yaml" in inside_a_file.output
    assert "không phải thư mục" in inside_a_file.output or "đã có một tệp" in inside_a_file.output
    assert inside_a_file.exception is None or isinstance(inside_a_file.exception, SystemExit)


def test_render_command_prints_the_text(project):
    root = project()
    result = run("render", "canh-bao", "--locale", "xa-chi-lang", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert result.output == "Kính thưa bà con Xã Chi Lăng!\n\nHãy gọi Công an xã Chi Lăng, số 113.\n"


@pytest.mark.parametrize("args", [["render", "khong-co", "--locale", "xa-chi-lang"],
                                  ["render", "canh-bao", "--locale", "xa-khong-co"]])
def test_render_unknown_ids_list_the_choices(project, args):
    result = run(*args, "--project", str(project()))
    assert result.exit_code == 2 and "có:" in result.output and "Traceback" not in result.output


def test_version_and_help():
    assert re.search(r"broadcast, version \d+\.\d+", run("--version").output)
    for command in ([], ["lint"], ["render"], ["init"]):
        result = run(*command, "--help")
        assert result.exit_code == 0 and "Usage" in result.output and len(result.output) > 200


def test_week_parsing():
    assert Week.parse("2026-W49").monday == date(2026, 11, 30)
    assert Week.parse("2026-W49").days[-1] == date(2026, 12, 6)
    with pytest.raises(UsageError):
        Week.parse("2026-W54")


def test_render_spoken_reads_numbers_and_phones():
    result = run("render", "cat-ghep-anh-tong-tien", "--locale", "phuong-viet-tri", "--spoken", "--project", str(REPO))
    assert result.exit_code == 0, result.output
    assert "không tám tám chín, hai hai sáu, chín chín chín" in result.output
    assert "một đến hai tỷ đồng" in result.output and "một một ba" in result.output
    assert not re.search(r"\d", result.output)


def test_normalize_stdin_gives_one_line_per_input_line(tmp_path):
    from click.testing import CliRunner

    from broadcast.cli import main

    text = "Gọi 113 ngay.\n\nUBND xã Chi Lăng. Chuyển 1 - 2 tỷ đồng!\nNgày 03/7/2024\n"
    result = CliRunner().invoke(main, ["normalize", "--project", str(REPO)], input=text)
    assert result.exit_code == 0, result.output
    lines = result.output.split("\n")[:-1]
    assert len(lines) == 4 and lines[1] == ""
    assert lines[0] == "Gọi một một ba ngay."
    assert lines[2] == "ủy ban nhân dân xã Chi Lăng. Chuyển một đến hai tỷ đồng!"
    assert lines[3] == "Ngày mùng ba tháng bảy năm hai nghìn không trăm hai mươi tư."
    cp1258 = CliRunner().invoke(main, ["normalize", "--project", str(REPO)], input="G\xe4i 113\n".encode("latin-1"))
    assert cp1258.exit_code == 2 and "UTF-8" in cp1258.output
    assert cp1258.exception is None or isinstance(cp1258.exception, SystemExit)


def test_lint_lists_tokens_spelled_out_with_script_and_line(project):
    root = project({"scripts/canh-bao.yaml": MINIMAL_SCRIPT + "  Liên hệ BQLDA để biết thêm.\n"})
    result = run("lint", "--project", str(root))
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "BQLDA" in x)
    assert line.startswith("scripts/canh-bao.yaml:9: cảnh báo [đọc]") and "lexicon.yaml" in line
    fixed = project({"scripts/canh-bao.yaml": MINIMAL_SCRIPT + "  Liên hệ BQLDA để biết thêm.\n",
                     "lexicon.yaml": "abbreviations:\n  BQLDA: ban quản lý dự án\n"})
    assert "BQLDA" not in run("lint", "--project", str(fixed)).output


def test_bad_lexicon_entries_are_errors_with_lines(project):
    root = project({"lexicon.yaml": "abbreviations:\n  UBND: ủy ban nhân dân\n  '113': một một ba\n  CA: ''\n",
                    "locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: '06463'\nlexicon:\n"
                    "  bogus: {}\n"})
    result = run("lint", "--project", str(root))
    assert result.exit_code == 2
    assert "lexicon.yaml:3: lỗi [abbreviations.113]" in result.output
    assert "lexicon.yaml:4: lỗi [abbreviations.CA]" in result.output
    assert "locales/lang-son/xa-chi-lang.yaml:4: lỗi [bogus]" in result.output


def test_locale_is_typed_with_province_station_and_merged_contacts(project):
    from broadcast.model import Contact, Province

    p = load_project(project())
    loc = p.locale("xa-chi-lang")
    assert loc.province == Province("lang-son", "Lạng Sơn", "20")
    assert loc.station == "Xã Chi Lăng"  # no station set: the commune's name
    assert loc.contacts == {"police": Contact("Công an xã Chi Lăng", "113")}
    assert loc.voice is None and loc.division_type == "xã" and loc.preset.name == "loa" and loc.preset.container == "mp3" and dict(loc.vars) == {}
    assert p.voice_for(p.scripts[0], loc) == "espeak-vi"
    station = project({"locales/lang-son/_province.yaml": PROVINCE + "station: Đài Lạng Sơn\nvoice: espeak-vi\n"
                       "vars: {hotline: {so: '0205'}}\n",
                       "locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: '06463'\n"
                       "contacts: {fire: {phone: 114}}\nvars: {hotline: {ten: Trực ban}}\n"})
    loc = load_project(station).locale("xa-chi-lang")
    assert loc.station == "Đài Lạng Sơn" and loc.voice == "espeak-vi"
    assert loc.contacts == {"police": Contact("Công an tỉnh", "113"), "fire": Contact("", "114")}
    assert loc.vars == {"hotline": {"so": "0205", "ten": "Trực ban"}}
    assert loc.data["vars"] == loc.vars and loc.data["contacts"]["fire"] == {"phone": 114}  # templates: as written


PROVINCE = textwrap.dedent(MINIMAL["locales/lang-son/_province.yaml"])


def test_lexicon_problems_are_load_errors_at_their_lines(project):
    root = project({"locales/lang-son/_province.yaml": PROVINCE + "lexicon:\n  words:\n    xã: ''\n",
                    "locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: '06463'\nlexicon:\n"
                    "  abbreviations:\n    UBND: ủy ban nhân dân\n    CA: công an 113\n"})
    project_, report = read_project(root)
    found = {(p.file, p.line, p.field) for p in report.errors}
    assert found == {("locales/lang-son/_province.yaml", 11, "words.xã"),
                     ("locales/lang-son/xa-chi-lang.yaml", 6, "abbreviations.CA")}
    # the good entry is kept
    assert project_.locale("xa-chi-lang").lexicon.abbreviations["UBND"] == "ủy ban nhân dân"
    with pytest.raises(ContentError):
        load_project(root)


def test_every_yaml_file_is_parsed_once_by_lint(project, monkeypatch):
    import yaml

    from broadcast.lint import lint

    root = project({"lexicon.yaml": "abbreviations:\n  BQLDA: ban quản lý dự án\n",
                    "locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: '06463'\n"
                    "lexicon: {words: {chi lăng: chi lăng}}\n",
                    "locales/lang-son/xa-khac.yaml": "name: Xã Khác\ncode: '06464'\n"})
    parsed: list[str] = []
    real = yaml.load

    def counting(text, Loader):
        parsed.append(text)
        return real(text, Loader=Loader)

    monkeypatch.setattr(yaml, "load", counting)
    result = lint(root, Week(2026, 49))
    assert result.locales == 2 and not result.errors, result.problems
    texts = [path.read_text(encoding="utf-8") for path in root.rglob("*.yaml")]
    assert sorted(parsed) == sorted(texts)  # each file exactly once, by anyone


def test_lexicons_are_built_once_per_distinct_stack(project):
    same = "lexicon: {abbreviations: {HTX: hợp tác xã}}\n"
    root = project({
        "lexicon.yaml": "abbreviations:\n  BQLDA: ban quản lý dự án\n",
        "locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: '06463'\n",
        "locales/lang-son/xa-hai.yaml": "name: Xã Hai\ncode: '06465'\n" + same,
        "locales/lang-son/xa-ba.yaml": "name: Xã Ba\ncode: '06466'\n" + same,
        "locales/lang-son/xa-bon.yaml": "name: Xã Bốn\ncode: '06467'\nlexicon: {words: {bốn: bốn}}\n",
        "locales/cao-bang/_province.yaml": "province: {name: Cao Bằng, code: '04'}\nschedule: sang-chieu\n"
                                           "lexicon: {abbreviations: {CB: Cao Bằng}}\n",
        "locales/cao-bang/xa-mot.yaml": "name: Xã Một\ncode: '01000'\n",
        "locales/cao-bang/xa-hai.yaml": "name: Xã Hai\ncode: '01001'\n",
    })
    p = load_project(root)
    lex = {loc.id: loc.lexicon for loc in p.locales}
    assert lex["lang-son/xa-chi-lang"] is p.lexicon  # no override anywhere: the project's object
    assert lex["lang-son/xa-hai"] is lex["lang-son/xa-ba"] is not p.lexicon
    assert lex["lang-son/xa-hai"].abbreviations == {"BQLDA": "ban quản lý dự án", "HTX": "hợp tác xã"}
    assert lex["lang-son/xa-bon"] is not lex["lang-son/xa-hai"] and lex["lang-son/xa-bon"].words == {"bốn": "bốn"}
    assert lex["cao-bang/xa-mot"] is lex["cao-bang/xa-hai"]  # the province's merged lexicon, shared
    assert lex["cao-bang/xa-mot"].abbreviations == {"BQLDA": "ban quản lý dự án", "CB": "Cao Bằng"}


def test_lint_reports_a_spelled_word_once_with_every_commune_that_has_it(project):
    """Seven communes named with a syllable the normaliser cannot read, two scripts that say the name:
    one warning, at the commune file's name line, naming the communes, instead of one per script."""
    files: dict[str, str | bytes | None] = {
        "scripts/thu-hai.yaml": MINIMAL_SCRIPT.replace("id: canh-bao", "id: thu-hai"),
        "locales/lang-son/xa-chi-lang.yaml": None,
    }
    for i in range(7):
        files[f"locales/lang-son/xa-khuoi-{i}.yaml"] = (
            f"# xã vùng cao\nname: Xã Khuổi Pjạc {i}\ncode: '0700{i}'\ncontacts:\n  police:\n    name: Công an xã\n")
    root = project(files)
    result = run("lint", "--project", str(root))
    assert result.exit_code == 0, result.output
    warned = [x for x in result.output.splitlines() if "'Pjạc'" in x]
    assert len(warned) == 1, result.output
    assert warned[0].startswith("locales/lang-son/xa-khuoi-0.yaml:2: cảnh báo [đọc]")
    assert "7 xã" in warned[0] and "2 kịch bản" in warned[0] and "lang-son/xa-khuoi-0" in warned[0]
    assert "_province.yaml" in warned[0]  # the fix: the province's own lexicon
    taught = {**files, "locales/lang-son/_province.yaml": MINIMAL["locales/lang-son/_province.yaml"]
              + "lexicon:\n  words:\n    Pjạc: pjác\n"}
    assert "Pjạc" not in run("lint", "--project", str(project(taught))).output


def test_lint_lists_a_reading_no_rule_decides(project):
    root = project({"scripts/canh-bao.yaml": MINIMAL_SCRIPT + "  Chỉ 1/3 được báo cáo. Hơn 1/3 số vụ, ngày 1/3.\n"})
    result = run("lint", "--project", str(root))
    assert result.exit_code == 0, result.output
    [line] = [x for x in result.output.splitlines() if "'1/3'" in x]
    assert line.startswith("scripts/canh-bao.yaml:9: cảnh báo [đọc]") and "một gạch chéo ba" in line
    assert "[đọc: 1/3 |" in result.output
    forced = project({"scripts/canh-bao.yaml": MINIMAL_SCRIPT + "  Chỉ [đọc: 1/3 | một phần ba] được báo cáo.\n"})
    assert "1/3" not in run("lint", "--project", str(forced)).output


def test_lint_points_a_reading_at_the_line_it_was_read_from(project):
    """A token inside a longer one on an earlier line ('1/3' in '11/3', 'CH' in 'CHÚ Ý') is not where it was read."""
    body = "  Từ ngày 11/3, kẻ gian gửi tin nhắn lạ.\n  Bà con CHÚ Ý.\n  Có 1/3 bà con đã nhận.\n  Tải trên CH Play.\n"
    root = project({"scripts/canh-bao.yaml": MINIMAL_SCRIPT + body})
    result = run("lint", "--project", str(root))
    assert result.exit_code == 0, result.output
    [fraction] = [x for x in result.output.splitlines() if "'1/3'" in x]
    [spelled] = [x for x in result.output.splitlines() if "'CH'" in x]
    assert fraction.startswith("scripts/canh-bao.yaml:11: cảnh báo [đọc]"), fraction
    assert spelled.startswith("scripts/canh-bao.yaml:12: cảnh báo [đọc]"), spelled


def test_render_spoken_shows_what_each_voice_is_given():
    """espeak needs 'da lô' for Zalo; a neural voice (here the example's gTTS voice) is given the word as written."""
    script = next(p.stem for p in sorted((REPO / "scripts").glob("*.yaml")) if "Zalo" in p.read_text(encoding="utf-8"))
    espeak = run("render", script, "--locale", "xa-chi-lang", "--spoken", "--week", "2026-W49", "--project", str(REPO))
    google = run("render", script, "--locale", "xa-chi-lang", "--spoken", "--voice", "gtts-vi", "--week", "2026-W49",
                 "--project", str(REPO))
    assert espeak.exit_code == 0 and google.exit_code == 0, espeak.output + google.output
    assert "da lô" in espeak.output and "Zalo" not in espeak.output
    assert "Zalo" in google.output and "da lô" not in google.output
    assert "ủy ban nhân dân" in google.output or "UBND" not in google.output  # the rules apply to every voice


@pytest.mark.parametrize("args, words", [
    (["build", "--jobs", "0"], "giá trị của '--jobs' không dùng được"),
    (["build", "--jobs", "hai"], "giá trị của '--jobs' không dùng được"),
    (["build", "--khong-co"], "không có tùy chọn --khong-co"),
    (["buidl"], "không có lệnh này"),
    (["--khong-co"], "không có tùy chọn --khong-co"),  # an option of broadcast itself
    (["build", "--week"], "sau --week cần viết một giá trị"),
    (["studio", "user", "add", "lan"], "thiếu '--role' (missing option)"),
    (["asrun", "import", "khong-co.csv", "--locale", "x"], "giá trị của 'LOGS...' không dùng được"),
])
def test_a_command_typed_wrong_is_told_in_vietnamese_with_where_to_look(args, words):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert words in result.output and "Cách sửa: xem '" in result.output and "--help'" in result.output
    assert "Error:" not in result.output and "Try '" not in result.output


def test_ctrl_c_while_the_command_line_is_still_loading_is_a_clean_stop(monkeypatch, capsys):
    """The first ~0.7 s of every command import numpy and the audio stack: Ctrl-C there was a traceback."""
    import sys as system

    from broadcast import console

    class Interrupting:
        def find_spec(self, name, path=None, target=None):
            if name == "broadcast.cli":
                raise KeyboardInterrupt
            return None
    monkeypatch.delitem(system.modules, "broadcast.cli", raising=False)
    monkeypatch.setattr(system, "meta_path", [Interrupting(), *system.meta_path])
    with pytest.raises(SystemExit) as stopped:
        console.main()
    assert stopped.value.code == 130
    assert "Đã dừng" in capsys.readouterr().err


def test_init_stopped_half_way_leaves_nothing_and_can_be_run_again(tmp_path, monkeypatch):
    """A kill or a full disk half way through `init` left a project lacking files (lint failed on the
    missing voice) that `init` then refused to complete: 'already has files'."""
    import errno
    from pathlib import Path

    from broadcast import starter

    target = tmp_path / "moi"
    target.mkdir()  # an empty folder made for it, as a user does
    written = []
    real = Path.write_bytes

    def disk_fills(self, data):
        if len(written) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(self)
        return real(self, data)

    monkeypatch.setattr(starter.Path, "write_bytes", disk_fills)
    failed = run("init", str(target))
    assert failed.exit_code == 3 and "ổ đĩa đã đầy" in failed.output
    assert str(target) in failed.output  # a write error has no file name: the folder is named
    assert (target / starter.UNFINISHED).exists()  # marked: what init completes, not 'already has files'
    fresh = tmp_path / "moi-2"  # a new folder: written beside it, nothing left where it goes
    written.clear()
    assert run("init", str(fresh)).exit_code == 3 and not fresh.exists() and not list(tmp_path.glob(".moi-2*"))
    monkeypatch.setattr(starter.Path, "write_bytes", real)
    for folder in (target, fresh):
        again = run("init", str(folder))
        assert again.exit_code == 0, again.output
        assert not (folder / starter.UNFINISHED).exists()
        assert run("lint", "--project", str(folder)).exit_code == 0


def test_init_in_the_current_folder(tmp_path, monkeypatch):
    """`broadcast init .` in a new empty folder, as people do: renaming a folder over '.' failed (exit 3), and
    over "$PWD" left the shell in a deleted folder."""
    folder = tmp_path / "dai-xa"
    folder.mkdir()
    monkeypatch.chdir(folder)
    result = run("init", ".")
    assert result.exit_code == 0, result.output
    assert (folder / "broadcast.yaml").is_file() and Path.cwd().samefile(folder)
    assert run("lint").exit_code == 0
