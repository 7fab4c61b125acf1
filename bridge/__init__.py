"""ARTS bridge: the inference process behind the Blender add-on.

Importing this package must stay cheap and free of torch: the add-on vendors it and imports its pure
modules (results, skeleton, keypoints, smoothing, protocol) inside Blender, where torch is absent.
"""
__version__ = "0.1.0"
