"""Render + speak for a whole week: every (script, commune) as the voice will read it.

The first stage of a build after loading. Nothing is synthesised here; every rendering or
lexicon problem of every commune is collected and raised together, so nothing is built from
bad content.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from . import phones, records
from .audio import Spoken
from .errors import ContentError, Problem
from .model import Locale, Project, Script, Voice, Week
from .render import RenderError, render
from .speech import Paragraph, Speech, speak
from .speech.markup import has_placeholder, written
from .speech.markup import unclosed as unclosed_markup
from .tts import Clip

REMINDER = "Xin nhắc lại."


@dataclass(frozen=True)
class Message:
    """One script for one commune, as spoken: what the audio stages need."""

    script: Script
    locale: Locale
    voice: str
    speech: Speech
    text: str = ""  # as written (rendered, markup's written side): for the web page and the feeds

    @property
    def parts(self) -> tuple[str, ...]:
        return self.speech.parts


@dataclass(frozen=True)
class Announcements:
    """What the station says around the messages, spoken: its opening and closing lines (either
    may be empty) and the reminder said before each repeat."""

    opening: Speech | None
    closing: Speech | None
    reminder: Speech


def scripts_airing(project: Project, week: Week) -> list[Script]:
    """The scripts valid on at least one day of `week` (approved or not: see `held_for_approval`)."""
    return [s for s in project.scripts if s.valid.touches(week.days)]


def held_for_approval(project: Project, scripts: list[Script]) -> list[Script]:
    """Under `approval: required`, the scripts whose content, as read (and spoken), nobody has approved:
    the file's hash now let a draft read by the build air when the file was changed back to its
    approved text while the build went on reading the project."""
    if project.settings.approval != "required":
        return []
    approved = records.approved_now(project.root, {s.id: s.sha256 or records.file_sha256(project.root / s.file)
                                                   for s in scripts}, project.settings.name)
    return [s for s in scripts if s.id not in approved]


def speak_messages(project: Project, week: Week, locales: list[Locale],
                   scripts: list[Script]) -> tuple[list[Message], Announcements]:
    """Every message's spoken form, and the station's lines.

    Raises ContentError with every rendering problem, every phone number that may not go on
    air (`phones`) and every unclosed markup; lexicon problems stop the project's loading."""
    messages: list[Message] = []
    problems: list[Problem] = []
    unlisted: list[phones.Unlisted] = []
    for locale in locales:
        numbers = phones.dialable(locale, project.official_numbers)
        for script in scripts:
            try:
                text = render(script, locale, week)
            except RenderError as exc:
                problems.append(exc.problem)
                continue
            voice = project.voice_for(script, locale)
            lexicon = project.readings(locale.lexicon, voice)  # espeak's respellings are not a neural voice's
            speech = speak(text, lexicon)
            unlisted += phones.check_message(script, locale, text, numbers, speech)
            problems += [p for p in unclosed_markup_problems(script, text) if p not in problems]
            problems += [p for p in silent_problems(script, locale, speech) if p not in problems]
            messages.append(Message(script, locale, voice, speech, written(text)))
    problems += phones.problems(unlisted)
    if problems:
        raise ContentError(problems)
    settings = project.settings
    lexicon = project.readings(project.lexicon, settings.default_voice)  # the station's lines: the default voice
    lines = {key: speak(text, lexicon) if text else None
             for key, text in (("opening", settings.opening), ("closing", settings.closing))}
    names = {"opening": "lời mở đầu", "closing": "lời kết thúc"}
    silent = [Problem("broadcast.yaml", 0, key, f"{names[key]} không có lời nào để đọc sau khi đọc các phần đánh "
                      "dấu (nothing to say once the markup is read)", "viết một câu bằng chữ, hoặc xóa dòng này")
              for key, speech in lines.items() if speech is not None and not speech.parts]
    if silent:
        raise ContentError(silent)
    return messages, Announcements(lines["opening"], lines["closing"], reminder_speech(project))


def reminder_speech(project: Project) -> Speech:
    """The reminder said before each repeat, in each message's voice (read with the default voice's readings)."""
    return speak(REMINDER, project.readings(project.lexicon, project.settings.default_voice))


