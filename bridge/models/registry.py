"""The checkpoint the add-on ships, with its sha256 (mirrors addon_manifest/models/arts_default.json)."""
from __future__ import annotations

from pathlib import Path

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "assets" / "arts_default.pt"
DEFAULT_MODEL_ID = "arts-default"
#: sha256 of DEFAULT_CHECKPOINT; update together with the model card whenever the checkpoint is retrained.
DEFAULT_SHA256 = "505d19d40236d4917fab25b357a2fd8fde8e8b905b1140247d7903c6cffa74e5"
