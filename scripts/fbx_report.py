"""What a game engine will read from an FBX file, as JSON: units, axes, the node tree with each node's default
(rest) transform, bones, skinning, and the animation's range with bone positions at sampled frames.

    python scripts/fbx_report.py FILE.fbx [--frames 1 5 10] [--fps 30]

Read with `ufbx` (the PyPI wheel of the ufbx library that Godot's FBX importer is built on), which shares no
code with Blender's exporter, so the export tests check the file, not Blender's own view of it. ufbx 0.0.5's
bindings can crash the interpreter on some access patterns (indexing a node list in place, freeing wrappers
in some orders); this script walks only lists it has copied, frees nothing, and the tests run it in a
subprocess so a crash fails one test instead of the session.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

#: Every ufbx wrapper made stays referenced here until the process ends: ufbx 0.0.5 crashes when some of them
#: are freed in the wrong order, so none is freed, and main() leaves with os._exit after writing the report.
_ALIVE: list = []


def _vec(v) -> list[float]:
    return [float(v.x), float(v.y), float(v.z)]


def _quat(q) -> list[float]:
    return [float(q.w), float(q.x), float(q.y), float(q.z)]


def report(path: str, frames: list[float], fps: float | None = None) -> dict:
    """The report of `path`; `frames` are sampled at `fps` (default: the file's own rate)."""
    import ufbx

    scene = ufbx.load_file(path)
    keep = _ALIVE
    keep.append(scene)
    settings = scene.settings
    rate = float(fps or settings.frames_per_second)
    nodes = list(scene.nodes)
    keep.append(nodes)
    out_nodes = []
    for node in nodes:
        if node.is_root:
            continue
        local = node.local_transform
        parent = node.parent
        out_nodes.append({
            "name": node.name, "parent": None if parent is None or parent.is_root else parent.name,
            "bone": node.bone is not None, "translation": _vec(local.translation),
            "rotation": _quat(local.rotation), "scale": _vec(local.scale),
        })
    skins = []
    for mesh in list(scene.meshes):
        for skin in list(mesh.skin_deformers):
            vertices, clusters = list(skin.vertices), list(skin.clusters)
            bones_of = [cluster.bone_node for cluster in clusters]
            keep += [vertices, clusters, bones_of]
            counts = [int(v.num_weights) for v in vertices]
            skins.append({"mesh": mesh.name, "vertices": len(counts), "max_weights": max(counts, default=0),
                          "clusters": sorted(str(b.name) for b, c in zip(bones_of, clusters) if c.num_weights)})
    stacks = []
    for stack in list(scene.anim_stacks):
        sampled = {}
        for frame in frames:  # node_to_world of the scene evaluated at that time: translation column c3
            evaluated = ufbx.evaluate_scene(scene, stack.anim, frame / rate)
            keep.append(evaluated)
            sampled[str(frame)] = {node.name: _vec(node.node_to_world.c3) for node in list(evaluated.nodes)
                                   if node.bone is not None}
        stacks.append({"name": stack.name, "time_begin_s": float(stack.time_begin),
                       "time_end_s": float(stack.time_end), "bone_world": sampled})
    axes = settings.axes
    return {"file": path, "unit_meters": float(settings.unit_meters), "frames_per_second": rate,
            "axes": {"right": axes.right.name, "up": axes.up.name, "front": axes.front.name},
            "nodes": out_nodes, "skins": skins, "anim_stacks": stacks}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file")
    parser.add_argument("--frames", type=float, nargs="*", default=[], help="frames to sample bone positions at")
    parser.add_argument("--fps", type=float, default=None, help="frame rate of --frames (default: the file's)")
    args = parser.parse_args(argv)
    json.dump(report(args.file, args.frames, args.fps), sys.stdout, indent=1)
    print(flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