def said(speech: Speech, script: Script, reminder: Speech) -> tuple[str, ...]:
    """Every clip a message's voice says: its parts, and the reminder's when the script repeats
    (only then is it said: a voice of recordings needs it only then, and must have it then)."""
    return speech.parts + (reminder.parts if script.repeat > 1 else ())


def leave_out_placeholders(messages: list[Message]) -> tuple[list[Message], int]:
    """A draft's messages: every sentence holding a `<<CẦN ĐIỀN: ...>>` placeholder left out, so
    a placeholder is never spoken; and how many sentences were left out. A message with nothing
    else is left with its chime only, so that it keeps its place in the draft's week."""
    out, left_out = [], 0
    for message in messages:
        paragraphs = []
        for paragraph in message.speech.paragraphs:
            kept = tuple(s for s in paragraph.sentences if not any(has_placeholder(p) for p in s.parts))
            left_out += len(paragraph.sentences) - len(kept)
            if kept:
                paragraphs.append(Paragraph(kept))
        if paragraphs != list(message.speech.paragraphs):
            message = replace(message, speech=replace(message.speech, paragraphs=tuple(paragraphs)))
        out.append(message)
    return out, left_out


def spoken_clips(speech: Speech, clip: Callable[[str], Clip]) -> Spoken:
    """The audio of a spoken text: each part's clip, in the speech's paragraphs and sentences."""
    return Spoken(tuple(tuple(tuple(clip(part) for part in sentence.parts) for sentence in paragraph.sentences)
                        for paragraph in speech.paragraphs))


def unclosed_markup_problems(script: Script, text: str) -> list[Problem]:
    """`[đọc: ...` with no `]` in a rendered text: an error at the script line that has it (the
    voice would read the bracket and the markup aloud)."""
    return [_unclosed(script, number, fragment) for number, fragment in unclosed_markup(text)]


def silent_problems(script: Script, locale: Locale, speech: Speech) -> list[Problem]:
    """A text with words that says none once its markup is read ("[đọc: UBND | ]", "[nguyên văn: ...]"):
    an error at the body, as a body rendering to no words is (it aired a chime and the reminder; the
    build stopped at an empty clip, blamed as a damaged recording)."""
    if speech.parts:
        return []
    return [Problem(script.file, script.line_of(1), "body",
                    f"nội dung cho xã {locale.id} không có lời nào để đọc sau khi đọc các phần đánh dấu: loa sẽ chỉ "
                    "phát tiếng chuông (nothing to say once the markup is read)",
                    "viết nội dung bằng chữ vào body; mỗi phần [đọc: chữ viết | cách đọc] cần có cách đọc bằng chữ")]


def _unclosed(script: Script, number: int, fragment: str) -> Problem:
    line = script.line_of(number)
    opening = fragment.split(":", 1)[0] + ":"
    source = script.body.splitlines()
    for needle in (fragment, opening):
        offset = next((i for i, source_line in enumerate(source) if needle in source_line), None)
        if offset is not None:
            line = script.line_of(offset + 1)
            break
    return Problem(script.file, line, "đọc",
                   f"chưa đóng ngoặc vuông: '{fragment}' sẽ bị đọc nguyên văn cả dấu ngoặc (unclosed markup)",
                   "thêm ']' ở cuối phần đánh dấu, ví dụ [đọc: Zalo | da lô]; phần đánh dấu phải nằm trên một dòng")


def clip_requests(project: Project, messages: list[Message], announcements: Announcements) -> list[tuple[Voice, str]]:
    """(voice, text) for every clip the messages and programs need; duplicates are fine.

    A repeated message's voice also says the reminder; the station's lines are in the default voice."""
    voices = {v.id: v for v in project.voices}
    requests = [(voices[m.voice], part) for m in messages for part in said(m.speech, m.script, announcements.reminder)]
    default_voice = voices[project.settings.default_voice]
    requests += [(default_voice, part) for speech in (announcements.opening, announcements.closing) if speech
                 for part in speech.parts]
    return requests
