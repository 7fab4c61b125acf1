"""The bpy wheel's NumPy 1.x/2.x warning is hidden, and nothing else is."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scripts.bpy_module import without_numpy_abi_warning

#: What `import bpy` printed in the project environment (bpy 5.0.1 wheel, NumPy 2.3.5).
CAPTURED = '\nA module that was compiled using NumPy 1.x cannot be run in\nNumPy 2.3.5 as it may crash. To support both 1.x and 2.x\nversions of NumPy, modules must be compiled with NumPy 2.0.\nSome module may need to rebuild instead e.g. with \'pybind11>=2.12\'.\n\nIf you are a user of the module, the easiest solution will be to\ndowngrade to \'numpy<2\' or try to upgrade the affected module.\nWe expect that some modules will need time to support NumPy 2.\n\nTraceback (most recent call last):  File "<string>", line 1, in <module>\nTraceback (most recent call last):\n  File "/opt/project/.venv/lib/python3.11/site-packages/numpy/core/_multiarray_umath.py", line 46, in __getattr__\n    raise ImportError(msg)\nImportError: \nA module that was compiled using NumPy 1.x cannot be run in\nNumPy 2.3.5 as it may crash. To support both 1.x and 2.x\nversions of NumPy, modules must be compiled with NumPy 2.0.\nSome module may need to rebuild instead e.g. with \'pybind11>=2.12\'.\n\nIf you are a user of the module, the easiest solution will be to\ndowngrade to \'numpy<2\' or try to upgrade the affected module.\nWe expect that some modules will need time to support NumPy 2.\n\n\nUnable to initialise audio\nImportError: numpy.core.multiarray failed to import\n'


def test_the_numpy_page_goes_and_blenders_own_lines_stay():
    assert without_numpy_abi_warning(CAPTURED) == "Unable to initialise audio\n"
    other = "Warning: something the user should see\nTraceback (most recent call last):\n  File x\nValueError\n"
    assert without_numpy_abi_warning(other) == other
    assert without_numpy_abi_warning("before\n" + CAPTURED + "after\n") == "before\nUnable to initialise audio\nafter\n"


def test_import_bpy_prints_no_numpy_warning():
    code = "import sys; sys.path.insert(0, '.'); from scripts.bpy_module import import_bpy; print(import_bpy().app.version_string)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "NumPy" not in proc.stderr and "Traceback" not in proc.stderr and proc.stdout.strip()
