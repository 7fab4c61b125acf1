"""What a user sees when the bridge itself fails: one line naming the bug and a file with the details to report."""
from __future__ import annotations

import os
import platform
import tempfile
import time
import traceback
from pathlib import Path

from . import __version__


def crash_folder() -> Path:
    return Path(tempfile.gettempdir()) / "arts-bridge"


def write_crash_report(exc: BaseException, context: str) -> Path | None:
    """Write the traceback and versions to a new file under crash_folder(); None if even that fails."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = crash_folder() / f"crash-{stamp}-{os.getpid()}.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"arts-bridge {__version__}, Python {platform.python_version()}, {platform.platform()}\n"
                        f"{context}\n\n" + "".join(traceback.format_exception(exc)), encoding="utf-8")
    except OSError:
        return None
    return path


def bug_message(exc: BaseException, report: Path | None) -> str:
    """One line: what failed, that it is a bug, and where the details are."""
    where = f"details in {report}" if report else "details on stderr"
    return f"unexpected {type(exc).__name__}: {exc} (a bug in the bridge; please report it with the {where})"
