"""Gather the user's choices into bridge requests and import options: shared by the operators and
scripts/video_to_blend.py, so the button and the headless script take the same path."""
from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import bpy

from .bridge_client import BridgeClient, BridgeJob
from .bridge_locator import bridge_command
from .importer import ImportOptions
from .preferences import get_prefs, resolve_python, user_dir


def results_path_for(video_path: str, folder: str = "") -> Path:
    """Where a processed video's results go: `folder` or the add-on's user folder, one file per run (a
    timestamped name, so earlier results are never overwritten)."""
    stem = Path(video_path).stem or "clip"
    base = Path(bpy.path.abspath(folder)) if folder else user_dir("results")
    base.mkdir(parents=True, exist_ok=True)
    return base / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}.npz"


def _optional_path(path: str) -> str | None:
    return bpy.path.abspath(path) if path else None


def process_video_params(settings, prefs, video_path: str, output: Path) -> dict[str, Any]:
    """`process_video` parameters from the scene settings and preferences (see bridge/protocol.py)."""
    return {
        "video": bpy.path.abspath(video_path),
        "output": str(output),
        "start_frame": int(settings.start_frame),
        "end_frame": int(settings.end_frame) if settings.end_frame > settings.start_frame else None,
        "device": prefs.device.lower(),
        "person": None if settings.person == "AUTO" else int(settings.person),
        "smoothing": settings.smoothing,
        "checkpoint": _optional_path(prefs.checkpoint_path),
        "body_model": _optional_path(prefs.body_model_path),
        "foot_lock": float(settings.foot_lock),
        "limb_reaim": float(settings.limb_reaim),
        "flip_average": bool(settings.flip_average),
        "window_stride": int(settings.window_stride),
        "fov_deg": math.degrees(settings.camera_fov),
    }


def list_people_params(settings, video_path: str) -> dict[str, Any]:
    return {"video": bpy.path.abspath(video_path), "start_frame": int(settings.start_frame),
            "end_frame": int(settings.end_frame) if settings.end_frame > settings.start_frame else None}


def store_people(settings, result: dict[str, Any]) -> int:
    """Keep list_people's candidates for the Person menu; returns how many there are."""
    people = result.get("people", [])
    settings.people_json = json.dumps(people)
    settings.person = "AUTO"
    return len(people)


def import_options(settings, prefs, video_path: str = "") -> ImportOptions:
    return ImportOptions(
        fps_mode=settings.fps_mode, target=settings.target,
        rotation_tolerance_rad=settings.rotation_tolerance if settings.reduce_keys else 0.0,
        location_tolerance_m=settings.location_tolerance if settings.reduce_keys else 0.0,
        add_camera=settings.add_camera, use_world=settings.use_world, video_path=bpy.path.abspath(video_path) if video_path else "",
        body_model_path=prefs.body_model_path)


def start_job(context, method: str, params: dict[str, Any]) -> BridgeJob:
    """Start a bridge process with the preferred interpreter and send one request."""
    prefs = get_prefs(context)
    threads = ["--threads", str(prefs.threads)] if prefs.threads > 0 else []
    argv, cwd, env = bridge_command(resolve_python(prefs), "serve", *threads)
    return BridgeJob(BridgeClient(argv, cwd=str(cwd), env=env).start(), method, params)
