"""Every retargeted motion of a corpus in one compressed, pickle-free file.

Data generation can then run on a machine that has neither the motion files nor their retargeting cache
(a rented GPU box, a CI worker): the bundle keeps each motion's source and group, so splits (and the
unseen kinds) come out exactly as from the files. Like the motion files, a bundle is never committed.

    python -m scripts.synth.motion_bundle --motion-dir ../shared/motion --out .cache/motion_bundle.npz
    python -m scripts.synth.generate --motion-bundle .cache/motion_bundle.npz --out DIR ...
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .motion import MotionClip

BUNDLE_FORMAT = "arts-motion-bundle/1"


def write_bundle(path: Path, motions: list[MotionClip], body_model_id: str) -> None:
    """All motions as concatenated float32 arrays plus per-motion frame counts, fps, sources and groups, and
    the body model whose rest skeleton they were retargeted to."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(
        tmp, format=np.array(BUNDLE_FORMAT), body_model_id=np.array(body_model_id),
        pose_aa=np.concatenate([m.pose_aa for m in motions]).astype(np.float32),
        root_pos_m=np.concatenate([m.root_pos_m for m in motions]).astype(np.float32),
        frames=np.array([m.num_frames for m in motions], dtype=np.int64),
        fps=np.array([m.fps for m in motions], dtype=np.float64),
        source=np.array([m.source for m in motions]), group=np.array([m.group for m in motions]))
    tmp.replace(path)


def read_bundle(path: Path, body_model_id: str) -> list[MotionClip]:
    """The motions of a bundle, in the order they were written; ValueError if the file is not one or was
    retargeted to another body model's skeleton."""
    with np.load(Path(path), allow_pickle=False) as data:
        if "format" not in data or str(data["format"]) != BUNDLE_FORMAT:
            raise ValueError(f"{path} is not an {BUNDLE_FORMAT} file")
        if str(data["body_model_id"]) != body_model_id:
            raise ValueError(f"{path} was retargeted to body model {data['body_model_id']}, not {body_model_id}")
        ends = np.cumsum(data["frames"])
        starts = ends - data["frames"]
        pose, root = data["pose_aa"], data["root_pos_m"]
        return [MotionClip(pose[a:b], root[a:b], float(fps), str(source), str(group))
                for a, b, fps, source, group in zip(starts, ends, data["fps"], data["source"], data["group"])]


def main(argv: list[str] | None = None) -> int:
    from bridge.body_model import load_body_model_arrays, shaped_rest

    from .generate import load_motions
    from .retarget import DEFAULT_CACHE_DIR

    parser = argparse.ArgumentParser(prog="python -m scripts.synth.motion_bundle", description=__doc__.split("\n\n")[0])
    parser.add_argument("--motion-dir", type=Path, required=True, help="folder of motion files, e.g. ../shared/motion")
    parser.add_argument("--out", type=Path, required=True, help="bundle file to write (.npz)")
    parser.add_argument("--body-model", type=Path, default=None, help="body model (.npz or SMPL pkl); default: bundled")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="retargeted-motion cache")
    args = parser.parse_args(argv)
    arrays = load_body_model_arrays(args.body_model)
    motions = load_motions(args.motion_dir, shaped_rest(arrays, None)[1], args.cache_dir)
    if not motions:
        parser.error(f"no readable motion files under {args.motion_dir}")
    write_bundle(args.out, motions, arrays.model_id)
    frames = sum(m.num_frames for m in motions)
    minutes = sum(m.num_frames / m.fps for m in motions) / 60
    print(f"wrote {len(motions)} motions, {frames} frames ({minutes:.1f} min) to {args.out} "
          f"({args.out.stat().st_size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
