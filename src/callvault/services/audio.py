"""Recognising recording audio and measuring its length as it streams past, in constant memory.

``AudioProbe`` is fed an upload chunk by chunk. The first bytes tell WAV (``RIFF…WAVE``) from
MP3 (an ID3v2 tag or an MPEG audio frame); a WAV's length comes from its ``fmt``/``data``
chunks, an MP3's from a Xing/Info frame count when the encoder wrote one, else from adding up
the frames. Pure computation: no files, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

WAV = "audio/wav"
MPEG = "audio/mpeg"

# Every spelling of the two formats a client may send as Content-Type.
CONTENT_TYPES = {
    "audio/wav": WAV,
    "audio/x-wav": WAV,
    "audio/wave": WAV,
    "audio/vnd.wave": WAV,
    "audio/mpeg": MPEG,
    "audio/mp3": MPEG,
    "audio/mpeg3": MPEG,
    "audio/x-mpeg": MPEG,
    "audio/x-mpeg-3": MPEG,
    "audio/x-mp3": MPEG,
}
EXTENSIONS = {WAV: ".wav", MPEG: ".mp3"}

# Headers of a WAV must be found within this many bytes (LIST/INFO chunks before ``data``).
_WAV_HEAD_LIMIT = 1 << 20
# An MP3's first frame must start within this many bytes after its ID3 tag.
_MP3_SYNC_LIMIT = 64 * 1024

_MP3_BITRATES = {
    (1, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (1, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (1, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (2, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Version bits → sample rates: 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5 (1 is reserved).
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


class NotAudio(ValueError):
    """The bytes are not WAV or MP3 audio (the message says why)."""


@dataclass(slots=True, frozen=True)
class Frame:
    length: int
    samples: int
    sample_rate: int


def mp3_frame(header: bytes | bytearray) -> Frame | None:
    """The MPEG audio frame starting with these four bytes, or None if they are not one."""
    if header[0] != 0xFF:
        return None
    key = bytes(header[:3])  # the fourth byte does not change the frame's size
    try:
        return _FRAMES[key]
    except KeyError:
        frame = _FRAMES[key] = _parse_frame(key[0], key[1], key[2])
        return frame


_FRAMES: dict[bytes, Frame | None] = {}


def _parse_frame(b0: int, b1: int, b2: int) -> Frame | None:
    if b0 != 0xFF or b1 & 0xE0 != 0xE0:
        return None
    version, layer_bits = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved values, or free-format bitrate whose frame size is unknown
    layer = 4 - layer_bits
    lsf = version != 3  # MPEG-2 and 2.5 use half-size Layer III frames
    bitrate = _MP3_BITRATES[(2 if lsf else 1, layer)][bitrate_index] * 1000
    rate = _MP3_RATES[version][rate_index]
    if layer == 1:
        return Frame((12 * bitrate // rate + padding) * 4, 384, rate)
    if layer == 2:
        return Frame(144 * bitrate // rate + padding, 1152, rate)
    if lsf:
        return Frame(72 * bitrate // rate + padding, 576, rate)
    return Frame(144 * bitrate // rate + padding, 1152, rate)


def _xing_frames(frame: bytes | bytearray) -> int | None:
    """The frame count of a Xing/Info header frame (LAME's first, silent frame), if any."""
    for tag in (b"Xing", b"Info"):
        at = frame.find(tag, 4, 64)
        if at >= 0 and len(frame) >= at + 12:
            flags = int.from_bytes(frame[at + 4 : at + 8], "big")
            if flags & 1:
                return int.from_bytes(frame[at + 8 : at + 12], "big")
    return None


@dataclass(slots=True, frozen=True)
class ProbeResult:
    content_type: str
    # None when the length cannot be read from the audio itself.
    duration_ms: int | None


class AudioProbe:
    """Feed chunks with ``feed``; ``finish`` says which format and how long.

    Raises ``NotAudio`` as soon as the bytes show they are neither WAV nor MP3."""

    def __init__(self) -> None:
        self.content_type: str | None = None
        self._buf = bytearray()
        self._buf_at = 0  # absolute offset of _buf[0]
        self._total = 0
        # WAV
        self._byte_rate = 0
        self._data_at: int | None = None
        self._data_size: int | None = None
        # MP3
        self._next: int | None = None  # absolute offset of the next frame header
        self._search_from = 0
        self._audio_at = 0
        self._frames = 0
        self._seconds = 0.0
        self._xing: tuple[int, int, int] | None = None  # frames, samples per frame, rate
        self._lost = False

    def feed(self, chunk: bytes) -> None:
        self._total += len(chunk)
        if self.content_type is None:
            self._buf += chunk
            if len(self._buf) < 12:
                return
            self._sniff()
        elif self.content_type == WAV:
            if self._data_at is None:
                self._buf += chunk
        else:
            self._buf += chunk
        if self.content_type == WAV and self._data_at is None:
            self._wav_chunks()
        elif self.content_type == MPEG and not self._lost:
            self._mp3_frames()

    def finish(self) -> ProbeResult:
        if self.content_type is None:
            if len(self._buf) >= 3:
                self._sniff()
            else:
                raise NotAudio("too short to be audio")
        if self.content_type == WAV:
            return ProbeResult(WAV, self._wav_duration())
        return ProbeResult(MPEG, self._mp3_duration())

    # -- format ---------------------------------------------------------------------------------

    def _sniff(self) -> None:
        head = bytes(self._buf[:12])
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            self.content_type = WAV
            return
        if head[:3] == b"ID3" and len(self._buf) >= 10:
            size = 0
            for b in self._buf[6:10]:
                size = (size << 7) | (b & 0x7F)
            footer = 10 if self._buf[5] & 0x10 else 0
            self._audio_at = self._search_from = 10 + size + footer
            self.content_type = MPEG
            return
        if len(head) >= 4 and mp3_frame(head[:4]) is not None:
            self.content_type = MPEG
            return
        raise NotAudio("not WAV (RIFF/WAVE) or MP3 (ID3 tag or MPEG audio frames)")

    # -- WAV ------------------------------------------------------------------------------------

    def _wav_chunks(self) -> None:
        pos = 12
        buf = self._buf
        while pos + 8 <= len(buf):
            cid, size = bytes(buf[pos : pos + 4]), int.from_bytes(buf[pos + 4 : pos + 8], "little")
            if cid == b"data":
                self._data_at = pos + 8
                self._data_size = size
                self._buf = bytearray()  # the rest is samples: keep nothing
                return
            if cid == b"fmt ":
                if pos + 8 + 16 > len(buf):
                    break
                self._byte_rate = int.from_bytes(buf[pos + 16 : pos + 20], "little")
            pos += 8 + size + (size & 1)
        if len(buf) > _WAV_HEAD_LIMIT:
            raise NotAudio("WAV without a data chunk in its first megabyte")

    def _wav_duration(self) -> int | None:
        if self._data_at is None:
            raise NotAudio("WAV without a data chunk")
        available = max(0, self._total - self._data_at)
        size = self._data_size or 0
        # Streaming writers leave the size 0 or 0xFFFFFFFF; a cut file holds less than it says.
        if size in (0, 0xFFFFFFFF) or size > available:
            size = available
        if self._byte_rate <= 0:
            return None
        return size * 1000 // self._byte_rate

    # -- MP3 ------------------------------------------------------------------------------------

    def _mp3_frames(self) -> None:
        end = self._buf_at + len(self._buf)
        while True:
            if self._next is None and not self._find_sync(end):
                break
            assert self._next is not None
            at = self._next - self._buf_at
            if self._next + 4 > end:
                break
            frame = mp3_frame(self._buf[at : at + 4])
            if frame is None:
                self._lost = True  # trailing tag (ID3v1, APE) or damage: stop counting
                break
            if self._frames == 0 and self._xing is None:
                need = min(frame.length, 64)
                if self._next + need > end:
                    break
                count = _xing_frames(self._buf[at : at + need])
                if count is not None:
                    self._xing = (count, frame.samples, frame.sample_rate)
            self._frames += 1
            self._seconds += frame.samples / frame.sample_rate
            self._next += frame.length
        keep = (min(self._next, end) if self._next is not None else max(end - 3, 0)) - self._buf_at
        if keep > 0:
            del self._buf[:keep]
            self._buf_at += keep

    def _find_sync(self, end: int) -> bool:
        start = max(self._search_from, self._buf_at)
        while start + 4 <= end:
            at = self._buf.find(b"\xff", start - self._buf_at)
            if at < 0 or self._buf_at + at + 4 > end:
                break
            absolute = self._buf_at + at
            if mp3_frame(self._buf[at : at + 4]) is not None:
                self._next = absolute
                self._audio_at = absolute
                return True
            start = absolute + 1
        self._search_from = max(start, self._search_from)
        if end - self._audio_at > _MP3_SYNC_LIMIT:
            raise NotAudio("no MPEG audio frame found after the ID3 tag")
        return False

    def _mp3_duration(self) -> int | None:
        if self._xing is not None:
            frames, samples, rate = self._xing
            return frames * samples * 1000 // rate
        if self._frames < 2:
            raise NotAudio("fewer than two MPEG audio frames")
        counted = (self._next or 0) - self._audio_at
        # Frames that stop well before the end mean the length cannot be trusted.
        if counted < 0.9 * (self._total - self._audio_at):
            return None
        return int(self._seconds * 1000)
