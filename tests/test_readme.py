"""README's two commands are the ones CI and users run: keep them and .ci/run in step."""
from __future__ import annotations

import re
from pathlib import Path


def readme_commands(repo_root: Path) -> list[str]:
    text = (repo_root / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```\n(.+?)\n```", section)


def test_readme_has_the_two_commands(repo_root: Path) -> None:
    main, tests = readme_commands(repo_root)
    assert main.startswith("python3 scripts/setup_env.py && ") and "video_to_blend.py" in main
    assert tests.startswith("python3 scripts/setup_env.py && ") and "pytest" in tests


def test_ci_runs_the_readme_test_command(repo_root: Path) -> None:
    _, tests = readme_commands(repo_root)
    ci_lines = [line.strip() for line in (repo_root / ".ci" / "run").read_text().splitlines()]
    assert tests in ci_lines


def test_scripts_named_in_the_readme_exist(repo_root: Path) -> None:
    text = (repo_root / "README.md").read_text()
    for script in set(re.findall(r"scripts/[a-z_]+\.py", text)):
        assert (repo_root / script).is_file(), script
