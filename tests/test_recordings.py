"""Call recordings over HTTP: upload (raw and multipart) through the native API, then metadata,
content with byte ranges and disposition, delete, permissions and the shortRecording rule on the
RingCentral face, with the official SDK where a client would use it. Every JSON body is checked
strictly against the published schema."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import httpx
import pytest
from ringcentral import SDK
from ringcentral.http.api_exception import ApiException

from callvault.services.container import Services
from tests.audio import mp3, wav
from tests.builders import PASSWORD, TestAccount, make_account, rc_record
from tests.helpers import assert_rc_error, assert_record, ingest
from tests.openapi import assert_rc

API = "/restapi/v1.0"
REC = f"{API}/account/~/recording"
DELETE = f"{API}/account/~/call-recordings"


def upload(
    http: httpx.Client,
    acc: TestAccount,
    record_id: str,
    data: bytes,
    content_type: str = "audio/wav",
    ext: str = "101",
    **params: str,
) -> httpx.Response:
    return http.post(
        f"/api/v1/calls/{record_id}/recording",
        content=data,
        params=params,
        headers={**acc.auth(ext), "Content-Type": content_type},
    )


def uploaded(http: httpx.Client, acc: TestAccount, record_id: str, data: bytes, **kw: Any) -> Any:
    r = upload(http, acc, record_id, data, **kw)
    assert r.status_code == 201, r.text
    return r.json()


def record(http: httpx.Client, acc: TestAccount, record_id: str) -> dict[str, Any]:
    r = http.get(
        f"{API}/account/~/call-log/{record_id}", params={"view": "Detailed"}, headers=acc.auth()
    )
    assert r.status_code == 200, r.text
    return assert_record(r.json())


def seed_call(
    http: httpx.Client, acc: TestAccount, record_id: str, ext: str = "102", **extra: Any
) -> None:
    ingest(http, acc, [rc_record(record_id, extension_id=acc.extensions[ext], **extra)])


def metadata(http: httpx.Client, acc: TestAccount, rid: str, ext: str = "101") -> dict[str, Any]:
    r = http.get(f"{REC}/{rid}", headers=acc.auth(ext))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = assert_rc(r.json(), "GetCallRecordingResponse")
    return body


def content(http: httpx.Client, acc: TestAccount, rid: str, **headers: str) -> httpx.Response:
    return http.get(f"{REC}/{rid}/content", headers={**acc.auth(), **headers})


# -- upload ------------------------------------------------------------------------------------


def test_raw_wav_upload_fills_the_recording_the_call_names(
    http: httpx.Client, account: TestAccount, server: str
) -> None:
    seed_call(
        http,
        account,
        "R1",
        recording={
            "id": "7700001",
            "type": "OnDemand",
            "contentUri": "https://media.example.test/recording/7700001/content",
        },
    )
    before = record(http, account, "R1")
    # Before the audio arrives the recording is only a reference: nothing to serve.
    assert_rc_error(http.get(f"{REC}/7700001", headers=account.auth()), 404, "CMN-102")
    audio = wav(40)
    body = uploaded(http, account, "R1", audio)
    assert body == {
        "callRecordId": "R1",
        "recordingId": "7700001",
        "retained": True,
        "shortRecording": False,
        "type": "OnDemand",
        "contentType": "audio/wav",
        "duration": 40,
        "durationMs": 40_000,
        "size": len(audio),
        "sha256": body["sha256"],
    }
    after = record(http, account, "R1")
    assert after["lastModifiedTime"] > before["lastModifiedTime"]
    acc = account.account_id
    assert after["recording"] == {
        "id": "7700001",
        "uri": f"{server}{API}/account/{acc}/recording/7700001",
        "type": "OnDemand",
        "contentUri": f"{server}{API}/account/{acc}/recording/7700001/content",
    }
    assert metadata(http, account, "7700001") == {
        "id": "7700001",
        "contentUri": after["recording"]["contentUri"],
        "contentType": "audio/wav",
        "duration": 40,
    }
    r = content(http, account, "7700001")
    assert r.status_code == 200
    assert r.headers["content-type"] == "audio/wav"
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-length"] == str(len(audio))
    assert r.headers["etag"] == f'"{body["sha256"]}"'
    assert r.headers["x-rate-limit-group"] == "heavy"
    assert "content-disposition" not in r.headers
    assert r.content == audio


def test_multipart_mp3_upload_gets_a_new_id_and_the_filters_see_it(
    http: httpx.Client, account: TestAccount
) -> None:
    seed_call(http, account, "M1")
    seed_call(http, account, "M2")
    audio = mp3(35)
    r = http.post(
        "/api/v1/calls/M1/recording",
        files={"file": ("call.mp3", audio, "audio/mpeg")},
        data={"type": "OnDemand"},
        headers=account.auth(),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    rid = body["recordingId"]
    assert rid.isdigit() and body["type"] == "OnDemand" and body["contentType"] == "audio/mpeg"
    assert 35_000 <= body["durationMs"] < 35_500  # the encoder's padding frames count too
    rec = record(http, account, "M1")
    assert rec["recording"]["id"] == rid and rec["recording"]["type"] == "OnDemand"
    # The record summarises its master leg, which carries the recording too.
    assert rec["legs"][0]["master"] and rec["legs"][0]["recording"]["id"] == rid
    assert metadata(http, account, rid)["contentType"] == "audio/mpeg"
    assert content(http, account, rid).content == audio

    def listed(query: str) -> list[str]:
        r = http.get(f"{API}/account/~/call-log?{query}", headers=account.auth())
        assert r.status_code == 200
        return [x["id"] for x in r.json()["records"]]

    assert listed("recordingType=OnDemand") == ["M1"]
    assert listed("recordingType=All") == ["M1"]
    assert listed("recordingType=Automatic") == []
    assert listed("withRecording=true") == ["M1"]
    assert sorted(listed("")) == ["M1", "M2"]


def test_the_same_audio_twice_changes_nothing_and_other_audio_conflicts(
    http: httpx.Client, account: TestAccount
) -> None:
    seed_call(http, account, "I1")
    first = uploaded(http, account, "I1", wav(31))
    modified = record(http, account, "I1")["lastModifiedTime"]
    again = upload(http, account, "I1", wav(31))
    assert again.status_code == 200 and again.json() == first
    assert record(http, account, "I1")["lastModifiedTime"] == modified
    r = upload(http, account, "I1", wav(31, freq=600))
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"


def test_audio_for_a_chosen_leg_by_index_or_party(http: httpx.Client, account: TestAccount) -> None:
    rec = rc_record("L1", extension_id=account.extensions["102"])
    second = dict(rec["legs"][0], master=False, legType="FindMe", partyId="p-2")
    rec["legs"][0]["partyId"] = "p-1"
    rec["legs"].append(second)
    ingest(http, account, [rec])
    on_leg = uploaded(http, account, "L1", wav(33), leg="1")
    stored = record(http, account, "L1")
    assert stored["legs"][1]["recording"]["id"] == on_leg["recordingId"]
    assert "recording" not in stored["legs"][0]
    assert stored["recording"]["id"] == on_leg["recordingId"]
    by_party = uploaded(http, account, "L1", mp3(36), content_type="audio/mpeg", partyId="p-1")
    stored = record(http, account, "L1")
    assert stored["legs"][0]["recording"]["id"] == by_party["recordingId"]
    # The record keeps naming the first recording; both can be fetched.
    assert stored["recording"]["id"] == on_leg["recordingId"]
    assert metadata(http, account, by_party["recordingId"])["duration"] == 36


def test_duration_comes_from_the_caller_when_the_audio_cannot_tell(
    http: httpx.Client, account: TestAccount
) -> None:
    seed_call(http, account, "D1")
    # MPEG frames followed by as much again of something else: the frame count is not the
    # whole story, so the length has to be given.
    audio = mp3(20) + bytes(len(mp3(20)))
    r = upload(http, account, "D1", audio, content_type="audio/mpeg")
    assert r.status_code == 400 and r.json()["error"]["field"] == "duration"
    body = uploaded(http, account, "D1", audio, content_type="audio/mpeg", duration="95.4")
    assert body["durationMs"] == 95_400 and body["duration"] == 95
    assert metadata(http, account, body["recordingId"])["duration"] == 95


def test_octet_stream_and_other_spellings_let_the_bytes_decide(
    http: httpx.Client, account: TestAccount
) -> None:
    seed_call(http, account, "O1")
    seed_call(http, account, "O2")
    body = uploaded(http, account, "O1", mp3(31), content_type="application/octet-stream")
    assert body["contentType"] == "audio/mpeg"
    body = uploaded(http, account, "O2", wav(31), content_type="audio/x-wav; codec=1")
    assert body["contentType"] == "audio/wav"
    assert metadata(http, account, body["recordingId"])["contentType"] == "audio/wav"


def test_a_recording_id_too_long_to_hold_is_refused(
    http: httpx.Client, account: TestAccount
) -> None:
    seed_call(http, account, "T1", recording={"id": "9" * 80, "type": "Automatic"})
    r = upload(http, account, "T1", wav(31))
    assert r.status_code == 400 and r.json()["error"]["field"] == "recording.id"


@pytest.mark.parametrize(
    ("record_id", "data", "ctype", "params", "status", "code", "field"),
    [
        ("NOPE", wav(31), "audio/wav", {}, 404, "not-found", "recordId"),
        ("E1", wav(31), "text/plain", {}, 415, "unsupported-media-type", "Content-Type"),
        ("E1", b"RIFF....not audio at all", "audio/wav", {}, 400, "invalid-input", "body"),
        ("E1", b"hello, this is plainly text", "", {}, 400, "invalid-input", "body"),
        ("E1", wav(31), "audio/mpeg", {}, 400, "invalid-input", "Content-Type"),
        ("E1", b"", "audio/wav", {}, 400, "invalid-input", "body"),
        ("E1", wav(31), "audio/wav", {"leg": "7"}, 400, "invalid-input", "leg"),
        ("E1", wav(31), "audio/wav", {"leg": "-1"}, 400, "invalid-input", "leg"),
        ("E1", wav(31), "audio/wav", {"partyId": "p-x"}, 400, "invalid-input", "partyId"),
        ("E1", wav(31), "audio/wav", {"type": "Manual"}, 400, "invalid-input", "type"),
        ("E1", wav(31), "audio/wav", {"duration": "soon"}, 400, "invalid-input", "duration"),
    ],
)
def test_bad_uploads_are_refused_with_the_field(
    http: httpx.Client,
    account: TestAccount,
    record_id: str,
    data: bytes,
    ctype: str,
    params: dict[str, str],
    status: int,
    code: str,
    field: str,
) -> None:
    seed_call(http, account, "E1")
    r = upload(http, account, record_id, data, content_type=ctype, **params)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["field"] == field
    assert "recording" not in record(http, account, "E1")


def test_upload_needs_an_admin_a_file_field_and_a_size_within_the_limit(
    http: httpx.Client, account: TestAccount, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_call(http, account, "U1")
    assert upload(http, account, "U1", wav(31), ext="102").status_code == 403
    r = http.post("/api/v1/calls/U1/recording", content=wav(31))
    assert r.status_code == 401
    r = http.post(
        "/api/v1/calls/U1/recording",
        files={"audio": ("a.wav", wav(31), "audio/wav")},
        headers=account.auth(),
    )
    assert r.status_code == 400 and r.json()["error"]["field"] == "file"
    monkeypatch.setattr(services.recordings, "max_bytes", 100_000)
    r = upload(http, account, "U1", wav(31))
    assert r.status_code == 413 and r.json()["error"]["code"] == "too-large"

    def chunked() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        data = wav(31)
        for at in range(0, len(data), 65536):
            yield data[at : at + 65536]

    r = http.post(
        "/api/v1/calls/U1/recording",
        content=chunked(),
        headers={**account.auth(), "Content-Type": "audio/wav"},
    )
    assert r.status_code == 413
    assert "recording" not in record(http, account, "U1")
    incoming = services.settings.recordings_dir / ".incoming"
    assert not list(incoming.glob("*.part"))


# -- shortRecording ------------------------------------------------------------------------------


def test_short_audio_is_not_kept_and_the_record_says_so(
    http: httpx.Client, account: TestAccount, services: Services
) -> None:
    seed_call(http, account, "S1", recording={"id": "7700100", "type": "Automatic"})
    before = record(http, account, "S1")
    r = upload(http, account, "S1", wav(12))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "callRecordId": "S1",
        "retained": False,
        "shortRecording": True,
        "duration": 12,
        "durationMs": 12_000,
    }
    after = record(http, account, "S1")
    assert after["shortRecording"] is True and "recording" not in after
    assert after["lastModifiedTime"] > before["lastModifiedTime"]
    assert "recording" not in after["legs"][0]
    assert_rc_error(http.get(f"{REC}/7700100", headers=account.auth()), 404, "CMN-102")
    r = http.get(f"{API}/account/~/call-log?withRecording=true", headers=account.auth())
    assert r.json()["records"] == []
    simple = http.get(f"{API}/account/~/call-log", headers=account.auth()).json()["records"][0]
    assert simple["shortRecording"] is True
    digest = hashlib.sha256(wav(12)).hexdigest()
    assert not (Path(services.settings.recordings_dir) / digest[:2] / f"{digest}.wav").exists()


def test_the_short_recording_threshold_is_configurable(
    http: httpx.Client, account: TestAccount, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_call(http, account, "S2")
    monkeypatch.setattr(services.recordings, "short_ms", 0)
    body = uploaded(http, account, "S2", wav(3))
    assert body["retained"] is True and body["duration"] == 3
    assert "shortRecording" not in record(http, account, "S2")


# -- content: ranges, types, disposition -------------------------------------------------------


@pytest.fixture
def stored(http: httpx.Client, account: TestAccount) -> tuple[str, bytes]:
    seed_call(http, account, "C1")
    audio = mp3(45)
    return uploaded(http, account, "C1", audio, content_type="audio/mpeg")["recordingId"], audio


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=100-", 100, None),
        ("bytes=-500", -500, None),
        ("bytes=-999999999", 0, None),
        ("bytes=1000-99999999", 1000, None),
        ("bytes=7-7", 7, 8),
        ("BYTES = 10 - 19", 10, 20),
    ],
)
def test_single_ranges_answer_206_with_exact_bytes(
    http: httpx.Client,
    account: TestAccount,
    stored: tuple[str, bytes],
    header: str,
    start: int,
    end: int | None,
) -> None:
    rid, audio = stored
    r = content(http, account, rid, Range=header)
    assert r.status_code == 206, r.text
    first = start if start >= 0 else len(audio) + start
    last = (end if end is not None else len(audio)) - 1
    assert r.content == audio[first : last + 1]
    assert r.headers["content-range"] == f"bytes {first}-{last}/{len(audio)}"
    assert r.headers["content-length"] == str(last + 1 - first)
    assert r.headers["content-type"] == "audio/mpeg"


def test_several_ranges_come_as_multipart_byteranges(
    http: httpx.Client, account: TestAccount, stored: tuple[str, bytes]
) -> None:
    rid, audio = stored
    r = content(http, account, rid, Range="bytes=0-9, 50-59, 5-14")
    assert r.status_code == 206
    ctype = r.headers["content-type"]
    assert ctype.startswith("multipart/byteranges; boundary=")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + r.content
    )
    parts = [(p["Content-Range"], p.get_payload(decode=True)) for p in message.iter_parts()]
    total = len(audio)
    assert parts == [
        (f"bytes 0-14/{total}", audio[0:15]),
        (f"bytes 50-59/{total}", audio[50:60]),
    ]


@pytest.mark.parametrize("header", ["bytes=99999999-", "bytes=-0", "bytes=99999999-99999999"])
def test_unsatisfiable_ranges_are_416_cmn_107(
    http: httpx.Client, account: TestAccount, stored: tuple[str, bytes], header: str
) -> None:
    rid, audio = stored
    r = content(http, account, rid, Range=header)
    assert_rc_error(r, 416, "CMN-107")
    assert r.headers["content-range"] == f"bytes */{len(audio)}"
    assert r.headers["x-rate-limit-group"] == "heavy"


@pytest.mark.parametrize("header", ["bytes=abc", "items=0-9", "bytes=9-2", "bytes=", "bytes=1"])
def test_ranges_that_do_not_parse_are_ignored(
    http: httpx.Client, account: TestAccount, stored: tuple[str, bytes], header: str
) -> None:
    rid, audio = stored
    r = content(http, account, rid, Range=header)
    assert r.status_code == 200 and r.content == audio


def test_if_range_and_head(
    http: httpx.Client, account: TestAccount, stored: tuple[str, bytes]
) -> None:
    rid, audio = stored
    etag = content(http, account, rid).headers["etag"]
    r = content(http, account, rid, Range="bytes=0-3", **{"If-Range": etag})
    assert r.status_code == 206 and r.content == audio[:4]
    r = content(http, account, rid, Range="bytes=0-3", **{"If-Range": '"stale"'})
    assert r.status_code == 200 and r.content == audio
    r = http.head(f"{REC}/{rid}/content", headers=account.auth())
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-length"] == str(len(audio))
    assert r.headers["content-type"] == "audio/mpeg"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"contentDisposition": "Attachment"}, 'attachment; filename="recording-{rid}.mp3"'),
        ({"contentDisposition": "Inline"}, "inline"),
        ({"contentDisposition": "inline", "contentDispositionFilename": "a.mp3"}, None),
        ({"contentDispositionFilename": "call 42.mp3"}, 'attachment; filename="call 42.mp3"'),
        (
            {"contentDisposition": "Attachment", "contentDispositionFilename": "../../etc/x.mp3"},
            'attachment; filename="x.mp3"',
        ),
        (
            {"contentDisposition": "Attachment", "contentDispositionFilename": "Anruf-Müller.mp3"},
            "attachment; filename=\"Anruf-M_ller.mp3\"; filename*=UTF-8''Anruf-M%C3%BCller.mp3",
        ),
    ],
)
def test_content_disposition(
    http: httpx.Client,
    account: TestAccount,
    stored: tuple[str, bytes],
    query: dict[str, str],
    expected: str | None,
) -> None:
    rid, audio = stored
    r = http.get(f"{REC}/{rid}/content", params=query, headers=account.auth())
    assert r.status_code == 200 and r.content == audio
    want = expected.format(rid=rid) if expected else 'inline; filename="a.mp3"'
    assert r.headers["content-disposition"] == want


def test_bad_content_disposition_is_cmn_101(
    http: httpx.Client, account: TestAccount, stored: tuple[str, bytes]
) -> None:
    rid, _ = stored
    r = http.get(
        f"{REC}/{rid}/content", params={"contentDisposition": "Download"}, headers=account.auth()
    )
    assert_rc_error(r, 400, "CMN-101", "ParameterizedErrorResponseModel")


def test_content_with_access_token_in_the_query(
    http: httpx.Client, account: TestAccount, stored: tuple[str, bytes]
) -> None:
    rid, audio = stored
    r = http.get(f"{REC}/{rid}/content", params={"access_token": account.tokens["101"]})
    assert r.status_code == 200 and r.content == audio
    r = http.get(f"{REC}/{rid}/content", params={"access_token": "nonsense"})
    assert_rc_error(r, 401, "OAU-213")
    assert_rc_error(http.get(f"{REC}/{rid}/content"), 401, "AGW-402")


def test_stores_without_local_files_stream_through_read(
    http: httpx.Client,
    account: TestAccount,
    services: Services,
    stored: tuple[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An object store answers ``local_path`` with None; content then streams via ``read``."""
    rid, audio = stored
    monkeypatch.setattr(services.recordings.store, "local_path", lambda key: None)
    r = content(http, account, rid)
    assert r.status_code == 200 and r.content == audio
    assert r.headers["content-length"] == str(len(audio))
    r = content(http, account, rid, Range="bytes=-100")
    assert r.status_code == 206 and r.content == audio[-100:]
    assert r.headers["content-range"] == f"bytes {len(audio) - 100}-{len(audio) - 1}/{len(audio)}"
    r = http.head(f"{REC}/{rid}/content", headers=account.auth())
    assert r.status_code == 200 and r.headers["content-length"] == str(len(audio))
    assert_rc_error(content(http, account, rid, Range="bytes=-0"), 416, "CMN-107")


