"""BVH motion files: parse the hierarchy and motion, and run forward kinematics.

A BVH joint's local transform is `translate(offset + position channels) @ rotation channels`, rotation
channels composed in the order listed (`Zrotation Yrotation Xrotation` means R = Rz @ Ry @ Rx acting on
column vectors), so any Euler order works. Position channels are added to the OFFSET, the reading that
puts every file in ../shared/motion on its floor (the iClone files give their hip both an OFFSET and
position channels). numpy only; units are whatever the file uses (the caller scales).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_ROTATION_AXES = {"Xrotation": 0, "Yrotation": 1, "Zrotation": 2}
_POSITION_AXES = {"Xposition": 0, "Yposition": 1, "Zposition": 2}


class BvhError(ValueError):
    """A BVH file is malformed; the message names the file and line."""


@dataclass
class BvhMotion:
    """A parsed BVH file. J = joints (End Sites excluded), F = frames, C = channels in total."""

    joint_names: tuple[str, ...]
    parents: np.ndarray  # (J,) int64, -1 for the root; parents precede children
    offsets: np.ndarray  # (J, 3) rest offset from the parent, file units
    channels: tuple[tuple[str, ...], ...]  # channel names per joint, in file order
    frame_time_s: float
    motion: np.ndarray  # (F, C) float64 raw channel values (degrees for rotations)
    end_sites: dict[int, np.ndarray] = field(default_factory=dict)  # joint index -> End Site offset (3,)

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time_s

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])

    def index(self, name: str) -> int:
        """Joint index by name, with an error that lists what the file has."""
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise KeyError(f"BVH has no joint {name!r}; it has {', '.join(self.joint_names)}") from None

    def local_transforms(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-frame local rotations (F, J, 3, 3) and translations (F, J, 3) from offsets and channels."""
        num_frames, num_joints = self.num_frames, len(self.joint_names)
        rot = np.broadcast_to(np.eye(3), (num_frames, num_joints, 3, 3)).copy()
        trans = np.broadcast_to(self.offsets, (num_frames, num_joints, 3)).copy()
        column = 0
        for j, names in enumerate(self.channels):
            for name in names:
                values = self.motion[:, column]
                column += 1
                if name in _POSITION_AXES:
                    trans[:, j, _POSITION_AXES[name]] += values
                else:
                    rot[:, j] = rot[:, j] @ _axis_rotation(_ROTATION_AXES[name], np.deg2rad(values))
        return rot, trans

    def forward_kinematics(self) -> tuple[np.ndarray, np.ndarray]:
        """Global joint positions (F, J, 3) in file units and global rotations (F, J, 3, 3)."""
        local_rot, local_trans = self.local_transforms()
        glob_rot = np.empty_like(local_rot)
        glob_pos = np.empty_like(local_trans)
        for j, parent in enumerate(self.parents):
            if parent < 0:
                glob_rot[:, j] = local_rot[:, j]
                glob_pos[:, j] = local_trans[:, j]
            else:
                glob_rot[:, j] = glob_rot[:, parent] @ local_rot[:, j]
                glob_pos[:, j] = glob_pos[:, parent] + np.einsum("fab,fb->fa", glob_rot[:, parent],
                                                                 local_trans[:, j])
        return glob_pos, glob_rot

    def drop_frames(self, count: int) -> "BvhMotion":
        """A copy without the first `count` frames (the iClone and cgspeed files open on a T-pose)."""
        return BvhMotion(self.joint_names, self.parents, self.offsets, self.channels, self.frame_time_s,
                         self.motion[count:], dict(self.end_sites))


def _axis_rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    """(F,) angles in radians -> (F, 3, 3) rotations about coordinate axis 0/1/2 (x/y/z)."""
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros(angle.shape + (3, 3))
    i, k = [(1, 2), (2, 0), (0, 1)][axis]
    out[..., axis, axis] = 1.0
    out[..., i, i] = c
    out[..., k, k] = c
    out[..., i, k] = -s
    out[..., k, i] = s
    return out


class _Lines:
    """Token lines with their 1-based line numbers, for parse errors that point at the file."""

    def __init__(self, text: str, source: str) -> None:
        self.items = [(n + 1, line.split()) for n, line in enumerate(text.splitlines()) if line.strip()]
        self.pos = 0
        self.source = source

    def next(self, what: str) -> tuple[int, list[str]]:
        if self.pos >= len(self.items):
            raise BvhError(f"{self.source}: file ends while expecting {what}")
        item = self.items[self.pos]
        self.pos += 1
        return item

    def error(self, line: int, message: str) -> BvhError:
        return BvhError(f"{self.source}:{line}: {message}")


def _floats(lines: _Lines, line: int, tokens: list[str], count: int, what: str) -> np.ndarray:
    if len(tokens) != count:
        raise lines.error(line, f"{what} needs {count} numbers, got {len(tokens)}")
    try:
        return np.array([float(t) for t in tokens])
    except ValueError:
        raise lines.error(line, f"{what} has a value that is not a number: {' '.join(tokens)}") from None


