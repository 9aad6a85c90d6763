"""Small audio files for the recording tests: tones in WAV (``wave``) and MP3 (``lameenc``)."""

from __future__ import annotations

import functools
import io
import math
import wave
from array import array

import lameenc

RATE = 8000


@functools.cache
def tone_pcm(seconds: int, freq: int = 440) -> bytes:
    """``seconds`` of a 16-bit mono sine at 8 kHz (one second computed, then repeated)."""
    one = array("h", (int(8000 * math.sin(2 * math.pi * freq * n / RATE)) for n in range(RATE)))
    return one.tobytes() * seconds


def wav(seconds: int, freq: int = 440) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(tone_pcm(seconds, freq))
    return buf.getvalue()


@functools.cache
def mp3(seconds: int, freq: int = 440) -> bytes:
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(16)
    encoder.set_in_sample_rate(RATE)
    encoder.set_channels(1)
    encoder.set_quality(7)
    return bytes(encoder.encode(tone_pcm(seconds, freq)) + encoder.flush())
