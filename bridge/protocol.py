"""The add-on <-> bridge protocol: versioned JSON lines over the bridge's stdin/stdout.

Pure Python (no torch, no bpy): the server decodes requests with it and the add-on's client decodes the
server's messages with it, so both sides agree on one definition. Errors are data: every problem with a
line becomes a ProtocolError carrying one of ERROR_CODES, which the server turns into an error reply.
Documented as a JSON schema in addon_manifest/protocol.schema.json.

Request:  {"v": 1, "id": ID, "method": NAME, "params": {...}}
Progress: {"v": 1, "id": ID, "event": "progress", "stage", "done", "total", "eta_s", "message"}
Log:      {"v": 1, "id": ID, "event": "log", "level", "message"}
Result:   {"v": 1, "id": ID, "result": {...}}
Error:    {"v": 1, "id": ID, "error": {"code", "message"}}
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from .limb_reaim import DEFAULT_STRENGTH as LIMB_REAIM_STRENGTH
from .windows import DEFAULT_BATCH_WINDOWS, DEFAULT_WINDOW_STRIDE, MAX_WINDOW_STRIDE

PROTOCOL_VERSION = 1
METHODS: tuple[str, ...] = ("hello", "process_video", "list_people", "cancel", "shutdown")
ERROR_CODES: tuple[str, ...] = (
    "parse_error", "invalid_request", "unknown_method", "video_error", "no_person", "model_missing",
    "output_error", "cancelled", "internal_error")
#: Pipeline stages reported in progress events, in the order a job passes through them.
STAGES: tuple[str, ...] = ("load", "people", "detect", "model", "camera", "smooth", "write", "preview")
LOG_LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error")
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")

Id = str | int | None


class ProtocolError(Exception):
    """A message that breaks the protocol; `code` is one of ERROR_CODES, `id` the request's id if known."""

    def __init__(self, code: str, message: str, request_id: Id = None):
        super().__init__(message)
        if code not in ERROR_CODES:
            raise ValueError(f"unknown protocol error code {code!r}")
        self.code = code
        self.message = message
        self.id = request_id


@dataclass(frozen=True)
class Request:
    """A decoded, validated request; `params` has every optional parameter filled with its default."""

    id: Id
    method: str
    params: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------------
# Parameter specifications: name -> (check, default, required). A check returns an error text or None.

def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) and math.isfinite(value)


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) and value else "must be a non-empty string"


def _optional_string(value: Any) -> str | None:
    return None if value is None else _string(value)


def _npz_path(value: Any) -> str | None:
    return _string(value) or (None if value.endswith(".npz") else "must be a path ending in .npz")


def _frame(value: Any) -> str | None:
    return None if _is_int(value) and value >= 0 else "must be an integer >= 0"


def _optional_frame(value: Any) -> str | None:
    return None if value is None else _frame(value)