def parse_bvh(text: str, source: str = "<bvh>") -> BvhMotion:
    """Parse BVH text. Raises BvhError with the file and line for anything malformed."""
    lines = _Lines(text, source)
    line, tokens = lines.next("HIERARCHY")
    if tokens != ["HIERARCHY"]:
        raise lines.error(line, f"expected HIERARCHY, got {' '.join(tokens)!r}")
    names: list[str] = []
    parents: list[int] = []
    offsets: list[np.ndarray] = []
    channels: list[tuple[str, ...]] = []
    end_sites: dict[int, np.ndarray] = {}

    line, tokens = lines.next("ROOT")
    if tokens[0] != "ROOT" or len(tokens) != 2:
        raise lines.error(line, "expected 'ROOT name'")
    stack: list[int | None] = []  # joint index per open brace (None for an End Site)
    pending: tuple[str, int] | None = (tokens[1], -1)
    while True:
        line, tokens = lines.next("'}' or MOTION")
        keyword = tokens[0]
        if keyword == "{":
            if pending is None:
                raise lines.error(line, "'{' without a JOINT, ROOT or End Site before it")
            name, parent = pending
            pending = None
            if name == "":  # End Site
                stack.append(None)
                end_line, end_tokens = lines.next("End Site OFFSET")
                if end_tokens[0] != "OFFSET":
                    raise lines.error(end_line, "an End Site needs an OFFSET")
                end_sites[parent] = _floats(lines, end_line, end_tokens[1:], 3, "OFFSET")
                continue
            if name in names:
                raise lines.error(line, f"joint name {name!r} appears twice")
            names.append(name)
            parents.append(parent)
            stack.append(len(names) - 1)
            off_line, off_tokens = lines.next("OFFSET")
            if off_tokens[0] != "OFFSET":
                raise lines.error(off_line, f"joint {name!r} needs an OFFSET")
            offsets.append(_floats(lines, off_line, off_tokens[1:], 3, "OFFSET"))
            ch_line, ch_tokens = lines.next("CHANNELS")
            if ch_tokens[0] != "CHANNELS" or len(ch_tokens) < 2:
                raise lines.error(ch_line, f"joint {name!r} needs 'CHANNELS n name...'")
            try:
                count = int(ch_tokens[1])
            except ValueError:
                raise lines.error(ch_line, f"channel count {ch_tokens[1]!r} is not an integer") from None
            chans = tuple(ch_tokens[2:])
            if count != len(chans):
                raise lines.error(ch_line, f"CHANNELS says {count} but lists {len(chans)}")
            unknown = [c for c in chans if c not in _ROTATION_AXES and c not in _POSITION_AXES]
            if unknown:
                raise lines.error(ch_line, f"unknown channel(s) {unknown}; expected X/Y/Z position/rotation")
            channels.append(chans)
        elif keyword == "}":
            if not stack:
                raise lines.error(line, "'}' closes nothing")
            stack.pop()
            if not stack:
                break
        elif keyword == "JOINT":
            if len(tokens) != 2 or not stack or stack[-1] is None:
                raise lines.error(line, "'JOINT name' must sit inside a joint")
            pending = (tokens[1], stack[-1])
        elif keyword == "End" and tokens[1:] == ["Site"]:
            if not stack or stack[-1] is None:
                raise lines.error(line, "End Site must sit inside a joint")
            pending = ("", stack[-1])
        elif keyword == "ROOT":
            raise lines.error(line, "only one ROOT per file is supported")
        else:
            raise lines.error(line, f"unexpected {' '.join(tokens)!r} in HIERARCHY")

    line, tokens = lines.next("MOTION")
    if tokens != ["MOTION"]:
        raise lines.error(line, f"expected MOTION after the hierarchy, got {' '.join(tokens)!r}")
    line, tokens = lines.next("Frames:")
    if len(tokens) != 2 or tokens[0] != "Frames:":
        raise lines.error(line, "expected 'Frames: n'")
    try:
        num_frames = int(tokens[1])
    except ValueError:
        raise lines.error(line, f"frame count {tokens[1]!r} is not an integer") from None
    line, tokens = lines.next("Frame Time:")
    if tokens[:2] != ["Frame", "Time:"] or len(tokens) != 3:
        raise lines.error(line, "expected 'Frame Time: seconds'")
    frame_time = float(_floats(lines, line, tokens[2:], 1, "Frame Time")[0])
    if not frame_time > 0:
        raise lines.error(line, f"Frame Time must be positive, got {frame_time}")

    num_channels = sum(len(c) for c in channels)
    rows = lines.items[lines.pos:]
    if len(rows) != num_frames:
        raise BvhError(f"{source}: header says {num_frames} frames but the file has {len(rows)} motion lines")
    for row_line, row in rows:
        if len(row) != num_channels:
            raise lines.error(row_line, f"motion line has {len(row)} values, the hierarchy has {num_channels} "
                                        f"channels")
    try:
        motion = np.array([r for _, r in rows], dtype=np.float64).reshape(num_frames, num_channels)
    except ValueError:
        raise BvhError(f"{source}: a motion line has a value that is not a number") from None
    return BvhMotion(tuple(names), np.array(parents, dtype=np.int64), np.stack(offsets), tuple(channels),
                     frame_time, motion, end_sites)


def read_bvh(path: str | Path) -> BvhMotion:
    """Read and parse a BVH file (see parse_bvh)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise BvhError(f"cannot read BVH file {path}: {exc.strerror}") from exc
    return parse_bvh(text, source=str(path))
