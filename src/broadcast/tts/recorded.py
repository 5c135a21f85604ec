"""`recorded` — human recordings, for ethnic-minority-language versions and local names.

A folder of audio files in any format staff bring (WAV, MP3, OGG, FLAC, M4A, Opus), decoded
in-process by `broadcast.ffmpeg.decode` (FFmpeg's libraries through PyAV). A sentence is
found, in order:

1. in ``recordings.yaml`` inside the folder, a mapping ``sentence text: file name``
   (text compared after Unicode NFC and whitespace folding);
2. as ``<slug>-<hash>.<ext>`` (`recording_name`, as the studio saves an upload), where the slug
   is the sentence without diacritics, lower-case, words joined by ``-`` (``"Bà con chú ý!"``
   -> ``ba-con-chu-y``) and the hash 8 hex digits of the sentence's SHA-1;
3. as ``<slug>.<ext>``, unless another sentence read by the voice has the same slug (they differ
   by diacritics or punctuation: the file may be either's, and both are listed as missing). A
   whole-script recording is requested with the script id as the "sentence": ``<script-id>.wav``.

A sentence without a recording raises `MissingRecording` — never silence — and
`missing()` lists them without decoding anything, for lint.

Every file read stays inside the project: the folder, each index entry and each recording
(symlinks resolved) must lie inside it, and a recording is at most `MAX_BYTES` on disk and
`MAX_SECONDS` long (a whole script read by a person is a few minutes; an hour-long file is a
mistake that would fill the build's memory). A recording shorter than `MIN_SECONDS` or near-silent
or shorter than its header says (cut off) is refused with the sentence (`read_recording`), never
aired as hiss raised to the preset's loudness or as half a sentence.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from broadcast.errors import BroadcastError
from broadcast.ffmpeg import TooLong, decode_clip
from broadcast.formats.text import device_name
from broadcast.pcm import Clip

from .base import (
    QUIET_DBFS,
    Availability,
    Engine,
    EngineUnavailable,
    MissingRecording,
    Param,
    TTSError,
    bilingual,
    level_dbfs,
    sentence_label,
)

INDEX_FILE = "recordings.yaml"
# what staff bring: exports, phone voice memos (.m4a), Zalo voice messages (.aac), Android recorders (.amr,
# .3gp), a browser's recordings (.webm), a phone's video (.mp4: its sound)
EXTENSIONS = (".wav", ".mp3", ".ogg", ".flac", ".m4a", ".opus", ".aac", ".amr", ".3gp", ".webm", ".mp4")
# the containers those are (FFmpeg's demuxer names): a recording is read as one of these only, never as a
# playlist that opens other files (an ffconcat or HLS text saved as x.wav)
FORMATS = "wav,mp3,ogg,flac,mov,mp4,m4a,3gp,aac,amr,amrnb,amrwb,matroska,webm"
SLUG_MAX = 150
MAX_BYTES = 200 * 1024 * 1024
MAX_SECONDS = 15 * 60
MIN_SECONDS = 0.3  # shorter is no sentence read aloud (and a few ms leave nothing to master once trimmed)
CUT_SECONDS, CUT_SHARE = 0.3, 0.05  # decoded this much shorter than the header says: cut off


def slugify(text: str) -> str:
    """ASCII file-name slug of a Vietnamese sentence: 'Bà con chú ý!' -> 'ba-con-chu-y'."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:SLUG_MAX].rstrip("-")
    return f"{slug}-ghi-am" if device_name(slug) else slug  # "Con." -> con.wav: no such file on Windows


def recording_name(sentence: str) -> str:
    """The name (without extension) a sentence's recording is saved under: its slug and the first 8 hex
    digits of the SHA-1 of its text (NFC, spaces folded), so that two sentences that differ only by
    diacritics or punctuation ('Xã Văn Lang!', 'Xã Văn Lăng!') never share a file."""
    digest = hashlib.sha1(_norm(sentence).encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{slugify(sentence)}-{digest}"


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text)).split())


