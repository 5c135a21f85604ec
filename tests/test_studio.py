"""The studio over HTTP, in-process (Starlette's test client), as Datasette tests its pages: every page,
every form, errors at their line, conflicts, approval, roles, CSRF, logins, paths and escaping."""

from __future__ import annotations

import errno
import io
import json
import re
import sqlite3
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import html5lib
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from broadcast import app, records, textfiles
from broadcast.cli import main
from broadcast.errors import UsageError
from broadcast.ffmpeg import decode
from broadcast.manifest import published
from broadcast.studio import create_app, edit
from broadcast.studio.auth import add_user
from broadcast.tts.recorded import recording_name
from conftest import MINIMAL, make_project
from conftest import run as run_cli

WEEK = "2026-W49"
SCRIPT = """\
# Kịch bản thử: dòng chú thích này phải còn sau khi lưu.
id: canh-bao
title: Cảnh báo thử
source: Công an tỉnh Lạng Sơn, 04/12/2024   # nguồn
level: normal
valid: {from: 2024-12-04, until: 2027-12-31}
repeat: 1
body: |
  Kính thưa bà con {{ locale.name }}!

  UBND xã đề nghị bà con gọi {{ locale.contacts.police.name }}, số {{ locale.contacts.police.phone }}.
"""


def _project(tmp_path: Path, extra: dict[str, str | bytes | None] | None = None) -> Path:
    return make_project(tmp_path / "p", {"scripts/canh-bao.yaml": SCRIPT, **(extra or {})})


def _client(root: Path, local: bool = True) -> TestClient:
    return TestClient(create_app(root, local=local), base_url="http://127.0.0.1:8765", follow_redirects=False)


def _token(client: TestClient, page: str = "/kich-ban") -> str:
    html = client.get(page).text
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def _answer(client: TestClient, posted: Any) -> Any:
    """The page a form's answer (a refusal, what a bulletin did) is shown on: a redirect to it, never drawn as
    the POST's own page (a reload sent the form again), its address with no word of what was typed."""
    assert posted.status_code == 303, posted.text[:500]
    location = posted.headers["location"]
    assert re.fullmatch(r"/[a-z0-9/._-]*\?loi=[A-Za-z0-9_-]{20,}", location), location
    return client.get(location)


def _editor_form(client: TestClient, script_id: str = "canh-bao") -> dict[str, str]:
    """What the editor page's form sends, read back from the page itself."""
    html = client.get(f"/kich-ban/{script_id}").text
    form = {name: _unescape(value) for name, value in re.findall(r'<input[^>]* name="([a-z_]+)" value="([^"]*)"', html)
            if name != "csrftoken"}
    form["body"] = _unescape(re.search(r'<textarea id="body" name="body"[^>]*>(.*?)</textarea>', html, re.S).group(1))
    form["level"] = re.search(r'<option value="([a-z]+)" selected', html).group(1)
    return form


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return _project(tmp_path)


@pytest.fixture
def client(root: Path) -> TestClient:
    return _client(root)


# --- pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["/kich-ban", "/kich-ban/canh-bao", "/kich-ban/canh-bao/phieu-duyet", "/xa",
                                  "/xa/lang-son/xa-chi-lang", "/tu-dien", f"/lich-tuan?week={WEEK}", "/dung-tuan",
                                  "/nhat-ky"])
def test_every_page_renders_in_vietnamese(client, page):
    response = client.get(page)
    assert response.status_code == 200, response.text[-1500:]
    assert '<html lang="vi">' in response.text and "Kịch bản" in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_the_studio_script_and_style_are_asked_for_again_after_an_update(client):
    """Sent with no caching rule, studio.js and studio.css were kept by the browser for a tenth of the
    file's age (a month-old checkout: three days) without asking: after 'git pull' the new pages ran with
    the old script. Each is now revalidated, which costs a 304 while it has not changed."""
    for name in ("studio.js", "studio.css"):
        first = client.get(f"/static/{name}")
        assert first.status_code == 200 and "no-cache" in first.headers["cache-control"]
        again = client.get(f"/static/{name}", headers={"if-none-match": first.headers["etag"]})
        assert again.status_code == 304 and not again.content


def test_scripts_list_shows_level_validity_and_approval_state(client):
    html = client.get(f"/kich-ban?week={WEEK}").text
    row = re.search(r"<tr>\s*<td><a href=\"/kich-ban/canh-bao\">.*?</tr>", html, re.S).group()
    assert "thường" in row and "đang hiệu lực" in row and "bản nháp" in row


def test_week_grid_shows_each_slot_and_how_full(client):
    html = client.get(f"/lich-tuan?week={WEEK}").text
    assert "06:00 sang" in html and "17:00 chieu" in html
    assert html.count("Cảnh báo thử") >= 7  # every morning of the week at least
    assert re.search(r'<meter min="0" max="100" value="\d+"', html)


# --- creating, copying, deleting ----------------------------------------------------------------


def test_new_script_from_the_starter_then_copy_delete_and_restore(client, root):
    token = _token(client)
    made = client.post("/kich-ban/moi", data={"csrftoken": token, "id": "canh-bao-otp", "title": "Không đọc mã OTP"})
    assert made.status_code == 303 and made.headers["location"] == "/kich-ban/canh-bao-otp"
    text = (root / "scripts" / "canh-bao-otp.yaml").read_text(encoding="utf-8")
    assert "id: canh-bao-otp" in text and 'title: "Không đọc mã OTP"' in text
    assert client.get("/kich-ban/canh-bao-otp").status_code == 200
    # the starter's source is a placeholder: lint says so
    lint = client.post("/api/lint", data={**_editor_form(client, "canh-bao-otp"), "csrftoken": token})
    assert any("CẦN ĐIỀN" in p["message"] for p in lint.json()["problems"])

    copied = client.post("/kich-ban/canh-bao/nhan-ban", data={"csrftoken": token, "new_id": "canh-bao-2"})
    assert copied.status_code == 303
    copy = (root / "scripts" / "canh-bao-2.yaml").read_text(encoding="utf-8")
    assert copy == SCRIPT.replace("id: canh-bao\n", "id: canh-bao-2\n")  # the rest byte for byte, comments too

    assert client.post("/kich-ban/canh-bao-2/xoa", data={"csrftoken": token}).status_code == 303
    assert not (root / "scripts" / "canh-bao-2.yaml").exists()
    [name] = re.findall(r'action="/thung-rac/([^"/]+--scripts--canh-bao-2\.yaml)/khoi-phuc"', client.get("/kich-ban").text)
    assert client.post(f"/thung-rac/{name}/khoi-phuc", data={"csrftoken": token}).status_code == 303
    assert (root / "scripts" / "canh-bao-2.yaml").read_text(encoding="utf-8") == copy


@pytest.mark.parametrize("title", ['Tiêu đề \\', 'Có "ngoặc" và \\" cuối', "a: b # c", "'", "{{ x }}", "- [x]"])
def test_a_new_script_keeps_any_title_as_written_and_stays_readable(client, root, title):
    token = _token(client)
    made = client.post("/kich-ban/moi", data={"csrftoken": token, "id": "moi-0", "title": f" {title}\r\n "})
    assert made.status_code == 303
    editor = client.get("/kich-ban/moi-0")
    assert editor.status_code == 200
    assert _editor_form(client, "moi-0")["title"] == title
    assert client.get("/kich-ban").status_code == 200  # the project still reads


def test_a_script_file_broken_by_hand_is_listed_with_its_problem_at_its_line(client, root):
    (root / "scripts" / "canh-bao.yaml").write_text('id: canh-bao\ntitle: "Tiêu đề \\"\nbody: x\n', encoding="utf-8")
    listed = client.get("/kich-ban")
    assert listed.status_code == 200
    assert "scripts/canh-bao.yaml:2: lỗi: dấu ngoặc mở ở dòng này chưa được đóng" in _unescape(listed.text)
    editor = client.get("/kich-ban/canh-bao")
    assert editor.status_code == 303 and editor.headers["location"] == "/sua-tep/scripts/canh-bao.yaml"
    repair = client.get(editor.headers["location"])
    assert repair.status_code == 200 and 'data-line="2">Dòng 2</button>: dấu ngoặc mở ở dòng này' in repair.text
    sheet = client.get("/kich-ban/canh-bao/phieu-duyet")  # nothing to approve until it reads: said where to mend
    assert sheet.status_code == 303 and sheet.headers["location"] == "/sua-tep/scripts/canh-bao.yaml"


# a file the project cannot read, as hand edits, merges and updates leave them: (its text, the line said, the message)
BROKEN_SCRIPTS = {
    "yaml": ("id: hong\ntitle: [broken\nbody: x\n", 2, "danh sách mở bằng '['"),
    "merge": ("<<<<<<< HEAD\n" + SCRIPT.replace("canh-bao", "hong") + "=======\n>>>>>>> khac\n", 1,
              "dấu xung đột của git"),
    "control": (SCRIPT.replace("canh-bao", "hong").replace("Cảnh báo thử", "Cảnh báo\x07 thử"), 3,
                "U+0007 (control character)"),
}
LONG_ID = "canh-bao-lua-dao-qua-mang-xa-hoi-va-cuoc-goi-video-gia-danh-cong-an"  # 67 characters


def _repair_form(html: str) -> dict[str, str]:
    """What a repair page's form sends, read back from the page (the text area's first line break is the
    markup's, as a browser reads it)."""
    form = {name: _unescape(value) for name, value in re.findall(r'<input[^>]* name="([a-z_]+)" value="([^"]*)"', html)
            if name != "csrftoken"}
    area = re.search(r'<textarea id="repair-text" name="text"[^>]*>\n?(.*?)</textarea>', html, re.S)
    assert area, html[-2000:]
    return {**form, "text": _unescape(area.group(1))}


@pytest.mark.parametrize("kind", [*BROKEN_SCRIPTS, "long-id"])
def test_one_broken_script_leaves_the_rest_of_the_studio_working(tmp_path, kind):
    """One script file that does not load (a YAML error from a hand edit in Notepad, a merge, a control
    character, an id longer than an update allows) made every page a 400 'dự án có 1 lỗi': the list, every
    script's editor, the communes; only someone with a text editor could mend it."""
    name = f"{LONG_ID}.yaml" if kind == "long-id" else "hong.yaml"
    text = SCRIPT.replace("canh-bao", LONG_ID) if kind == "long-id" else BROKEN_SCRIPTS[kind][0]
    root = _project(tmp_path, {f"scripts/{name}": text})
    client = _client(root)
    listed = client.get(f"/kich-ban?week={WEEK}")
    assert listed.status_code == 200, listed.text[-1500:]
    tree = html5lib.parse(listed.text, namespaceHTMLElements=False)
    box = tree.find(".//section[@id='tep-loi']")
    assert box is not None, listed.text[-1500:]
    [item] = box.findall("./ul/li")
    assert item.find("strong").text == f"scripts/{name}" and item.find("a").get("href") == f"/sua-tep/scripts/{name}"
    said = [li.text for li in item.findall(".//ul/li")]
    assert said and all(line.startswith(f"scripts/{name}") and "Cách sửa: " in line for line in said), said
    if kind == "long-id":
        assert any("dài 67 ký tự, tối đa 60" in line for line in said), said
    else:
        _, at, words = BROKEN_SCRIPTS[kind]
        assert any(line.startswith(f"scripts/{name}:{at}: lỗi: ") and words in line for line in said), said
    # the other script is listed, and everything about it works
    assert re.search(r'<tr>\s*<td><a href="/kich-ban/canh-bao">Cảnh báo thử</a>', listed.text)
    for page in ("/kich-ban/canh-bao", "/kich-ban/canh-bao/phieu-duyet", "/xa", "/xa/lang-son/xa-chi-lang",
                 f"/lich-tuan?week={WEEK}"):
        response = client.get(page)
        assert response.status_code == 200, (page, response.text[-1500:])
        assert f'href="/sua-tep/scripts/{name}"' in response.text, page  # said on every page, with its repair
    token = _token(client)
    lint = client.post("/api/lint", data={**_editor_form(client), "csrftoken": token})
    assert lint.status_code == 200 and lint.json()["problems"] == []
    spoken = client.post("/api/doc", data={**_editor_form(client), "csrftoken": token, "locale": "lang-son/xa-chi-lang"})
    assert spoken.status_code == 200 and "Công an xã Chi Lăng" in spoken.json()["spoken"]
    saved = client.post("/kich-ban/canh-bao", data={**_editor_form(client), "title": "Tiêu đề mới", "csrftoken": token})
    assert saved.status_code == 303 and "title: Tiêu đề mới" in (root / "scripts" / "canh-bao.yaml").read_text("utf-8")
    sha = _editor_form(client)["sha"]
    decided = client.post("/kich-ban/canh-bao/duyet", data={"csrftoken": token, "decision": "approved", "sha": sha,
                                                             "seen": "0"})
    assert decided.status_code == 303 and "đã duyệt" in client.get("/kich-ban/canh-bao").text
    assert (root / "scripts" / name).read_text(encoding="utf-8") == text  # nothing renamed or rewritten unasked


def test_a_broken_script_is_mended_in_its_repair_page(client, root):
    broken = "id: hong\ntitle: [broken\nbody: x\n"
    (root / "scripts" / "hong.yaml").write_text(broken, encoding="utf-8")
    opened = client.get("/kich-ban/hong")
    assert opened.status_code == 303 and opened.headers["location"] == "/sua-tep/scripts/hong.yaml"
    page = client.get("/sua-tep/scripts/hong.yaml")
    assert page.status_code == 200 and 'data-line="2">Dòng 2</button>' in page.text
    form = _repair_form(client.get("/sua-tep/scripts/hong.yaml").text)
    assert form["text"] == broken  # the file as it is on disk, in a plain text area
    token = _token(client)

    # still broken (the ']' added, the body on one line with a colon): refused, what was typed kept, the new
    # problem at its line
    typed = SCRIPT.replace("canh-bao", "hong").replace("level: normal", "level: normal\nrepeat: [1")
    refused = _answer(client, client.post("/sua-tep/scripts/hong.yaml",
                                          data={**form, "text": typed.replace("\n", "\r\n"), "csrftoken": token}))
    assert refused.status_code == 400 and "Chưa lưu" in refused.text
    assert _repair_form(refused.text)["text"] == typed
    line = typed.splitlines().index("repeat: [1") + 1
    assert f'data-line="{line}">Dòng {line}</button>' in refused.text
    assert (root / "scripts" / "hong.yaml").read_text(encoding="utf-8") == broken  # nothing written

    fixed = SCRIPT.replace("canh-bao", "hong").replace("Cảnh báo thử", "Cảnh báo đã sửa")
    saved = client.post("/sua-tep/scripts/hong.yaml", data={**form, "text": fixed.replace("\n", "\r\n"),
                                                             "csrftoken": token})
    assert saved.status_code == 303 and saved.headers["location"] == "/kich-ban/hong?saved=1"
    assert (root / "scripts" / "hong.yaml").read_text(encoding="utf-8") == fixed
    again = client.post("/sua-tep/scripts/hong.yaml", data={**form, "text": fixed, "csrftoken": token})
    assert again.status_code == 303 and again.headers["location"] == "/kich-ban/hong"  # a double-click: saved once
    editor = client.get("/kich-ban/hong")
    assert editor.status_code == 200 and _editor_form(client, "hong")["title"] == "Cảnh báo đã sửa"
    listed = client.get("/kich-ban")
    assert 'id="tep-loi"' not in listed.text and '<a href="/kich-ban/hong">Cảnh báo đã sửa</a>' in listed.text
    with records.connect(root) as conn:
        [entry] = [e for e in records.audit(conn) if e.target == "scripts/hong.yaml"]
    assert entry.action == "save" and "+title: Cảnh báo đã sửa" in entry.detail
    # mended: its repair page is its editor
    assert client.get("/sua-tep/scripts/hong.yaml").headers["location"] == "/kich-ban/hong"


