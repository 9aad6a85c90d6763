"""The pieces under the recording API: telling WAV from MP3 and measuring them while they
stream, parsing HTTP Range headers, and the demo's generated recordings."""

from __future__ import annotations

import io
import struct
import wave
from datetime import UTC, datetime

import httpx
import pytest

from callvault.api.ringcentral.media import Unsatisfiable, parse_range
from callvault.domain.query import CallQuery
from callvault.services.audio import MPEG, WAV, AudioProbe, NotAudio, mp3_frame
from callvault.services.container import Services
from callvault.services.demo import create_demo_account, load_demo_traffic
from callvault.services.demo_audio import mp3_clip, speech_like, wav_clip
from tests.audio import mp3, tone_pcm, wav


def probe(data: bytes, chunk: int = 4096) -> tuple[str, int | None]:
    p = AudioProbe()
    for at in range(0, len(data), chunk):
        p.feed(data[at : at + chunk])
    result = p.finish()
    return result.content_type, result.duration_ms


# -- WAV ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 20])
def test_wav_length_comes_from_its_header_whatever_the_chunking(chunk: int) -> None:
    assert probe(wav(3), chunk) == (WAV, 3000)


def test_wav_with_extra_chunks_and_a_streaming_writers_zero_size() -> None:
    pcm = tone_pcm(2)
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    info = b"LIST" + struct.pack("<I", 5) + b"INFOx" + b"\x00"  # odd size: one pad byte
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + info
    body += b"data" + struct.pack("<I", 0) + pcm
    data = b"RIFF" + struct.pack("<I", 0) + body
    assert probe(data, 5) == (WAV, 2000)
    # A size larger than what arrived (a cut file) counts what arrived.
    cut = data.replace(b"data" + struct.pack("<I", 0), b"data" + struct.pack("<I", 10**8))
    assert probe(cut) == (WAV, 2000)


def test_wav_written_by_the_stdlib_at_another_rate() -> None:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(44100)
        out.writeframes(bytes(4 * 44100 * 3 // 2))
    assert probe(buf.getvalue()) == (WAV, 1500)


def test_a_wav_without_data_is_not_audio() -> None:
    data = b"RIFF" + struct.pack("<I", 28) + b"WAVEfmt " + struct.pack("<I", 16) + bytes(16)
    with pytest.raises(NotAudio):
        probe(data)


# -- MP3 ---------------------------------------------------------------------------------------


def test_mp3_frame_headers() -> None:
    # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz: 417 bytes, 418 with padding, 1152 samples.
    assert mp3_frame(b"\xff\xfb\x90\x00") == mp3_frame(b"\xff\xfb\x90\x64")
    frame = mp3_frame(b"\xff\xfb\x90\x00")
    assert frame is not None and (frame.length, frame.samples, frame.sample_rate) == (
        417,
        1152,
        44100,
    )
    padded = mp3_frame(b"\xff\xfb\x92\x00")
    assert padded is not None and padded.length == 418
    # MPEG-2.5 Layer III, 16 kbit/s, 8 kHz (what the tests and the demo encode): 144 bytes.
    low = mp3_frame(b"\xff\xe3\x28\xc4")
    assert low is not None and (low.length, low.samples, low.sample_rate) == (144, 576, 8000)
    for bad in (b"\xff\xfb\xf0\x00", b"\xff\xfb\x0c\x00", b"\xff\xe9\x90\x00", b"RIFF"):
        assert mp3_frame(bad) is None


@pytest.mark.parametrize("chunk", [1, 100, 65536])
def test_mp3_length_is_the_sum_of_its_frames(chunk: int) -> None:
    data = mp3(5)
    kind, ms = probe(data, chunk)
    assert kind == MPEG and ms is not None and 5000 <= ms < 5300


def test_mp3_with_id3_tags_before_and_after() -> None:
    data = mp3(4)
    _, plain = probe(data)
    tag = b"ID3\x04\x00\x00" + bytes([0, 0, 1, 0]) + bytes(128) + bytes(50)  # 128-byte tag + pad
    v1 = b"TAG" + bytes(125)
    assert probe(tag + data + v1, 333) == (MPEG, plain)


def test_a_xing_info_frame_gives_the_frame_count() -> None:
    data = mp3(3)
    first = mp3_frame(data[:4])
    assert first is not None
    # LAME's "Info" frame: a silent frame whose side information is followed by the tag.
    info = bytearray(first.length)
    info[:4] = data[:4]
    info[13:17] = b"Info"
    info[17:21] = (1).to_bytes(4, "big")
    info[21:25] = (1000).to_bytes(4, "big")
    assert probe(bytes(info) + data) == (MPEG, 1000 * 576 * 1000 // 8000)


def test_mp3_frames_that_stop_early_leave_the_length_unknown() -> None:
    data = mp3(2)
    assert probe(data + bytes(len(data))) == (MPEG, None)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"ab",
        b"hello, world: certainly not audio",
        b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(70_000),
        b"\xff\xfb\x90\x00" + bytes(10),
    ],
)
def test_what_is_not_audio(data: bytes) -> None:
    with pytest.raises(NotAudio):
        probe(data)


# -- Range headers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "ranges"),
    [
        (None, None),
        ("bytes=0-0", [(0, 1)]),
        ("bytes=0-999", [(0, 1000)]),
        ("bytes=0-5000", [(0, 1000)]),
        ("bytes=990-", [(990, 1000)]),
        ("bytes=-10", [(990, 1000)]),
        ("bytes=-5000", [(0, 1000)]),
        ("bytes=0-9,5-19,100-109", [(0, 20), (100, 110)]),
        ("bytes=100-109, 0-9", [(0, 10), (100, 110)]),
        ("bytes=0-9,5000-6000", [(0, 10)]),
        ("Bytes=1-2", [(1, 3)]),
        ("pages=1-2", None),
        ("bytes=", None),
        ("bytes=x-1", None),
        ("bytes=5-1", None),
        ("bytes=1", None),
        ("bytes=-", None),
        ("bytes=+1-2", None),
    ],
)
def test_parse_range(header: str | None, ranges: list[tuple[int, int]] | None) -> None:
    assert parse_range(header, 1000) == ranges


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=-0", "bytes=2000-3000,1000-1001"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, 1000)


