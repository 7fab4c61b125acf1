"""The checkpoint the add-on ships, with its sha256 (mirrors addon_manifest/models/arts_default.json)."""
from __future__ import annotations

from pathlib import Path

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "assets" / "arts_default.pt"
DEFAULT_MODEL_ID = "arts-default"
#: sha256 of DEFAULT_CHECKPOINT; update together with the model card whenever the checkpoint is retrained.
DEFAULT_SHA256 = "142816935125a06ea90641af7b7c0d9072dee6ca830f95cc8c258c4190b9ec57"