def test_a_repair_is_not_saved_over_a_change_made_meanwhile_and_needs_the_right_to_edit(network):
    root, client = network
    (root / "scripts" / "hong.yaml").write_text("id: hong\ntitle: [broken\n", encoding="utf-8")
    _login(client, "bien-tap")
    form = _repair_form(client.get("/sua-tep/scripts/hong.yaml").text)
    token = _token(client)
    (root / "scripts" / "hong.yaml").write_text("id: hong\ntitle: [broken again\n", encoding="utf-8")
    fixed = SCRIPT.replace("canh-bao", "hong")
    conflict = client.post("/sua-tep/scripts/hong.yaml", data={**form, "text": fixed, "csrftoken": token})
    assert conflict.status_code == 409 and "broken again" in conflict.text and "Kính thưa" in conflict.text
    assert (root / "scripts" / "hong.yaml").read_text(encoding="utf-8") == "id: hong\ntitle: [broken again\n"
    no_token = client.post("/sua-tep/scripts/hong.yaml", data={**form, "text": fixed})
    assert no_token.status_code == 403

    reader = _client(root, local=False)
    _login(reader, "van-hanh")
    page = reader.get("/sua-tep/scripts/hong.yaml")
    assert page.status_code == 200 and "readonly" in page.text and '<button id="save">' not in page.text
    refused = reader.post("/sua-tep/scripts/hong.yaml", data={**_repair_form(reader.get("/sua-tep/scripts/hong.yaml").text),
                                                              "text": fixed, "csrftoken": _token(reader)})
    assert refused.status_code == 403
    assert (root / "scripts" / "hong.yaml").read_text(encoding="utf-8") == "id: hong\ntitle: [broken again\n"


def test_a_script_whose_id_is_too_long_is_offered_a_shorter_one_and_renamed_only_when_asked(tmp_path):
    text = SCRIPT.replace("canh-bao", LONG_ID)
    root = _project(tmp_path, {f"scripts/{LONG_ID}.yaml": text})
    client = _client(root)
    page = client.get(f"/sua-tep/scripts/{LONG_ID}.yaml")
    assert page.status_code == 200 and "dài 67 ký tự, tối đa 60" in page.text and "thùng rác" in page.text
    form = _repair_form(client.get(f"/sua-tep/scripts/{LONG_ID}.yaml").text)
    assert form["new_id"] == LONG_ID[:60].rstrip("-") and form["text"] == text  # offered, not done
    token = _token(client)
    for taken in ("canh-bao", "Có dấu", "x" * 61):  # a script's id, not an id, too long: said, nothing moved
        refused = _answer(client, client.post(f"/sua-tep/scripts/{LONG_ID}.yaml",
                                              data={**form, "new_id": taken, "csrftoken": token}))
        assert refused.status_code == 400 and "Chưa lưu" in refused.text and f"value=\"{taken}\"" in refused.text
    assert {p.name for p in (root / "scripts").iterdir()} == {"canh-bao.yaml", f"{LONG_ID}.yaml"}

    saved = client.post(f"/sua-tep/scripts/{LONG_ID}.yaml", data={**form, "new_id": "canh-bao-mang-xa-hoi",
                                                                  "csrftoken": token})
    assert saved.status_code == 303 and saved.headers["location"] == "/kich-ban/canh-bao-mang-xa-hoi?saved=1"
    assert (root / "scripts" / "canh-bao-mang-xa-hoi.yaml").read_text(encoding="utf-8") == text.replace(
        f"id: {LONG_ID}", "id: canh-bao-mang-xa-hoi")
    assert not (root / "scripts" / f"{LONG_ID}.yaml").exists()
    assert [rel for _, rel in edit.trashed(root)] == [f"scripts/{LONG_ID}.yaml"]  # the old file, to restore
    assert client.get("/kich-ban/canh-bao-mang-xa-hoi").status_code == 200
    assert 'id="tep-loi"' not in client.get("/kich-ban").text


def test_a_broken_commune_or_province_file_is_listed_and_mended_in_its_repair_page(tmp_path):
    other = MINIMAL["locales/lang-son/xa-chi-lang.yaml"].replace("Chi Lăng", "Hữu Lũng").replace("06463", "06253")
    root = _project(tmp_path, {"locales/lang-son/xa-huu-lung.yaml": other,
                               "locales/lang-son/xa-hong.yaml": "name: [Xã Hồng\ncode: \"06000\"\n"})
    client = _client(root)
    listed = client.get("/xa")
    assert listed.status_code == 200
    assert "Xã Chi Lăng" in listed.text and "Xã Hữu Lũng" in listed.text and "2 xã, phường" in listed.text
    box = html5lib.parse(listed.text, namespaceHTMLElements=False).find(".//section[@id='tep-loi']")
    [item] = box.findall("./ul/li")
    assert item.find("a").get("href") == "/sua-tep/locales/lang-son/xa-hong.yaml"
    assert item.find(".//ul/li").text.startswith("locales/lang-son/xa-hong.yaml:1: lỗi: danh sách mở bằng")
    assert client.get("/kich-ban").status_code == 200
    assert client.get("/xa/lang-son/xa-hong").headers["location"] == "/sua-tep/locales/lang-son/xa-hong.yaml"
    form = _repair_form(client.get("/sua-tep/locales/lang-son/xa-hong.yaml").text)
    token = _token(client)
    duplicate = _answer(client, client.post("/sua-tep/locales/lang-son/xa-hong.yaml", data={
        **form, "text": 'name: Xã Hồng\ncode: "06463"\n', "csrftoken": token}))  # Chi Lăng's code
    assert duplicate.status_code == 400 and "trùng" in duplicate.text
    saved = client.post("/sua-tep/locales/lang-son/xa-hong.yaml", data={
        **form, "text": 'name: Xã Hồng\ncode: "06000"\n', "csrftoken": token})
    assert saved.status_code == 303 and saved.headers["location"] == "/xa/lang-son/xa-hong?saved=1"
    assert client.get("/xa/lang-son/xa-hong").status_code == 200 and "3 xã, phường" in client.get("/xa").text

    # the province's file: its communes go with it, the page of each leads to its repair
    province = root / "locales" / "lang-son" / "_province.yaml"
    good = province.read_text(encoding="utf-8")
    province.write_text(good.replace("name: Lạng Sơn", "name: [Lạng Sơn"), encoding="utf-8")
    listed = client.get("/xa")
    assert listed.status_code == 200 and "0 xã, phường" in listed.text
    assert 'href="/sua-tep/locales/lang-son/_province.yaml"' in listed.text
    assert client.get("/xa/lang-son/xa-chi-lang").headers["location"] == "/sua-tep/locales/lang-son/_province.yaml"
    week = client.get(f"/lich-tuan?week={WEEK}")  # no commune left to show: said, not a 500
    assert week.status_code == 400 and "chưa có xã nào đọc được" in week.text
    form = _repair_form(client.get("/sua-tep/locales/lang-son/_province.yaml").text)
    saved = client.post("/sua-tep/locales/lang-son/_province.yaml", data={**form, "text": good, "csrftoken": token})
    assert saved.status_code == 303 and saved.headers["location"] == "/xa?tinh=lang-son&saved=1"
    assert province.read_text(encoding="utf-8") == good and "3 xã, phường" in client.get("/xa").text


@pytest.mark.parametrize("page", ["/kich-ban", "/xa", "/sua-tep/scripts/canh-bao.yaml"])
def test_a_broken_broadcast_yaml_is_still_a_page_naming_its_file_line_and_fix(client, root, page):
    """What the studio cannot set aside (the project's own settings) stays a page saying what to mend."""
    (root / "broadcast.yaml").write_text("name: Dự án thử\ndefault_voice: [espeak-vi\n", encoding="utf-8")
    response = client.get(page)
    assert response.status_code == 400 and "broadcast.yaml:2: danh sách mở bằng" in _unescape(response.text)
    assert "Cách sửa" in response.text and 'id="repair-text"' not in response.text


@pytest.mark.parametrize("page", [f"/lich-tuan?week={WEEK}", "/kich-ban/canh-bao/phieu-duyet"])
def test_a_project_with_no_commune_yet_says_so_on_the_pages_that_show_one(tmp_path, page):
    """A new project before its communes are imported (or whose only province file is broken): Lịch tuần
    and Phiếu duyệt took the first commune there was and were a bare 500."""
    client = _client(_project(tmp_path, {"locales/lang-son/xa-chi-lang.yaml": None}))
    response = client.get(page)
    assert response.status_code == 400 and "chưa có xã nào đọc được" in response.text
    assert "Cách sửa: sửa các tệp có lỗi ở trang Xã, phường, hoặc thêm xã ở đó" in response.text


def test_a_file_named_with_a_hash_or_a_space_is_reached_by_its_links_and_renamed(tmp_path):
    """A script saved in Explorer as 'Tin #2 (bản mới).yaml' is set aside (its name is no id) and its repair
    page is where it gets one; every link to that page, the form and a refused save's answer held the name as
    it is, so a browser took the '#' for the start of a fragment and asked for 'scripts/Tin ': 'không có tệp'."""
    name = "Tin #2 (bản mới).yaml"
    root = _project(tmp_path, {f"scripts/{name}": SCRIPT.replace("canh-bao", "tin-2")})
    client = _client(root)
    box = html5lib.parse(client.get("/kich-ban").text, namespaceHTMLElements=False).find(".//section[@id='tep-loi']")
    note = html5lib.parse(client.get("/xa").text, namespaceHTMLElements=False).find(".//p[@id='broken-files']")
    for link in (box.find(".//a").get("href"), note.find("a").get("href")):  # what a browser asks for: no fragment
        page = client.get(link)
        assert page.status_code == 200 and f"Sửa tệp scripts/{name}" in _unescape(page.text), (link, page.text[-800:])
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    form, token = _repair_form(page.text), _token(client)
    refused = client.post(_unescape(action), data={**form, "new_id": "Có dấu", "csrftoken": token})
    assert refused.status_code == 303, refused.text[-800:]
    again = client.get(refused.headers["location"])
    assert again.status_code == 400 and "Chưa lưu" in again.text
    saved = client.post(_unescape(action), data={**form, "new_id": "tin-2", "csrftoken": token})
    assert saved.status_code == 303 and saved.headers["location"] == "/kich-ban/tin-2?saved=1"
    assert not (root / "scripts" / name).exists() and (root / "scripts" / "tin-2.yaml").is_file()


def test_a_repair_page_is_only_for_a_script_commune_or_province_file_inside_the_project(client, root):
    for path in ("broadcast.yaml", "voices/espeak-vi.yaml", "scripts/../broadcast.yaml", "scripts/x.txt",
                 "locales/../broadcast.yaml"):
        assert client.get(f"/sua-tep/{path}").status_code in (400, 404), path
    assert client.get("/sua-tep/scripts/khong-co.yaml").status_code == 404


@pytest.mark.parametrize("change", [{"valid_until": "31/12/2027"}, {"repeat": "hai"}, {"level": "khan"}])
def test_a_save_that_would_break_the_project_is_refused_and_keeps_what_was_typed(client, root, change):
    """Saved, the file stopped the project loading: every page of the studio was an error until
    someone fixed it in a text editor."""
    form = {**_editor_form(client), "title": "Tiêu đề mới đã gõ", **change}
    response = _answer(client, client.post("/kich-ban/canh-bao", data={**form, "csrftoken": _token(client)}))
    assert response.status_code == 400 and "Chưa lưu: " in response.text
    said = {"valid_until": "Hiệu lực đến", "repeat": "Số lần đọc", "level": "Mức"}[next(iter(change))]
    assert f"Chưa lưu: {said}:" in response.text  # the field as the page names it
    assert (root / "scripts" / "canh-bao.yaml").read_text(encoding="utf-8") == SCRIPT
    assert 'value="Tiêu đề mới đã gõ"' in response.text  # what was typed is still in the form
    for name, value in change.items():
        assert _unescape(value) in _unescape(response.text), name
    assert client.get("/kich-ban").status_code == 200


@pytest.mark.parametrize("style", [">", "|-", ">-"])
def test_changing_the_title_leaves_the_body_as_it_is_written(tmp_path, style):
    written = SCRIPT.replace("body: |", f"body: {style}")
    root = _project(tmp_path, {"scripts/canh-bao.yaml": written})
    client = _client(root)
    form = {**_editor_form(client), "title": "Tiêu đề khác"}
    assert client.post("/kich-ban/canh-bao", data={**form, "csrftoken": _token(client)}).status_code == 303
    assert (root / "scripts" / "canh-bao.yaml").read_text(encoding="utf-8") == written.replace(
        "title: Cảnh báo thử", "title: Tiêu đề khác")


def test_a_body_pasted_with_tabs_saves_as_spaces(client, root):
    """A tab opening the body broke the YAML block: the studio refused to open anything after."""
    form = {**_editor_form(client), "body": "\tKính thưa bà con {{ locale.name }}!\n\tDòng hai.\n"}
    assert client.post("/kich-ban/canh-bao", data={**form, "csrftoken": _token(client)}).status_code == 303
    assert _editor_form(client)["body"] == "    Kính thưa bà con {{ locale.name }}!\n    Dòng hai.\n"
    assert client.get("/kich-ban").status_code == 200


@pytest.mark.parametrize("said", ["", "...", "!!!"])
def test_an_api_error_is_json_the_page_can_show(client, said):
    """The dictionary's listen button stayed on 'Đang đọc…': the error came back as an HTML page."""
    response = client.post("/api/noi", data={"csrftoken": _token(client), "text": said})
    assert response.status_code == 400
    assert "không có chữ" in response.json()["error"] or "chưa có chữ" in response.json()["error"]


def test_a_script_file_with_a_merge_conflict_is_an_error_at_its_line_not_a_500(client, root):
    form = _editor_form(client)
    token = _token(client)
    (root / "scripts" / "canh-bao.yaml").write_text("<<<<<<< HEAD\n" + SCRIPT + "=======\n>>>>>>> khac\n",
                                                     encoding="utf-8")
    for api in ("/api/lint", "/api/doc", "/kich-ban/canh-bao"):
        response = client.post(api, data={**form, "csrftoken": token, "locale": "lang-son/xa-chi-lang"})
        assert response.status_code == 400, (api, response.text[:300])
        assert "scripts/canh-bao.yaml" in response.text


