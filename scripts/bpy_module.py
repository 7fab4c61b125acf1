"""Import the `bpy` wheel without its NumPy warning.

The bpy wheel is built against NumPy 1.x and declares numpy<2, while the project's environment pins NumPy 2
(what torch, MediaPipe and OpenCV are tested with here). Only Blender's audio module (audaspace) uses NumPy's
C interface, so the one thing lost is audio we never play, but every `import bpy` printed a page of
"compiled using NumPy 1.x" and two tracebacks. This import hides exactly that page; any other output, and
any real import error, still gets through. Inside a Blender binary bpy is already imported and is returned.
"""
from __future__ import annotations

import os
import sys
import tempfile
from types import ModuleType

#: Lines of NumPy's ABI warning and of the ImportError tracebacks it comes with.
_NOISE_MARKERS = ("compiled using NumPy 1.x", "NumPy 2", "versions of NumPy", "Some module may need to rebuild",
                  "If you are a user of the module", "downgrade to 'numpy<2'", "We expect that some modules",
                  "Traceback (most recent call last):", "_multiarray_umath.py", "raise ImportError(msg)",
                  "numpy.core.multiarray failed to import")


def without_numpy_abi_warning(text: str) -> str:
    """`text` minus NumPy's 1.x/2.x ABI warning and its tracebacks (unchanged when there is none).

    Inside the span from the warning's first line to its last, only unindented lines that are not part of
    the warning are kept (e.g. Blender's own "Unable to initialise audio"); everything outside is kept."""
    lines = text.splitlines()
    marked = [i for i, line in enumerate(lines) if any(m in line for m in _NOISE_MARKERS)]
    if not any("compiled using NumPy 1.x" in lines[i] for i in marked):
        return text
    first, last = marked[0], marked[-1]
    while first > 0 and not lines[first - 1].strip():  # the blank line NumPy starts its page with
        first -= 1
    inside = [line for line in lines[first:last + 1]
              if line.strip() and not line[0].isspace() and line.strip() != "ImportError:"
              and not any(m in line for m in _NOISE_MARKERS)]
    return "".join(f"{line}\n" for line in [*lines[:first], *inside, *lines[last + 1:]])


def import_bpy() -> ModuleType:
    """`import bpy`, with file descriptor 2 captured while it loads and replayed without the NumPy page."""
    if "bpy" in sys.modules:
        return sys.modules["bpy"]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import bpy
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            sys.stderr.write(without_numpy_abi_warning(capture.read().decode("utf-8", errors="replace")))
            sys.stderr.flush()
    return bpy
