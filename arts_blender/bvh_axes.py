"""Rewrite a Z-up BVH file (what Blender's exporter writes: its own axes) as Y-up, the BVH convention that
Blender's importer with default settings, MotionBuilder and most tools expect. No bpy (numpy only).

Blender's exporter has no axis option and ignores the object transform, so the file is converted after it
is written: every OFFSET and root position p becomes C p and every joint rotation R becomes C R C^T with
C mapping Blender's (x, y, z) to BVH's (x, z, -y); the inverse of what Blender's importer applies by
default (forward -Z, up Y). Euler angles keep each joint's channel order and stay continuous over frames.
"""
from __future__ import annotations

import numpy as np

#: Blender (Z up) vectors to BVH (Y up) vectors.
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
_AXIS = {"X": 0, "Y": 1, "Z": 2}


def _axis_rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    """(N,) angles (radians) about one axis -> (N, 3, 3)."""
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros((len(angle), 3, 3))
    i, j = (axis + 1) % 3, (axis + 2) % 3
    out[:, axis, axis] = 1.0
    out[:, i, i], out[:, i, j], out[:, j, i], out[:, j, j] = c, -s, s, c
    return out


def euler_to_matrix(angles: np.ndarray, order: str) -> np.ndarray:
    """(N, 3) angles (radians) in channel order (e.g. "ZXY": R = Rz Rx Ry, as BVH composes them) -> (N, 3, 3)."""
    matrix = np.broadcast_to(np.eye(3), (len(angles), 3, 3)).copy()
    for k, name in enumerate(order):
        matrix = matrix @ _axis_rotation(_AXIS[name], angles[:, k])
    return matrix


def matrix_to_euler(matrix: np.ndarray, order: str) -> np.ndarray:
    """(N, 3, 3) -> (N, 3) angles (radians) in channel order, the inverse of euler_to_matrix (three distinct
    axes; the middle angle in [-90, 90] degrees)."""
    i, j, k = (_AXIS[name] for name in order)
    parity = 1.0 if (j - i) % 3 == 1 else -1.0  # +1 for the cyclic orders XYZ, YZX, ZXY
    middle = np.arcsin(np.clip(parity * matrix[:, i, k], -1.0, 1.0))
    first = np.arctan2(-parity * matrix[:, j, k], matrix[:, k, k])
    last = np.arctan2(-parity * matrix[:, i, j], matrix[:, i, i])
    return np.stack([first, middle, last], axis=-1)


def _continuous(angles: np.ndarray) -> np.ndarray:
    """(F, 3) radians with each angle moved by whole turns to be nearest the previous frame's."""
    out = angles.copy()
    for f in range(1, len(out)):
        out[f] -= 2.0 * np.pi * np.round((out[f] - out[f - 1]) / (2.0 * np.pi))
    return out


def to_y_up(text: str) -> str:
    """A whole BVH file's text, Z up -> Y up."""
    lines = text.splitlines()
    channels: list[list[str]] = []
    out = []
    motion_at = None
    for index, line in enumerate(lines):
        words = line.split()
        if words[:1] == ["OFFSET"]:
            offset = Z_UP_TO_Y_UP @ np.array([float(v) for v in words[1:4]])
            indent = line[:len(line) - len(line.lstrip())]
            line = f"{indent}OFFSET {offset[0]:.6f} {offset[1]:.6f} {offset[2]:.6f}"
        elif words[:1] == ["CHANNELS"]:
            channels.append(words[2:])
        elif words[:1] == ["MOTION"]:
            motion_at = index
            out.append(line)
            break
        out.append(line)
    if motion_at is None:
        raise ValueError("not a BVH file: no MOTION section")
    header = [line for line in lines[motion_at + 1:] if line.startswith(("Frames:", "Frame Time:"))]
    rows = [line for line in lines[motion_at + 1 + len(header):] if line.strip()]
    values = np.array([[float(v) for v in row.split()] for row in rows]).reshape(len(rows), -1)
    column = 0
    for names in channels:
        positions = [n for n in names if n.endswith("position")]
        rotations = [n for n in names if n.endswith("rotation")]
        cols = {n: column + k for k, n in enumerate(names)}
        if positions:
            idx = [cols[f"{axis}position"] for axis in "XYZ"]
            values[:, idx] = values[:, idx] @ Z_UP_TO_Y_UP.T
        if rotations:
            order = "".join(n[0] for n in rotations)
            idx = [cols[n] for n in rotations]
            matrix = euler_to_matrix(np.radians(values[:, idx]), order)
            converted = Z_UP_TO_Y_UP @ matrix @ Z_UP_TO_Y_UP.T
            values[:, idx] = np.degrees(_continuous(matrix_to_euler(converted, order)))
        column += len(names)
    out += header + [" ".join(f"{v:.6f}" for v in row) for row in values]
    return "\n".join(out) + "\n"
