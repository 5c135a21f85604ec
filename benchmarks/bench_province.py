"""Benchmarks 2-5 (issue 7): a whole province, broadcast against the naive loop.

- 2. cold build of one province (all its communes, the example scripts, the offline voice);
- 3. warm rebuild with no change, and rebuild after editing one script;
- 4. the naive loop in the same run: for every commune and message, synthesise the whole text
     with the same espeak voice, run ffmpeg's loudnorm, encode an MP3;
- 5. a projection for the whole country from the measured per-unique-second costs.

    .venv/bin/python benchmarks/bench_province.py [--province "Lạng Sơn"] [--write]

Every published message and program is checked with ffmpeg's ebur128 meter afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import imageio_ffmpeg

from broadcast.app import BuildResult, Workspace
from broadcast.ffmpeg import measure_ebur128
from broadcast.locales import find_province, import_locales
from broadcast.model import Week
from broadcast.project import load_project
from broadcast.render import render
from broadcast.speech import normalize
from broadcast.speech.markup import PLACEHOLDER_RE
from broadcast.tts import make_engine
from broadcast.wav import write_wav

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_plan_country import write_section
from machine import machine

REPO = Path(__file__).resolve().parents[1]
WEEK = Week(2026, 49)
COUNTRY_COMMUNES = 3321


def make_project(root: Path, province: str) -> None:
    root.mkdir(parents=True)
    for name in ("broadcast.yaml", "lexicon.yaml"):
        shutil.copy(REPO / name, root / name)
    for name in ("scripts", "voices", "schedules"):
        shutil.copytree(REPO / name, root / name)
    import_locales(root, [find_province(province)], "sang-chieu")
    fill_police_phones(root)


def fill_police_phones(root: Path) -> None:
    """An imported commune's police number is a <<CẦN ĐIỀN>> placeholder, and a sentence holding
    one is left out of the audio. A province on air has filled them in: here with 113, as the
    placeholder says to when a commune has no number of its own, so the police sentence (which
    names each commune's police) is spoken, as it is on air."""
    for path in (root / "locales").rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        filled = PLACEHOLDER_RE.sub("113", text)
        if filled != text:
            path.write_text(filled, encoding="utf-8")


def folder_bytes(path: Path) -> int:
    seen, total = set(), 0
    for p in path.rglob("*"):
        if p.is_file():
            st = p.stat()
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_size
    return total


def timed_build(root: Path) -> tuple[float, BuildResult]:
    started = time.perf_counter()
    result = Workspace(root).build(WEEK)
    return time.perf_counter() - started, result


def naive(root: Path, out: Path) -> tuple[float, int, float]:
    """What a user would script: every commune x message, whole text -> espeak -> loudnorm -> MP3."""
    project = load_project(root)
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    voice = next(v for v in project.voices if v.id == project.settings.default_voice)
    engine = make_engine(voice.engine, voice.params, root)
    out.mkdir(parents=True)
    started, files, audio = time.perf_counter(), 0, 0.0
    for locale in project.locales:
        for script in project.scripts:
            text = normalize(render(script, locale, WEEK))  # same spoken text as broadcast reads
            clip = engine.synthesize(" ".join([text] * script.repeat))
            wav = out / "tmp.wav"
            write_wav(clip, wav)
            target = out / f"{locale.id.replace('/', '_')}_{script.id}.mp3"
            subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(wav), "-af", "loudnorm=I=-16:TP=-1.5:LRA=11",
                            "-ar", "44100", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "96k", str(target)], check=True)
            files += 1
            audio += clip.duration
    return time.perf_counter() - started, files, audio