# -- permissions -------------------------------------------------------------------------------


def test_a_recording_is_visible_as_its_call_is(
    http: httpx.Client, services: Services, account: TestAccount
) -> None:
    seed_call(http, account, "P2", ext="102")
    seed_call(http, account, "P0", ext="101")
    ingest(http, account, [rc_record("PC")])  # a company-only call
    own = uploaded(http, account, "P2", wav(32))["recordingId"]
    admins = uploaded(http, account, "P0", wav(33))["recordingId"]
    company = uploaded(http, account, "PC", wav(34))["recordingId"]
    # The owner sees it through "~" and through the real account id.
    assert metadata(http, account, own, ext="102")["duration"] == 32
    r = http.get(
        f"{API}/account/{account.account_id}/recording/{own}/content", headers=account.auth("102")
    )
    assert r.status_code == 200 and r.content == wav(32)
    # Another user sees neither it nor the admin's nor the company's: 404, not a hint.
    for rid in (own, admins, company):
        for path in (f"{REC}/{rid}", f"{REC}/{rid}/content"):
            r = http.get(path, headers=account.auth("103"))
            assert_rc_error(r, 404, "CMN-102", parameter="recordingId")
    for rid in (admins, company):
        assert_rc_error(http.get(f"{REC}/{rid}", headers=account.auth("102")), 404, "CMN-102")
    # The admin sees the whole account.
    for rid in (own, admins, company):
        metadata(http, account, rid)
    # Other accounts see nothing, whichever account id they put in the path.
    other = make_account(services, http)
    assert_rc_error(http.get(f"{REC}/{own}", headers=other.auth()), 404, "CMN-102")
    r = http.get(f"{API}/account/{account.account_id}/recording/{own}", headers=other.auth())
    assert_rc_error(r, 404, "CMN-102", parameter="accountId")


