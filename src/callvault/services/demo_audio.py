"""Demo recordings: speech-like audio made on the spot (nothing shipped, nothing fetched) and
attached to the demo's recorded calls through the recording service, half WAV, half MP3.

The audio is two voices taking turns, syllables of a voiced tone with harmonics under a
rising-and-falling pitch, over faint line noise, at the telephone band's 8 kHz. A handful of
clips of different lengths is made once and shared: each recorded call gets the longest clip
that fits its duration, and calls shorter than the short-recording threshold get a short clip,
which the service then refuses to keep, exactly as for a real upload.
"""

from __future__ import annotations

import functools
import io
import math
import random
import wave
from array import array
from dataclasses import dataclass, field

import lameenc

from callvault.domain.query import CallQuery
from callvault.services.container import Services
from callvault.services.recordings import AttachOptions

SAMPLE_RATE = 8000
# Clip lengths (s): the first is below the default 30 s threshold on purpose.
CLIP_SECONDS = (12, 30, 45, 63, 88)
_PER_PAGE = 1000


@dataclass(slots=True)
class DemoRecordings:
    """What attaching demo audio did: recordings kept per format, and calls marked short."""

    kept: dict[str, int] = field(default_factory=dict)
    short: int = 0


def _syllable(rng: random.Random, pitch: float) -> array[int]:
    """One voiced syllable: a gliding fundamental with two harmonics under a smooth envelope."""
    length = int(SAMPLE_RATE * rng.uniform(0.09, 0.26))
    f0 = pitch * rng.uniform(0.85, 1.2)
    glide = rng.uniform(-0.25, 0.25)
    vowel = rng.uniform(0.2, 0.7)  # how strong the upper harmonics are
    out = array("h")
    phase = 0.0
    for n in range(length):
        t = n / length
        freq = f0 * (1 + glide * t)
        phase += 2 * math.pi * freq / SAMPLE_RATE
        env = math.sin(math.pi * t) ** 1.5
        value = math.sin(phase) + vowel * math.sin(2 * phase) + vowel * 0.5 * math.sin(3 * phase)
        out.append(int(6500 * env * value))
    return out


@functools.cache
def _voices(seed: int) -> tuple[tuple[array[int], ...], ...]:
    rng = random.Random(seed)
    return tuple(tuple(_syllable(rng, pitch) for _ in range(14)) for pitch in (115.0, 205.0))


@functools.cache
def speech_like(seconds: int, seed: int = 7) -> bytes:
    """``seconds`` of 16-bit mono PCM at 8 kHz: two voices taking turns, deterministic."""
    rng = random.Random(seed * 1000 + seconds)
    voices = _voices(seed)
    # Faint line noise fills the pauses (the syllables are loud enough to cover it).
    hiss = array("h", (rng.randint(-40, 40) for _ in range(SAMPLE_RATE)))
    total = seconds * SAMPLE_RATE
    pcm = array("h")

    def pause(low: float, high: float) -> None:
        length = int(SAMPLE_RATE * rng.uniform(low, high))
        start = rng.randrange(SAMPLE_RATE - length)
        pcm.extend(hiss[start : start + length])

    speaker = 0
    while len(pcm) < total:
        for _ in range(rng.randint(3, 9)):  # words in this turn
            for _ in range(rng.randint(1, 3)):  # syllables in this word
                pcm.extend(rng.choice(voices[speaker]))
            pause(0.05, 0.18)
        pause(0.3, 0.9)
        speaker = 1 - speaker
    del pcm[total:]
    return pcm.tobytes()


@functools.cache
def wav_clip(seconds: int, seed: int = 7) -> bytes:
    """A WAV file (16-bit mono, 8 kHz) of ``speech_like`` audio."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(speech_like(seconds, seed))
    return buf.getvalue()


@functools.cache
def mp3_clip(seconds: int, seed: int = 7) -> bytes:
    """An MP3 file (16 kbit/s mono, 8 kHz) of ``speech_like`` audio."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(16)
    encoder.set_in_sample_rate(SAMPLE_RATE)
    encoder.set_channels(1)
    encoder.set_quality(7)
    return bytes(encoder.encode(speech_like(seconds, seed)) + encoder.flush())


def _clip_for(duration_s: int, short_s: float) -> int:
    """The longest clip that fits the call; a call too short to keep gets the short clip."""
    if duration_s < short_s:
        return CLIP_SECONDS[0]
    return max((c for c in CLIP_SECONDS[1:] if c <= duration_s), default=CLIP_SECONDS[1])


def attach_demo_recordings(services: Services, account_id: int, *, seed: int) -> DemoRecordings:
    """Attach audio to every record of the account that names a recording without audio."""
    wanted: list[tuple[str, int, str]] = []
    page = 1
    while True:
        query = CallQuery(
            account_id=account_id, recording_types=frozenset(), page=page, per_page=_PER_PAGE
        )
        found = services.calls.list(query)
        wanted.extend(
            (r.id, r.duration, r.recording.id)
            for r in found.items
            if r.recording is not None and not r.recording.held
        )
        if not found.has_more:
            break
        page += 1
    recordings = services.recordings
    report = DemoRecordings()
    for record_id, duration, recording_id in wanted:
        seconds = _clip_for(duration, recordings.short_ms / 1000)
        as_mp3 = int(recording_id) % 2 == 1 if recording_id.isdigit() else True
        content_type = "audio/mpeg" if as_mp3 else "audio/wav"
        audio = mp3_clip(seconds, seed) if as_mp3 else wav_clip(seconds, seed)
        upload = recordings.start_upload(account_id, record_id, content_type)
        upload.feed(audio)
        result = recordings.attach(account_id, record_id, upload, AttachOptions())
        if result.short:
            report.short += 1
        else:
            report.kept[content_type] = report.kept.get(content_type, 0) + 1
    return report
