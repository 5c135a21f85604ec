"""`broadcast locales import`: commune files from the official list in `vietnam-provinces`.

Post-July-2025 two-tier structure: 34 provinces, 3,321 communes (xã, phường, đặc khu).
Files a person already edited are never rewritten: only missing top-level fields are
appended as text, so their comments and values stay exactly as written.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from vietnam_provinces import Province, Ward

from . import textfiles
from .errors import ContentError, Problem, UsageError, YamlError
from .project import SLUG
from .yamlio import load_yaml

POLICE_PHONE = "<<CẦN ĐIỀN: số điện thoại trực ban Công an {unit} (nếu chưa có, để 113)>>"


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    completed: dict[str, list[str]] = field(default_factory=dict)  # file -> fields added
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)  # broken by an edit made while importing: not touched

    def summary(self) -> str:
        added = sum(len(v) for v in self.completed.values())
        text = (f"đã tạo {len(self.created)} tệp, bổ sung {added} trường vào {len(self.completed)} tệp có sẵn, "
                f"{self.unchanged} tệp giữ nguyên (created {len(self.created)}, completed {len(self.completed)}, "
                f"unchanged {self.unchanged})")
        if self.skipped:
            text += (f"; không động tới {len(self.skipped)} tệp vừa bị sửa hỏng trong lúc nhập: "
                     f"{', '.join(self.skipped)} (sửa rồi chạy lại)")
        return text


def _fold(text: str) -> str:
    """Compare names without diacritics or case: "Lang Son" finds "Lạng Sơn"."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower().replace("-", " ").strip()


def find_province(name: str) -> Province:
    provinces = list(Province.iter_all())
    wanted = _fold(name)
    for province in provinces:
        names = {_fold(province.name), _fold(province.codename.replace("_", " ")), str(int(province.code))}
        names.add(_fold(province.name.removeprefix("Thành phố ")))
        if wanted in names:
            return province
    raise UsageError(f"không có tỉnh '{name}' trong danh mục 34 tỉnh, thành phố (unknown province)",
                     field="--province",
                     fix="viết tên tỉnh như trong danh mục, ví dụ: " + ", ".join(sorted(p.name for p in provinces)[:6]))


def _slug(codename: str) -> str:
    slug = codename.replace("_", "-")
    assert SLUG.match(slug), slug
    return slug


def _commune_fields(ward: Ward) -> dict[str, object]:
    kind = ward.division_type.value  # xã | phường | đặc khu
    short = ward.name[len(kind):].strip() if ward.name.lower().startswith(kind) else ward.name
    unit = f"{kind} {short}"
    return {
        "name": ward.name,
        "code": f"{int(ward.code):05d}",
        "division_type": kind,
        "station": f"Đài truyền thanh {unit}",
        "contacts": {"police": {"name": f"Công an {unit}", "phone": POLICE_PHONE.format(unit=unit)}},
    }


def _province_fields(province: Province, schedule: str) -> dict[str, object]:
    return {
        "province": {"name": province.name.removeprefix("Thành phố "), "code": f"{int(province.code):02d}"},
        "schedule": schedule,
        "contacts": {"police": {"phone": "113"}},
    }


def _dump(data: dict[str, object]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def _text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _merged(path: Path, wanted: dict[str, object], root: Path) -> tuple[str | None, str, list[str]] | None:
    """(the file's text as read, None for a new file; its new text; the fields added), or None when
    it already has every field. A file that cannot be read is a ContentError at its line."""
    rel = path.relative_to(root).as_posix()
    if not path.exists():
        return None, _dump(wanted), list(wanted)
    try:
        existing = load_yaml(path) or {}
    except YamlError as exc:
        raise ContentError([Problem(rel, exc.line, "", exc.message, exc.fix)]) from None
    if not isinstance(existing, dict):
        raise ContentError([Problem(rel, 1, "", "tệp không phải nhóm khóa, không thể bổ sung (not a mapping)",
                                    "sửa tệp theo mẫu trong README rồi chạy lại")])
    missing = {k: v for k, v in wanted.items() if k not in existing}
    if not missing:
        return None
    text = path.read_text(encoding="utf-8")
    addition = ("" if text.endswith("\n") or not text else "\n") + "# bổ sung bởi 'broadcast locales import'\n"
    return text, text + addition + _dump(missing), list(missing)


def import_locales(root: Path, provinces: list[Province], schedule: str) -> ImportReport:
    """Every chosen province's file and commune files, created or completed with the fields they
    lack. Every existing file is read first: one that cannot be read stops the import (all its
    problems listed) before any file is written."""
    wanted: list[tuple[Path, dict[str, object]]] = []
    wards_by_province: dict[int, list[Ward]] = {}
    for ward in Ward.iter_all():
        wards_by_province.setdefault(int(ward.province_code), []).append(ward)
    for province in provinces:
        folder = root / "locales" / _slug(province.codename.removeprefix("thanh_pho_"))
        wanted.append((folder / "_province.yaml", _province_fields(province, schedule)))
        wards = sorted(wards_by_province.get(int(province.code), []), key=lambda w: int(w.code))
        seen = Counter(w.codename for w in wards)
        for ward in wards:
            # a few provinces have two communes of the same name: the code tells them apart
            stem = _slug(ward.codename) + (f"-{int(ward.code):05d}" if seen[ward.codename] > 1 else "")
            wanted.append((folder / f"{stem}.yaml", _commune_fields(ward)))
    report, changes, problems = ImportReport(), [], list[Problem]()
    for path, fields in wanted:
        try:
            change = _merged(path, fields, root)
        except ContentError as exc:
            problems += exc.problems
            continue
        if change is None:
            report.unchanged += 1
        else:
            changes.append((path, fields, change))
    if problems:
        raise ContentError(problems)
    for path, fields, (base, text, added) in changes:
        if _text_of(path) != base:  # saved meanwhile (the studio, an editor): completed as it is now
            try:
                again = _merged(path, fields, root)
            except ContentError as exc:
                report.skipped += [p.file for p in exc.problems]  # broken meanwhile: left for its author
                continue
            if again is None:
                continue
            base, text, added = again
        rel = path.relative_to(root).as_posix()
        if base is not None:
            report.completed[rel] = added
        else:
            report.created.append(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        # whole, with the file's permissions, line endings and byte-order mark (a fixed temporary name was
        # also shared by two imports at once)
        textfiles.replace(path, textfiles.bytes_of(text, textfiles.layout(path.read_bytes()) if base is not None
                                                   else textfiles.Layout()))
    return report


def all_provinces() -> list[Province]:
    return sorted(Province.iter_all(), key=lambda p: int(p.code))
