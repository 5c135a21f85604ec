// The studio's only script (no framework, no build step, no CDN: stations are often offline).
// Lint as you type, the spoken form, Nghe thử, click-to-insert variables, the build's live
// progress, the lexicon's "hear before and after". Every request carries the CSRF token.
"use strict";
(function () {
  const token = document.querySelector('meta[name="csrf-token"]').content;
  // typed work is kept in the tab per account: one PC, one tab, colleagues logging in after each other
  // (what one left unsaved was put back in the next one's forms, and saved under their name)
  const account = (document.querySelector('meta[name="studio-user"]') || { content: "" }).content + ":";

  function post(url, data) {
    data.append("csrftoken", token);
    // every answer is JSON, errors too; a failed connection or anything else is an error the caller shows
    // an answer that is not JSON: the login page (the session ended) or a refusal
    const notJson = r => ({ ok: false, body: { problems: [], error: r.redirected || r.status === 401 || r.status === 403
      ? "Phiên đăng nhập đã hết hoặc bạn không được làm việc này: hãy đăng nhập lại trong một thẻ khác; chữ đang gõ ở đây vẫn còn."
      : "Studio trả lời không đúng (HTTP " + r.status + "); hãy thử lại." } });
    return fetch(url + location.search, { method: "POST", body: data, headers: { "x-csrftoken": token } })
      .then(r => r.json().then(body => ({ ok: r.ok, body }), () => notJson(r)))
      .catch(() => ({ ok: false, body: { error: "Không liên lạc được với studio; hãy thử lại.", problems: [] } }));
  }

  function text(el, value) { el.textContent = value; }
  // seconds as Vietnamese is written: "1,6 giây" ("1.564 giây" reads as one thousand five hundred and sixty-four)
  function seconds(value) { return Number(value).toLocaleString("vi-VN", { maximumFractionDigits: 1 }) + " giây"; }

  // a line of a text area selected, and in view: where a problem is
  function selectLine(area, line) {
    const lines = area.value.split("\n");
    let start = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
    area.focus();
    area.setSelectionRange(start, start + (lines[line - 1] || "").length);
  }

  // --- a file set aside for its errors: its repair page ------------------------------------------
  const repair = document.getElementById("repair-text");
  if (repair) {
    const lines = document.querySelectorAll("#repair-problems button[data-line]");
    for (const b of lines) b.addEventListener("click", () => selectLine(repair, Number(b.dataset.line)));
    // a save refused: the text typed, at the line of its first problem
    if (lines.length && document.getElementById("save-error")) selectLine(repair, Number(lines[0].dataset.line));
    const save = document.getElementById("save");
    repair.form.addEventListener("submit", () => { if (save) setTimeout(() => { save.disabled = true; }, 0); });
  }

  // --- the script editor ---------------------------------------------------------------------
  const form = document.getElementById("script-form");
  if (form) {
    const body = document.getElementById("body");
    const list = document.getElementById("problems");
    const status = document.getElementById("lint-status");
    const province = document.getElementById("lint-province");
    const locale = document.getElementById("locale");
    let timer = null, sequence = 0;
    const readonly = form.dataset.readonly === "1";
    const stored = "ban-nhap:" + account + form.dataset.script;  // what is typed, kept in this tab until saved

    function draft() {
      if (readonly) {  // who may not edit reads, hears and approves the file as saved
        const data = new FormData();
        data.set("script_id", form.dataset.script);
        data.set("saved", "1");
        return data;
      }
      const data = new FormData(form);
      data.delete("csrftoken");
      return data;
    }

    // typed work survives a session that ends, a reload, a studio restart: kept in this tab, and put
    // back when the page opens on the same saved file (a login after an expired session lost it)
    function fields() {
      const out = {};
      for (const [k, v] of new FormData(form)) if (k !== "csrftoken") out[k] = v;
      return JSON.stringify(out);
    }
    const loaded = fields();
    let saving = false;
    // a page drawn again after a refused save shows what was typed, not what is saved: unsaved from the start
    function dirty() { return !readonly && (form.dataset.unsaved === "1" || fields() !== loaded); }
    const discard = document.getElementById("discard");
    if (discard) {
      discard.addEventListener("click", () => {  // back to the file as saved
        if (!confirm("Bỏ mọi chỗ đang sửa chưa lưu và mở lại bản đã lưu?")) return;
        sessionStorage.removeItem(stored);
        saving = true;
        location.href = location.pathname;
      });
    }
    if (new URLSearchParams(location.search).get("saved")) sessionStorage.removeItem(stored);
    const older = stored + ":ban-cu";  // typed on a version saved over meanwhile: shown, never put back
    try {
      const kept = JSON.parse(sessionStorage.getItem(stored) || "null");
      if (kept && kept.fields !== loaded && !readonly) {
        if (kept.sha === form.dataset.sha) {
          for (const [k, v] of Object.entries(JSON.parse(kept.fields))) {
            const input = form.elements.namedItem(k);
            if (input && "value" in input) input.value = v;
          }
          const note = document.getElementById("draft-note");
          note.hidden = false;
          text(note, "Đã khôi phục nội dung bạn đang gõ dở, chưa được lưu. Bấm Lưu để lưu.");
        } else {
          // the file was saved elsewhere meanwhile (the session had ended, another editor saved): what was
          // typed was dropped without a word, then overwritten by the first key pressed
          sessionStorage.setItem(older, kept.fields);
          sessionStorage.removeItem(stored);
        }
      }
      const old = JSON.parse(sessionStorage.getItem(older) || "null");
      if (old && !readonly) {
        const box = document.getElementById("old-draft");
        text(document.getElementById("old-draft-text"),
             ["title", "source", "body"].filter(k => old[k]).map(k => old[k]).join("\n\n"));
        box.hidden = false;
        document.getElementById("old-draft-drop").addEventListener("click", () => {
          sessionStorage.removeItem(older);
          box.hidden = true;
        });
      }
    } catch (e) { sessionStorage.removeItem(stored); sessionStorage.removeItem(older); }
    form.addEventListener("input", () => {
      if (!readonly) sessionStorage.setItem(stored, JSON.stringify({ sha: form.dataset.sha, fields: fields() }));
    });
    window.addEventListener("beforeunload", e => { if (dirty() && !saving) { e.preventDefault(); e.returnValue = ""; } });
    form.addEventListener("submit", () => {
      saving = true;
      const save = document.getElementById("save");
      if (save) setTimeout(() => { save.disabled = true; }, 0);  // a double-click saves once
    });
    for (const saved of [document.getElementById("decide"), document.getElementById("emergency")]) {
      if (!saved) continue;
      saved.addEventListener("submit", e => {
        if (dirty()) {  // a decision or a bulletin is the file as saved: what is typed here is not it
          e.preventDefault();
          alert(saved.id === "decide"
            ? "Nội dung đang sửa chưa được lưu. Duyệt hay trả lại là cho bản đã lưu: hãy bấm Lưu trước, hoặc bấm «Bỏ phần đang sửa»."
            : "Nội dung đang sửa chưa được lưu. Tin khẩn cấp phát bản đã lưu (và đã duyệt): hãy bấm Lưu trước, hoặc bấm «Bỏ phần đang sửa».");
          return;
        }
        saving = true;
      });
    }

    function goToLine(line) { selectLine(body, line); }

    function show(problems) {
      list.replaceChildren();
      for (const p of problems) {
        const li = document.createElement("li");
        li.className = p.severity;
        const where = p.body_line ? "Nội dung, dòng " + p.body_line : (p.line ? "Dòng " + p.line + " của tệp" : "");
        if (p.body_line) {
          const b = document.createElement("button");
          b.type = "button";
          text(b, where);
          b.addEventListener("click", () => goToLine(p.body_line));
          li.append(b, ": ");
        } else if (where) {
          li.append(where + ": ");
        }
        li.append(p.message);
        if (p.fix) li.append(" — Cách sửa: " + p.fix);
        list.append(li);
      }
      const errors = problems.filter(p => p.severity === "error").length;
      text(status, problems.length ? errors + " lỗi, " + (problems.length - errors) + " cảnh báo" : "Không có lỗi.");
      status.dataset.errors = String(errors);
      status.dataset.done = "1";
    }

    function lint() {
      const mine = ++sequence;
      status.dataset.done = "";
      const data = draft();
      data.set("province", province.value);
      post("/api/lint", data).then(({ ok, body: result }) => {
        if (mine !== sequence) return;
        if (!ok) {  // not checked is not 'no errors'
          list.replaceChildren();
          text(status, "Chưa kiểm tra được: " + (result.error || "hãy thử lại."));
          status.dataset.errors = "";
          status.dataset.done = "1";
          return;
        }
        show(result.problems || []);
      });
    }

    form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(lint, 400); });
    province.addEventListener("change", lint);
    lint();

    for (const b of document.querySelectorAll("button.insert")) {
      b.addEventListener("click", () => {
        const value = b.dataset.insert, at = body.selectionStart, end = body.selectionEnd;
        body.setRangeText(value, at, end, "end");
        body.focus();
        body.dispatchEvent(new Event("input", { bubbles: true }));
      });
    }

    // a button whose answer takes seconds (synthesis) does nothing more until it comes: one request, not one a click
    const showSpoken = document.getElementById("show-spoken"), hear = document.getElementById("preview");
    showSpoken.addEventListener("click", () => {
      const data = draft();
      data.set("locale", locale.value);
      const out = document.getElementById("spoken");
      text(out, "Đang chuyển…");
      showSpoken.disabled = true;
      post("/api/doc", data).then(({ ok, body: result }) => {
        showSpoken.disabled = false;
        text(out, ok ? result.spoken : result.error);
      });
    });

    hear.addEventListener("click", () => {
      const data = draft();
      data.set("locale", locale.value);
      const note = document.getElementById("preview-status"), player = document.getElementById("player");
      text(note, "Đang tổng hợp giọng đọc…");
      hear.disabled = true;
      post("/api/nghe-thu", data).then(({ ok, body: result }) => {
        hear.disabled = false;
        if (!ok) { text(note, result.error || "Không nghe thử được."); return; }
        // which week: an emergency airs in the week on air, any other script from next week's build
        text(note, "Tuần " + result.week + ": " +
          (result.cached ? "có sẵn (chưa đổi nội dung)." : "xong sau " + seconds(result.seconds) + "."));
        player.src = result.url;
        player.play().catch(() => {});
      });
    });
  }

  // --- the commune and dictionary forms: what is typed kept in this tab, as the editor keeps it ---------
  // (Lưu with a session that had ended led to the login page, and after it the form was as saved: gone)
  for (const f of document.querySelectorAll("form[data-keep]")) {
    const stored = "go-do:" + account + f.dataset.keep, older = stored + ":ban-cu";
    const fieldsOf = () => {
      const out = {};
      for (const [k, v] of new FormData(f)) if (k !== "csrftoken" && k !== "sha") out[k] = v;
      return JSON.stringify(out);
    };
    if (new URLSearchParams(location.search).get("saved")) sessionStorage.removeItem(stored);
    const loaded = fieldsOf();
    const note = document.getElementById("kept-note"), box = document.getElementById("kept-old");
    try {
      const kept = JSON.parse(sessionStorage.getItem(stored) || "null");
      if (kept && kept.fields !== loaded) {
        // put back on the version it was typed on (data-sha), or on a form that adds an entry (no data-sha)
        if (!f.dataset.sha || kept.sha === f.dataset.sha) {
          for (const [k, v] of Object.entries(JSON.parse(kept.fields))) {
            const input = f.elements.namedItem(k);
            if (input && "value" in input && !input.readOnly) input.value = v;
          }
          note.hidden = false;
        } else {  // saved elsewhere meanwhile: shown to copy from, never put over the new version
          sessionStorage.setItem(older, kept.fields);
          sessionStorage.removeItem(stored);
        }
      }
      const old = JSON.parse(sessionStorage.getItem(older) || "null"), now = JSON.parse(loaded), lines = [];
      for (const [k, v] of Object.entries(old || {})) {
        const input = f.elements.namedItem(k);
        if (v === (now[k] || "") || !input || !input.labels || !input.labels.length) continue;
        const set = input.closest("fieldset"), legend = set && set.querySelector("legend");
        lines.push((legend ? legend.textContent.trim() + ", " : "") + input.labels[0].textContent.trim() + ": " + v);
      }
      if (lines.length && box) {
        text(box.querySelector("pre"), lines.join("\n"));
        box.hidden = false;
      }
    } catch (e) { sessionStorage.removeItem(stored); sessionStorage.removeItem(older); }
    note.querySelector("button").addEventListener("click", () => {  // back to the file as saved
      sessionStorage.removeItem(stored);
      location.href = location.pathname;
    });
    if (box) {
      box.querySelector("button").addEventListener("click", () => {
        sessionStorage.removeItem(older);
        box.hidden = true;
      });
    }
    f.addEventListener("input", () => sessionStorage.setItem(stored, JSON.stringify({ sha: f.dataset.sha, fields: fieldsOf() })));
  }

  // --- uploads: the token goes in the x-csrftoken header (asgi-csrf cannot read it from a
  // multipart body with current python-multipart), then the page follows the answer ------------
  for (const f of document.querySelectorAll('form[enctype="multipart/form-data"]')) {
    f.addEventListener("submit", e => {
      e.preventDefault();
      const button = f.querySelector("button");
      if (button) { button.disabled = true; text(button, "Đang tải lên…"); }
      fetch(f.action, { method: "POST", body: new FormData(f), headers: { "x-csrftoken": token } })
        .then(r => r.redirected ? (location.href = r.url) : r.text().then(html => {
          document.open(); document.write(html); document.close();
        }));
    });
  }

  // --- confirmations and printing --------------------------------------------------------------
  for (const f of document.querySelectorAll("form[data-confirm]")) {
    f.addEventListener("submit", e => { if (!e.defaultPrevented && !confirm(f.dataset.confirm)) e.preventDefault(); });
  }
  // a form whose answer takes seconds (a bulletin is synthesised and published): the button says so, once
  for (const f of document.querySelectorAll("form[data-busy]")) {
    f.addEventListener("submit", e => {
      if (e.defaultPrevented) return;
      const button = f.querySelector("button");
      if (button) setTimeout(() => { button.disabled = true; text(button, f.dataset.busy); }, 0);
    });
  }
  for (const b of document.querySelectorAll("[data-print]")) b.addEventListener("click", () => window.print());

  // --- the lexicon: hear a word before and after ------------------------------------------------
  const lexicon = document.getElementById("lexicon-form");
  if (lexicon) {
    const player = document.getElementById("lex-player"), note = document.getElementById("lex-status");
    function hear(withReading) {
      const data = new FormData();
      data.set("text", document.getElementById("lex-key").value);
      if (withReading) data.set("reading", document.getElementById("lex-reading").value);
      text(note, "Đang đọc…");
      post("/api/noi", data).then(({ ok, body: result }) => {
        if (!ok) { text(note, result.error || "Không đọc được."); return; }
        text(note, "Đọc là: " + result.spoken);
        player.src = result.url;
        player.play().catch(() => {});
      });
    }
    document.getElementById("hear-before").addEventListener("click", () => hear(false));
    document.getElementById("hear-after").addEventListener("click", () => hear(true));
  }

  // --- the build's live progress ----------------------------------------------------------------
  const build = document.getElementById("build");
  if (build && build.dataset.running) {
    const stages = document.getElementById("stages"), summary = document.getElementById("summary");
    const rows = {};
    const source = new EventSource("/dung-tuan/su-kien");
    source.onmessage = e => {
      const ev = JSON.parse(e.data);
      let li = rows[ev.stage];
      if (!li) { li = rows[ev.stage] = document.createElement("li"); stages.append(li); }
      const how = ev.kind === "end" ? "xong (" + seconds(ev.seconds) + ")" : ev.kind === "failed" ? "dừng vì lỗi"
        : ev.total ? ev.done + "/" + ev.total : "đang chạy";
      text(li, ev.label + ": " + how);
    };
    source.addEventListener("done", e => {
      source.close();
      const r = JSON.parse(e.data);
      summary.replaceChildren();
      const p = document.createElement("p");
      if (r.error) { p.className = "error"; text(p, r.error); }
      else {
        text(p, "Đã phát hành tuần " + r.week + ": " + r.messages + " tin, " + r.programs + " chương trình, " +
          r.files + " tệp, " + seconds(r.seconds) + "." +
          (r.not_approved && r.not_approved.length ? " Không phát vì chưa duyệt: " + r.not_approved.join(", ") + "." : "") +
          (r.failures && r.failures.length ? " Lỗi: " + r.failures.join("; ") : ""));
        const a = document.createElement("a");
        a.href = "/tuan/" + r.week;
        text(a, " Xem tuần đã phát hành");
        p.append(a);
        // the list below, drawn before the build, said 'Chưa có tuần nào' under a week just published
        const weeks = document.getElementById("weeks"), none = document.getElementById("no-week");
        if (weeks && ![...weeks.querySelectorAll("a")].some(l => l.textContent === r.week)) {
          if (none) none.remove();
          const li = document.createElement("li"), link = document.createElement("a");
          link.href = "/tuan/" + r.week;
          text(link, r.week);
          li.append(link);
          weeks.prepend(li);
        }
      }
      summary.append(p);
      build.dataset.finished = "1";
    });
  }
})();