def test_a_new_script_is_named_by_its_title_and_a_refusal_is_said_in_its_form_with_what_was_typed(client, root):
    """Staff were asked for an ASCII id ('chữ thường không dấu, dấu -'): the browser answered a title typed
    there with 'Please match the requested format', and an id already taken or a copy named with
    diacritics led to an error page away from the list, the title typed gone."""
    token = _token(client)
    made = client.post("/kich-ban/moi", data={"csrftoken": token, "id": "", "title": "Thư tống tiền qua Bưu điện"})
    assert made.status_code == 303 and made.headers["location"] == "/kich-ban/thu-tong-tien-qua-buu-dien"
    assert 'title: "Thư tống tiền qua Bưu điện"' in (root / "scripts" / "thu-tong-tien-qua-buu-dien.yaml").read_text(
        encoding="utf-8")
    typed = client.post("/kich-ban/moi", data={"csrftoken": token, "id": "Đề phòng OTP", "title": "Không đọc mã OTP"})
    assert typed.headers["location"] == "/kich-ban/de-phong-otp" and (root / "scripts" / "de-phong-otp.yaml").is_file()

    again = _answer(client, client.post("/kich-ban/moi", data={"csrftoken": token, "id": "",
                                                                "title": "Thư tống tiền qua bưu điện"}))
    assert again.status_code == 400
    form = re.search(r'<form method="post" action="/kich-ban/moi".*?</form>\s*<p class="error"[^>]*>([^<]*)</p>',
                     again.text, re.S)
    assert form, again.text[-2000:]
    assert 'value="Thư tống tiền qua bưu điện" aria-invalid="true"' in form.group()
    assert "đã có kịch bản mã “thu-tong-tien-qua-buu-dien”" in form.group(1) and "Cách sửa" in form.group(1)
    assert "Nhân bản" in again.text  # the list itself, not an error page

    copied = client.post("/kich-ban/canh-bao/nhan-ban", data={"csrftoken": token, "new_id": "Cảnh báo Chi Lăng"})
    assert copied.headers["location"] == "/kich-ban/canh-bao-chi-lang"
    refused = _answer(client, client.post("/kich-ban/canh-bao/nhan-ban", data={"csrftoken": token,
                                                                              "new_id": "canh bao chi lang"}))
    assert refused.status_code == 400
    row = re.search(r'action="/kich-ban/canh-bao/nhan-ban".*?</form>', refused.text, re.S).group()
    assert 'value="canh bao chi lang"' in row and 'role="alert"' in row and "đã có kịch bản" in row
    assert _answer(client, client.post("/kich-ban/moi", data={"csrftoken": token, "id": "", "title": " ?! "})
                   ).status_code == 400


@pytest.mark.parametrize("title", ["\uf0b7 Cảnh báo lừa đảo", "Cảnh báo\x01 lừa đảo", "Cảnh báo mới\x00"])
def test_a_new_script_whose_title_no_script_may_hold_is_refused_in_its_form_and_the_studio_still_works(
        client, root, title):
    """A title pasted with a Word bullet (U+F0B7) or a control character was written as it was: the project,
    refusing it, stopped loading, and every page of the studio was an error until the file was mended by hand."""
    token = _token(client)
    made = _answer(client, client.post("/kich-ban/moi", data={"csrftoken": token, "id": "", "title": title}))
    assert made.status_code == 400
    form = re.search(r'<form method="post" action="/kich-ban/moi".*?</form>\s*<p class="error"[^>]*>([^<]*)</p>',
                     made.text, re.S)
    assert form, made.text[-2000:]
    said = _unescape(form.group(1))
    assert "Chưa tạo: 'title' có ký tự điều khiển" in said and "Cách sửa" in said, said
    assert sorted(p.name for p in (root / "scripts").iterdir()) == ["canh-bao.yaml"]
    assert client.get("/kich-ban").status_code == 200 and client.get("/kich-ban/canh-bao").status_code == 200


def test_a_new_script_never_replaces_one_that_exists(client, root):
    token = _token(client)
    response = _answer(client, client.post("/kich-ban/moi", data={"csrftoken": token, "id": "canh-bao", "title": "x"}))
    assert response.status_code == 400 and "đã có kịch bản" in response.text
    assert (root / "scripts" / "canh-bao.yaml").read_text(encoding="utf-8") == SCRIPT


# --- editing ------------------------------------------------------------------------------------


def test_saving_keeps_comments_order_and_untouched_lines(client, root):
    form = _editor_form(client)
    form["title"] = "Cảnh báo thử, bản sửa"
    response = client.post("/kich-ban/canh-bao", data={**form, "csrftoken": _token(client)})
    assert response.status_code == 303
    after = (root / "scripts" / "canh-bao.yaml").read_text(encoding="utf-8")
    assert after == SCRIPT.replace("title: Cảnh báo thử\n", "title: Cảnh báo thử, bản sửa\n")


def test_a_file_changed_on_disk_since_it_was_opened_is_never_overwritten(client, root):
    form = _editor_form(client)
    path = root / "scripts" / "canh-bao.yaml"
    theirs = SCRIPT.replace("repeat: 1", "repeat: 2")
    path.write_text(theirs, encoding="utf-8")  # git pull, or another window, meanwhile
    form["title"] = "Bản của tôi"
    response = client.post("/kich-ban/canh-bao", data={**form, "csrftoken": _token(client)})
    assert response.status_code == 409
    assert "đã được sửa ở nơi khác" in response.text
    assert "repeat: 2" in response.text and "Bản của tôi" in response.text  # both versions shown
    assert path.read_text(encoding="utf-8") == theirs


def test_lint_as_you_type_points_at_the_body_line_with_the_fix(client):
    form = _editor_form(client)
    token = _token(client)
    form["body"] = "Kính thưa bà con {{ locale.nam }}!\n\nGọi 0912 345 678 ngay.\n"
    problems = client.post("/api/lint", data={**form, "csrftoken": token}).json()["problems"]
    template = next(p for p in problems if "nam" in p["message"])
    assert template["severity"] == "error" and template["body_line"] == 1 and "locale.name" in template["fix"]
    form["body"] = form["body"].replace("locale.nam ", "locale.name ")
    problems = client.post("/api/lint", data={**form, "csrftoken": token}).json()["problems"]
    phone = next(p for p in problems if "0912 345 678" in p["message"])
    assert phone["body_line"] == 3 and phone["severity"] == "error"
    form["body"] = "Kính thưa bà con {{ locale.name }}!\n\nGọi 113 ngay.\n"
    assert [p for p in client.post("/api/lint", data={**form, "csrftoken": token}).json()["problems"]
            if p["severity"] == "error"] == []


def test_lint_of_a_bad_field_names_its_line(client):
    form = _editor_form(client)
    form["valid_from"] = "2025-13-40"
    problems = client.post("/api/lint", data={**form, "csrftoken": _token(client)}).json()["problems"]
    [bad] = [p for p in problems if p["severity"] == "error"]
    assert bad["field"].startswith("valid") and bad["line"] > 0 and bad["body_line"] == 0


def test_spoken_form_for_a_commune_is_what_the_voice_reads(client):
    form = _editor_form(client)
    answer = client.post("/api/doc", data={**form, "locale": "lang-son/xa-chi-lang", "csrftoken": _token(client)})
    spoken = answer.json()["spoken"]
    assert "ủy ban nhân dân xã đề nghị" in spoken and "Xã Chi Lăng" in spoken and "một một ba" in spoken