class RecordedEngine(Engine):
    NAME = "recorded"
    POOL = "inline"
    RATE_ADJUSTABLE = False  # a person's reading is aired as recorded
    PARAMS = (
        Param("folder", str, "assets/recordings", "thư mục bản ghi, tương đối với thư mục dự án"),
        Param("rate", int, 0, "đổi tần số lấy mẫu (Hz); 0 = giữ nguyên", low=0, high=192000),
    )

    def __init__(self, params, base_dir):
        super().__init__(params, base_dir)
        self.folder = (self.base_dir / self.params["folder"]).resolve()
        if not self.folder.is_relative_to(self.base_dir.resolve()):
            raise TTSError(bilingual(f"thư mục bản ghi '{self.params['folder']}' nằm ngoài thư mục dự án; "
                                     "hãy đặt bản ghi trong dự án, ví dụ assets/recordings",
                                     "the recordings folder must be inside the project"))
        if not self.folder.is_dir():
            raise EngineUnavailable(_no_folder(self.folder))

    # lookup -------------------------------------------------------------------

    @cached_property
    def index(self) -> dict[str, Path]:
        """recordings.yaml: normalised sentence text -> file path."""
        path = self.folder / INDEX_FILE
        data = _load_index(path)
        index = {}
        for key, name in data.items():
            if "\x00" in name:  # written "\0" in quotes: resolve() raised ValueError, lint and build a traceback
                raise TTSError(bilingual(f"{path}:{data.line_of(key)}: tên tệp {name!r} có ký tự NUL (\\0); "
                                         "chỉ ghi tên một tệp trong thư mục này", "NUL in a file name"))
            target = (self.folder / name).resolve()
            if not target.is_relative_to(self.folder):
                raise TTSError(bilingual(f"{path}:{data.line_of(key)}: tệp '{name}' nằm ngoài thư mục bản ghi; "
                                         "chỉ ghi tên một tệp trong thư mục này",
                                         "an index entry points outside the recordings folder"))
            index[_norm(key)] = target
        return index

    @cached_property
    def _files_by_stem(self) -> dict[str, list[Path]]:
        """The recordings by name without extension, in lower case ('x.WAV' and 'x.mp3' are both 'x')."""
        found: dict[str, list[Path]] = {}
        for p in sorted(self.folder.iterdir()):
            if p.is_file() and p.suffix.lower() in EXTENSIONS:
                found.setdefault(p.stem.lower(), []).append(p)
        return found

    def candidates(self, sentence: str) -> list[Path]:
        """Every file that may be the recording of a sentence (or script id): its entry in the index,
        which staff wrote on purpose and which wins (an upload removes it); else the files named by its
        slug, where more than one (x.WAV beside x.mp3, put there by hand) is a conflict (`conflict`)."""
        listed = self.index.get(_norm(sentence))
        if listed is not None and listed.is_file():
            return [listed]
        return list(self._files_by_stem.get(recording_name(sentence)) or self._files_by_stem.get(slugify(sentence), []))

    def find(self, sentence: str) -> Path | None:
        """The recording for a sentence (or script id), or None."""
        found = self.candidates(sentence)
        return found[0] if found else None

    def conflict(self, sentence: str) -> str | None:
        """Why the recording of a sentence is not known for sure: two files of its name may be it (of
        other types or cases, put there by hand), or None."""
        found = self.candidates(sentence)
        if len(found) < 2:
            return None
        names = ", ".join(p.relative_to(self.folder).as_posix() for p in found)
        return bilingual(f"câu {sentence_label(sentence)} có {len(found)} tệp ghi âm ({names}): không biết tệp nào "
                         f"đúng; hãy xóa tệp cũ (và dòng của câu trong {INDEX_FILE}, nếu có), hoặc tải lên lại trong "
                         "trang Ghi âm của studio", "several recordings for one sentence")

    def unusable(self, sentences) -> list[str]:
        """For lint: why each found recording cannot be aired, read as the build reads it (`read_recording`)."""
        out = []
        shared = self._shared(sentences)
        for s in dict.fromkeys(sentences):
            path = self.find(s)
            if path is None or s in shared:  # listed as missing
                continue
            try:
                self._read(path, s)
            except TTSError as e:
                out.append(e.message)
        return out

    def missing(self, sentences) -> list[str]:
        """The sentences (in order, without repeats) that have no recording of their own: none, or only
        an old slug-named file that another of them, different only by diacritics or punctuation
        ('Xã Văn Lang', 'Xã Văn Lăng'), has the same name for (whose is it?)."""
        shared = self._shared(sentences)
        out, seen = [], set()
        for s in sentences:
            if s not in seen and (s in shared or self.find(s) is None):
                out.append(s)
            seen.add(s)
        return out

    def _shared(self, sentences) -> set[str]:
        """Those of `sentences` read from a file named by the slug alone (as files were named before the
        name held a hash of the sentence) when another of them has the same slug."""
        texts: dict[str, set[str]] = {}
        for s in sentences:
            texts.setdefault(slugify(s), set()).add(_norm(s))
        out = set()
        for s in sentences:
            path = self.find(s)
            if len(texts[slugify(s)]) > 1 and path is not None and path.stem.lower() == slugify(s) \
                    and _norm(s) not in self.index:
                out.add(s)
        return out

    # protocol -----------------------------------------------------------------

    def synthesize(self, sentence: str) -> Clip:
        path = self.find(sentence)
        if path is None:
            raise MissingRecording(
                bilingual(
                    f"chưa có bản ghi cho câu {sentence_label(sentence)} trong {self.folder}; "
                    f"hãy thu âm và lưu thành '{slugify(sentence)}.wav' hoặc thêm vào {INDEX_FILE}",
                    "no recording for this sentence",
                ),
                sentence=sentence,
                folder=str(self.folder),
            )
        return self._read(path, sentence)

    def _read(self, path: Path, sentence: str) -> Clip:
        why = self.conflict(sentence)
        if why:
            raise TTSError(why)
        _check_recording(path, self.folder)
        return read_recording(path, self.params["rate"] or None, name=str(path), sentence=sentence)

    def version(self) -> str:
        """Changes whenever any recording or the index changes (name, size, mtime): every file of a
        known type in the folder, and every file the index names (of any type, in a subfolder too)."""
        h = hashlib.sha256()
        files = {p for p in self.folder.iterdir() if p.is_file() and (p.suffix.lower() in EXTENSIONS or
                                                                      p.name == INDEX_FILE)}
        files |= {p for p in self.index.values() if p.is_file()}
        for p in sorted(files):
            st = p.stat()
            h.update(f"{p.relative_to(self.folder).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        return f"recorded {h.hexdigest()[:16]}"

    @classmethod
    def files(cls, params: Mapping[str, Any] | None, base_dir: Path) -> list[Path]:
        try:
            return [(base_dir / cls.normalize_params(params)["folder"]).resolve()]
        except TTSError:
            return []

    @classmethod
    def availability(cls, params=None, base_dir=None, probe=None, probe_timeout=3.0) -> Availability:
        p = cls.normalize_params(params)
        folder = (Path(base_dir or ".") / p["folder"]).resolve()
        if not folder.is_dir():
            return Availability(
                False,
                _no_folder(folder),
                bilingual(f"tạo thư mục {folder} và đặt các tệp thu âm vào đó", f"create {folder} with the recordings"),
            )
        count = sum(1 for f in folder.iterdir() if f.suffix.lower() in EXTENSIONS)
        return Availability(True, f"{folder}: {count} bản ghi (recordings)")


def read_recording(source: Path | bytes, rate: int | None = None, *, name: str, sentence: str = "",
                   error: type[BroadcastError] = TTSError) -> Clip:
    """A recording decoded as the build airs it (by the engine, lint and the studio's upload), or
    `error` naming it (and its sentence) with why it cannot be aired and the fix: longer than
    `MAX_SECONDS` (from a header that counts samples, before decoding; else as it decodes), shorter than
    `MIN_SECONDS`, under
    `QUIET_DBFS` (silence, or a muted or far microphone's hiss, which loudness normalisation would
    raise by 50 dB onto the loudspeakers), or shorter than its header says (cut off or corrupt: the
    sentence would air cut)."""
    stated, counted = header_seconds(source)
    problem = _too_long(stated) if counted and stated > MAX_SECONDS else None
    if problem is None:
        try:  # a header that lies (or none) is caught as it decodes, not after the whole file is in memory
            clip = decode_clip(source, rate, what=name, error=error, max_seconds=MAX_SECONDS, formats=FORMATS)
            problem = _unairable(clip, stated if counted else 0.0)
        except TooLong as long:
            problem = _too_long(long.seconds)
    if problem is None:
        return clip
    why, fix = problem
    about = f" cho câu {sentence_label(sentence)}" if sentence else ""
    raise error(bilingual(f"bản ghi {Path(name).name}{about} {why}; {fix}", "this recording cannot be aired"))


def header_seconds(source: Path | bytes) -> tuple[float, bool]:
    """The length a recording's header states (0.0 without one), and whether the header counts it
    (WAV's data size, an MP3's Xing or VBRI frame count, MP4, FLAC, Ogg) rather than it being
    estimated from the file's size (an MP3 without such a frame, whose estimate is off for VBR)."""
    import mutagen
    from mutagen.mp3 import BitrateMode

    try:
        audio = mutagen.File(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (OSError, mutagen.MutagenError):
        return 0.0, False  # unreadable headers: the decoder says why
    if audio is None or not audio.info:
        return 0.0, False
    # counted: a sample or frame count that starts at the first sample (WAV's data size, FLAC's total, an
    # MP3's Xing or VBRI count). An Ogg, MP4 or WebM length is the last timestamp: a stream cut from a
    # longer one starts late (a 5 s clip said 17 minutes), so it is neither refused nor taken as cut by it.
    kind = type(audio).__name__
    if kind in ("WAVE", "FLAC"):
        return float(audio.info.length), True
    if kind in ("MP3", "EasyMP3"):
        return float(audio.info.length), getattr(audio.info, "bitrate_mode", None) != BitrateMode.UNKNOWN
    return float(audio.info.length), False


def _unairable(clip: Clip, stated: float) -> tuple[str, str] | None:
    if stated and clip.duration < stated - max(CUT_SECONDS, CUT_SHARE * stated):
        return (f"bị hỏng hoặc bị cắt cụt: chỉ giải mã được {clip.duration:.1f} giây trong {stated:.1f} giây "
                "mà tệp ghi", "hãy gửi lại tệp gốc")
    if clip.duration < MIN_SECONDS:
        return (f"chỉ dài {clip.duration:.2f} giây, quá ngắn cho một câu (tối thiểu {MIN_SECONDS} giây)",
                "hãy thu âm lại cả câu")
    if clip.duration > MAX_SECONDS:
        return _too_long(clip.duration)
    level = level_dbfs(clip)
    if level < QUIET_DBFS:
        return (f"gần như im lặng ({level:.0f} dBFS; tiếng nói từ -30 đến -15 dBFS)",
                "hãy thu âm lại, nói gần micrô và kiểm tra micrô không bị tắt")
    return None


def _too_long(seconds: float) -> tuple[str, str]:
    return (f"dài {seconds / 60:.0f} phút, quá {MAX_SECONDS // 60} phút cho phép",
            "hãy cắt thành từng câu hoặc từng tin")


def _load_index(path: Path) -> Any:
    """recordings.yaml as a mapping of sentence text to file name (empty when there is none)."""
    if not path.is_file():
        return {}
    from broadcast.yamlio import YamlError, YMap, load_yaml

    try:
        data = load_yaml(path)
    except YamlError as e:
        raise TTSError(bilingual(f"{path}:{e.line}: {e.message}", "invalid YAML") + f"; {e.fix}") from e
    if data is None:
        return {}
    if not isinstance(data, YMap) or not all(isinstance(v, str) for v in data.values()):
        raise TTSError(bilingual(f"{path}: phải là bảng 'câu: tên tệp'",
                                 "must be a mapping of sentence text to file name"))
    return data


def index_without(folder: Path, sentence: str) -> str | None:
    """recordings.yaml's text without the sentence's entry (an upload of it replaces what the index
    named, which would win over it), or None when the index has no entry for it. Other lines,
    comments too, are kept."""
    path = folder / INDEX_FILE
    data = _load_index(path)
    keys = [key for key in data if _norm(key) == _norm(sentence)]
    if not keys:
        return None
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    gone = {n for key in keys for n in range(data.line_of(key), data.value_line(key) + 1)}
    return "".join(line for n, line in enumerate(lines, 1) if n not in gone)


def _no_folder(folder: Path) -> str:
    return bilingual(f"không có thư mục bản ghi {folder}", f"recordings folder {folder} does not exist")


def _check_recording(path: Path, folder: Path) -> None:
    """A recording read for a sentence: inside the folder (a symlink may not lead out) and of a sane size."""
    real = path.resolve()
    if not real.is_relative_to(folder):
        raise TTSError(bilingual(f"bản ghi {path.name} trỏ ra ngoài thư mục bản ghi {folder}; "
                                 "hãy chép tệp thật vào thư mục", "a recording links outside its folder"))
    size = real.stat().st_size
    if size > MAX_BYTES:
        raise TTSError(bilingual(f"bản ghi {path.name} nặng {size // (1024 * 1024)} MB, quá "
                                 f"{MAX_BYTES // (1024 * 1024)} MB cho phép; hãy cắt thành từng câu hoặc từng tin",
                                 "recording file too large"))