def test_recording_endpoints_need_their_app_permissions(
    http: httpx.Client, services: Services, account: TestAccount, stored: tuple[str, bytes]
) -> None:
    rid, _ = stored
    app = services.accounts.create_app(account.account_id, "narrow", scopes=("ReadCallLog",))
    r = http.post(
        "/restapi/oauth/token",
        auth=(app.client_id, app.client_secret or ""),
        data={
            "grant_type": "password",
            "username": f"{account.main_number}*101",
            "password": PASSWORD,
        },
    )
    narrow = {"Authorization": f"Bearer {r.json()['access_token']}"}
    for path in (f"{REC}/{rid}", f"{REC}/{rid}/content"):
        body = assert_rc_error(http.get(path, headers=narrow), 403, "CMN-401")
        assert body["permissionName"] == "ReadCallRecording"
    r = http.request("DELETE", DELETE, json={"records": [rid]}, headers=narrow)
    assert assert_rc_error(r, 403, "CMN-401")["permissionName"] == "EditCallLog"


# -- delete ------------------------------------------------------------------------------------


def test_delete_removes_the_audio_and_keeps_the_call(
    http: httpx.Client, account: TestAccount, services: Services
) -> None:
    seed_call(http, account, "X1")
    seed_call(http, account, "X2")
    seed_call(http, account, "X3")
    same = wav(37)
    first = uploaded(http, account, "X1", same)
    second = uploaded(http, account, "X2", same)  # identical audio: one blob, two recordings
    third = uploaded(http, account, "X3", mp3(38), content_type="audio/mpeg")
    store = services.recordings.store
    blob = store.local_path(f"{first['sha256'][:2]}/{first['sha256']}.wav")
    assert blob is not None and blob.read_bytes() == same
    before = record(http, account, "X1")

    r = http.request(
        "DELETE", DELETE, json={"records": [first["recordingId"]]}, headers=account.auth()
    )
    assert r.status_code == 204 and r.content == b""
    assert r.headers["x-rate-limit-group"] == "heavy"
    for path in (f"{REC}/{first['recordingId']}", f"{REC}/{first['recordingId']}/content"):
        assert_rc_error(http.get(path, headers=account.auth()), 404, "CMN-102")
    after = record(http, account, "X1")
    assert after["recording"] == before["recording"]  # the call keeps naming its recording
    assert after["lastModifiedTime"] > before["lastModifiedTime"]
    # The other recording with the same audio still plays; the blob goes with the last one.
    assert content(http, account, second["recordingId"]).content == same
    ids = [second["recordingId"], int(third["recordingId"])]
    r = http.request("DELETE", DELETE, json={"records": ids}, headers=account.auth())
    assert r.status_code == 204
    assert not blob.exists()
    r = http.request(
        "DELETE", DELETE, json={"records": [second["recordingId"]]}, headers=account.auth()
    )
    assert_rc_error(r, 404, "CMN-102", parameter="records")