def test_nghe_thu_plays_the_message_as_it_airs_and_again_at_once(client):
    form = {**_editor_form(client), "locale": "lang-son/xa-chi-lang", "csrftoken": _token(client)}
    first = client.post("/api/nghe-thu", data=form).json()
    assert first["cached"] is False and first["url"].endswith(".mp3")
    audio = client.get(first["url"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
    samples, rate = decode(audio.content)
    assert len(samples) / rate > 4.0  # the chime and the two sentences
    started = time.monotonic()
    second = client.post("/api/nghe-thu", data=form).json()
    assert second == {**second, "cached": True, "url": first["url"]}
    assert time.monotonic() - started < 1.0


def test_a_draft_is_read_heard_and_checked_for_the_week_it_would_air_in(client, monkeypatch):
    """Nghe thử read every script for next week, while an emergency bulletin airs at once, in the week on
    air: a bulletin naming its week's dates was heard with the wrong ones."""
    from datetime import date

    monkeypatch.setattr(app, "today_in", lambda timezone="": date(2026, 12, 2))  # 2026-W49 on air
    form = {**_editor_form(client), "locale": "lang-son/xa-chi-lang", "csrftoken": _token(client),
            "body": "Từ ngày {{ week.start.day }}, bà con cảnh giác với cuộc gọi lạ."}
    normal = client.post("/api/doc", data=form).json()
    assert normal["week"] == "2026-W50" and "từ ngày mùng bảy" in normal["spoken"].lower()
    form["level"] = "emergency"
    bulletin = client.post("/api/doc", data=form).json()
    assert bulletin["week"] == "2026-W49" and "từ ngày ba mươi" in bulletin["spoken"].lower()
    assert client.post("/api/nghe-thu", data=form).json()["week"] == "2026-W49"


# --- approval -----------------------------------------------------------------------------------


def test_approval_is_bound_to_the_content_and_the_build_airs_only_approved_scripts(tmp_path):
    root = _project(tmp_path, {"broadcast.yaml": MINIMAL["broadcast.yaml"] + "approval: required\n",
                               "scripts/thu-hai.yaml": SCRIPT.replace("id: canh-bao", "id: thu-hai")})
    client = _client(root)
    token = _token(client)
    sha = records.file_sha256(root / "scripts" / "canh-bao.yaml")
    refused = client.post("/kich-ban/canh-bao/duyet", data={"csrftoken": token, "decision": "rejected", "sha": sha})
    assert refused.status_code == 400 and "lý do" in refused.text
    ok = client.post("/kich-ban/canh-bao/duyet", data={"csrftoken": token, "decision": "approved", "sha": sha,
                                                      "comment": "Đúng công văn"})
    assert ok.status_code == 303
    assert "đã duyệt" in client.get("/kich-ban/canh-bao").text
    sheet = client.get("/kich-ban/canh-bao/phieu-duyet?locale=lang-son/xa-chi-lang").text
    assert "PHIẾU DUYỆT" in sheet and "máy này" in sheet and "ủy ban nhân dân xã" in sheet and "Cảnh báo thử" in sheet
    # the sheet's commune list offers every commune (it was empty: only a typed ?locale= reached another)
    assert '<option value="lang-son/xa-chi-lang" selected>Xã Chi Lăng</option>' in sheet

    result = app.open_workspace(root).build(app.Week.parse(WEEK))
    assert result.not_approved == ["thu-hai"]
    aired = {e.path for e in published(root / "output" / WEEK).values() if e.kind == "message"}
    assert any("canh-bao" in p for p in aired) and not any("thu-hai" in p for p in aired)
    manifest = json.loads((root / "output" / WEEK / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["not_approved"] == ["thu-hai"]

    # any later edit, even outside the studio, returns the script to draft
    path = root / "scripts" / "canh-bao.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Cảnh báo thử", "Cảnh báo thử sửa"), encoding="utf-8")
    assert "bản nháp" in client.get("/kich-ban/canh-bao").text
    assert app.open_workspace(root).build(app.Week.parse(WEEK)).not_approved == ["canh-bao", "thu-hai"]



def test_an_approved_script_says_which_files_it_is_read_with_changed_since(tmp_path):
    """An approval is of the script's bytes; the police number in a commune's file, a reading in the lexicon
    change what airs after it without a word to the approver, who saw 'đã duyệt'. The page says which."""
    import os

    root = _project(tmp_path, {"broadcast.yaml": MINIMAL["broadcast.yaml"] + "approval: required\n"})
    client = _client(root)
    sha = records.file_sha256(root / "scripts" / "canh-bao.yaml")
    assert client.post("/kich-ban/canh-bao/duyet", data={"csrftoken": _token(client), "decision": "approved",
                                                         "sha": sha}).status_code == 303
    page = client.get("/kich-ban/canh-bao").text
    assert "đã duyệt" in page and 'id="changed-since"' not in page
    with records.connect(root) as conn:
        approved_at = records.history(conn, "canh-bao")[0].at
    commune = root / "locales" / "lang-son" / "xa-chi-lang.yaml"
    commune.write_text(commune.read_text(encoding="utf-8").replace("113", "0205 3812 345"), encoding="utf-8")
    os.utime(commune, (approved_at + 60, approved_at + 60))
    said = re.search(r'<p class="warning" id="changed-since">(.*?)</p>', client.get("/kich-ban/canh-bao").text, re.S)
    assert said and "<code>locales/lang-son/xa-chi-lang.yaml</code>" in said.group(1), said
    assert "lexicon.yaml" not in said.group(1) and "có thể đã khác bản đã đọc khi duyệt" in said.group(1)

def test_the_build_airs_a_script_only_if_the_content_it_read_is_approved(tmp_path, monkeypatch):
    """The build read a draft, then checked the approval against the file as it was by then: put back to its
    approved text while the communes were read (an undo in a text editor, a git checkout), the draft aired,
    and the manifest called it approved."""
    from broadcast import project as project_stage

    root = _project(tmp_path, {"broadcast.yaml": MINIMAL["broadcast.yaml"] + "approval: required\n"})
    path = root / "scripts" / "canh-bao.yaml"
    with records.connect(root) as conn:
        records.decide(conn, "canh-bao", records.file_sha256(path), "approved", "duyet", "")
    approved = path.read_bytes()
    path.write_text(SCRIPT.replace("Cảnh báo thử", "Bản nháp chưa duyệt"), encoding="utf-8")
    read_locales = project_stage._read_locales

    def undone_meanwhile(*args, **kwargs):
        path.write_bytes(approved)  # the scripts are read; the communes are being read
        return read_locales(*args, **kwargs)

    monkeypatch.setattr(project_stage, "_read_locales", undone_meanwhile)
    result = app.open_workspace(root).build(app.Week.parse(WEEK))
    assert result.not_approved == ["canh-bao"] and result.count("message") == 0


def test_a_script_in_a_yml_file_is_opened_saved_and_approved_like_the_others(tmp_path):
    """The project reads scripts/x.yml; the studio listed it but looked only for x.yaml: its page said 'no such
    script', so under approval: required it could never be approved, and 'Tạo từ mẫu' with its id made a second
    file for one id, an error that stopped the whole project loading."""
    root = _project(tmp_path, {"broadcast.yaml": MINIMAL["broadcast.yaml"] + "approval: required\n"})
    path = root / "scripts" / "canh-bao.yml"
    (root / "scripts" / "canh-bao.yaml").rename(path)
    client = _client(root)
    token = _token(client)
    page = client.get("/kich-ban/canh-bao")
    assert page.status_code == 200 and "scripts/canh-bao.yml" in page.text
    form = _editor_form(client)
    form["title"] = "Cảnh báo thử sửa"
    assert client.post("/kich-ban/canh-bao", data={**form, "csrftoken": token}).status_code == 303
    assert "Cảnh báo thử sửa" in path.read_text(encoding="utf-8")
    assert client.post("/kich-ban/canh-bao/duyet", data={"csrftoken": token, "decision": "approved",
                                                         "sha": records.file_sha256(path)}).status_code == 303
    made = _answer(client, client.post("/kich-ban/moi", data={"csrftoken": token, "id": "canh-bao", "title": "Trùng"}))
    assert made.status_code == 400 and not (root / "scripts" / "canh-bao.yaml").exists()
    result = app.open_workspace(root).build(app.Week.parse(WEEK))
    assert result.not_approved == [] and result.count("message") == 1


def test_without_approval_required_everything_valid_airs(root):
    result = app.open_workspace(root).build(app.Week.parse(WEEK))
    assert result.not_approved == [] and result.count("message") == 1


def test_an_emergency_bulletin_is_issued_from_the_studio_once_approved(tmp_path, monkeypatch):
    """The studio had no way to issue an emergency bulletin: the editor wrote one, an approver approved it,
    and then someone had to open a terminal and type 'broadcast emergency'. Now an emergency script's page
    has 'Phát khẩn cấp ngay' (for every commune, a province or one commune), the same operation, its refusals
    and what to do next said in its box in the studio's terms (a page, not a command to type)."""
    from datetime import date

    monkeypatch.setattr(app, "today_in", lambda timezone="": date(2026, 12, 2))  # Wednesday of WEEK, on air
    bulletin = SCRIPT.replace("id: canh-bao", "id: bao-dong").replace("level: normal", "level: emergency").replace(
        "title: Cảnh báo thử", "title: \"Khẩn cấp: giả danh công an\"")
    root = _project(tmp_path, {"broadcast.yaml": MINIMAL["broadcast.yaml"] + "approval: required\n",
                               "scripts/bao-dong.yaml": bulletin,
                               "locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\n"})
    add_user(root, "van-hanh", "operator", "mat-khau-van-hanh")
    client = _client(root)
    token = _token(client)
    assert 'id="emergency"' not in client.get("/kich-ban/canh-bao").text  # only an emergency script has it
    page = client.get("/kich-ban/bao-dong").text
    assert 'action="/kich-ban/bao-dong/phat-khan-cap"' in page and "tuần đang phát (2026-W49)" in page
    assert '<option value="tinh:lang-son">cả tỉnh Lạng Sơn</option>' in page  # a province by its name
    sha = records.file_sha256(root / "scripts" / "bao-dong.yaml")
    khan_cap = root / "output" / WEEK / "lang-son" / "xa-chi-lang" / "KHAN-CAP_bao-dong.mp3"

    def issue(where: str = "", **extra: str):
        return _answer(client, client.post("/kich-ban/bao-dong/phat-khan-cap",
                                           data={"csrftoken": token, "sha": sha, "where": where, **extra}))

    app.open_workspace(root).build(app.Week.parse(WEEK))  # as a draft, the bulletin is not in the week
    app.open_workspace(root).build(app.Week.parse("2026-W50"))  # next week is built too, before the bulletin
    refused = issue()
    box = re.search(r'<section id="khan-cap">.*?</section>', refused.text, re.S).group()
    assert refused.status_code == 400 and 'id="emergency-error"' in box and "chưa được duyệt" in box
    assert not khan_cap.exists()  # nothing airs that no approver read
    assert client.post("/kich-ban/bao-dong/duyet", data={"csrftoken": token, "decision": "approved", "sha": sha}
                       ).status_code == 303
    (root / "output" / WEEK).rename(root / "output" / "tam")
    unpublished = issue()  # the week on air not built: which page to use, not which command to type
    box = re.search(r'<section id="khan-cap">.*?</section>', unpublished.text, re.S).group()
    assert unpublished.status_code == 400 and "tuần 2026-W49 chưa được phát hành" in box
    assert "trang Dựng tuần, tuần 2026-W49" in box and "broadcast build" not in box
    (root / "output" / "tam").rename(root / "output" / WEEK)
    assert issue(sha="0" * 64).status_code == 409 and not khan_cap.exists()  # the page read is not the file
    assert issue(sha="").status_code == 409 and not khan_cap.exists()  # nor is no page at all
    done = issue("lang-son/xa-chi-lang")
    box = re.search(r'<section id="khan-cap">.*?</section>', done.text, re.S).group()
    assert done.status_code == 200, box
    assert "Đã phát hành tin khẩn cấp vào tuần 2026-W49 cho 1 xã" in box
    assert f'href="/tuan/{WEEK}?xa=lang-son/xa-chi-lang"' in box
    assert "tuần 2026-W50 đã dựng trước khi có tin này" in box and "trang Dựng tuần, tuần 2026-W50" in box
    assert "broadcast build" not in box
    samples, rate = decode(khan_cap)
    assert len(samples) > 2 * rate  # the bulletin, read aloud
    assert not (root / "output" / WEEK / "lang-son" / "xa-huu-lung" / "KHAN-CAP_bao-dong.mp3").exists()
    with records.connect(root) as conn:
        assert any(e.action == "emergency" and sha in e.detail for e in records.audit(conn, limit=10))

    network = _client(root, local=False)
    _login(network, "van-hanh")  # an operator reads and downloads, and issues nothing
    assert network.post("/kich-ban/bao-dong/phat-khan-cap", data={"csrftoken": _token(network), "sha": sha}
                        ).status_code == 403


def test_an_emergency_bulletin_published_but_not_logged_says_it_was_published(tmp_path, monkeypatch):
    """The bulletin was published, then its log row refused (the database read-only, or the disk full): the
    page was 'Không làm được', 503, 'đã ghi scripts/bao-dong.yaml' (not what happened), and the operator,
    told nothing aired, pressed again. It says the bulletin went out, and that the log lacks it."""
    from datetime import date

    monkeypatch.setattr(app, "today_in", lambda timezone="": date(2026, 12, 2))  # Wednesday of WEEK, on air
    bulletin = SCRIPT.replace("id: canh-bao", "id: bao-dong").replace("level: normal", "level: emergency")
    root = _project(tmp_path, {"scripts/bao-dong.yaml": bulletin})
    client = _client(root)
    token = _token(client)
    sha = records.file_sha256(root / "scripts" / "bao-dong.yaml")
    app.open_workspace(root).build(app.Week.parse(WEEK))
    _database(monkeypatch, "PRAGMA query_only = ON")
    done = _answer(client, client.post("/kich-ban/bao-dong/phat-khan-cap",
                                       data={"csrftoken": token, "sha": sha, "where": "lang-son/xa-chi-lang"}))
    assert (root / "output" / WEEK / "lang-son" / "xa-chi-lang" / "KHAN-CAP_bao-dong.mp3").is_file()
    box = re.search(r'<section id="khan-cap">.*?</section>', done.text, re.S)
    assert done.status_code == 200 and box, done.text
    assert "Đã phát hành tin khẩn cấp vào tuần 2026-W49 cho 1 xã" in box.group()
    assert "Nhật ký" in box.group() and "studio.db" in box.group() and "chỉ đọc" in box.group()



def test_an_emergency_bulletin_saved_again_while_it_is_issued_is_not_published(tmp_path, monkeypatch):
    """The page's version was checked, then the bulletin was read for publishing: a save in between (another
    editor, a text editor) aired text nobody issuing it had read, without approval: required to stop it."""
    from datetime import date

    monkeypatch.setattr(app, "today_in", lambda timezone="": date(2026, 12, 2))  # Wednesday of WEEK, on air
    bulletin = SCRIPT.replace("id: canh-bao", "id: bao-dong").replace("level: normal", "level: emergency")
    root = _project(tmp_path, {"scripts/bao-dong.yaml": bulletin})
    client = _client(root)
    token = _token(client)
    file = root / "scripts" / "bao-dong.yaml"
    sha = records.file_sha256(file)
    app.open_workspace(root).build(app.Week.parse(WEEK))
    khan_cap = root / "output" / WEEK / "lang-son" / "xa-chi-lang" / "KHAN-CAP_bao-dong.mp3"
    aired = khan_cap.read_bytes()  # the week's build put the bulletin as it was read then
    opened = app.open_workspace

    def saved_meanwhile(folder):
        file.write_text(bulletin.replace("UBND xã đề nghị", "Một câu chưa ai đọc:"), encoding="utf-8")
        return opened(folder)

    monkeypatch.setattr(app, "open_workspace", saved_meanwhile)
    refused = _answer(client, client.post("/kich-ban/bao-dong/phat-khan-cap", data={
        "csrftoken": token, "sha": sha, "where": "lang-son/xa-chi-lang"}))
    box = re.search(r'<section id="khan-cap">.*?</section>', refused.text, re.S)
    assert refused.status_code == 400 and box, refused.text[:2000]
    assert "Chưa phát" in box.group() and "vừa được sửa sau khi bạn mở trang" in box.group()
    assert khan_cap.read_bytes() == aired
    assert "Một câu chưa ai đọc" in refused.text  # the page now shows the version on disk, to be read

# --- accounts, roles, CSRF ----------------------------------------------------------------------


@pytest.fixture
def network(root: Path) -> tuple[Path, TestClient]:
    for name, role in (("bien-tap", "editor"), ("duyet", "approver"), ("van-hanh", "operator")):
        add_user(root, name, role, f"mat-khau-{name}")
    return root, _client(root, local=False)


def _login(client: TestClient, name: str) -> None:
    token = _token(client, "/dang-nhap")
    response = client.post("/dang-nhap", data={"csrftoken": token, "name": name, "password": f"mat-khau-{name}"})
    assert response.status_code == 303, response.text
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")


def test_on_the_network_every_page_needs_a_login(network):
    _, client = network
    for page in ("/kich-ban", "/kich-ban/canh-bao", "/xa", "/nhat-ky", f"/tuan/{WEEK}"):
        response = client.get(page)
        assert response.status_code == 303 and response.headers["location"].startswith("/dang-nhap")


def test_roles_an_editor_cannot_approve_an_operator_cannot_edit(network):
    root, client = network
    sha = records.file_sha256(root / "scripts" / "canh-bao.yaml")
    _login(client, "bien-tap")
    token = _token(client)
    assert client.post("/kich-ban/canh-bao/duyet", data={"csrftoken": token, "decision": "approved",
                                                         "sha": sha}).status_code == 403
    form = _editor_form(client)
    form["title"] = "Sửa bởi biên tập viên"
    assert client.post("/kich-ban/canh-bao", data={**form, "csrftoken": token}).status_code == 303

    operator = _client(root, local=False)
    _login(operator, "van-hanh")
    token = _token(operator)
    form = _editor_form(operator)
    form["title"] = "Sửa bởi người vận hành"
    assert operator.post("/kich-ban/canh-bao", data={**form, "csrftoken": token}).status_code == 403
    assert operator.post("/kich-ban/moi", data={"csrftoken": token, "id": "x", "title": "x"}).status_code == 403
    assert "Sửa bởi biên tập viên" in (root / "scripts" / "canh-bao.yaml").read_text(encoding="utf-8")

    approver = _client(root, local=False)
    _login(approver, "duyet")
    sha = records.file_sha256(root / "scripts" / "canh-bao.yaml")
    assert approver.post("/kich-ban/canh-bao/duyet", data={"csrftoken": _token(approver), "decision": "approved",
                                                           "sha": sha}).status_code == 303
    with records.connect(root) as conn:
        [decision] = records.history(conn, "canh-bao")
        logged = records.audit(conn)[0]
    assert (decision.user, decision.decision, decision.sha256) == ("duyet", "approved", sha)
    # the append-only log names the version approved, not only the script
    assert (logged.user, logged.action, logged.target) == ("duyet", "approve", "canh-bao") and sha in logged.detail


def test_state_changing_requests_without_or_with_a_wrong_csrf_token_are_refused(client, root):
    _token(client)  # the cookie is set
    form = _editor_form(client)
    form["title"] = "Tấn công"
    assert client.post("/kich-ban/canh-bao", data=form).status_code == 403
    assert client.post("/kich-ban/canh-bao", data={**form, "csrftoken": "sai"}).status_code == 403
    stranger = _client(root)  # no cookie at all: a page on another site posting to 127.0.0.1
    assert stranger.post("/kich-ban/moi", data={"id": "x", "title": "x"}).status_code == 403
    assert stranger.post("/api/lint", data=form).status_code == 403
    assert "Tấn công" not in (root / "scripts" / "canh-bao.yaml").read_text(encoding="utf-8")


def test_login_attempts_are_limited(network):
    root, client = network
    token = _token(client, "/dang-nhap")
    for _ in range(5):
        wrong = client.post("/dang-nhap", data={"csrftoken": token, "name": "duyet", "password": "sai-mat-khau"})
        assert wrong.status_code == 401
    right = client.post("/dang-nhap", data={"csrftoken": token, "name": "duyet", "password": "mat-khau-duyet"})
    assert right.status_code == 401 and "15 phút" in right.text


def test_a_login_with_a_huge_name_stores_no_more_than_a_short_one(network):
    """Names of 2 MB (the most a form may send) were stored whole for each failed guess: a stranger on the
    network could fill the studio's disk, 5 guesses an address every 15 minutes, each kept a day."""
    root, client = network
    token = _token(client, "/dang-nhap")
    for _ in range(3):
        wrong = client.post("/dang-nhap", data={"csrftoken": token, "name": "x" * 1_500_000, "password": "sai"})
        assert wrong.status_code == 401
    with sqlite3.connect(records.path(root)) as db:
        stored = db.execute("SELECT COUNT(*), SUM(LENGTH(key)) FROM login_failures").fetchone()
    assert stored[0] == 6 and stored[1] < 1_000


def test_login_guesses_sent_at_once_are_limited_too(network, monkeypatch):
    """Ten guesses in parallel each passed the check before any failure was counted: all ten were tried."""
    import threading

    from argon2.exceptions import VerifyMismatchError

    from broadcast.studio import auth

    root, _ = network
    tried: list[str] = []
    real = auth._hasher

    class Slow:
        def verify(self, hash_: str, password: str) -> bool:
            tried.append(password)
            time.sleep(0.3)  # Argon2's work, long enough for the others to arrive meanwhile
            raise VerifyMismatchError

        def __getattr__(self, name: str):
            return getattr(real, name)
    monkeypatch.setattr(auth, "_hasher", Slow())
    results: list[str | None] = []
    threads = [threading.Thread(target=lambda n=n: results.append(auth.login(root, "duyet", f"doan-{n}", "10.0.0.9")))
               for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [None] * 10
    assert len(tried) == auth.MAX_FAILURES
    assert auth.too_many_attempts(root, "duyet", "10.0.0.9")


def test_a_wrong_name_costs_the_same_argon2_work_as_a_wrong_password(network, monkeypatch):
    """An unknown name answered in 5 ms, a known one after Argon2 (125 ms): the names could be listed."""
    from broadcast.studio import auth

    root, _ = network
    verified: list[str] = []
    real = auth._hasher

    class Counting:
        def verify(self, hash_: str, password: str) -> bool:
            verified.append(hash_)
            return real.verify(hash_, password)

        def __getattr__(self, name: str):
            return getattr(real, name)
    monkeypatch.setattr(auth, "_hasher", Counting())
    for name in ("duyet", "khong-co-ai"):
        assert auth.login(root, name, "sai-mat-khau", "10.0.0.1") is None
    assert len(verified) == 2 and all(h.startswith("$argon2id$") for h in verified)
    assert verified[0] != verified[1]  # the account's hash, then a hash no password matches


def test_a_password_reset_or_a_removed_account_logs_its_sessions_out(network):
    root, client = network
    _login(client, "bien-tap")
    assert client.get("/kich-ban").status_code == 200
    add_user(root, "bien-tap", "editor", "mat-khau-moi-123")  # reset: whoever knew the old one is out
    assert client.get("/kich-ban").status_code == 303
    other = _client(root, local=False)
    _login(other, "duyet")
    removed = run_cli("studio", "user", "remove", "duyet", "--project", str(root))
    assert removed.exit_code == 0, removed.output
    assert other.get("/kich-ban").status_code == 303
    again = run_cli("studio", "user", "remove", "duyet", "--project", str(root))
    assert again.exit_code == 2 and "không có tài khoản" in again.output
    assert "duyet" not in run_cli("studio", "user", "list", "--project", str(root)).output


def test_a_session_ends_a_week_after_its_login_however_busy(network, monkeypatch):
    from broadcast.studio import auth

    root, client = network
    _login(client, "van-hanh")
    assert client.get("/kich-ban").status_code == 200
    later = time.time() + auth.SESSION_LIFE + 60
    monkeypatch.setattr(time, "time", lambda: later)  # used every hour meanwhile: never idle
    with records.connect(root) as conn:
        conn.execute("UPDATE sessions SET seen = ?", (later,))
    assert client.get("/kich-ban").status_code == 303


def test_the_studio_refuses_the_network_until_an_account_exists(root):
    from broadcast.studio import serve

    announced: list[str] = []
    with pytest.raises(UsageError) as refused:
        serve(root, "0.0.0.0", 8999, False, announced.append)
    assert "tài khoản" in refused.value.message and "studio user add" in refused.value.fix
    assert announced == []  # "Studio: http://0.0.0.0:8999/" was printed before the refusal
    assert not (root / ".studio").exists()  # and asking for accounts made the studio's folder


def test_passwords_are_stored_hashed_and_sessions_by_hash(network):
    root, client = network
    _login(client, "duyet")
    db = sqlite3.connect(records.path(root))
    hashes = [h for (h,) in db.execute("SELECT password_hash FROM users")]
    assert all(h.startswith("$argon2") for h in hashes) and not any("mat-khau" in h for h in hashes)
    token = client.cookies.get("broadcast_studio")
    assert token and not db.execute("SELECT 1 FROM sessions WHERE token_hash = ?", (token,)).fetchone()


# --- paths and escaping ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/kich-ban/..%2F..%2Fbroadcast", "/kich-ban/%2E%2E", "/kich-ban/CANH-BAO",
                                 "/xa/..%2F..%2Fetc/passwd", f"/tuan/{WEEK}/tep/..%2F..%2Fbroadcast.yaml",
                                 "/tuan/..%2F..%2F/lang-son/xa-chi-lang.zip", "/nghe-thu/..%2Fsecret",
                                 "/kich-ban/canh-bao/phieu-duyet?locale=..%2F..%2Fx"])
def test_names_in_urls_never_reach_outside_the_project(client, url):
    response = client.get(url)
    assert response.status_code in (400, 404), (url, response.status_code)
    assert "signing" not in response.text and "broadcast.yaml" not in response.text.split("<main>")[-1][:0]


def test_restore_refuses_names_outside_the_trash(client, root):
    token = _token(client)
    response = client.post("/thung-rac/..%2F..%2Fbroadcast.yaml/khoi-phuc", data={"csrftoken": token})
    assert response.status_code in (400, 404)
    assert (root / "broadcast.yaml").is_file()


def test_hostile_titles_and_bodies_are_escaped(tmp_path):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    root = _project(tmp_path, {"scripts/canh-bao.yaml": SCRIPT.replace("title: Cảnh báo thử", f"title: '{hostile}'")
                               .replace("Kính thưa", f"{hostile} Kính thưa")})
    client = _client(root)
    for page in ("/kich-ban", "/kich-ban/canh-bao", "/kich-ban/canh-bao/phieu-duyet", f"/lich-tuan?week={WEEK}"):
        html = client.get(page).text
        assert "<script>alert" not in html and "<img src=x" not in html, page
        assert "&lt;script&gt;" in html, page


def test_oversized_requests_are_refused(client, root):
    form = _editor_form(client)
    form["body"] = "Kính thưa bà con. " * 200_000
    response = client.post("/kich-ban/canh-bao", data={**form, "csrftoken": _token(client)})
    assert response.status_code == 413 and "quá lớn" in response.text
    assert (root / "scripts" / "canh-bao.yaml").read_text(encoding="utf-8") == SCRIPT


def _streamed(root: Path, path: str, headers: list[tuple[bytes, bytes]], megabytes: int) -> tuple[int, int]:
    """POST `megabytes` of body in 1 MB chunks with no length, driven as a server drives the app
    (the test client reads a body whole before sending it): (the status, bytes the app took)."""
    import asyncio

    received, sent = 0, []

    async def receive():
        nonlocal received
        received += 1_000_000
        return {"type": "http.request", "body": b"a" * 1_000_000, "more_body": received < megabytes * 1_000_000}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "scheme": "http", "http_version": "1.1", "server": ("127.0.0.1", 8765),
             "client": ("10.0.0.9", 50000), "headers": headers}
    asyncio.run(create_app(root, local=False)(scope, receive, send))
    return sent[0]["status"], received