# -- the demo's recordings ---------------------------------------------------------------------


def test_generated_speech_is_deterministic_and_playable() -> None:
    assert speech_like(5, 3) == speech_like(5, 3) != speech_like(5, 4)
    assert len(speech_like(5, 3)) == 5 * 8000 * 2
    with wave.open(io.BytesIO(wav_clip(30)), "rb") as clip:
        assert (clip.getnchannels(), clip.getsampwidth(), clip.getframerate()) == (1, 2, 8000)
        assert clip.getnframes() == 30 * 8000
    kind, ms = probe(mp3_clip(30))
    assert kind == MPEG and ms is not None and 30_000 <= ms < 30_300


def test_the_demo_attaches_audio_in_both_formats(services: Services, http: httpx.Client) -> None:
    demo = create_demo_account(services, seed=5)
    now = datetime(2026, 3, 13, 17, 0, tzinfo=UTC)  # a Friday evening: a busy week behind it
    load_demo_traffic(services, demo, days=3, seed=5, now=now)
    records = services.calls.list(
        CallQuery(account_id=demo.account_id, recording_types=frozenset(), per_page=1000)
    ).items
    assert records and all(r.recording and r.recording.held for r in records)
    short = services.calls.list(CallQuery(account_id=demo.account_id, per_page=1000)).items
    assert any(r.short_recording for r in short)
    kept = [
        services.recordings.get(demo.account_id, r.recording.id, viewer_extension_id=None)
        for r in records
        if r.recording
    ]
    assert {k.content_type for k in kept} == {WAV, MPEG}
    assert all(k.duration >= 30 for k in kept)
    token = http.post(
        "/restapi/oauth/token",
        auth=(demo.client_id, demo.client_secret),
        data={"grant_type": "password", "username": demo.admin_username, "password": demo.password},
    ).json()["access_token"]
    for k in kept[:4]:
        r = http.get(
            f"/restapi/v1.0/account/~/recording/{k.recording_id}/content",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200 and r.headers["content-type"] == k.content_type
        assert probe(r.content)[0] == k.content_type
