"""The bridge's CPU thread policy: never more threads than CPUs it may use; idle threads sleep."""
from __future__ import annotations

import os
import subprocess
import sys

from bridge import threads


def test_defaults_to_the_cpus_this_process_may_use(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3}, raising=False)
    assert threads.available_cpus() == 2 and threads.choose_threads() == 2
    assert threads.choose_threads(5) == 5 and threads.choose_threads(0) == 2


def test_configure_sets_openmp_before_torch_and_keeps_the_users_variables(repo_root):
    code = ("import os, sys; sys.path.insert(0, '.'); from bridge import threads; n = threads.configure(None); "
            "import torch; threads.torch_started(); "
            "print(n, os.environ['OMP_NUM_THREADS'], os.environ['OMP_WAIT_POLICY'], torch.get_num_threads(), "
            "torch.get_num_interop_threads())")
    env = {k: v for k, v in os.environ.items() if k not in (*threads.ENV_THREAD_VARIABLES, "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-c", code], cwd=repo_root, env=env, capture_output=True, text=True,
                         timeout=120).stdout.split()
    cpus = str(threads.available_cpus())
    assert out == [cpus, cpus, "PASSIVE", cpus, "1"]
    env["OMP_WAIT_POLICY"] = "ACTIVE"  # a user's own choice stays
    out = subprocess.run([sys.executable, "-c", code.replace("configure(None)", "configure(1)")], cwd=repo_root,
                         env=env, capture_output=True, text=True, timeout=120).stdout.split()
    assert out == ["1", "1", "ACTIVE", "1", "1"]