def test_a_body_sent_without_its_length_is_cut_off_at_the_limit_before_anything_reads_it(root):
    # the CSRF layer used to read all of it into memory, before anyone logged in
    status, received = _streamed(root, "/dang-nhap", [(b"host", b"127.0.0.1:8765"),
                                                      (b"content-type", b"application/x-www-form-urlencoded")], 400)
    assert status == 413
    assert received <= 3_000_000  # stopped just past the 2 MB a form may be


def test_an_upload_from_someone_not_logged_in_is_refused_before_its_body_is_read(root):
    """A stranger on the network could make the studio hold a 50 MB upload per connection."""
    add_user(root, "lan", "editor", "mat-khau-dai-du-12")
    csrf = _token(_client(root, local=False), "/dang-nhap")  # anyone gets a CSRF cookie from the login page
    status, received = _streamed(root, "/ghi-am", [
        (b"host", b"10.0.0.2:8765"), (b"content-type", b"multipart/form-data; boundary=x"),
        (b"x-csrftoken", csrf.encode()), (b"cookie", f"csrftoken={csrf}".encode())], 45)
    assert status == 403 and received == 0


def test_a_form_that_is_not_utf8_is_a_clear_refusal(client):
    response = client.post("/kich-ban/moi", content=b"id=\xff\xfe&title=x",
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400 and "UTF-8" in response.text


def test_the_local_studio_answers_only_to_a_local_name_and_local_pages(root):
    """DNS rebinding: a page on attacker.example points its name at 127.0.0.1 and, same-origin to
    itself, reads the page (and its CSRF token) and posts forms: the studio has no login locally."""
    client = _client(root)
    token = _token(client)
    for host in ("attacker.example:8765", "attacker.example", "127.0.0.1.attacker.example:8765"):
        assert client.get("/kich-ban", headers={"host": host}).status_code == 403
        made = client.post("/kich-ban/moi", data={"csrftoken": token, "id": "rebind", "title": "x"},
                           headers={"host": host, "origin": f"http://{host}"})
        assert made.status_code == 403
    for origin in ("http://attacker.example:8765", "null"):
        made = client.post("/kich-ban/moi", data={"csrftoken": token, "id": "rebind", "title": "x"},
                           headers={"origin": origin})
        assert made.status_code == 403
    assert not (root / "scripts" / "rebind.yaml").exists()
    for host in ("localhost:8765", "[::1]:8765", "127.0.0.1", "LOCALHOST:8765"):
        assert client.get("/kich-ban", headers={"host": host}).status_code == 200
    made = client.post("/kich-ban/moi", data={"csrftoken": token, "id": "local", "title": "x"},
                       headers={"origin": "http://127.0.0.1:8765"})
    assert made.status_code == 303 and (root / "scripts" / "local.yaml").exists()
    # on the network the studio has logins and may sit behind a proxy with its own name
    add_user(root, "lan", "editor", "mat-khau-dai-du-12")
    network = _client(root, local=False)
    assert network.get("/dang-nhap", headers={"host": "studio.xa-chi-lang.vn"}).status_code == 200


# --- communes, lexicon, audit ----------------------------------------------------------------------


def test_communes_search_and_paging(tmp_path):
    files: dict[str, str | bytes | None] = {}
    for i in range(120):
        files[f"locales/lang-son/xa-thu-{i:03}.yaml"] = f"name: Xã Thử {i:03}\ncode: '{10000 + i}'\n"
    client = _client(_project(tmp_path, files))
    first = client.get("/xa").text
    assert "121 xã, phường" in first and "trang 1/3" in first and first.count('<tr><td><a href="/xa/') == 50
    last = client.get("/xa?trang=3").text
    assert last.count('<tr><td><a href="/xa/') == 21
    found = client.get("/xa?q=thử 07").text
    assert found.count('<tr><td><a href="/xa/') == 10  # 070..079


def test_commune_form_changes_only_what_it_shows(tmp_path):
    """Clearing the police fields deleted every contact (fire too, which the form does not show); a number
    variable came back as text ('12'); a variable name the project accepts made the save a 400."""
    commune = ("name: Xã Chi Lăng\ncode: '06463'\ncontacts:\n  police: {name: Công an xã, phone: '113'}\n"
               "  fire: {name: Cứu hỏa, phone: '114'}\nvars:\n  to_dan_pho: 12\n  Dia_chi: thôn Bản Lăng\n")
    root = _project(tmp_path, {"locales/lang-son/xa-chi-lang.yaml": commune})
    client = _client(root)
    path = root / "locales" / "lang-son" / "xa-chi-lang.yaml"
    html = client.get("/xa/lang-son/xa-chi-lang").text
    sha = re.search(r'name="sha" value="([^"]+)"', html).group(1)
    form = {"csrftoken": _token(client), "sha": sha, "name": "Xã Chi Lăng", "station": "",
            "police_name": "", "police_phone": "", "var_key_0": "to_dan_pho", "var_value_0": "12",
            "var_key_1": "Dia_chi", "var_value_1": "thôn Bản Lăng"}
    saved = client.post("/xa/lang-son/xa-chi-lang", data=form)
    assert saved.status_code == 303, saved.text[:500]
    text = path.read_text(encoding="utf-8")
    assert "fire: {name: Cứu hỏa, phone: '114'}" in text and "police" not in text
    assert "to_dan_pho: 12\n" in text and "Dia_chi: thôn Bản Lăng" in text
    sha = re.search(r'name="sha" value="([^"]+)"', client.get("/xa/lang-son/xa-chi-lang").text).group(1)
    bad = _answer(client, client.post("/xa/lang-son/xa-chi-lang", data={**form, "sha": sha, "var_key_2": "2 tổ",
                                                                        "var_value_2": "x"}))
    assert bad.status_code == 400 and "tên biến '2 tổ' không dùng được" in _unescape(bad.text)
    assert 'value="thôn Bản Lăng"' in bad.text and path.read_text(encoding="utf-8") == text


def test_commune_form_keeps_lists_dates_and_mappings_as_written(tmp_path):
    """A list variable was shown as its Python text and saved back as that text (a template's loop then
    read it letter by letter), a date came back as text ('|ngay' failed), and the text of a list named
    by aliases ran to gigabytes in the page."""
    commune = ("name: Xã Chi Lăng\ncode: '06463'\nvars:\n  thon: [Thôn Nà Pậu, Thôn Bản Chang]\n"
               "  han: 2025-01-31\n  nhom: {a: 1}\n  s: &s " + "x" * 3_000 + "\n  lap:\n" + "    - *s\n" * 2_000)
    root = _project(tmp_path, {"locales/lang-son/xa-chi-lang.yaml": commune})
    client = _client(root)
    path = root / "locales" / "lang-son" / "xa-chi-lang.yaml"
    html = client.get("/xa/lang-son/xa-chi-lang").text
    assert len(html) < 5 * len(commune)  # the list of 2,000 aliases of 3 KB is not written out (6 MB)
    shown = {m[1]: _unescape(m[2]) for m in re.finditer(r'name="(var_(?:key|value)_\d+)" value="([^"]*)"', html)}
    assert "(danh sách 2 mục: sửa trong tệp)" in shown.values() and "2025-01-31" in shown.values()
    sha = re.search(r'name="sha" value="([^"]+)"', html).group(1)
    form = {"csrftoken": _token(client), "sha": sha, "name": "Xã Chi Lăng", "station": "Đài xã Chi Lăng",
            "police_name": "", "police_phone": "", **shown}
    saved = client.post("/xa/lang-son/xa-chi-lang", data=form)
    assert saved.status_code == 303, saved.text[:500]
    text = path.read_text(encoding="utf-8")
    assert "station: Đài xã Chi Lăng" in text
    assert "vars:" + commune.split("vars:")[1] in text


def test_commune_form_checks_phone_numbers_like_lint_and_keeps_the_file_until_clean(client, root):
    path = root / "locales" / "lang-son" / "xa-chi-lang.yaml"
    before = path.read_text(encoding="utf-8")
    html = client.get("/xa/lang-son/xa-chi-lang").text
    sha = re.search(r'name="sha" value="([^"]+)"', html).group(1)
    token = _token(client)
    form = {"csrftoken": token, "sha": sha, "name": "Xã Chi Lăng", "station": "Đài truyền thanh xã Chi Lăng",
            "police_name": "Công an xã Chi Lăng", "police_phone": "0205 38"}
    bad = _answer(client, client.post("/xa/lang-son/xa-chi-lang", data=form))
    assert bad.status_code == 400 and "0205 38" in bad.text and "quy hoạch" in bad.text
    assert path.read_text(encoding="utf-8") == before
    good = client.post("/xa/lang-son/xa-chi-lang", data={**form, "police_phone": "0205 3870 222"})
    assert good.status_code == 303
    after = path.read_text(encoding="utf-8")
    assert "station: Đài truyền thanh xã Chi Lăng" in after and "0205 3870 222" in after
    assert after.startswith("name: Xã Chi Lăng\ncode: \"06463\"")  # untouched lines as written


def test_lexicon_entry_saved_in_place_and_bad_readings_refused(client, root):
    # a reading for one voice names a voice of the project: the page knows the project's voices
    (root / "lexicon.yaml").write_text("# từ điển của dự án\nwords:\n  Zalo: da lô  # mạng xã hội\n"
                                       "  Viber: {espeak-vi: vai bơ}\n", encoding="utf-8")
    html = client.get("/tu-dien").text
    sha = re.search(r'name="sha" value="([^"]+)"', html).group(1)
    token = _token(client)
    saved = client.post("/tu-dien", data={"csrftoken": token, "sha": sha, "section": "abbreviations",
                                          "key": "BQLDA", "reading": "ban quản lý dự án"})
    assert saved.status_code == 303
    text = (root / "lexicon.yaml").read_text(encoding="utf-8")
    assert text.startswith("# từ điển của dự án\nwords:\n  Zalo: da lô  # mạng xã hội\n  Viber: {espeak-vi: vai bơ}\n")
    assert "BQLDA: ban quản lý dự án" in text
    sha = re.search(r'name="sha" value="([^"]+)"', client.get("/tu-dien").text).group(1)
    bad = _answer(client, client.post("/tu-dien", data={"csrftoken": token, "sha": sha, "section": "words",
                                                        "key": "ABC", "reading": "a 1 2"}))
    assert bad.status_code == 400 and "chữ số" in bad.text


def test_a_dictionary_entry_is_one_entry_whatever_its_case_or_its_unicode_form(client, root):
    import unicodedata

    (root / "lexicon.yaml").write_text("words:\n  Zalo: da lô\n  Viber:\n    espeak-vi: vai bơ\n", encoding="utf-8")
    token = _token(client, "/tu-dien")

    def save(section: str, key: str, reading: str):
        sha = re.search(r'name="sha" value="([^"]+)"', client.get("/tu-dien").text).group(1)
        return client.post("/tu-dien", data={"csrftoken": token, "sha": sha, "section": section, "key": key,
                                             "reading": reading})
    assert save("words", "zalo", "da lô ơi").status_code == 303  # the entry Zalo, not a second one
    assert save("words", unicodedata.normalize("NFD", "Mạng Xã Hội"), "mạng xã hội").status_code == 303
    text = (root / "lexicon.yaml").read_text(encoding="utf-8")
    assert "Zalo: da lô ơi" in text and "zalo" not in text
    assert unicodedata.normalize("NFD", "Mạng Xã Hội") not in text and "Mạng Xã Hội: mạng xã hội" in text
    page = client.get("/tu-dien").text
    assert "vai bơ <small>(espeak-vi)</small>" in page  # a reading per voice shown as such, not as Python
    refused = _answer(client, save("words", "Viber", "vai bờ"))  # it would drop the reading given per voice
    assert refused.status_code == 400 and "cách đọc riêng cho từng giọng" in refused.text
    assert 'value="vai bờ"' in refused.text  # what was typed is still in the form
    assert "espeak-vi: vai bơ" in (root / "lexicon.yaml").read_text(encoding="utf-8")


def test_every_save_is_in_the_audit_log_with_its_diff_and_the_log_cannot_be_edited(client, root):
    form = _editor_form(client)
    form["title"] = "Tiêu đề mới"
    client.post("/kich-ban/canh-bao", data={**form, "csrftoken": _token(client)})
    with records.connect(root) as conn:
        [entry] = [e for e in records.audit(conn) if e.action == "save"]
    assert entry.target == "scripts/canh-bao.yaml" and entry.user == "máy này"
    assert "-title: Cảnh báo thử\n+title: Tiêu đề mới" in entry.detail
    assert "Tiêu đề mới" in client.get("/nhat-ky").text
    db = sqlite3.connect(records.path(root))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET user = 'ai đó'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")


def test_the_database_schema_is_versioned_and_migrated_once(root):
    assert records.schema_version(root) == len(records.MIGRATIONS)
    assert records.schema_version(root) == len(records.MIGRATIONS)  # opening again changes nothing


def test_two_processes_opening_a_new_database_at_once_migrate_it_once(tmp_path, monkeypatch):
    """Two studios (or a studio and a build) started together on a new project: both read version 0 and
    both ran the first migration; the second failed 'table users already exists', with the advice to
    rename the database."""
    import threading

    class Slow(sqlite3.Connection):
        def executescript(self, script):  # the first migration takes a moment: both have read version 0
            time.sleep(0.5)
            return super().executescript(script)

    real = sqlite3.connect
    monkeypatch.setattr(records.sqlite3, "connect", lambda *a, **k: real(*a, **k, factory=Slow))
    root = tmp_path / "p"
    root.mkdir()
    failures: list[BaseException] = []

    def open_it() -> None:
        try:
            with records.connect(root):
                pass
        except BaseException as error:  # collected for the assertion
            failures.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []
    assert records.schema_version(root) == len(records.MIGRATIONS)


# --- building from the studio ---------------------------------------------------------------------------


def test_build_from_the_studio_streams_progress_then_browse_and_download(client, root):
    token = _token(client)
    started = client.post("/dung-tuan", data={"csrftoken": token, "week": WEEK})
    assert started.status_code == 303
    with client.stream("GET", "/dung-tuan/su-kien") as stream:
        body = "".join(stream.iter_text())
    events = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: {\"stage")]
    assert {e["stage"] for e in events} >= {"speak", "synthesise", "master", "plan", "programs", "publish"}
    assert any(e["kind"] == "progress" for e in events)
    done = json.loads(body.split("event: done\ndata: ")[1].split("\n")[0])
    assert done["week"] == WEEK and done["messages"] == 1 and done["failures"] == []

    page = client.get(f"/tuan/{WEEK}").text
    [message] = re.findall(r'<audio controls preload="none" src="(/tuan/[^"]+\.mp3)"', page)[:1]
    for url in (f"/tuan/{WEEK}", "/kich-ban/canh-bao", "/tu-dien"):  # a screen reader names each player
        players = list(html5lib.parse(client.get(url).text, namespaceHTMLElements=False).iter("audio"))
        assert players and all((a.get("aria-label") or "").strip() for a in players), url
    assert 'aria-label="Nghe canh-bao.mp3"' in page  # which file, in a list of many players
    heard = client.get(message)
    assert heard.headers["content-type"] == "audio/mpeg"
    assert "no-cache" in heard.headers["cache-control"]  # a rebuild replaces it under the same address
    bundle = client.get(f"/tuan/{WEEK}/lang-son/xa-chi-lang.zip")
    assert bundle.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()
    on_disk = sorted(p.relative_to(root / "output" / WEEK / "lang-son").as_posix()
                     for p in (root / "output" / WEEK / "lang-son" / "xa-chi-lang").rglob("*") if p.is_file())
    assert sorted(names) == on_disk
    assert not list((root / ".studio").glob("tai-ve-*.zip"))  # made on disk to send, gone once sent
    for not_a_commune in (f"/tuan/{WEEK}/./..zip", f"/tuan/{WEEK}/lang-son/..zip", f"/tuan/{WEEK}/lang-son/...zip"):
        assert client.get(not_a_commune).status_code == 404, not_a_commune  # the week or a province, zipped
    with records.connect(root) as conn:
        assert any(e.action == "build" and e.target == WEEK for e in records.audit(conn))


