"""The checkpoint the add-on ships, with its sha256 (mirrors addon_manifest/models/arts_default.json)."""
from __future__ import annotations

from pathlib import Path

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "assets" / "arts_default.pt"
DEFAULT_MODEL_ID = "arts-default"
#: sha256 of DEFAULT_CHECKPOINT; update together with the model card whenever the checkpoint is retrained.
DEFAULT_SHA256 = "192f1e1d3bb5aca023019e1feda5f8d7f1749db21dd8efe4f43e684cbb378417"