def _positive_int(limit: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if _is_int(value) and 1 <= value <= limit else f"must be an integer from 1 to {limit}"
    return check


def _device(value: Any) -> str | None:
    return None if value in DEVICES else f"must be one of {', '.join(DEVICES)}"


def _fov(value: Any) -> str | None:
    return None if _is_number(value) and 1.0 <= value <= 179.0 else "must be a number of degrees from 1 to 179"


def _strength(value: Any) -> str | None:
    return None if _is_number(value) and 0.0 <= value <= 1.0 else "must be a number from 0 (off) to 1"


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _optional_positive(value: Any) -> str | None:
    return None if value is None or (_is_number(value) and value > 0) else "must be a positive number or null"


def _person(value: Any) -> str | None:
    """A candidate index from list_people, a box [x0, y0, x1, y1] px around the person at start_frame, or null."""
    if value is None or (_is_int(value) and value >= 0):
        return None
    if (isinstance(value, list) and len(value) == 4 and all(_is_number(v) for v in value)
            and value[2] > value[0] and value[3] > value[1]):
        return None
    return "must be null, a person index >= 0 from list_people, or a box [x0, y0, x1, y1] in pixels"


def _smoothing(value: Any) -> str | None:
    """A preset name or an object of filter parameters; checked in full by bridge.smoothing."""
    if isinstance(value, str) and value:
        return None
    if isinstance(value, dict) and isinstance(value.get("method"), str):
        return None
    return 'must be a preset name or an object with a "method"'


def _target(value: Any) -> str | None:
    return None if isinstance(value, str) or _is_int(value) else "must be the id (string or integer) of a request"


def _optional_int(value: Any) -> str | None:
    return None if value is None or _is_int(value) else "must be an integer or null"


_Spec = dict[str, tuple[Callable[[Any], str | None], Any, bool]]
_RANGE: _Spec = {
    "video": (_string, None, True),
    "start_frame": (_frame, 0, False),
    "end_frame": (_optional_frame, None, False),
}
PARAMS: dict[str, _Spec] = {
    "hello": {"client": (_optional_string, None, False), "protocol": (_optional_int, None, False)},
    "process_video": {
        **_RANGE,
        "output": (_npz_path, None, True),
        "device": (_device, "cpu", False),
        "person": (_person, None, False),
        "smoothing": (_smoothing, "none", False),
        "preview": (_optional_string, None, False),
        "checkpoint": (_optional_string, None, False),
        "body_model": (_optional_string, None, False),
        "fov_deg": (_fov, 55.0, False),
        "focal_px": (_optional_positive, None, False),
        "batch_size": (_positive_int(4096), DEFAULT_BATCH_WINDOWS, False),
        "foot_lock": (_strength, 1.0, False),
        "limb_reaim": (_strength, LIMB_REAIM_STRENGTH, False),
        "flip_average": (_bool, True, False),
        "window_stride": (_positive_int(MAX_WINDOW_STRIDE), DEFAULT_WINDOW_STRIDE, False),
    },
    "list_people": {
        **_RANGE,
        "samples": (_positive_int(200), 12, False),
        "max_people": (_positive_int(8), 4, False),
        "thumbnails_dir": (_optional_string, None, False),
    },
    "cancel": {"target": (_target, None, True)},
    "shutdown": {},
}


def _check_id(value: Any) -> Id:
    if value is None or isinstance(value, str) or _is_int(value):
        return value
    raise ProtocolError("invalid_request", "'id' must be a string, an integer or null")


def validate_params(method: str, params: Any, request_id: Id = None) -> dict[str, Any]:
    """Check `params` for `method` and fill defaults; unknown names are refused so typos are not silent."""
    if method not in PARAMS:
        raise ProtocolError("unknown_method", f"unknown method {method!r}; this bridge knows {', '.join(METHODS)}",
                            request_id)
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ProtocolError("invalid_request", f"{method}: 'params' must be an object", request_id)
    spec = PARAMS[method]
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise ProtocolError("invalid_request", f"{method}: unknown parameter(s) {', '.join(unknown)}; "
                            f"accepted: {', '.join(spec) or 'none'}", request_id)
    out: dict[str, Any] = {}
    for name, (check, default, required) in spec.items():
        if name not in params:
            if required:
                raise ProtocolError("invalid_request", f"{method}: missing required parameter '{name}'", request_id)
            out[name] = default
            continue
        problem = check(params[name])
        if problem:
            raise ProtocolError("invalid_request", f"{method}: parameter '{name}' {problem}", request_id)
        out[name] = params[name]
    if "end_frame" in out and out["end_frame"] is not None and out["end_frame"] <= out["start_frame"]:
        raise ProtocolError("invalid_request", f"{method}: 'end_frame' ({out['end_frame']}) must be greater than "
                            f"'start_frame' ({out['start_frame']})", request_id)
    return out


def _parse_object(line: str | bytes) -> dict[str, Any]:
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("parse_error", f"line is not UTF-8: {exc}") from exc
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError("parse_error", f"line is not valid JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise ProtocolError("invalid_request", "a message must be a JSON object")
    return obj


def _check_version(obj: dict[str, Any], request_id: Id) -> None:
    version = obj.get("v")
    if version != PROTOCOL_VERSION:
        raise ProtocolError("invalid_request", f"unsupported protocol version {version!r}; this bridge speaks "
                            f"v={PROTOCOL_VERSION}", request_id)


def decode_request(line: str | bytes) -> Request:
    """One line from the client -> a validated Request, or ProtocolError naming what is wrong."""
    obj = _parse_object(line)
    raw_id = obj.get("id")
    request_id = raw_id if isinstance(raw_id, str) or _is_int(raw_id) else None
    _check_id(raw_id)
    _check_version(obj, request_id)
    method = obj.get("method")
    if not isinstance(method, str):
        raise ProtocolError("invalid_request", "a request needs a string 'method'", request_id)
    extra = sorted(set(obj) - {"v", "id", "method", "params"})
    if extra:
        raise ProtocolError("invalid_request", f"unknown request field(s) {', '.join(extra)}", request_id)
    return Request(request_id, method, validate_params(method, obj.get("params"), request_id))


def encode(message: dict[str, Any]) -> str:
    """A message -> one JSON line (ASCII only, so no transport can mangle it), newline included."""
    return json.dumps(message, ensure_ascii=True, separators=(",", ":"), allow_nan=False) + "\n"


def request(request_id: Id, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """A request message (used by the add-on's client and by tests)."""
    return {"v": PROTOCOL_VERSION, "id": request_id, "method": method, "params": params or {}}


def progress_event(request_id: Id, stage: str, done: int, total: int, eta_s: float | None = None,
                   message: str = "") -> dict[str, Any]:
    """Progress of one stage: `done` of `total` units (frames or batches); `eta_s` seconds left, null if unknown."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    eta = None if eta_s is None or not math.isfinite(eta_s) else round(max(float(eta_s), 0.0), 2)
    return {"v": PROTOCOL_VERSION, "id": request_id, "event": "progress", "stage": stage, "done": int(done),
            "total": int(total), "eta_s": eta, "message": message}


def log_event(request_id: Id, level: str, message: str) -> dict[str, Any]:
    if level not in LOG_LEVELS:
        raise ValueError(f"unknown log level {level!r}")
    return {"v": PROTOCOL_VERSION, "id": request_id, "event": "log", "level": level, "message": message}


def result_message(request_id: Id, result: dict[str, Any]) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": request_id, "result": result}


def error_message(request_id: Id, code: str, message: str) -> dict[str, Any]:
    if code not in ERROR_CODES:
        raise ValueError(f"unknown error code {code!r}")
    return {"v": PROTOCOL_VERSION, "id": request_id, "error": {"code": code, "message": message}}


def decode_message(line: str | bytes) -> dict[str, Any]:
    """One line from the server -> a validated message dict (event, result or error); for the add-on's client."""
    obj = _parse_object(line)
    request_id = _check_id(obj.get("id"))
    _check_version(obj, request_id)
    kinds = [key for key in ("event", "result", "error") if key in obj]
    if len(kinds) != 1:
        raise ProtocolError("invalid_request", "a server message has exactly one of 'event', 'result', 'error'",
                            request_id)
    if "result" in obj and not isinstance(obj["result"], dict):
        raise ProtocolError("invalid_request", "'result' must be an object", request_id)
    if "error" in obj:
        err = obj["error"]
        if not (isinstance(err, dict) and err.get("code") in ERROR_CODES and isinstance(err.get("message"), str)):
            raise ProtocolError("invalid_request", "'error' must be {code, message} with a known code", request_id)
    if "event" in obj:
        if obj["event"] == "progress":
            ok = (obj.get("stage") in STAGES and _is_int(obj.get("done")) and _is_int(obj.get("total"))
                  and (obj.get("eta_s") is None or _is_number(obj.get("eta_s"))))
            if not ok:
                raise ProtocolError("invalid_request", "malformed progress event", request_id)
        elif obj["event"] == "log":
            if obj.get("level") not in LOG_LEVELS or not isinstance(obj.get("message"), str):
                raise ProtocolError("invalid_request", "malformed log event", request_id)
        else:
            raise ProtocolError("invalid_request", f"unknown event {obj['event']!r}", request_id)
    return obj
