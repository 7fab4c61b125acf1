"""The JSON-lines protocol: encoding, decoding, validation and its published schema."""
from __future__ import annotations

import json

import pytest

from bridge import protocol
from bridge.protocol import ProtocolError


def _line(obj) -> str:
    return json.dumps(obj)


def test_request_round_trip_fills_defaults():
    line = protocol.encode(protocol.request("job-1", "process_video", {"video": "a.mp4", "output": "a.npz"}))
    assert line.endswith("\n") and line.count("\n") == 1
    req = protocol.decode_request(line)
    assert req.id == "job-1" and req.method == "process_video"
    assert req.params["video"] == "a.mp4" and req.params["device"] == "cpu"
    assert req.params["start_frame"] == 0 and req.params["end_frame"] is None
    assert req.params["smoothing"] == "none" and req.params["fov_deg"] == 55.0


@pytest.mark.parametrize("line, code", [
    ("{not json", "parse_error"),
    (b"\xff\xfe{}", "parse_error"),
    ("[1, 2]", "invalid_request"),
    (_line({"v": 2, "id": 1, "method": "hello"}), "invalid_request"),
    (_line({"id": 1, "method": "hello"}), "invalid_request"),
    (_line({"v": 1, "id": 1}), "invalid_request"),
    (_line({"v": 1, "id": [1], "method": "hello"}), "invalid_request"),
    (_line({"v": 1, "id": 1, "method": "dance"}), "unknown_method"),
    (_line({"v": 1, "id": 1, "method": "hello", "extra": 1}), "invalid_request"),
    (_line({"v": 1, "id": 1, "method": "process_video", "params": {"video": "a.mp4"}}), "invalid_request"),
    (_line({"v": 1, "id": 1, "method": "process_video", "params": {"video": "a.mp4", "output": "a.txt"}}),
     "invalid_request"),
    (_line({"v": 1, "id": 1, "method": "process_video",
            "params": {"video": "a.mp4", "output": "a.npz", "device": "tpu"}}), "invalid_request"),
    (_line({"v": 1, "id": 1, "method": "process_video",
            "params": {"video": "a.mp4", "output": "a.npz", "start_frame": 10, "end_frame": 5}}), "invalid_request"),
    (_line({"v": 1, "id": 1, "method": "process_video",
            "params": {"video": "a.mp4", "output": "a.npz", "person": [10, 10, 5, 50]}}), "invalid_request"),
    (_line({"v": 1, "id": 1, "method": "process_video",
            "params": {"video": "a.mp4", "output": "a.npz", "colour": "red"}}), "invalid_request"),
    (_line({"v": 1, "id": 1, "method": "cancel", "params": {}}), "invalid_request"),
    (_line({"v": 1, "id": 1, "method": "list_people", "params": {"video": "a.mp4", "samples": 0}}),
     "invalid_request"),
])
def test_bad_requests_get_the_right_code(line, code):
    with pytest.raises(ProtocolError) as info:
        protocol.decode_request(line)
    assert info.value.code == code
    assert info.value.message


def test_error_keeps_the_request_id_when_readable():
    with pytest.raises(ProtocolError) as info:
        protocol.decode_request(_line({"v": 1, "id": "x7", "method": "nope"}))
    assert info.value.id == "x7"


def test_person_accepts_index_box_or_null():
    base = {"video": "a.mp4", "output": "a.npz"}
    for person in (None, 0, 3, [1.0, 2.0, 30.5, 40]):
        req = protocol.decode_request(_line({"v": 1, "id": 1, "method": "process_video",
                                             "params": {**base, "person": person}}))
        assert req.params["person"] == person


def test_server_messages_validate():
    ok = [protocol.progress_event(1, "detect", 10, 100, 3.456, "x"), protocol.log_event("a", "warning", "w"),
          protocol.result_message(2, {"frames": 3}), protocol.error_message(None, "cancelled", "stop")]
    for message in ok:
        decoded = protocol.decode_message(protocol.encode(message))
        assert decoded == json.loads(protocol.encode(message))
    assert protocol.progress_event(1, "model", 1, 2, 3.456)["eta_s"] == 3.46
    assert protocol.progress_event(1, "model", 1, 2, float("inf"))["eta_s"] is None
    with pytest.raises(ValueError):
        protocol.progress_event(1, "dancing", 1, 2)
    with pytest.raises(ValueError):
        protocol.error_message(1, "oops", "x")
    with pytest.raises(ProtocolError):
        protocol.decode_message(_line({"v": 1, "id": 1, "result": {}, "error": {"code": "cancelled", "message": ""}}))
    with pytest.raises(ProtocolError):
        protocol.decode_message(_line({"v": 1, "id": 1, "event": "progress", "stage": "detect", "done": "1",
                                       "total": 2, "eta_s": None}))


def test_schema_matches_the_code(repo_root):
    schema = json.loads((repo_root / "addon_manifest" / "protocol.schema.json").read_text())
    defs = schema["$defs"]
    assert defs["request"]["properties"]["method"]["enum"] == list(protocol.METHODS)
    assert defs["error"]["properties"]["error"]["properties"]["code"]["enum"] == list(protocol.ERROR_CODES)
    assert defs["progress"]["properties"]["stage"]["enum"] == list(protocol.STAGES)
    assert defs["log"]["properties"]["level"]["enum"] == list(protocol.LOG_LEVELS)
    for method, spec in protocol.PARAMS.items():
        params = defs[f"params_{method}"]
        assert set(params["properties"]) == set(spec), method
        assert set(params.get("required", [])) == {name for name, (_, _, req) in spec.items() if req}, method
        assert params["additionalProperties"] is False
        for name, (_, default, required) in spec.items():
            if not required:
                assert params["properties"][name].get("default") == default, (method, name)
