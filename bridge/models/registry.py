"""The checkpoint the add-on ships, with its sha256 (mirrors addon_manifest/models/arts_default.json)."""
from __future__ import annotations

from pathlib import Path

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "assets" / "arts_default.pt"
DEFAULT_MODEL_ID = "arts-default"
#: sha256 of DEFAULT_CHECKPOINT; update together with the model card whenever the checkpoint is retrained.
DEFAULT_SHA256 = "e3c47b762909d6cdabcf7b7445b36fab1db2f21047fe59a413a5c0799c96cd2f"
