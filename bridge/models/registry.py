"""The checkpoint the add-on ships, with its sha256 (mirrors addon_manifest/models/arts_default.json)."""
from __future__ import annotations

from pathlib import Path

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "assets" / "arts_default.pt"
DEFAULT_MODEL_ID = "arts-default"
#: sha256 of DEFAULT_CHECKPOINT; update together with the model card whenever the checkpoint is retrained.
DEFAULT_SHA256 = "60c6cc0267e9a1b446fcaf5d6ca48195208acb0567e3857c93c6655d0fa8bf37"
