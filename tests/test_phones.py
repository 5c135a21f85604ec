"""Phone numbers on air: only emergency, declared or official numbers, each fitting the numbering plan."""

from __future__ import annotations

import pytest

from broadcast import phones
from broadcast.model import Week
from broadcast.project import load_project
from conftest import REPO, run

WEEK = Week(2026, 49)


def body_script(body: str) -> str:
    return ("id: canh-bao\ntitle: Cảnh báo thử\nsource: Công an tỉnh Lạng Sơn, 04/12/2024\nlevel: normal\n"
            "valid: {from: 2024-12-04}\nrepeat: 1\nbody: |\n" + "".join(f"  {x}\n" for x in body.splitlines()))


@pytest.mark.parametrize("number", ["113", "115", "0912 345 678", "0889.226.999", "+84 912 345 678", "0398765432",
                                    "0205 3870 000", "02053870000", "1900 1234", "1800 1234 56"])
def test_numbers_that_fit_the_numbering_plan(number):
    assert phones.numbering_problem(number) is None


@pytest.mark.parametrize("number", ["12345", "0912.345.67", "0912 345 6789", "0123 456 789", "0205 387 000",
                                    "1900 123", "116", "0612 345 678"])
def test_numbers_that_do_not(number):
    assert phones.numbering_problem(number)


def test_a_short_contact_number_is_an_error_at_the_script_line_and_the_contact(project):
    root = project({"locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: '06463'\ncontacts:\n"
                    "  police:\n    name: Công an xã Chi Lăng\n    phone: '12345'\n"})
    result = run("lint", "--week", "2026-W49", "--project", str(root))
    assert result.exit_code == 2, result.output
    # the script line that says it (MINIMAL's body: line 10 uses locale.contacts.police.phone)
    assert "scripts/canh-bao.yaml:10: lỗi [phone]: số điện thoại '12345' sai quy hoạch số Việt Nam" in result.output
    assert "lang-son/xa-chi-lang (Xã Chi Lăng)" in result.output
    # and the line that declares it
    assert "locales/lang-son/xa-chi-lang.yaml:6: lỗi [contacts.police.phone]: số điện thoại '12345'" in result.output
    assert "Traceback" not in result.output


def test_a_made_up_number_in_a_body_is_an_error_naming_number_and_commune(project):
    root = project({"scripts/canh-bao.yaml": body_script(
        "Kính thưa bà con {{ locale.name }}!\n\nNếu bị đe dọa, hãy gọi 113.\nHoặc báo qua số 0912.345.678.")})
    result = run("lint", "--week", "2026-W49", "--project", str(root))
    assert result.exit_code == 2, result.output
    [line] = [x for x in result.output.splitlines() if "0912.345.678" in x]
    assert line.startswith("scripts/canh-bao.yaml:11: lỗi [phone]: số điện thoại '0912.345.678' không phải số khẩn cấp")
    assert "Xã Chi Lăng" in line and "official_numbers.yaml" in line
    assert "'113'" not in result.output  # an emergency number is always allowed
    # build refuses like lint, before anything is synthesised or published
    built = run("build", "--week", "2026-W49", "--jobs", "1", "--project", str(root))
    assert built.exit_code == 2, built.output
    assert "0912.345.678" in built.output and not (root / "output" / "2026-W49").exists()


def test_an_official_number_with_its_source_may_air(project):
    official = ("numbers:\n  - number: '0912 345 678'\n    who: Phòng An ninh mạng, Công an tỉnh\n"
                "    source: Công an tỉnh Lạng Sơn, công văn ngày 04/12/2024\n")
    root = project({"scripts/canh-bao.yaml": body_script("Hãy báo qua số 0912.345.678 hoặc +84 912 345 678."),
                    "official_numbers.yaml": official})
    assert load_project(root).official_numbers[0].source.startswith("Công an tỉnh Lạng Sơn")
    result = run("lint", "--week", "2026-W49", "--strict", "--project", str(root))
    assert result.exit_code == 0, result.output


def test_official_numbers_need_a_source_and_a_valid_number(project):
    official = ("numbers:\n  - number: '0912 345 678'\n    who: Công an tỉnh\n"
                "  - number: '0912 345'\n    who: Công an tỉnh\n    source: công văn ngày 04/12/2024\n")
    root = project({"official_numbers.yaml": official})
    result = run("lint", "--week", "2026-W49", "--project", str(root))
    assert result.exit_code == 2, result.output
    assert "official_numbers.yaml:2: lỗi [numbers[0].source]: thiếu trường bắt buộc 'source'" in result.output
    assert ("official_numbers.yaml:4: lỗi [numbers[1].number]: số điện thoại '0912 345' sai quy hoạch số Việt Nam"
            in result.output)


def test_the_example_project_declares_the_directive_numbers_it_airs():
    project = load_project(REPO)
    official = {phones.digits(n.number): n for n in project.official_numbers}
    assert "0889226999" in official and "Phú Thọ" in official["0889226999"].source
    result = run("lint", "--strict", "--project", str(REPO))
    assert result.exit_code == 0, result.output


def test_a_placeholder_phone_whose_text_holds_digits_is_a_placeholder_not_a_number(project):
    """`locales import` writes '<<CẦN ĐIỀN: ... phường Long Phú 1 (nếu chưa có, để 113)>>': a warning to fill it
    in, never an 'invalid phone number' error (296 such errors after a national import)."""
    from conftest import run
    root = project({"locales/lang-son/xa-chi-lang.yaml": """\
        name: Phường Long Phú 1
        code: "06463"
        contacts:
          police:
            name: Công an phường Long Phú 1
            phone: '<<CẦN ĐIỀN: số điện thoại trực ban Công an phường Long Phú 1 (nếu chưa có, để 113)>>'
        """})
    result = run("lint", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert "[placeholder]" in result.output and "[phone]" not in result.output and "phone]" not in result.output
