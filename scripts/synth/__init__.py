"""Synthetic training data for ARTS: mocap retargeting, procedural motion, cameras, landmarks, detector noise.

See README.md in this folder. Modules import each other relatively and the product code as `bridge...`;
only `dataset.py` imports torch.
"""
