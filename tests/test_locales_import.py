"""`broadcast locales import`: official communes, merged without overwriting what people wrote."""

from __future__ import annotations

import yaml

from broadcast.project import load_project, read_project
from conftest import run


def test_import_province_writes_every_commune_with_placeholders(project):
    root = project()
    result = run("locales", "import", "--province", "Lang Son", "--project", str(root))
    assert result.exit_code == 0, result.output
    files = sorted((root / "locales" / "lang-son").glob("*.yaml"))
    assert len(files) == 66  # _province.yaml + 65 communes of Lạng Sơn
    data = yaml.safe_load((root / "locales/lang-son/xa-huu-lung.yaml").read_text(encoding="utf-8"))
    assert data["name"] == "Xã Hữu Lũng" and data["code"] == "06385" and data["division_type"] == "xã"
    assert "CẦN ĐIỀN" in data["contacts"]["police"]["phone"]
    p, report = read_project(root)
    assert not report.errors
    assert len(p.locales) == 65
    # every imported commune still needs its police phone: lint says so, once per commune
    assert sum("CẦN ĐIỀN" in w.message for w in report.warnings) == 64  # xa-chi-lang was written by hand
    assert "1 tệp giữ nguyên" in result.output or "unchanged 1" in result.output


def test_import_never_overwrites_and_reports_what_it_added(project):
    root = project({"locales/lang-son/xa-chi-lang.yaml": "# viết tay\nname: Xã Chi Lăng (tên riêng)\ncode: '06463'\n"})
    before = (root / "locales/lang-son/xa-chi-lang.yaml").read_text(encoding="utf-8")
    result = run("locales", "import", "--province", "Lạng Sơn", "--project", str(root))
    assert result.exit_code == 0, result.output
    after = (root / "locales/lang-son/xa-chi-lang.yaml").read_text(encoding="utf-8")
    assert after.startswith(before)  # the person's lines and comment untouched
    assert "locales/lang-son/xa-chi-lang.yaml: bổ sung division_type, station, contacts" in result.output
    assert load_project(root).locale("xa-chi-lang").name == "Xã Chi Lăng (tên riêng)"
    again = run("locales", "import", "--province", "Lạng Sơn", "--project", str(root))
    assert "đã tạo 0 tệp" in again.output and "66 tệp giữ nguyên" in again.output


def test_import_all_covers_the_country(project, tmp_path):
    root = project()
    result = run("locales", "import", "--all", "--project", str(root))
    assert result.exit_code == 0, result.output
    communes = [p for p in (root / "locales").rglob("*.yaml") if p.name != "_province.yaml"]
    provinces = list((root / "locales").glob("*/_province.yaml"))
    assert len(communes) == 3321 and len(provinces) == 34
    codes = {yaml.safe_load(p.read_text(encoding="utf-8"))["code"] for p in communes}
    assert len(codes) == 3321


def test_unknown_province_is_a_clear_error(project):
    result = run("locales", "import", "--province", "Bắc Kạn", "--project", str(project()))
    assert result.exit_code == 2 and "không có tỉnh 'Bắc Kạn'" in result.output


def test_an_unknown_schedule_is_a_clear_error_and_nothing_is_written(project):
    """A mistyped --schedule was written into the new province file (exit 0); lint then failed
    every one of its communes."""
    root = project()
    result = run("locales", "import", "--province", "Cao Bằng", "--schedule", "sang-chieu-toi", "--project", str(root))
    assert result.exit_code == 2, result.output
    assert "--schedule" in result.output and "sang-chieu-toi" in result.output and "sang-chieu." in result.output
    assert not (root / "locales" / "cao-bang").exists()
    result = run("locales", "import", "--province", "Cao Bằng", "--schedule", "sang-chieu", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert "schedule: sang-chieu" in (root / "locales/cao-bang/_province.yaml").read_text(encoding="utf-8")


def test_a_commune_file_that_cannot_be_read_stops_the_import_before_any_file_is_written(project):
    broken = 'code: "06385"\nname: "Xã Hữu Lũng\n'  # a quote never closed
    root = project({"locales/lang-son/xa-huu-lung.yaml": broken,
                    "locales/lang-son/xa-chi-lang.yaml": "# viết tay\nname: Xã Chi Lăng\ncode: '06463'\n"})
    (root / "locales/lang-son/xa-van-nham.yaml").write_bytes("name: Xã Vân Nham\n".encode("utf-16"))
    before = {p.name: p.read_bytes() for p in (root / "locales/lang-son").iterdir()}
    result = run("locales", "import", "--province", "Lạng Sơn", "--project", str(root))
    assert result.exit_code == 2 and result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "locales/lang-son/xa-huu-lung.yaml:2" in result.output and "chưa được đóng" in result.output
    assert "locales/lang-son/xa-van-nham.yaml:1" in result.output and "UTF-8" in result.output
    assert {p.name: p.read_bytes() for p in (root / "locales/lang-son").iterdir()} == before  # nothing written


def test_a_file_saved_while_importing_keeps_what_was_saved(project, monkeypatch):
    """The import read every file, then wrote them all: a commune saved in the studio in between lost
    its edit, silently (1.2-2 s into an import of the country)."""
    from broadcast import locales

    root = project({"locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: '06463'\n"})
    commune = root / "locales/lang-son/xa-chi-lang.yaml"
    real = locales._merged

    def then_a_studio_save(path, wanted, at):
        change = real(path, wanted, at)
        if path == commune and "Đài mới" not in commune.read_text(encoding="utf-8"):
            commune.write_text("name: Xã Chi Lăng\ncode: '06463'\nstation: Đài mới của xã\n", encoding="utf-8")
        return change

    monkeypatch.setattr(locales, "_merged", then_a_studio_save)
    result = run("locales", "import", "--province", "Lạng Sơn", "--project", str(root))
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(commune.read_text(encoding="utf-8"))
    assert data["station"] == "Đài mới của xã"  # the save is kept
    assert data["division_type"] == "xã" and "police" in data["contacts"]  # and completed as it is now
