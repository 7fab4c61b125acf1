"""Rotation, kinematics and swing–twist geometry shared by the ARTS model, the bridge and the add-on.

Every function takes numpy arrays or torch tensors (one implementation, backend picked from the
input type) with any leading batch dimensions. Importing this package never imports torch or bpy,
so the add-on can use it inside Blender. Import the submodules directly:
``from bridge.geometry import rotations, kinematics, swing_twist, analytic_ik``.
"""