@pytest.mark.parametrize("damaged", ['{"schema": 1, "files": [', "[]", '{"schema": 0, "files": [1]}'])
def test_a_published_week_whose_manifest_is_damaged_is_a_page_saying_how_to_mend_it(root, damaged):
    """Cut short or of another schema, manifest.json was read by hand: a bare 'Internal Server Error'."""
    (root / "output" / WEEK).mkdir(parents=True)
    (root / "output" / WEEK / "manifest.json").write_text(damaged, encoding="utf-8")
    client = TestClient(create_app(root), base_url="http://127.0.0.1:8765", raise_server_exceptions=False)
    page = client.get(f"/tuan/{WEEK}")
    assert page.status_code == 400 and "Kịch bản" in page.text  # the studio's page, its menu
    said = _unescape(page.text)
    assert "không đọc được manifest.json" in said and "dựng tuần đó ở trang Dựng tuần" in said
    assert "broadcast build" not in said  # the page to use, not a command to type


def test_a_studio_build_names_the_station_bundles_it_made_out_of_date(client, root):
    workspace = app.open_workspace(root)
    assert workspace.build(app.Week.parse(WEEK)).exit_code == 0
    [made] = workspace.bundle(app.Week.parse(WEEK))
    script = root / "scripts" / "canh-bao.yaml"
    script.write_text(script.read_text(encoding="utf-8").replace("Cảnh báo thử", "Cảnh báo thử mới"), encoding="utf-8")
    assert client.post("/dung-tuan", data={"csrftoken": _token(client), "week": WEEK}).status_code == 303
    with client.stream("GET", "/dung-tuan/su-kien") as stream:
        body = "".join(stream.iter_text())
    done = json.loads(body.split("event: done\ndata: ")[1].split("\n")[0])
    assert done["failures"] == [] and not made.path.exists()
    assert any("đóng gói lại" in w and "lang-son/xa-chi-lang" in w for w in done["warnings"]), done["warnings"]


def test_a_build_that_stops_says_what_to_do_in_the_studio_and_is_in_the_log(client, root):
    """A script made from the starter (its source still <<CẦN ĐIỀN>>) stops the build: the page told
    studio staff to run a command-line option, and the log kept only the builds that published."""
    token = _token(client)
    assert client.post("/kich-ban/moi", data={"csrftoken": token, "id": "moi", "title": "Mới"}).status_code == 303
    assert client.post("/dung-tuan", data={"csrftoken": token, "week": WEEK}).status_code == 303
    with client.stream("GET", "/dung-tuan/su-kien") as stream:
        body = "".join(stream.iter_text())
    assert "CẦN ĐIỀN" in body and "--allow-placeholders" not in body and "trang Xã của studio" in body
    with records.connect(root) as conn:
        assert any(e.action == "build" and e.target == WEEK and "không dựng được" in e.detail
                   for e in records.audit(conn))


# --- recordings, province import, commune variables, hearing a word -----------------------------------