def test_delete_is_all_or_nothing_and_checks_its_body(
    http: httpx.Client, account: TestAccount
) -> None:
    seed_call(http, account, "Y1")
    rid = uploaded(http, account, "Y1", wav(39))["recordingId"]
    r = http.request("DELETE", DELETE, json={"records": [rid, "404404"]}, headers=account.auth())
    body = assert_rc_error(r, 404, "CMN-102", parameter="records")
    assert body["parameterValue"] == "404404"
    assert metadata(http, account, rid)["duration"] == 39
    for payload, code in (
        (b"{not json", "CMN-103"),
        (b"", "CMN-101"),
        (b"{}", "CMN-101"),
        (b'{"records": []}', "CMN-101"),
        (b'{"records": "1"}', "CMN-101"),
        (b'{"records": [null]}', "CMN-101"),
        (b'{"records": [""]}', "CMN-101"),
        (b'{"records": [' + b",".join(b'"%d"' % n for n in range(101)) + b"]}", "CMN-106"),
    ):
        r = http.request(
            "DELETE",
            DELETE,
            content=payload,
            headers={**account.auth(), "Content-Type": "application/json"},
        )
        assert_rc_error(r, 400, code), payload
    r = http.request("DELETE", DELETE, json={"records": [rid]}, headers=account.auth("102"))
    body = assert_rc_error(r, 403, "CMN-408")
    assert body["permissionName"] == "EditCompanyCallRecordings"
    assert metadata(http, account, rid)["duration"] == 39


