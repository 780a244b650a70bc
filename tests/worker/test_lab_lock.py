"""The lab lock (topology.locks) against real processes: a stopped holder keeps it, a killed one frees it.

No Redis, no root: the lock is an flock on a file of the worker host.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from topology import locks

HOLD = """
import os, sys, time, django
django.setup()
from topology import locks
with locks.lab_lock(int(sys.argv[1]), wait=5, job=77):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def lock_dir(tmp_path: Path, settings: Any) -> Path:
    settings.NETDESIGNER_LOCK_DIR = str(tmp_path)
    return tmp_path


def holder_process(lab_id: int, lock_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "NETDESIGNER_LOCK_DIR": str(lock_dir), "DJANGO_SETTINGS_MODULE": "netdesigner.settings"}
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(lab_id)], stdout=subprocess.PIPE, text=True,  # noqa: S603
                            env=env, cwd=django_settings.BASE_DIR)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_stopped_holder_keeps_the_lab_and_a_killed_one_frees_it_at_once(lock_dir: Path) -> None:
    proc = holder_process(41, lock_dir)
    try:
        os.kill(proc.pid, signal.SIGSTOP)
        with pytest.raises(locks.LabBusy, match=r"busy with another apply or destroy \(pid \d+ job 77\)"), \
                locks.lab_lock(41, wait=1.5):
            pass
        assert locks.is_locked(41)
        with locks.lab_lock(42, wait=0) as other:  # another lab is free
            assert other.owned()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        # No timeout to wait out: the kernel dropped the lock with its holder.
        with locks.lab_lock(41, wait=0) as mine:
            assert mine.owned()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_two_holders_in_one_process_exclude_each_other(lock_dir: Path) -> None:
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with locks.lab_lock(43):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        with pytest.raises(locks.LabBusy), locks.lab_lock(43, wait=0.2):
            pass
    finally:
        release.set()
        thread.join(10)
    with locks.lab_lock(43, wait=0) as again:  # released when the holder left its block
        assert again.owned()


def test_two_installs_on_one_machine_never_share_a_lock_directory(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import connections

    settings.NETDESIGNER_LOCK_DIR = ""
    db = connections["default"].settings_dict
    monkeypatch.setitem(db, "NAME", "/srv/one/db.sqlite3")
    one = locks.lock_dir()
    monkeypatch.setitem(db, "NAME", "/srv/two/db.sqlite3")
    two = locks.lock_dir()
    assert one != two and two.name == locks.install_key()
    assert one.parent == two.parent
    if os.geteuid() == 0:
        assert str(one).startswith("/run/netdesigner/")