def check_loudness(week: Path) -> tuple[int, int, float, float, float]:
    """ffmpeg ebur128 on every published message and on every program of two communes.

    A program is its messages' MP3 frames (plus the station's opening and closing lines) joined
    without re-encoding, so it is on target when its parts are; metering all 910 programs
    (200 h of audio) would take longer than the build itself, so two communes' are checked."""
    manifest = json.loads((week / "manifest.json").read_text(encoding="utf-8"))
    locales = sorted({e["locale"] for e in manifest["files"] if e.get("locale")})
    chosen = [e for e in manifest["files"] if e["kind"] == "message"]
    programs = [e for e in manifest["files"] if e.get("locale") in (locales[0], locales[-1]) and e["kind"] == "program"]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        levels = list(pool.map(lambda e: measure_ebur128(week / e["path"]), chosen + programs))
    return (len(chosen), len(programs), min(x.integrated_lufs for x in levels),
            max(x.integrated_lufs for x in levels), max(x.true_peak_dbtp for x in levels))


def edit(root: Path, script_id: str, old: str, new: str) -> None:
    path = root / "scripts" / f"{script_id}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def stored_programs(week: Path) -> tuple[int, int]:
    """Program files, and how many distinct files (inodes) hold them."""
    files = [p for p in week.rglob("*.mp3") if p.parent.name != "messages"]
    return len(files), len({p.stat().st_ino for p in files})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--province", default="Lạng Sơn")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--communes", type=int, default=0, help="only the first N communes (a quick trial run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=REPO / "benchmarks") as tmp:
        root = Path(tmp) / "province"
        make_project(root, args.province)
        if args.communes:
            for path in sorted((root / "locales").glob("*/[!_]*.yaml"))[args.communes:]:
                path.unlink()
        project = load_project(root)
        communes = len(project.locales)
        cold_s, cold = timed_build(root)
        print(f"cold {cold_s:.1f} s {json.dumps(cold.stats)}", flush=True)
        week = root / "output" / WEEK.id
        written = folder_bytes(week)
        warm_s, warm = timed_build(root)
        print(f"warm {warm_s:.1f} s {json.dumps(warm.stats)}", flush=True)
        assert warm.stats.get("unchanged")
        # a comment added to every script: the inputs change, so the build runs every stage and finds
        # each file it would make unchanged
        for path in (root / "scripts").glob("*.yaml"):
            path.write_text(path.read_text(encoding="utf-8") + "# đã soát lại\n", encoding="utf-8")
        touched_s, touched = timed_build(root)
        print(f"touched {touched_s:.1f} s {json.dumps(touched.stats)}", flush=True)
        program_files, program_inodes = stored_programs(week)
        # a typical edit: one sentence that every commune says the same way
        edit(root, "khi-bi-de-doa", "Đừng ngại, đừng giấu.", "Bà con đừng ngại, đừng giấu.")
        edit_s, edited = timed_build(root)
        print(f"edit {edit_s:.1f} s {json.dumps(edited.stats)}", flush=True)
        # the worst single-sentence edit: a sentence that names the commune's police, said by every commune
        edit(root, "khi-bi-de-doa", "Bà con hãy liên hệ {{", "Bà con hãy liên hệ ngay {{")
        edit2_s, edited2 = timed_build(root)
        print(f"edit2 {edit2_s:.1f} s {json.dumps(edited2.stats)}", flush=True)
        messages_checked, programs_checked, lo, hi, peak = check_loudness(week)
        print(f"loudness {messages_checked}+{programs_checked} files {lo} {hi} {peak}", flush=True)
        naive_s, naive_files, naive_audio = naive(root, Path(tmp) / "naive")
        print(f"naive {naive_s:.1f} s {naive_files} files {naive_audio:.0f} s of audio", flush=True)
        messages = sum(1 for e in cold.files if e.kind == "message")
        programs = sum(1 for e in cold.files if e.kind == "program")
        assert programs == program_files
        audio_seconds = sum(e.seconds or 0.0 for e in cold.files if e.kind == "message")
        stages = cold.stats["stages"]
        cpu_per_unique = (stages["synthesise"] + stages["master"]) / max(cold.stats["segments"], 1)
        lines = [
            f"## Benchmarks 2-5: {args.province}, {communes} communes, {len(project.scripts)} scripts",
            "",
            f"Machine: {machine()}. Week {WEEK.id}, offline voice espeak-vi, preset loa, 2 worker processes.",
            "",
            "| run | wall time | engine calls | unique sentences | segments mastered | messages | programs |",
            "|---|---:|---:|---:|---:|---:|---:|",
            f"| cold build | {cold_s:.1f} s | {cold.stats['engine_calls']} | {cold.stats['sentences']} | "
            f"{cold.stats['segments']} | {messages} | {programs} |",
            f"| warm rebuild, no change | {warm_s:.1f} s ({100 * warm_s / cold_s:.1f}% of cold; target <= 5%) | "
            f"{warm.stats['engine_calls']} | {warm.stats['sentences']} | {warm.stats['segments']} | "
            f"{warm.stats['mastered']} re-made | - |",
            f"| rebuild after a comment is added to every script (every stage runs) | {touched_s:.1f} s "
            f"({100 * touched_s / cold_s:.1f}% of cold) | {touched.stats['engine_calls']} | "
            f"{touched.stats['sentences']} | {touched.stats['segments']} | {touched.stats['mastered']} re-made, "
            f"{touched.stats['read_back']} files read back | - |",
            f"| rebuild after editing one shared sentence of one script | {edit_s:.1f} s "
            f"({100 * edit_s / cold_s:.1f}% of cold; target <= 25%) |"
            f" {edited.stats['engine_calls']} | {edited.stats['sentences']} | {edited.stats['segments']} | "
            f"{edited.stats['mastered']} re-made | - |",
            f"| rebuild after editing the sentence that names each commune's police | {edit2_s:.1f} s "
            f"({100 * edit2_s / cold_s:.1f}% of cold) |"
            f" {edited2.stats['engine_calls']} | {edited2.stats['sentences']} | {edited2.stats['segments']} | "
            f"{edited2.stats['mastered']} re-made | - |",
            f"| naive loop (espeak whole text, ffmpeg loudnorm, MP3), messages only | {naive_s:.1f} s | "
            f"{naive_files} | - | - | {naive_files} | none |",
            "",
            f"- cold: broadcast **{naive_s / cold_s:.1f}x** faster than the naive loop (target >= 5x), although it also "
            f"writes {programs} program files, playlists and schedules; stages: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()),
            f"- warm: broadcast **{naive_s / warm_s:.0f}x** faster than the naive loop (which has no cache; target >= 50x)",
            f"- bytes written: {written / 1e9:.2f} GB ({messages} messages, {audio_seconds / 3600:.1f} h of message audio;"
            f" {programs} program files of up to 15 min, stored as {program_inodes} files: slots that air the same "
            f"messages in the same order share one file by hard link)",
            f"- loudness by ffmpeg ebur128 of all {messages_checked} published messages and all {programs_checked} "
            f"programs of two communes: {lo:.1f} to {hi:.1f} LUFS, "
            f"true peak <= {peak:.1f} dBTP (preset loa: -16 +-1 LU, <= -1 dBTP)",
            f"- naive loop: {naive_audio / 3600:.1f} h of audio synthesised and normalised",
            f"- peak RSS of the benchmark process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB",
            "",
            "Projection for the whole country (benchmark 5), scaling the measured costs:",
            f"- CPU per week: synthesis + mastering {cpu_per_unique:.3f} s wall per unique segment (sentence) on 2 "
            f"cores; shared sentences are made once, commune-specific ones per commune, so at most "
            f"{cold_s / communes:.2f} s wall per commune (an upper bound: it counts this province's shared sentences "
            f"again for every commune): ~{cold_s / communes * COUNTRY_COMMUNES / 3600:.1f} h for {COUNTRY_COMMUNES} "
            f"communes on this 2-core machine, ~{2 * cold_s / communes * COUNTRY_COMMUNES / 3600:.1f} CPU-hours "
            f"(naive loop: ~{naive_s / communes * COUNTRY_COMMUNES / 3600:.1f} h)",
            f"- disk per week: ~{written / communes * COUNTRY_COMMUNES / 1e12:.2f} TB "
            f"({written / communes / 1e6:.0f} MB per commune, mostly program files)",
            "",
        ]
        print("\n".join(lines))
        if args.write:
            write_section("## Benchmarks 2-5:", lines)


if __name__ == "__main__":
    main()