# -- the official SDK --------------------------------------------------------------------------


def test_the_ringcentral_sdk_reads_plays_and_deletes_recordings(
    http: httpx.Client, account: TestAccount, server: str
) -> None:
    seed_call(http, account, "K1", ext="102")
    audio = mp3(42)
    rid = uploaded(http, account, "K1", audio, content_type="audio/mpeg")["recordingId"]
    platform = SDK(account.client_id, account.client_secret, server).platform()
    platform.login(username=f"{account.main_number}*102", password=PASSWORD)
    # A user finds the recording in their own log and follows its links.
    log = platform.get("/restapi/v1.0/account/~/extension/~/call-log").json_dict()
    link = log["records"][0]["recording"]
    meta = platform.get(link["uri"]).json_dict()
    assert assert_rc(meta, "GetCallRecordingResponse")["duration"] == 42
    response = platform.get(meta["contentUri"])
    assert response.response().headers["Content-Type"] == "audio/mpeg"
    assert response.body() == audio
    # The token in the URL, for players that cannot send headers.
    url = platform.create_url(f"/restapi/v1.0/account/~/recording/{rid}/content", add_token=True)
    assert "access_token=" in url
    r = httpx.get(server + url)
    assert r.status_code == 200 and r.content == audio
    ranged = platform.get(link["contentUri"], headers={"Range": "bytes=0-1023"})
    assert ranged.response().status_code == 206 and ranged.body() == audio[:1024]
    # Users may not delete; the admin may.
    with pytest.raises(ApiException) as exc:
        platform.delete("/restapi/v1.0/account/~/call-recordings", body={"records": [rid]})
    assert exc.value.api_response().response().status_code == 403
    admin = SDK(account.client_id, account.client_secret, server).platform()
    admin.login(username=f"{account.main_number}*101", password=PASSWORD)
    admin.delete("/restapi/v1.0/account/~/call-recordings", body={"records": [rid]})
    with pytest.raises(ApiException) as exc:
        platform.get(meta["contentUri"])
    assert exc.value.api_response().response().status_code == 404
    assert exc.value.api_response().json_dict()["errors"][0]["errorCode"] == "CMN-102"
