"""Asking never writes the index (issue 9, item 5): not on a writable folder, a read-only one or a full disk.

Chroma writes to every folder it opens, even to read, so readers open a private copy (index.store.IndexCopy).
Read-only folders and full disks are real: as root (where chmod stops nothing) `ampi` runs in its own
mount namespace (`unshare -m`) over a read-only bind mount or a small full tmpfs; as another user the
read-only folder is made with chmod and the disk-full cases are skipped.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from index.builder import build_index
from index.store import COPY_PREFIX, ChromaStore, temp_root
from ingest.settings import REPO_ROOT, Settings

AMPI = REPO_ROOT / ".venv" / "bin" / "ampi"
NOTE = "# Plant notes\n\nThe Huddersfield plant makes 420 gearboxes a week for export to Germany.\n"
QUESTION = "How many gearboxes does the Huddersfield plant make a week?"
ROOT = os.geteuid() == 0


def note_settings(root: Path) -> Settings:
    corpus = root / "corpus"
    (corpus / "sources").mkdir(parents=True)
    (corpus / "plant.md").write_text(NOTE, encoding="utf-8")
    return Settings(corpus_dir=corpus, data_dir=root / "data", index_dir=root / "data" / "index", chroma_host=None)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Settings:
    """A small real index; the tests only ask (or prove that they did not write)."""
    settings = note_settings(tmp_path_factory.mktemp("readonly"))
    build_index(settings)
    return settings


def state(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under `folder`: its bytes' hash and modification time."""
    return {str(p.relative_to(folder)): (hashlib.sha1(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    return {**os.environ, "AMPI_CORPUS_DIR": str(settings.corpus_dir), "AMPI_DATA_DIR": str(settings.data_dir),
            "AMPI_INDEX_DIR": str(settings.index_dir), **extra}


def in_namespace(setup: str, command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run `setup` (mount commands) then `command` in a private mount namespace; skip if it cannot be made."""
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a mount namespace here: {probe.stderr.strip()}")
    script = f"set -e\n{setup}\nexec {shlex.join(command)}\n"
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, env=env,
                          cwd=REPO_ROOT, timeout=300)


def read_only(folder: Path, command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """`command` with `folder` read-only: a read-only bind mount as root, chmod otherwise."""
    if ROOT:
        setup = f"mount --bind {shlex.quote(str(folder))} {shlex.quote(str(folder))}\n" \
                f"mount -o remount,bind,ro {shlex.quote(str(folder))}"
        return in_namespace(setup, command, env)
    modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")]}
    try:
        for path in modes:
            path.chmod(modes[path] & ~0o222)
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=300)
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def ask(settings: Settings, runner=None, **extra_env: str) -> subprocess.CompletedProcess:
    command = [str(AMPI), "ask", "--json", QUESTION]
    env = env_for(settings, **extra_env)
    if runner is None:
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=300)
    return runner(command, env)


def test_asking_leaves_every_file_of_the_index_unchanged(indexed):
    before = state(indexed.index_dir)
    out = ask(indexed)
    assert out.returncode == 0 and "420" in out.stdout, out.stderr[-2000:]
    status = subprocess.run([str(AMPI), "status"], capture_output=True, text=True, env=env_for(indexed), timeout=300)
    assert status.returncode == 0 and "plant.md" in status.stdout, status.stderr[-2000:]
    assert state(indexed.index_dir) == before  # not one byte, not one modification time


def test_asking_works_on_a_read_only_index_folder(indexed):
    out = ask(indexed, lambda command, env: read_only(indexed.index_dir, command, env))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "420" in out.stdout and "readonly" not in out.stderr


@pytest.mark.skipif(not ROOT, reason="filling a disk needs a tmpfs mount (root)")
def test_asking_works_when_the_index_disk_is_full(indexed, tmp_path):
    mount = tmp_path / "small-disk"
    mount.mkdir()
    index = mount / "index"
    # A copy of the index on a 4 MB disk, then a filler to the last byte (checked: `df` shows nothing left).
    setup = f"mount -t tmpfs -o size=4m tmpfs {shlex.quote(str(mount))}\n" \
            f"cp -a {shlex.quote(str(indexed.index_dir))} {shlex.quote(str(index))}\n" \
            f"(cat /dev/zero > {shlex.quote(str(mount))}/filler) 2>/dev/null || true\n" \
            f"test \"$(df --output=avail {shlex.quote(str(mount))} | tail -1 | tr -d ' ')\" = 0"
    out = in_namespace(setup, [str(AMPI), "ask", "--json", QUESTION], env_for(indexed, AMPI_INDEX_DIR=str(index)))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "420" in out.stdout and "disk is full" not in out.stderr


@pytest.mark.skipif(not ROOT, reason="filling a disk needs a tmpfs mount (root)")
def test_when_the_index_cannot_be_read_the_message_says_why_and_what_to_do(indexed, tmp_path):
    # Readers copy the index to the temporary folder; a full one is the case where asking cannot go on.
    temp = tmp_path / "tiny-temp"
    temp.mkdir()
    setup = f"mount -t tmpfs -o size=64k tmpfs {shlex.quote(str(temp))}"  # room to create a file, not for the index
    out = in_namespace(setup, [str(AMPI), "ask", QUESTION], env_for(indexed, TMPDIR=str(temp)))
    assert out.returncode == 1, out.stdout + out.stderr
    message = out.stderr.strip()
    assert message.count("\n") == 0 and "Traceback" not in message, message
    assert f"the disk holding {temp} is full" in message and "free some space" in message and "TMPDIR" in message
    assert "ampi ingest" not in message  # rebuilding the index would not help


def test_ingest_into_a_read_only_index_folder_says_it_is_read_only(indexed):
    out = read_only(indexed.index_dir, [str(AMPI), "ingest", "-q"], env_for(indexed))
    assert out.returncode == 1, out.stdout + out.stderr
    message = out.stderr.strip().splitlines()[-1]
    assert message.startswith("ampi ingest: ") and "read-only" in message and "make it writable" in message
    assert "rebuild" not in message


def copies() -> set[Path]:
    """This process's index copies in the temporary folder."""
    return {p for p in temp_root().iterdir() if p.name.startswith(f"{COPY_PREFIX}{os.getpid()}-")}


def test_a_reader_follows_each_new_generation_and_cleans_up_its_copies(tmp_path):
    settings = note_settings(tmp_path)
    first = build_index(settings)
    others = copies()  # readers of other tests in this process may still hold theirs
    store = ChromaStore(settings)
    assert store.current_name() == first.collection
    (settings.corpus_dir / "more.md").write_text("# More\n\nThe Wakefield site runs two shifts.\n", encoding="utf-8")
    second = build_index(settings)
    assert store.current_name() == second.collection  # the same reader sees the switch
    assert any("Wakefield" in c.text for c in store.all_chunks()[0])
    assert len(copies() - others) == 2  # the newest, and the one before it for questions under way
    del store
    gc.collect()
    assert not copies() - others


def test_reading_a_folder_where_no_ingest_finished_creates_nothing(tmp_path):
    settings = note_settings(tmp_path)
    writer = ChromaStore(settings, writable=True)  # an ingest that opened the folder and died before the switch
    assert writer.current_name() is None
    before = state(settings.index_dir)
    reader = ChromaStore(settings)
    assert reader.current_name() is None and reader.generations() == []
    del reader
    gc.collect()
    assert state(settings.index_dir) == before
