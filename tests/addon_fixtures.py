"""Helpers for the add-on's Blender tests: a clean scene and results files made from KNOWN poses.

The clips are synthesised with the body model and the project's FK (bridge.geometry.kinematics), so a
test can compare the rig Blender evaluates with the joints SMPL's own math gives, frame by frame.
"""
from __future__ import annotations

import numpy as np

from arts_blender import rig_math
from bridge import body_model
from bridge.geometry import kinematics, rotations
from bridge.results import ClipResult
from bridge.skeleton import SMPL_PARENTS


def clean_scene(bpy) -> None:
    """Remove every object, mesh, armature, camera and action, and reset the frame range (a fresh scene)."""
    for collection in (bpy.data.objects, bpy.data.meshes, bpy.data.armatures, bpy.data.cameras,
                       bpy.data.actions, bpy.data.movieclips):
        for block in list(collection):
            collection.remove(block)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 24, 1.0
    scene.frame_start, scene.frame_end = 1, 250


def known_clip(arrays, frames: int = 12, fps: float = 30.0, seed: int = 0, source: str = "walk.mp4",
               pose_scale: float = 0.5) -> ClipResult:
    """A clip with random (seeded) poses and shape, the person upright ~3.5 m in front of the camera."""
    rng = np.random.default_rng(seed)
    betas = rng.normal(0.0, 1.0, size=10)
    pose = rng.normal(0.0, pose_scale, size=(frames, 24, 3))
    pose[:, 0] = rotations.matrix_to_axis_angle(
        rotations.axis_angle_to_matrix(np.array([np.pi, 0.0, 0.0])) @ rotations.axis_angle_to_matrix(pose[:, 0] * 0.3))
    trans = np.array([0.2, 0.1, 3.5]) + np.cumsum(rng.normal(0.0, 0.02, size=(frames, 3)), axis=0)
    return ClipResult(
        fps=fps, frame_indices=np.arange(frames) + 5, pose_aa=pose.astype(np.float32), betas=betas.astype(np.float32),
        trans_m=trans.astype(np.float32), joints_3d=expected_camera_joints(arrays, pose, betas, trans).astype(np.float32),
        keypoints_2d=np.zeros((frames, 33, 3), np.float32), valid=np.arange(frames) % 5 != 3,
        confidence=np.linspace(0.2, 1.0, frames).astype(np.float32), image_size=(640, 480), focal_px=600.0,
        model_id="test-model", body_model_id=arrays.model_id, source=source)


def expected_camera_joints(arrays, pose, betas, trans) -> np.ndarray:
    """SMPL joints (F, 24, 3) in camera space, from the body model's rest joints and FK."""
    _, rest_joints = body_model.shaped_rest(arrays, np.asarray(betas, dtype=np.float64))
    posed, _ = kinematics.forward_kinematics(rotations.axis_angle_to_matrix(np.asarray(pose, np.float64)),
                                             np.asarray(rest_joints, np.float64), SMPL_PARENTS)
    return posed + np.asarray(trans, np.float64)[:, None]


def expected_world_joints(arrays, clip: ClipResult) -> np.ndarray:
    """What the rig's bone heads must be in Blender world, (F, 24, 3) (the clip's world frame if it has one)."""
    return rig_math.camera_to_world(expected_camera_joints(arrays, clip.pose_aa, clip.betas, clip.trans_m),
                                    *rig_math.world_transform(clip.world_from_camera))


def rig_world_joints(bpy, armature, frames) -> np.ndarray:
    """Evaluated bone heads (len(frames), 24, 3) in world space, SMPL joint order."""
    scene = bpy.context.scene
    out = []
    for frame in frames:
        scene.frame_set(int(frame))
        matrix = np.array(armature.matrix_world)
        heads = np.array([np.array(armature.pose.bones[n].head) for n in rig_math.SMPL_JOINT_NAMES])
        out.append(heads @ matrix[:3, :3].T + matrix[:3, 3])
    return np.array(out)
