"""Render a dressed, posed body in its set to an H.264 video with Blender's Workbench engine (bpy, headless).

Why Workbench: it is the engine that runs fast on two CPU cores in the bpy wheel (EEVEE does start headless
there, but took 72 s for its first 320x240 frame and 16 s for each further one). Workbench's TEXTURE colour
mode shows each material's active image texture (through the mesh's UV map), or its flat colour when it
has none. The body is animated by one shape key per frame (render_test_clip.add_animated_mesh), a panning
camera by one key per frame. Inputs are in the motion's Y-up world, converted to Blender's Z-up once, in
render_test_clip.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from scripts.render_test_clip import (add_animated_mesh, camera_matrix_world, render_animation, set_video_output,
                                      to_blender)

from .appearance import Appearance, Lighting, srgb_to_linear
from .camera import Camera
from .dress import REGIONS, DressedBody
from .staging import SetPiece
from .textures import Pattern, pattern_image


def render_video(out_mp4: Path, dressed: DressedBody, verts_world: np.ndarray, set_pieces: list[SetPiece],
                 cam: Camera, look: Appearance, fps: float) -> float:
    """Render the clip; returns the seconds spent rendering and encoding (scene building excluded).

    verts_world (F, V, 3): the dressed body's posed vertices (Y-up world, metres); cam: per-frame camera
    (its image size is the video's); look: lighting, background colour (what shows where nothing is: sky,
    ceiling), antialiasing and video quality."""
    from scripts.bpy_module import import_bpy

    bpy = import_bpy()

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    materials = _Materials(bpy)
    body_materials = [materials.get(f"body_{name}", pattern) for name, pattern in zip(REGIONS, dressed.patterns)]
    body = add_animated_mesh(bpy, "body", verts_world, dressed.arrays.faces, body_materials, dressed.face_region)
    _set_uv(body.data, dressed.loop_uv.reshape(-1, 2))
    for piece in set_pieces:
        mesh = bpy.data.meshes.new(piece.name)
        mesh.from_pydata(to_blender(piece.vertices).tolist(), [], [list(p) for p in piece.polygons])
        mesh.materials.append(materials.get(piece.name, piece.pattern))
        _set_uv(mesh, piece.loop_uv)
        scene.collection.objects.link(bpy.data.objects.new(piece.name, mesh))
    _add_camera(bpy, scene, cam)
    world = bpy.data.worlds.new("world")
    world.color = tuple(srgb_to_linear(np.asarray(look.backdrop.sky)))
    scene.world = world
    _workbench(scene, look.lighting)
    if look.camera.antialias:
        _antialias_in_compositor(bpy, scene)
    set_video_output(scene, cam.image_size, fps, len(verts_world), out_mp4, look.camera.video_quality)
    started = time.perf_counter()
    render_animation(bpy)
    return time.perf_counter() - started


class _Materials:
    """Blender materials for patterns: a flat colour, or an image texture made once per distinct pattern."""

    def __init__(self, bpy) -> None:
        self.bpy = bpy
        self.images: dict[Pattern, object] = {}

    def get(self, name: str, pattern: Pattern):
        mat = self.bpy.data.materials.new(name)
        mat.diffuse_color = (*srgb_to_linear(np.asarray(pattern.colours[0])), 1.0)
        if pattern.is_flat:
            return mat
        if pattern not in self.images:
            pixels = pattern_image(pattern)
            image = self.bpy.data.images.new(f"tex{len(self.images)}", pixels.shape[1], pixels.shape[0])
            image.pixels.foreach_set(pixels.ravel())
            image.pack()  # keep it in memory; nothing is written beside the video
            self.images[pattern] = image
        texture = mat.node_tree.nodes.new("ShaderNodeTexImage")
        texture.image = self.images[pattern]
        texture.interpolation = "Closest" if pattern.kind in ("stripes", "checks") else "Linear"
        mat.node_tree.nodes.active = texture  # Workbench shows the active image texture
        return mat


def _set_uv(mesh, loop_uv: np.ndarray) -> None:
    """One UV map with a coordinate per polygon corner, in Blender's loop order (polygon by polygon)."""
    layer = mesh.uv_layers.new(name="UVMap")
    layer.data.foreach_set("uv", np.asarray(loop_uv, np.float32).ravel())


def _add_camera(bpy, scene, cam: Camera) -> None:
    """A camera with the clip's field of view across the image's long side, keyed per frame when it pans."""
    from mathutils import Matrix

    data = bpy.data.cameras.new("camera")
    width, height = cam.image_size
    data.sensor_fit = "HORIZONTAL" if width >= height else "VERTICAL"
    data.angle = 2.0 * math.atan(max(width, height) / 2.0 / cam.focal_px)
    obj = bpy.data.objects.new("camera", data)
    obj.rotation_mode = "QUATERNION"
    scene.collection.objects.link(obj)
    scene.camera = obj
    moving = not (np.allclose(cam.rotation, cam.rotation[:1]) and np.allclose(cam.position_m, cam.position_m[:1]))
    for f in range(len(cam.rotation) if moving else 1):
        obj.matrix_world = Matrix(camera_matrix_world(cam.rotation[f], cam.position_m[f]))
        if moving:
            obj.keyframe_insert("location", frame=f + 1)
            obj.keyframe_insert("rotation_quaternion", frame=f + 1)


def _workbench(scene, lighting: Lighting) -> None:
    """Workbench with textures, the clip's studio light, exposure, shadow, cavity and specular settings, and
    no antialiasing of its own."""
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.render_aa = "OFF"
    shading = scene.display.shading
    shading.light = "STUDIO"
    shading.studio_light = lighting.studio_light
    shading.use_world_space_lighting = True
    shading.studiolight_rotate_z = math.radians(lighting.rotate_deg)
    shading.color_type = "TEXTURE"
    shading.show_shadows = lighting.shadows
    shading.shadow_intensity = lighting.shadow_intensity
    scene.display.light_direction = lighting.light_direction
    shading.show_cavity = lighting.cavity
    shading.show_specular_highlight = lighting.specular
    scene.view_settings.view_transform = "Standard"
    scene.view_settings.exposure = lighting.exposure


def _antialias_in_compositor(bpy, scene) -> None:
    """Smooth the render's jagged edges with the compositor's Anti-Aliasing node (SMAA, on the CPU).

    Why not Workbench's own FXAA: under the bpy wheel's software OpenGL it took 0.34 s of a 720p frame's
    0.57 s (one thread); this node smooths the same edges in about 0.07 s, and MediaPipe's landmarks move no
    more between the two than between either and no smoothing at all (README.md). Written for Blender 5's
    compositor (a node group with a group output), the project's bpy."""
    tree = bpy.data.node_groups.new("antialias", "CompositorNodeTree")
    tree.interface.new_socket("Image", in_out="OUTPUT", socket_type="NodeSocketColor")
    scene.compositing_node_group = tree
    scene.render.use_compositing = True
    layers = tree.nodes.new("CompositorNodeRLayers")
    smooth = tree.nodes.new("CompositorNodeAntiAliasing")
    output = tree.nodes.new("NodeGroupOutput")
    tree.links.new(layers.outputs["Image"], smooth.inputs["Image"])
    tree.links.new(smooth.outputs["Image"], output.inputs[0])