def _wav(seconds: float, rate: int = 16000, amplitude: float = 0.3) -> bytes:
    import wave

    import numpy as np

    t = np.arange(int(seconds * rate)) / rate
    samples = (amplitude * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return out.getvalue()


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    root = _project(tmp_path, {
        "voices/ghi-am.yaml": "id: ghi-am\nengine: recorded\nparams: {folder: assets/ghi-am}\n",
        "scripts/tay.yaml": "id: tay\ntitle: Bản tiếng Tày\nsource: Công an tỉnh Lạng Sơn\nvalid: {from: 2024-12-04}\n"
                            "voice: ghi-am\nbody: |\n  Bà con chú ý.\n  Không chuyển tiền cho người lạ.\n",
    })
    (root / "assets" / "ghi-am").mkdir(parents=True)
    return root


def test_a_new_recorded_voice_lists_every_sentence_before_its_folder_exists(recorded):
    """The page was a 404 'no recordings folder' although the first upload makes the folder."""
    (recorded / "assets" / "ghi-am").rmdir()
    page = _client(recorded).get("/ghi-am")
    assert page.status_code == 200
    assert "Bà con chú ý." in page.text and "Không chuyển tiền cho người lạ." in page.text


def test_recordings_are_uploaded_checked_as_audio_and_stored_for_the_voice(recorded):
    client = _client(recorded)
    page = client.get("/ghi-am").text
    assert "Bà con chú ý." in page and "Không chuyển tiền cho người lạ." in page
    token = _token(client)

    def upload(name: str, data: bytes, sentence: str = "Bà con chú ý."):
        return client.post("/ghi-am", data={"voice": "ghi-am", "sentence": sentence}, headers={"x-csrftoken": token},
                           files={"file": (name, data, "application/octet-stream")})

    assert upload("cau-1.wav", b"RIFF....not audio at all").status_code == 400
    assert upload("cau-1.exe", _wav(1.0)).status_code == 400
    assert upload("cau-1.wav", _wav(0.1)).status_code == 400  # too short to be a sentence
    assert not list((recorded / "assets" / "ghi-am").iterdir())
    refused = client.post("/ghi-am", data={"voice": "ghi-am", "sentence": "Bà con chú ý."},
                          files={"file": ("cau-1.wav", _wav(1.5), "audio/wav")})  # no token
    assert refused.status_code == 403 and not list((recorded / "assets" / "ghi-am").iterdir())
    ok = upload("cau-1.wav", _wav(1.5))
    assert ok.status_code == 303
    name = f"{recording_name('Bà con chú ý.')}.wav"  # ba-con-chu-y-<8 hex>.wav
    assert re.fullmatch(r"ba-con-chu-y-[0-9a-f]{8}\.wav", name)
    stored = recorded / "assets" / "ghi-am" / name
    samples, rate = decode(stored)
    assert abs(len(samples) / rate - 1.5) < 0.01
    page = client.get("/ghi-am").text
    assert "Bà con chú ý." not in page and "Không chuyển tiền cho người lạ." in page
    with records.connect(recorded) as conn:
        assert any(e.action == "upload" and e.target == f"assets/ghi-am/{name}" for e in records.audit(conn))


def test_an_upload_is_the_recording_read_afterwards(recorded):
    """An upload was silently ignored: recordings.yaml naming another file for the sentence won over it,
    and so did an older upload of another type in upper case ('….WAV') beside the new '….mp3'."""
    from broadcast.tts import make_engine

    folder = recorded / "assets" / "ghi-am"
    name = recording_name("Bà con chú ý.")
    (folder / f"{name}.WAV").write_bytes(_wav(1.0))
    (folder / "cu.wav").write_bytes(_wav(1.0))
    (folder / "recordings.yaml").write_text('# thu ở xã\n"Bà con  chú ý.": cu.wav\n"Câu khác.": cu.wav\n',
                                            encoding="utf-8")
    client = _client(recorded)
    response = client.post("/ghi-am", data={"voice": "ghi-am", "sentence": "Bà con chú ý."},
                           headers={"x-csrftoken": _token(client)}, files={"file": ("moi.mp3", _wav(2.5), "audio/mpeg")})
    assert response.status_code == 303
    engine = make_engine("recorded", {"folder": "assets/ghi-am"}, recorded)
    assert engine.synthesize("Bà con chú ý.").duration == pytest.approx(2.5, abs=0.01)
    assert (folder / "recordings.yaml").read_text(encoding="utf-8") == '# thu ở xã\n"Câu khác.": cu.wav\n'
    assert sorted(p.name for p in folder.iterdir()) == [f"{name}.mp3", "cu.wav", "recordings.yaml"]


def test_a_silent_muted_or_cut_upload_is_refused_at_once(recorded):
    """A silent file or a muted microphone's -75 dBFS was stored, then stopped the build or aired as hiss;
    a file cut short aired half its sentence."""
    client = _client(recorded)
    token = _token(client)
    for amplitude in (0.0, 10 ** (-75 / 20)):
        response = client.post("/ghi-am", data={"voice": "ghi-am", "sentence": "Bà con chú ý."},
                               headers={"x-csrftoken": token},
                               files={"file": ("cau-1.wav", _wav(2.0, amplitude=amplitude), "audio/wav")})
        assert response.status_code == 400 and "gần như im lặng" in response.text and "gần micrô" in response.text
    whole = _wav(4.0)
    response = client.post("/ghi-am", data={"voice": "ghi-am", "sentence": "Bà con chú ý."},
                           headers={"x-csrftoken": token}, files={"file": ("cau-1.wav", whole[:60_000], "audio/wav")})
    assert response.status_code == 400 and "bị cắt cụt" in response.text  # a file cut in sending
    assert not list((recorded / "assets" / "ghi-am").iterdir())


def test_an_upload_over_the_limit_is_refused_before_it_is_read(recorded, monkeypatch):
    monkeypatch.setattr(app, "UPLOAD_MAX_BYTES", 200_000)
    client = _client(recorded)
    token = _token(client)
    response = client.post("/ghi-am", data={"voice": "ghi-am", "sentence": "Bà con chú ý."},
                           headers={"x-csrftoken": token}, files={"file": ("dai.wav", _wav(10.0), "audio/wav")})
    assert response.status_code == 413 and "quá lớn" in response.text
    assert not list((recorded / "assets" / "ghi-am").iterdir())


def test_an_upload_that_points_at_other_files_is_not_a_recording(recorded, tmp_path, monkeypatch):
    """FFmpeg took a text 'ffconcat version 1.0 / file x.wav' uploaded as cau-1.wav for audio: the upload
    played a file of the studio's working folder (outside the project) and, once stored, the recording was
    whatever file of that name lay beside it in the recordings folder when the week was built."""
    from broadcast.tts.recorded import read_recording

    elsewhere = tmp_path / "ngoai-du-an"
    elsewhere.mkdir()
    (elsewhere / "rieng-tu.wav").write_bytes(_wav(2.0))
    monkeypatch.chdir(elsewhere)
    client = _client(recorded)
    pointer = b"ffconcat version 1.0\nfile rieng-tu.wav\n"
    response = client.post("/ghi-am", data={"voice": "ghi-am", "sentence": "Bà con chú ý."},
                           headers={"x-csrftoken": _token(client)},
                           files={"file": ("cau-1.wav", pointer, "audio/wav")})
    assert response.status_code == 400 and "không phải âm thanh" in response.text
    assert not list((recorded / "assets" / "ghi-am").iterdir())
    stored = recorded / "assets" / "ghi-am" / "cau-1.wav"  # put there by hand, beside the file it names
    (stored.parent / "rieng-tu.wav").write_bytes(_wav(2.0))
    stored.write_bytes(pointer)
    with pytest.raises(UsageError, match="không phải âm thanh"):
        read_recording(stored, name=stored.name, error=UsageError)


def test_import_a_province_from_the_communes_page(client, root):
    response = client.post("/xa/nhap-tinh", data={"csrftoken": _token(client), "province": "Cao Bằng"})
    assert response.status_code == 303
    imported = list((root / "locales").glob("cao-bang/*.yaml"))
    assert len(imported) > 50
    assert "Cao Bằng" in client.get("/xa?tinh=cao-bang").text


def test_commune_variables_are_edited_as_rows(client, root):
    path = root / "locales" / "lang-son" / "xa-chi-lang.yaml"
    html = client.get("/xa/lang-son/xa-chi-lang").text
    sha = re.search(r'name="sha" value="([^"]+)"', html).group(1)
    form = {"csrftoken": _token(client), "sha": sha, "name": "Xã Chi Lăng", "police_name": "Công an xã Chi Lăng",
            "var_key_0": "truong_thon", "var_value_0": "ông Hoàng Văn Thắng"}
    assert client.post("/xa/lang-son/xa-chi-lang", data=form).status_code == 303
    assert "vars:\n  truong_thon: ông Hoàng Văn Thắng\n" in path.read_text(encoding="utf-8")
    assert app.open_workspace(root).locale("lang-son/xa-chi-lang").vars["truong_thon"] == "ông Hoàng Văn Thắng"


def test_what_is_heard_follows_the_lexicon_and_the_commune_as_they_are_now(client, root):
    """Both previews were cached by their text alone: after a new reading or a new police number they
    played the old audio (and 'Đọc là' showed the new text over it)."""
    token = _token(client, "/tu-dien")
    before = client.post("/api/noi", data={"csrftoken": token, "text": "Zalo"}).json()
    (root / "lexicon.yaml").write_text("words:\n  Zalo:\n    espeak-vi: da lô\n", encoding="utf-8")
    after = client.post("/api/noi", data={"csrftoken": token, "text": "Zalo"}).json()
    assert after["spoken"] == "da lô." and after["url"] != before["url"]  # as this voice reads it, heard anew

    form = {**_editor_form(client), "csrftoken": _token(client), "locale": "lang-son/xa-chi-lang"}
    first = client.post("/api/nghe-thu", data=form).json()
    commune = root / "locales" / "lang-son" / "xa-chi-lang.yaml"
    commune.write_text(commune.read_text(encoding="utf-8").replace("name: Công an xã Chi Lăng",
                                                                   "name: Đồn Công an Chi Lăng"), encoding="utf-8")
    second = client.post("/api/nghe-thu", data=form).json()
    assert not second["cached"] and second["url"] != first["url"]
    assert client.post("/api/nghe-thu", data=form).json()["cached"]  # unchanged since: the same file


def test_hear_a_word_before_and_after_a_reading(client):
    token = _token(client, "/tu-dien")
    before = client.post("/api/noi", data={"csrftoken": token, "text": "BQLDA"}).json()
    after = client.post("/api/noi", data={"csrftoken": token, "text": "BQLDA", "reading": "ban quản lý dự án"}).json()
    assert before["spoken"] == "bê quy e lờ dê a." and after["spoken"] == "ban quản lý dự án."
    assert before["url"] != after["url"]
    for answer in (before, after):
        samples, rate = decode(client.get(answer["url"]).content)
        assert len(samples) / rate > 0.5


def test_only_the_previews_heard_last_are_kept(client, root, monkeypatch):
    """Every draft heard and every word tried stayed in .studio/nghe-thu for ever: gigabytes in a busy year,
    and anyone who may read (an operator) could fill the disk by asking for new words."""
    from broadcast.studio import web

    monkeypatch.setattr(web, "PREVIEWS_KEPT", 2, raising=False)
    token = _token(client, "/tu-dien")
    first, second, third = (client.post("/api/noi", data={"csrftoken": token, "text": word}).json()["url"]
                            for word in ("BQLDA", "UBND", "HĐND"))
    assert client.post("/api/noi", data={"csrftoken": token, "text": "BQLDA"}).json()["url"] == first  # again
    assert client.post("/api/noi", data={"csrftoken": token, "text": "CAX"}).status_code == 200
    kept = {p.name for p in (root / records.FOLDER / web.PREVIEWS).iterdir()}
    assert len(kept) == 2 and first.rsplit("/", 1)[1] in kept  # heard again: kept
    assert client.get(second).status_code == 404 and client.get(first).status_code == 200

    unlink = Path.unlink

    def in_use(self, missing_ok=False):  # Windows: a preview someone is listening to cannot be removed
        if self.parent.name == web.PREVIEWS and not self.name.startswith("."):  # not a temp file of its own
            raise PermissionError(13, "The process cannot access the file because it is being used")
        unlink(self, missing_ok)
    monkeypatch.setattr(Path, "unlink", in_use)
    assert client.post("/api/noi", data={"csrftoken": token, "text": "MTTQ"}).status_code == 200  # removed later



def test_audio_to_hear_is_made_two_at_a_time_whoever_asks(root, monkeypatch):
    """Nghe thử and a word tried in Từ điển, open to any account (an operator too), each synthesised in a
    thread of their own: one person pressing them over and over took every core from the build and the
    other editors. They wait their turn, two at a time, as lint as you type does."""
    import threading

    running, most, lock = [0], [0], threading.Lock()
    say = app.Workspace.say

    def slow_say(self, text, out, *args, **kwargs):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.3)
            return say(self, text, out, *args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(app.Workspace, "say", slow_say)
    with TestClient(create_app(root, local=True), base_url="http://127.0.0.1:8765") as client:  # one event loop
        token = _token(client, "/tu-dien")
        answers: list[int] = []

        def ask(word: str) -> None:
            answers.append(client.post("/api/noi", data={"csrftoken": token, "text": word}).status_code)

        threads = [threading.Thread(target=ask, args=(w,)) for w in ("UBND", "HĐND", "MTTQ", "CAX", "BQLDA", "TTYT")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert answers == [200] * 6
    assert most[0] == 2

def test_the_previews_kept_are_bounded_in_bytes_too(client, root, monkeypatch):
    """200 previews of whole messages: 260 MB with `loa`, 2.6 GB with `phat-thanh`'s WAV (13 MB each) kept
    in .studio/nghe-thu by an editor's weeks of work. The one just heard always stays."""
    from broadcast.studio import web

    token = _token(client, "/tu-dien")
    first = client.post("/api/noi", data={"csrftoken": token, "text": "UBND"}).json()["url"]
    one = (root / records.FOLDER / web.PREVIEWS / first.rsplit("/", 1)[1]).stat().st_size
    monkeypatch.setattr(web, "PREVIEWS_BYTES", int(one * 2.5), raising=False)
    urls = [client.post("/api/noi", data={"csrftoken": token, "text": word}).json()["url"]
            for word in ("HĐND", "BQLDA", "MTTQ", "CAX")]
    kept = sorted(p.name for p in (root / records.FOLDER / web.PREVIEWS).iterdir())
    assert 1 <= len(kept) <= 3 and urls[-1].rsplit("/", 1)[1] in kept, kept
    assert sum((root / records.FOLDER / web.PREVIEWS / name).stat().st_size for name in kept) <= one * 3
    monkeypatch.setattr(web, "PREVIEWS_BYTES", 1, raising=False)
    last = client.post("/api/noi", data={"csrftoken": token, "text": "UBND"}).json()["url"]
    assert [p.name for p in (root / records.FOLDER / web.PREVIEWS).iterdir()] == [last.rsplit("/", 1)[1]]
    assert client.get(last).status_code == 200


def test_the_studio_tells_dates_and_times_where_the_stations_are(root, monkeypatch):
    """A server on UTC: at 00:30 on Monday in Vietnam a new script started on Sunday's date, and the log
    and the script list showed times seven hours behind."""
    from datetime import date

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        studio_client = _client(root)
        token = _token(studio_client)
        monkeypatch.setattr(app, "today_in", lambda timezone="": date(2026, 12, 28) if timezone else None)
        assert studio_client.post("/kich-ban/moi", data={"csrftoken": token, "id": "tuan-moi"}).status_code == 303
        assert "from: 2026-12-28" in (root / "scripts" / "tuan-moi.yaml").read_text(encoding="utf-8")
        from broadcast.studio.web import Studio

        studio = Studio(root, local=True)
        assert studio.env.filters["when"](1798392600) == "28/12/2026 00:30"  # 2026-12-27 17:30 UTC
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


@pytest.mark.parametrize("encoding", ["utf-16", "cp1258"])
def test_a_script_notepad_saved_as_unicode_or_ansi_is_an_error_saying_how_to_save_it(client, root, encoding):
    """Notepad's "Unicode" (UTF-16) or ANSI: the editor page was a bare 500 in English."""
    token = _token(client)
    path = root / "scripts" / "canh-bao.yaml"
    path.write_bytes(path.read_text(encoding="utf-8").encode(encoding, errors="replace"))
    page = client.get("/kich-ban/canh-bao")
    assert page.status_code == 303 and page.headers["location"] == "/sua-tep/scripts/canh-bao.yaml"
    page = client.get(page.headers["location"])
    assert "không phải UTF-8" in page.text and "Mã hóa: UTF-8" in page.text and 'id="repair-text"' not in page.text
    form = {"csrftoken": token, "title": "Cảnh báo", "body": "Bà con chú ý."}
    saved = client.post("/kich-ban/canh-bao", data=form)
    assert saved.status_code == 400 and "không phải UTF-8" in saved.text


def test_an_approval_from_a_page_opened_before_a_rejection_does_not_override_it(network):
    """Two approvers open a script; one sends it back with a reason; the other, on the page opened
    before, approved it: it aired, and the reason was never read."""
    root, _ = network
    add_user(root, "duyet-2", "approver", "mat-khau-duyet-2")
    first, second = _client(root, local=False), _client(root, local=False)
    _login(first, "duyet")
    _login(second, "duyet-2")

    def form_of(client: TestClient) -> dict[str, str]:
        page = client.get("/kich-ban/canh-bao").text
        decide = page[page.index('id="decide"'):]
        fields = dict(re.findall(r'<input type="hidden" name="([a-z]+)" value="([^"]*)"', decide))
        return fields

    seen_by_second = form_of(second)
    rejected = first.post("/kich-ban/canh-bao/duyet", data={**form_of(first), "decision": "rejected",
                                                             "comment": "Sai số điện thoại công an xã"})
    assert rejected.status_code == 303
    stale = _answer(second, second.post("/kich-ban/canh-bao/duyet", data={**seen_by_second, "decision": "approved"}))
    assert stale.status_code == 400 and "duyet đã trả lại" in stale.text and "Sai số điện thoại" in stale.text
    with records.connect(root) as conn:
        assert [h.decision for h in records.history(conn, "canh-bao")] == ["rejected"]
    approved = second.post("/kich-ban/canh-bao/duyet", data={**form_of(second), "decision": "approved"})
    assert approved.status_code == 303  # having read it, they may decide


def test_a_decision_on_a_script_saved_meanwhile_says_it_was_not_recorded_and_keeps_the_reason(network):
    """An editor saved while an approver wrote why the script goes back: the approver got the editors' conflict
    page ('nothing was overwritten', 'the version you meant to save: (the version you read)'), with no word that
    the decision was not recorded, and the reason they had written was gone."""
    root, _ = network
    approver, editor = _client(root, local=False), _client(root, local=False)
    _login(approver, "duyet")
    _login(editor, "bien-tap")
    page = approver.get("/kich-ban/canh-bao").text
    seen = dict(re.findall(r'<input type="hidden" name="([a-z]+)" value="([^"]*)"', page[page.index('id="decide"'):]))
    form = _editor_form(editor)
    form["title"] = "Sửa trong lúc duyệt"
    assert editor.post("/kich-ban/canh-bao", data={**form, "csrftoken": _token(editor)}).status_code == 303
    reason = "Số điện thoại công an xã chưa đúng với công văn"
    refused = _answer(approver, approver.post("/kich-ban/canh-bao/duyet",
                                              data={**seen, "decision": "rejected", "comment": reason}))
    assert refused.status_code == 409
    assert "chưa được ghi" in refused.text and "Sửa trong lúc duyệt" in refused.text  # the new version, to read
    assert f'name="comment" rows="3">{reason}</textarea>' in refused.text
    with records.connect(root) as conn:
        assert records.history(conn, "canh-bao") == []
    again = dict(re.findall(r'<input type="hidden" name="([a-z]+)" value="([^"]*)"',
                            refused.text[refused.text.index('id="decide"'):]))
    assert again["sha"] == records.file_sha256(root / "scripts" / "canh-bao.yaml")
    assert approver.post("/kich-ban/canh-bao/duyet", data={**again, "decision": "rejected",
                                                           "comment": reason}).status_code == 303


@contextmanager
def _served(root: Path) -> Iterator[str]:
    """The local studio served by uvicorn on a free port, as `broadcast studio` serves it: its address."""
    import threading

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(create_app(root, local=True), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def _stylesheet_seconds_while(base: str, slow: Any, settle: float = 0.5) -> float:
    """How long the studio's stylesheet takes while `slow` (a request that waits: a long lint, a page or a
    save held by the database) is under way in a thread of its own; `slow` is done on return."""
    import threading
    import urllib.request

    other = threading.Thread(target=slow)
    other.start()
    time.sleep(settle)
    started = time.monotonic()
    with urllib.request.urlopen(f"{base}/static/studio.css", timeout=30) as answer:
        assert answer.status == 200
    seconds = time.monotonic() - started
    other.join(30)
    return seconds


def test_a_long_draft_being_read_does_not_freeze_the_studio_for_everyone(root, monkeypatch):
    """Lint-as-you-type read the draft on the event loop: while it read a long pasted text, every page
    of every user waited (a stylesheet: 3-30 s)."""
    import http.cookiejar
    import urllib.parse
    import urllib.request

    def slow_lint(self, *args, **kwargs):
        time.sleep(3)  # a draft that takes long to read
        return []

    monkeypatch.setattr(app.Workspace, "lint_draft", slow_lint)
    with _served(root) as base:
        editor = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = editor.open(f"{base}/kich-ban", timeout=30).read().decode("utf-8")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"csrftoken": token, "script_id": "canh-bao", "title": "x", "body": "x"})
        lint = urllib.request.Request(f"{base}/api/lint", data=form.encode(), headers={"x-csrftoken": token})
        answers: list[int] = []
        waited = _stylesheet_seconds_while(base, lambda: answers.append(editor.open(lint, timeout=30).status))
    assert answers == [200]
    assert waited < 1.5, waited  # not the 2.5 s left of the lint


@pytest.mark.parametrize("action", ["save", "decide"])
def test_a_save_waiting_on_a_held_database_does_not_freeze_the_studio(root, action):
    """A save took the database's write lock on the event loop: while another program held the database (DB
    Browser for SQLite, a build logging, for up to the 10 s of its busy timeout) every request of the local
    studio waited with it, the stylesheet and the other pages too."""
    import http.cookiejar
    import threading
    import urllib.parse
    import urllib.request

    path = root / "scripts" / "canh-bao.yaml"
    form = {**_editor_form(_client(root)), "title": "Lưu trong lúc cơ sở dữ liệu bận"}
    if action == "decide":
        form = {"sha": records.file_sha256(path), "seen": "0", "decision": "approved"}
    with _served(root) as base:
        editor = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = editor.open(f"{base}/kich-ban/canh-bao", timeout=30).read().decode("utf-8")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        target = f"{base}/kich-ban/canh-bao" + ("/duyet" if action == "decide" else "")
        post = urllib.request.Request(target, data=urllib.parse.urlencode({**form, "csrftoken": token}).encode())
        holder = sqlite3.connect(records.path(root), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another program holds the database
        answers: list[int] = []
        saving = threading.Thread(target=lambda: answers.append(editor.open(post, timeout=30).status))
        saving.start()
        time.sleep(0.5)
        waited = {}
        try:
            for other in ("/static/studio.css", "/kich-ban", "/xa"):
                started = time.monotonic()
                with urllib.request.urlopen(f"{base}{other}", timeout=30) as answer:
                    assert answer.status == 200, other
                waited[other] = time.monotonic() - started
            time.sleep(max(0.0, 3 - 0.5 - sum(waited.values())))
            waiting = saving.is_alive() and not answers  # the save still waits for the database
        finally:
            holder.rollback()  # and is done once it is let go
            holder.close()
        saving.join(30)
    assert all(seconds < 1 for seconds in waited.values()), waited  # not the 2.5 s the save waited
    assert waiting and answers == [200]
    if action == "save":
        assert "Lưu trong lúc cơ sở dữ liệu bận" in path.read_text(encoding="utf-8")
    with records.connect(root) as conn:
        assert len(records.history(conn, "canh-bao")) == (action == "decide")


@pytest.mark.parametrize("reading", ["/kich-ban", "/kich-ban/canh-bao", "/kich-ban/canh-bao/phieu-duyet", "/nhat-ky"])
def test_a_page_reading_a_held_database_does_not_freeze_the_studio(root, monkeypatch, reading):
    """The saves wait for the database in a thread; the pages that read it (the list's approval states, the
    editor's and the approval sheet's history, the log) still read it on the event loop: while another program
    held it (a write being committed, DB Browser for SQLite), every request of the studio, its stylesheet too,
    waited the busy timeout with them."""
    import urllib.error
    import urllib.request

    monkeypatch.setattr(records, "BUSY_SECONDS", 3)
    with _served(root) as base:
        answers: list[int] = []

        def read() -> None:
            try:
                answers.append(urllib.request.urlopen(f"{base}{reading}", timeout=30).status)
            except urllib.error.HTTPError as refused:
                answers.append(refused.code)

        holder = sqlite3.connect(records.path(root), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another program holds the database, reads included
        try:
            waited = _stylesheet_seconds_while(base, read)
        finally:
            holder.rollback()
            holder.close()
    assert waited < 1, waited  # not the 2.5 s the page waited for the database
    assert answers == [503]  # and the page says the database is busy


def test_a_save_the_disk_refuses_is_said_in_vietnamese_and_the_file_is_as_it_was(client, root, monkeypatch):
    """A full disk: 'Internal Server Error' in English, and the connection reset."""
    import errno

    from broadcast.studio import edit

    path = root / "scripts" / "canh-bao.yaml"
    before = path.read_bytes()
    form = {**_editor_form(client), "csrftoken": _token(client)}
    form["title"] = "Tiêu đề mới"

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(edit.os, "fsync", full)
    saved = client.post("/kich-ban/canh-bao", data=form)
    assert saved.status_code == 507 and "ổ đĩa đã đầy" in saved.text and "vẫn như trước khi lưu" in saved.text
    assert path.read_bytes() == before and not [p for p in path.parent.iterdir() if p.name.startswith(".")]


def _database(monkeypatch, pragma: str) -> None:
    """Every connection to studio.db from now on under `pragma`, so SQLite itself refuses the write as
    on a full disk (max_page_count: SQLITE_FULL, the file may not grow) or a read-only one (query_only)."""
    real = sqlite3.connect

    def connect(*args, **kwargs):
        conn = real(*args, **kwargs)
        size = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(pragma.format(pages=size))
        return conn

    monkeypatch.setattr(records.sqlite3, "connect", connect)


def test_a_studio_database_that_cannot_be_written_is_said_in_vietnamese_not_a_traceback(root, monkeypatch):
    """Found on a real full tmpfs: 'studio user add' printed sqlite3's 'database or disk is full' as a
    traceback (exit 1); so it did on a read-only disk."""
    with records.connect(root):
        pass
    _database(monkeypatch, "PRAGMA query_only = ON")
    added = CliRunner().invoke(main, ["studio", "user", "add", "lan", "--role", "editor", "--project", str(root)],
                               input="mat-khau-lan-dai\nmat-khau-lan-dai\n")
    assert added.exit_code == 3, (added.output, added.exception)
    assert ".studio/studio.db" in added.output and "chỉ đọc" in added.output and "Cách sửa" in added.output
    monkeypatch.undo()
    with records.connect(root) as conn:
        assert records.users(conn) == []


def test_a_save_whose_log_row_does_not_fit_is_said_and_leaves_the_file_as_it_was(client, root, monkeypatch):
    """Found on a real full tmpfs (a few KB left): the script file was written, then its log row did not fit
    (SQLITE_FULL, at the INSERT): a 500 page, the script saved and the log without it. A save and its log
    row are one change: neither is made."""
    path = root / "scripts" / "canh-bao.yaml"
    before = path.read_bytes()
    _database(monkeypatch, "PRAGMA max_page_count = {pages}")  # the file may not grow: SQLite's own SQLITE_FULL
    form = {**_editor_form(client), "csrftoken": _token(client)}
    form["body"] += "\n" + "Bà con cảnh giác với cuộc gọi lạ. " * 200  # a log row (its diff) that needs new pages
    saved = client.post("/kich-ban/canh-bao", data=form)
    assert saved.status_code == 503, saved.text
    assert ".studio/studio.db" in saved.text and "ổ đĩa đã đầy" in saved.text and "giải phóng dung lượng" in saved.text
    assert path.read_bytes() == before
    monkeypatch.undo()
    with records.connect(root) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_save_not_logged_and_not_undone_says_the_file_was_saved(client, root, monkeypatch):
    """The log row refused by the full disk, then putting the old file back refused too (its temporary copy
    needs room): the page said 'ổ đĩa đã đầy ... tệp trên đĩa vẫn như trước khi lưu', and the file was the new
    one, in no log. It says the file is saved, not logged, and which file."""
    path = root / "scripts" / "canh-bao.yaml"
    _database(monkeypatch, "PRAGMA max_page_count = {pages}")
    real = textfiles.replace
    calls = []

    def replace(target, data):  # the save fits; the put-back after it does not
        calls.append(target)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        real(target, data)

    monkeypatch.setattr(textfiles, "replace", replace)
    form = {**_editor_form(client), "csrftoken": _token(client)}
    form["body"] += "\n" + "Bà con cảnh giác với cuộc gọi lạ. " * 200  # a log row (its diff) that needs new pages
    saved = client.post("/kich-ban/canh-bao", data=form)
    assert len(calls) == 2 and "cuộc gọi lạ. Bà con" in path.read_text(encoding="utf-8")
    assert saved.status_code == 503, saved.text
    assert "vẫn như trước" not in saved.text
    assert "đã lưu scripts/canh-bao.yaml" in saved.text and "Nhật ký" in saved.text


def test_on_the_network_pages_still_open_when_the_studio_database_cannot_be_written(network, monkeypatch):
    """Every request notes the session's last use: with the disk full (or read-only) every page, reading too,
    was a 500 for everyone logged in. The pages open; a change says why it is not logged."""
    root, client = network
    _login(client, "bien-tap")
    _database(monkeypatch, "PRAGMA query_only = ON")
    for page in ("/kich-ban", "/kich-ban/canh-bao", "/nhat-ky"):
        assert client.get(page).status_code == 200, page
    form = {**_editor_form(client), "csrftoken": _token(client)}
    form["title"] = "Tiêu đề mới"
    before = (root / "scripts" / "canh-bao.yaml").read_bytes()
    saved = client.post("/kich-ban/canh-bao", data=form)
    assert saved.status_code == 503 and "studio.db" in saved.text and "chỉ đọc" in saved.text, saved.text
    assert (root / "scripts" / "canh-bao.yaml").read_bytes() == before  # not saved without its log row
    client.cookies.clear()
    assert client.get("/kich-ban").status_code == 303  # no session, no page: the check still reads the sessions
    login = client.post("/dang-nhap", data={"csrftoken": _token(client, "/dang-nhap"), "name": "duyet",
                                            "password": "mat-khau-duyet"})
    assert login.status_code == 503 and "studio.db" in login.text and "chỉ đọc" in login.text


def test_a_page_of_times_reads_the_project_once_even_with_an_error_in_it(root, monkeypatch):
    """Each time shown asked the project for its time zone; with an error in any file the project is
    never kept, so 200 log rows read the whole project 200 times (minutes for a country, blocking everyone)."""
    with records.connect(root) as conn:
        for i in range(50):
            records.add_audit(conn, "", "save", f"scripts/canh-bao-{i}.yaml", "")
    script = root / "scripts" / "canh-bao.yaml"
    script.write_text(script.read_text(encoding="utf-8").replace("level: normal", "level: urgent")
                      if "level: normal" in script.read_text(encoding="utf-8")
                      else script.read_text(encoding="utf-8") + "level: urgent\n", encoding="utf-8")
    reads: list[int] = []
    for name in ("load_project", "read_project"):  # the studio reads it whole, setting a broken file aside
        real = getattr(app, name)
        monkeypatch.setattr(app, name, lambda *a, real=real, **k: (reads.append(1), real(*a, **k))[1])
    page = _client(root).get("/nhat-ky")
    assert page.status_code in (200, 400) and page.text.count("/20") >= 1
    assert len(reads) <= 3, len(reads)


def test_a_double_click_on_save_saves_once_and_is_not_a_conflict_with_oneself(client, root):
    """The second of two quick saves carried the first's old sha: a 409 'changed elsewhere' showing two
    identical versions, and an empty change in the log."""
    form = {**_editor_form(client), "csrftoken": _token(client)}
    form["title"] = "Cảnh báo mới"
    assert client.post("/kich-ban/canh-bao", data=form).status_code == 303
    again = client.post("/kich-ban/canh-bao", data=form)  # the same form, the old sha
    assert again.status_code == 303, again.text
    with records.connect(root) as conn:
        saves = [e for e in records.audit(conn) if e.action == "save"]
    assert len(saves) == 1


def test_a_blank_title_is_refused(client, root):
    """A title of spaces was saved as '' and the script's row in the list had nothing to click."""
    form = {**_editor_form(client), "csrftoken": _token(client)}
    form["title"] = "   "
    refused = _answer(client, client.post("/kich-ban/canh-bao", data=form))
    assert refused.status_code == 400 and "title" in refused.text and "đang trống" in refused.text


def test_after_login_a_form_goes_back_to_its_page_and_never_elsewhere(network):
    """A form posted with an ended session led, after login, to its target, which answers only POST: a
    bare 'Method Not Allowed', and the comment lost."""
    root, client = network
    token = _token(client, "/dang-nhap")  # the page's token: only the session has ended
    expired = client.post("/kich-ban/canh-bao/duyet", data={"decision": "approved", "csrftoken": token},
                          headers={"referer": "http://127.0.0.1:8765/kich-ban/canh-bao"})
    assert expired.status_code == 303 and expired.headers["location"] == "/dang-nhap?next=/kich-ban/canh-bao"
    page = client.get("/dang-nhap?next=/\\\\evil.example/x").text
    assert 'value="/kich-ban"' in page and "evil.example" not in page


def test_an_error_page_says_its_message_once_and_the_copy_field_is_visible(client):
    """Error pages repeated the message as a list item starting with ': '; the copy's id field was moved off
    the screen with its label, so the keyboard's focus vanished into it."""
    page = client.get("/kich-ban/khong-co")
    assert page.status_code == 404 and page.text.count("không có kịch bản &#39;khong-co&#39;") == 1
    assert "<li class=\"error\">: " not in page.text
    listing = client.get("/kich-ban").text
    assert '<label><span class="sr">Tên bản sao</span> <input name="new_id"' in listing


def test_a_refused_save_points_at_the_field_not_at_a_line_of_the_file(client):
    """'Chưa lưu: dòng 7: ... (until before from)': line 7 of a file the page does not show, and the focus left
    on the page; the field is now named as the page names it, marked invalid and focused."""
    form = {**_editor_form(client), "csrftoken": _token(client)}
    form["valid_from"], form["valid_until"] = "2026-12-10", "2026-12-01"
    refused = _answer(client, client.post("/kich-ban/canh-bao", data=form))
    assert refused.status_code == 400
    assert "Chưa lưu: Hiệu lực đến:" in refused.text and "dòng" not in refused.text.split("Chưa lưu:")[1][:20]
    field = re.search(r'<input type="date" name="valid_until"[^>]*>', refused.text).group(0)
    assert 'aria-invalid="true"' in field and "autofocus" in field and 'aria-describedby="save-error"' in field


def test_a_refused_save_of_a_voice_points_at_the_voice_not_at_the_body(client):
    """A field the form adds to the file after the body (voice) was reported as 'Nội dung, dòng 4', the
    body marked invalid; repeat was named but not marked."""
    form = {**_editor_form(client), "csrftoken": _token(client), "voice": "khong-co"}
    refused = _answer(client, client.post("/kich-ban/canh-bao", data=form))
    assert refused.status_code == 400 and "Chưa lưu: Giọng:" in refused.text, re.findall(r"Chưa lưu[^<]*", refused.text)
    assert 'aria-invalid' in re.search(r'<select name="voice"[^>]*>', refused.text).group(0)
    assert 'data-unsaved="1"' in refused.text  # what was typed is unsaved: Duyệt and leaving ask first
    form = {**_editor_form(client), "csrftoken": _token(client), "repeat": "9"}
    refused = _answer(client, client.post("/kich-ban/canh-bao", data=form))
    assert 'aria-invalid' in re.search(r'<input type="number" name="repeat"[^>]*>', refused.text).group(0)


def test_commune_form_renaming_a_list_variable_does_not_save_its_placeholder(tmp_path):
    """A list is shown read-only by its size, but its name could still be changed: the list was then
    written under the new name as the text '(danh sách 2 mục: sửa trong tệp)' and the list itself removed."""
    commune = "name: Xã Chi Lăng\ncode: '06463'\nvars:\n  thon: [Thôn Nà Pậu, Thôn Bản Chang]\n"
    root = _project(tmp_path, {"locales/lang-son/xa-chi-lang.yaml": commune})
    client = _client(root)
    path = root / "locales" / "lang-son" / "xa-chi-lang.yaml"
    html = client.get("/xa/lang-son/xa-chi-lang").text
    shown = {m[1]: _unescape(m[2]) for m in re.finditer(r'name="(var_(?:key|value|was)_\d+)" value="([^"]*)"', html)}
    key = next(k for k, v in shown.items() if v == "thon")
    shown[key] = "cac_thon"  # renamed in the form
    sha = re.search(r'name="sha" value="([^"]+)"', html).group(1)
    form = {"csrftoken": _token(client), "sha": sha, "name": "Xã Chi Lăng", "station": "",
            "police_name": "", "police_phone": "", **shown}
    client.post("/xa/lang-son/xa-chi-lang", data=form)
    text = path.read_text(encoding="utf-8")
    assert "sửa trong tệp" not in text, text
    assert "Thôn Nà Pậu" in text and "Thôn Bản Chang" in text, text


def test_a_refused_form_is_a_page_a_reload_does_not_send_again(network):
    """A refused save, commune or dictionary entry was drawn as the answer to its POST: F5 asked to send the
    form again, and staff did. Each is now a redirect to its page, which shows the refusal and what was
    typed as often as it is reloaded, to the person who typed it only; the address holds none of it."""
    root, editor = network
    _login(editor, "bien-tap")
    token = _token(editor)
    commune = root / "locales" / "lang-son" / "xa-chi-lang.yaml"
    before = {path: path.read_bytes() for path in (root / "scripts" / "canh-bao.yaml", commune)}
    page = editor.get("/xa/lang-son/xa-chi-lang").text
    posts = {
        "/kich-ban/canh-bao": ({**_editor_form(editor), "title": "Tiêu đề đã gõ", "repeat": "hai"},
                               ["Chưa lưu: Số lần đọc:", 'value="Tiêu đề đã gõ"', 'value="hai"']),
        "/xa/lang-son/xa-chi-lang": ({"sha": re.search(r'name="sha" value="([^"]+)"', page).group(1),
                                      "name": "Xã Chi Lăng", "station": "Đài xã đã gõ", "police_phone": "0205 38"},
                                     ["quy hoạch", 'value="Đài xã đã gõ"', 'value="0205 38"']),
        "/tu-dien": ({"section": "words", "key": "Zalo đã gõ", "reading": "da lô 1 2"},
                     ["Chưa lưu: cách đọc này có lỗi", 'value="Zalo đã gõ"', 'value="da lô 1 2"']),
    }
    other = _client(root, local=False)
    _login(other, "duyet")
    for path, (form, said) in posts.items():
        posted = editor.post(path, data={**form, "csrftoken": token})
        assert posted.status_code == 303, (path, posted.text[:300])
        location = posted.headers["location"]
        assert location.startswith(f"{path}?loi=") and "gõ" not in unquote(location), location
        for _ in range(2):  # F5, twice: the same page, nothing sent
            shown = editor.get(location)
            assert shown.status_code == 400, (path, shown.text[:300])
            assert all(s in shown.text for s in said), (path, [s for s in said if s not in shown.text])
        assert "đã gõ" not in other.get(location).text  # only for whoever typed it
        assert "đã gõ" not in editor.get(path).text  # and only on the page it answered
    assert {path: path.read_bytes() for path in before} == before
    assert not (root / "lexicon.yaml").exists() or "Zalo" not in (root / "lexicon.yaml").read_text(encoding="utf-8")
