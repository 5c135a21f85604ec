"""libespeak-ng through ctypes, and a small helper process that holds only that library.

libespeak-ng keeps global state that carries from one sentence to the next (the pitch flutter and
the glottal pulse's phase run on), so each sentence is spoken in a forked child of a process whose
library has never spoken: every sentence then starts from the same state, and a build does not
depend on `--jobs` or on the order of work. Forking costs time in proportion to the memory the
forking process maps: ~14 ms per sentence from a build worker that holds numpy, SciPy and FFmpeg,
against ~8 ms of speaking. So each process that speaks starts this file as a helper program
(`python -S espeak_helper.py LIBRARY DATA`: the standard library and ctypes, nothing else) and the
helper forks the children.

This file imports nothing from broadcast, so the helper starts in milliseconds and stays small;
messages for people are made by `espeak.py` from the `SpeakError` codes raised here.

The helper's protocol, on its stdin and stdout, every message a 4-byte big-endian length and a
body: first the helper says `{"rate": R, "version": V}` (or `{"error": [code, detail]}`); then
for each request `{"voice": ..., "settings": {param: value}, "text": ...}` it answers one status
byte and the samples (0: 16-bit mono PCM) or a JSON `[code, detail]` (1). It exits at the end of
its input, that is when the process that started it closes the pipe or dies.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import struct
import sys
from collections.abc import Mapping
from typing import IO

AUDIO_OUTPUT_SYNCHRONOUS = 2
espeakCHARS_UTF8 = 1
espeakINITIALIZE_DONT_EXIT = 0x8000
POS_CHARACTER = 1
EE_OK = 0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class SpeakError(Exception):
    """What went wrong, as a code `espeak.py` words for people: init, voice, synth, crashed."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code, detail)
        self.code, self.detail = code, detail


class Library:
    """libespeak-ng loaded and initialised in this process."""

    def __init__(self, library_path: str, data_parent: str) -> None:
        lib = ctypes.CDLL(library_path)
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        # the path is the folder that *contains* espeak-ng-data
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_parent.encode(), espeakINITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise SpeakError("init", data_parent)
        self.lib, self.rate = lib, rate
        self.version = (lib.espeak_Info(None) or b"?").decode()
        self._chunks: list[bytes] = []
        self._callback = _SYNTH_CALLBACK(self._collect)  # keep a reference: C holds the pointer
        lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav, numsamples, events) -> int:
        if numsamples > 0 and wav:
            self._chunks.append(ctypes.string_at(wav, numsamples * 2))
        return 0  # 0 = continue

    def speak(self, voice: str, settings: Mapping[int, int], text: str) -> bytes:
        """The sentence as 16-bit mono PCM, spoken in this process (its state then runs on)."""
        lib = self.lib
        if lib.espeak_SetVoiceByName(voice.encode()) != EE_OK:
            raise SpeakError("voice", voice)
        for param, value in settings.items():
            lib.espeak_SetParameter(int(param), int(value), 0)
        data = text.encode("utf-8") + b"\0"
        self._chunks = []
        err = lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, espeakCHARS_UTF8, None, None)
        lib.espeak_Synchronize()
        if err != EE_OK:
            raise SpeakError("synth", str(err))
        out, self._chunks = b"".join(self._chunks), []
        return out

    def speak_fresh(self, voice: str, settings: Mapping[int, int], text: str) -> bytes:
        """The sentence spoken by a forked child, so this process's library stays unspoken."""
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: speak, hand the answer over, and leave at once
            status, data = 0, b""
            try:
                die_with_parent()
                os.close(read_end)
                data = self.speak(voice, settings, text)
            except SpeakError as e:
                status, data = 1, json.dumps([e.code, e.detail]).encode()
            except BaseException as e:  # reported to the parent, never raised in a copy of it
                status, data = 1, json.dumps(["crashed", repr(e)]).encode()
            finally:
                try:
                    with os.fdopen(write_end, "wb") as pipe:
                        pipe.write(bytes([status]) + data)
                finally:  # even on a broken pipe: never run on as a copy of the parent
                    os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            blob = pipe.read()
        os.waitpid(pid, 0)
        if not blob:
            raise SpeakError("crashed", "")
        if blob[0] != 0:
            code, detail = json.loads(blob[1:])
            raise SpeakError(code, detail)
        return blob[1:]


def die_with_parent() -> None:
    """Linux: this process gets SIGKILL when its parent dies (elsewhere the closed pipe ends it)."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, 9)
    except (OSError, AttributeError):
        pass


def read_message(stream: IO[bytes]) -> bytes | None:
    """One length-prefixed message, or None at the end of the stream."""
    head = stream.read(4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack(">I", head)
    body = stream.read(size)
    return body if len(body) == size else None


def write_message(stream: IO[bytes], body: bytes) -> None:
    stream.write(struct.pack(">I", len(body)) + body)
    stream.flush()


def serve(library_path: str, data_parent: str, requests: IO[bytes], answers: IO[bytes]) -> None:
    """The helper's loop: hello, then one answer per request until the input ends."""
    try:
        library = Library(library_path, data_parent)
    except (OSError, SpeakError) as e:
        code, detail = (e.code, e.detail) if isinstance(e, SpeakError) else ("load", str(e))
        write_message(answers, json.dumps({"error": [code, detail]}).encode())
        return
    write_message(answers, json.dumps({"rate": library.rate, "version": library.version}).encode())
    while (body := read_message(requests)) is not None:
        request = json.loads(body)
        try:
            pcm = library.speak_fresh(request["voice"], {int(k): v for k, v in request["settings"].items()},
                                      request["text"])
            write_message(answers, b"\0" + pcm)
        except SpeakError as e:
            write_message(answers, b"\1" + json.dumps([e.code, e.detail]).encode())


if __name__ == "__main__":
    die_with_parent()
    # Ctrl-C reaches the whole terminal group: the build decides how to stop, and the helper
    # ends with the pipe, as on any end of its parent
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        serve(sys.argv[1], sys.argv[2], sys.stdin.buffer, sys.stdout.buffer)
    except BrokenPipeError:  # the parent went away mid-answer
        os._exit(0)
