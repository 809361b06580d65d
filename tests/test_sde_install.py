"""`manage.py sde_install`: every source (download, local file, bundle) and every failure mode.

A valid SDE is built from the bundle once per session; broken variants are copies altered with
sqlite3. Downloads come from a real HTTP server on 127.0.0.1 (tests/sde_server.py). Every
failure must raise a one-line CommandError naming the reason, leave the installed SDE
byte-for-byte as it was, and leave no `.sde-install-*` temporary files behind.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from sde import install, packaged_volumes, search
from tests.sde_server import (
    LocalServer,
    closed_port_url,
    serve_bytes,
    serve_cut_off,
    serve_file,
    serve_stalled,
    serve_status,
)

LAST_MODIFIED = "Tue, 20 Jan 2026 11:45:00 GMT"
GARBAGE = bytes(range(256)) * 512


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class ValidSde:
    path: Path  # an unstamped SDE built from the bundle
    raw: bytes  # its bytes
    bz2: bytes  # the same, bzip2-compressed
    build: str  # the bundle's build label
    counts: dict[str, int]  # row counts per required table


@pytest.fixture(scope="session")
def valid_sde(tmp_path_factory: pytest.TempPathFactory) -> ValidSde:
    path = tmp_path_factory.mktemp("valid") / "valid.sqlite"
    build = install.build_from_bundle(path)
    raw = path.read_bytes()
    return ValidSde(path, raw, bz2.compress(raw, 1), build, install.validate(path))


@pytest.fixture(scope="session")
def installed_template(valid_sde: ValidSde, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SDE as `install` leaves it (stamped), to copy in as each test's current SDE."""
    directory = tmp_path_factory.mktemp("installed")
    candidate, target = directory / "candidate.sqlite", directory / "sde.sqlite"
    shutil.copyfile(valid_sde.path, candidate)
    install.install(candidate, target, source="test-fixture", build="fixture build")
    return target


@pytest.fixture(scope="session")
def variant(valid_sde: ValidSde, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A copy of the valid SDE altered by one SQL script, built once per session."""
    scripts = {
        "no_stations": "DROP TABLE staStations;",
        "few_types": "DELETE FROM invTypes WHERE typeID <> 34 AND typeID % 10 <> 0;",
        "no_column": 'ALTER TABLE invTypes DROP COLUMN "basePrice";',
        "not_tritanium": "UPDATE invTypes SET typeName = 'Pyerite' WHERE typeID = 34;",
        # A NULL in a NOT NULL column: every earlier check passes, SQLite's quick_check fails.
        "quick_check_fails": (
            "CREATE TABLE junk (x); INSERT INTO junk VALUES (NULL);"
            "PRAGMA writable_schema = ON;"
            "UPDATE sqlite_master SET sql = 'CREATE TABLE junk (x NOT NULL)' WHERE name = 'junk';"
            "PRAGMA writable_schema = OFF;"
        ),
        "wal": "PRAGMA journal_mode = WAL;",
        # As Fuzzwork's dump comes: the 12 ships with no invVolumes row, no provenance table.
        "no_filled_volumes": (
            'DELETE FROM "invVolumes" WHERE "typeID" IN '
            '(SELECT "typeID" FROM "evePackagedVolumeSource");'
            'DROP TABLE "evePackagedVolumeSource";'
        ),
        "wal_no_stations": "PRAGMA journal_mode = WAL; DROP TABLE staStations;",
    }
    directory = tmp_path_factory.mktemp("variants")
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            path = directory / f"{name}.sqlite"
            shutil.copyfile(valid_sde.path, path)
            conn = sqlite3.connect(path)
            try:
                conn.executescript(scripts[name])
            finally:
                conn.close()
            built[name] = path
        return built[name]

    return get


@pytest.fixture(scope="session")
def server(valid_sde: ValidSde) -> Iterator[LocalServer]:
    with LocalServer() as srv:
        srv.routes["/sqlite-latest.sqlite.bz2"] = serve_bytes(
            valid_sde.bz2,
            content_type="application/x-bzip2",
            headers={"Last-Modified": LAST_MODIFIED},
        )
        srv.routes["/sqlite-latest.sqlite"] = serve_bytes(valid_sde.raw)
        yield srv


@dataclass(frozen=True)
class Snapshot:
    path: Path
    sha256: str
    mtime_ns: int
    inode: int
    size: int

    @classmethod
    def take(cls, path: Path) -> Snapshot:
        st = path.stat()
        return cls(path, sha256(path), st.st_mtime_ns, st.st_ino, st.st_size)

    def assert_untouched(self) -> None:
        assert Snapshot.take(self.path) == self, "the current SDE was modified"


@pytest.fixture
def sde_path(settings: Any, tmp_path: Path) -> Path:
    """SDE_PATH in an empty temporary directory (the real var/sde.sqlite is never touched)."""
    path = tmp_path / "sde" / "sde.sqlite"
    path.parent.mkdir()
    settings.SDE_PATH = path
    return path


@pytest.fixture
def current_sde(sde_path: Path, installed_template: Path) -> Snapshot:
    """A valid, stamped SDE already installed at SDE_PATH."""
    shutil.copy2(installed_template, sde_path)
    return Snapshot.take(sde_path)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob(".sde-install-*"))


def run(*args: str, verbosity: int = 1) -> str:
    out = io.StringIO()
    call_command("sde_install", *args, stdout=out, verbosity=verbosity)
    return out.getvalue()


def assert_fails(args: list[str], reason: str, sde: Snapshot) -> str:
    """The install fails with a one-line message naming `reason`, and changes nothing."""
    with pytest.raises(CommandError) as excinfo:
        run(*args)
    message = str(excinfo.value)
    assert "\n" not in message and "\r" not in message, message
    assert message.startswith("SDE not installed: "), message
    assert reason in message, message
    assert message.endswith("The current SDE is unchanged."), message
    sde.assert_untouched()
    info = install.read_info(sde.path)
    assert info is not None and info.source == "test-fixture"
    assert leftovers(sde.path.parent) == []
    return message


def assert_installed(path: Path, valid_sde: ValidSde, *, source: str, build: str) -> None:
    info = install.read_info(path)
    assert info is not None
    assert (info.source, info.build) == (source, build)
    assert info.row_counts == valid_sde.counts
    assert info.sha256 == hashlib.sha256(valid_sde.raw).hexdigest()
    assert install.validate(path) == valid_sde.counts
    assert leftovers(path.parent) == []


# --- Successful installs -------------------------------------------------------------------


def test_bundled_installs_and_reports_the_build(
    sde_path: Path, valid_sde: ValidSde, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "_cached", object())
    out = run("--bundled")
    info = install.read_info(sde_path)
    assert info is not None
    assert (info.source, info.build) == ("bundled", valid_sde.build)
    assert info.build == json.loads((install.BUNDLE_DIR / "BUILD.json").read_text())["build"]
    assert info.row_counts == valid_sde.counts
    assert "Installed SDE" in out and valid_sde.build in out
    assert f"{valid_sde.counts['invTypes']} types" in out
    assert search._cached is None  # the in-process search index is rebuilt on next use
    assert leftovers(sde_path.parent) == []


def test_file_sqlite_installs(sde_path: Path, valid_sde: ValidSde, tmp_path: Path) -> None:
    source = tmp_path / "my-sde.sqlite"
    source.write_bytes(valid_sde.raw)
    out = run("--file", str(source))
    assert "Installed SDE" in out
    build = install.read_info(sde_path).build  # type: ignore[union-attr]
    assert build.startswith("my-sde.sqlite (")
    assert_installed(sde_path, valid_sde, source=f"file {source}", build=build)
    assert source.read_bytes() == valid_sde.raw  # the source file is copied, not moved


def test_file_sqlite_bz2_installs(sde_path: Path, valid_sde: ValidSde, tmp_path: Path) -> None:
    source = tmp_path / "sqlite-latest.sqlite.bz2"
    source.write_bytes(valid_sde.bz2)
    out = run("--file", str(source))
    assert "Installed SDE" in out
    build = install.read_info(sde_path).build  # type: ignore[union-attr]
    assert build.startswith("sqlite-latest.sqlite.bz2 (")
    assert_installed(sde_path, valid_sde, source=f"file {source}", build=build)


def test_url_bz2_installs(sde_path: Path, valid_sde: ValidSde, server: LocalServer) -> None:
    url = server.url("/sqlite-latest.sqlite.bz2")
    out = run("--url", url)
    assert f"Downloading {url}" in out and "Installed SDE" in out
    build = f"sqlite-latest.sqlite.bz2 (Last-Modified {LAST_MODIFIED})"
    assert_installed(sde_path, valid_sde, source=url, build=build)


def test_url_raw_sqlite_installs(sde_path: Path, valid_sde: ValidSde, server: LocalServer) -> None:
    url = server.url("/sqlite-latest.sqlite")
    run("--url", url)
    info = install.read_info(sde_path)
    assert info is not None and info.build.startswith("sqlite-latest.sqlite (Last-Modified ")
    assert_installed(sde_path, valid_sde, source=url, build=info.build)


def test_no_source_downloads_the_default_url(
    sde_path: Path, valid_sde: ValidSde, server: LocalServer, settings: Any
) -> None:
    server.routes["/default/sqlite-latest.sqlite.bz2"] = server.routes["/sqlite-latest.sqlite.bz2"]
    settings.SDE_DEFAULT_URL = server.url("/default/sqlite-latest.sqlite.bz2")
    run()
    build = f"sqlite-latest.sqlite.bz2 (Last-Modified {LAST_MODIFIED})"
    assert_installed(sde_path, valid_sde, source=settings.SDE_DEFAULT_URL, build=build)


def test_url_bzip2_recognised_by_content_type(
    sde_path: Path, valid_sde: ValidSde, server: LocalServer
) -> None:
    server.routes["/dump/latest"] = serve_bytes(valid_sde.bz2, content_type="application/x-bzip2")
    run("--url", server.url("/dump/latest"))
    assert install.validate(sde_path) == valid_sde.counts


def test_concatenated_bz2_streams_install(
    sde_path: Path, valid_sde: ValidSde, server: LocalServer, tmp_path: Path
) -> None:
    # What parallel compressors (pbzip2, lbzip2) produce; `bzip2 -d` reads all the streams.
    data = bz2.compress(b"") + valid_sde.bz2 + bz2.compress(b"")
    server.routes["/multi.sqlite.bz2"] = serve_bytes(data)
    run("--url", server.url("/multi.sqlite.bz2"))
    assert install.validate(sde_path) == valid_sde.counts
    source = tmp_path / "multi.sqlite.bz2"
    source.write_bytes(data)
    run("--file", str(source))
    assert install.validate(sde_path) == valid_sde.counts


def test_wal_mode_file_installs_in_rollback_mode(
    sde_path: Path, valid_sde: ValidSde, variant: Callable[[str], Path]
) -> None:
    source = variant("wal")
    assert source.read_bytes()[18:20] == b"\x02\x02"  # the header says WAL
    run("--file", str(source))
    assert install.validate(sde_path) == valid_sde.counts
    # Read-only readers of a rollback-journal file need no -wal/-shm beside it.
    assert sde_path.read_bytes()[18:20] == b"\x01\x01"
    assert sorted(p.name for p in sde_path.parent.iterdir()) == ["sde.sqlite"]


# --- Packaged volumes filled in on every path ----------------------------------------------

DRAGOON_NAVY_ISSUE = 91775
FILLED = 12  # the bundled SDE's published ships with no invVolumes row (issue 11)


def filled_sources(path: Path) -> dict[int, tuple[int, float, str]]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            'SELECT s."typeID", s."groupID", v."volume", s."source" '
            'FROM "evePackagedVolumeSource" s JOIN "invVolumes" v USING ("typeID")'
        ).fetchall()
    return {type_id: (group_id, volume, source) for type_id, group_id, volume, source in rows}


def test_bundled_build_fills_and_records_the_packaged_volumes(valid_sde: ValidSde) -> None:
    filled = filled_sources(valid_sde.path)
    assert len(filled) == FILLED
    # The Destroyer group's rows say 5,000 m³; the Command Carrier group has none, so the
    # game's per-group table gives 1,300,000 m³.
    assert filled[DRAGOON_NAVY_ISSUE] == (420, 5000, packaged_volumes.FROM_GROUP)
    assert filled[92822] == (5120, 1_300_000, packaged_volumes.FROM_GROUP_TABLE)  # Salvation


@pytest.mark.parametrize("how", ["file", "url"])
def test_a_dump_without_the_rows_gets_them_filled_on_install(
    how: str,
    sde_path: Path,
    valid_sde: ValidSde,
    variant: Callable[[str], Path],
    server: LocalServer,
) -> None:
    source = variant("no_filled_volumes")
    with closing(sqlite3.connect(source)) as conn:
        (rows,) = conn.execute('SELECT COUNT(*) FROM "invVolumes"').fetchone()
    assert rows == valid_sde.counts["invVolumes"] - FILLED
    if how == "file":
        run("--file", str(source))
    else:
        server.routes["/fuzzwork.sqlite"] = serve_file(source)
        run("--url", server.url("/fuzzwork.sqlite"))
    assert filled_sources(sde_path) == filled_sources(valid_sde.path)
    info = install.read_info(sde_path)
    assert info is not None and info.row_counts == valid_sde.counts  # counted after the fill


def test_packaged_volume_failure_is_one_line_and_changes_nothing(
    current_sde: Snapshot, variant: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(path: Path) -> dict[int, tuple[float, str]]:
        raise OSError(f"cannot read {path.name}")

    monkeypatch.setattr(packaged_volumes, "read_group_table", unreadable)
    source = variant("no_filled_volumes")
    assert_fails(["--file", str(source)], "packaged volumes could not be filled", current_sde)


def test_if_missing_does_nothing_when_installed(current_sde: Snapshot, server: LocalServer) -> None:
    before = len(server.requests)
    out = run("--if-missing", "--url", server.url("/sqlite-latest.sqlite.bz2"))
    assert "already installed" in out and "nothing to do" in out
    assert len(server.requests) == before  # not even downloaded
    current_sde.assert_untouched()


def test_if_missing_installs_when_missing(
    sde_path: Path, valid_sde: ValidSde, tmp_path: Path
) -> None:
    source = tmp_path / "x.sqlite"
    source.write_bytes(valid_sde.raw)
    out = run("--if-missing", "--file", str(source))
    assert "Installed SDE" in out
    assert install.validate(sde_path) == valid_sde.counts


def test_install_over_existing_swaps_atomically(
    current_sde: Snapshot, valid_sde: ValidSde, tmp_path: Path
) -> None:
    source = tmp_path / "new.sqlite"
    source.write_bytes(valid_sde.raw)
    old = sqlite3.connect(f"file:{current_sde.path}?mode=ro", uri=True)
    try:
        stamp = "SELECT value FROM sde_install_info WHERE key = 'source'"
        assert old.execute(stamp).fetchone() == ("test-fixture",)
        run("--file", str(source))
        # A new file was renamed over the old one ...
        assert current_sde.path.stat().st_ino != current_sde.inode
        assert install.read_info(current_sde.path).source == f"file {source}"  # type: ignore[union-attr]
        # ... so a connection opened before the swap still reads the old file, whole.
        assert old.execute(stamp).fetchone() == ("test-fixture",)
        count = old.execute('SELECT COUNT(*) FROM "invTypes"').fetchone()[0]
        assert count == valid_sde.counts["invTypes"]
    finally:
        old.close()
    assert leftovers(current_sde.path.parent) == []


def test_installed_file_is_world_readable_or_keeps_its_mode(
    sde_path: Path, valid_sde: ValidSde, tmp_path: Path
) -> None:
    source = tmp_path / "x.sqlite"
    source.write_bytes(valid_sde.raw)
    run("--file", str(source))
    assert stat.S_IMODE(sde_path.stat().st_mode) == 0o644  # not mkstemp's 0600
    sde_path.chmod(0o640)
    run("--file", str(source))
    assert stat.S_IMODE(sde_path.stat().st_mode) == 0o640


def test_progress_bar_on_stderr_unless_quiet(
    sde_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = server.url("/sqlite-latest.sqlite.bz2")
    run("--url", url)
    assert "Downloading" in capsys.readouterr().err
    run("--url", url, verbosity=0)
    assert capsys.readouterr().err == ""


# --- Failures: the download ----------------------------------------------------------------


URL_FAILURES = [
    ("not-found", lambda sde: serve_status(404), "download failed: HTTP 404"),
    ("server-error", lambda sde: serve_status(500), "download failed: HTTP 500"),
    (
        "cut-off.sqlite.bz2",
        lambda sde: serve_cut_off(sde.bz2, len(sde.bz2) // 2),
        "download interrupted",
    ),
    (
        "cut-off.sqlite",
        lambda sde: serve_cut_off(sde.raw, 3_000_000),
        "download interrupted",
    ),
    (
        "truncated.sqlite.bz2",
        lambda sde: serve_bytes(sde.bz2[: len(sde.bz2) // 2]),
        "corrupt bzip2 data: the compressed stream ended early",
    ),
    (
        "empty.sqlite.bz2",
        lambda sde: serve_bytes(b""),
        "corrupt bzip2 data: the compressed stream ended early",
    ),
    ("garbage.sqlite.bz2", lambda sde: serve_bytes(GARBAGE), "corrupt bzip2 data"),
    (
        "trailing-garbage.sqlite.bz2",
        lambda sde: serve_bytes(sde.bz2 + GARBAGE),
        "corrupt bzip2 data",
    ),
    ("garbage.sqlite", lambda sde: serve_bytes(GARBAGE), "not an SQLite file"),
    (
        "truncated.sqlite",
        lambda sde: serve_bytes(sde.raw[: len(sde.raw) // 2]),
        "corrupt or not an SQLite file",
    ),
    (
        "html.sqlite",
        lambda sde: serve_bytes(b"<html>Service Unavailable</html>", content_type="text/html"),
        "not an SQLite file",
    ),
]


@pytest.mark.parametrize(
    ("name", "make_reply", "reason"), URL_FAILURES, ids=[case[0] for case in URL_FAILURES]
)
def test_url_failures(
    name: str,
    make_reply: Callable[[ValidSde], Any],
    reason: str,
    current_sde: Snapshot,
    valid_sde: ValidSde,
    server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sentinel = object()
    monkeypatch.setattr(search, "_cached", sentinel)
    path = f"/fail/{name}"
    server.routes[path] = make_reply(valid_sde)
    assert_fails(["--url", server.url(path)], reason, current_sde)
    assert search._cached is sentinel  # nothing changed, so nothing invalidated


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("no_stations", "not a usable SDE: table staStations is missing"),
        ("few_types", "not a usable SDE: table invTypes has 5"),
        ("no_column", "not a usable SDE: table invTypes lacks column(s) basePrice"),
        ("not_tritanium", "not a usable SDE: type 34 is not Tritanium"),
        ("quick_check_fails", "corrupt SQLite file: NULL value in junk.x"),
    ],
)
def test_url_invalid_sde(
    name: str,
    reason: str,
    current_sde: Snapshot,
    variant: Callable[[str], Path],
    server: LocalServer,
) -> None:
    path = f"/invalid/{name}.sqlite"
    server.routes[path] = serve_file(variant(name))
    message = assert_fails(["--url", server.url(path)], reason, current_sde)
    if name == "few_types":
        assert "expected at least 20000" in message


def test_no_network(current_sde: Snapshot) -> None:
    assert_fails(["--url", closed_port_url()], "download failed: cannot connect", current_sde)


def test_invalid_url(current_sde: Snapshot) -> None:
    assert_fails(["--url", "ftp://127.0.0.1/sde.sqlite.bz2"], "download failed", current_sde)


@pytest.mark.parametrize("when", ["before-headers", "mid-body"])
def test_timeout(
    when: str, current_sde: Snapshot, valid_sde: ValidSde, server: LocalServer
) -> None:
    path = f"/slow/{when}.sqlite.bz2"
    body = valid_sde.bz2[:10_000] if when == "mid-body" else None
    server.routes[path] = serve_stalled(server, after_headers=body)
    started = time.monotonic()
    assert_fails(["--url", server.url(path), "--timeout", "0.5"], "timed out", current_sde)
    assert time.monotonic() - started < 10  # the server would stall for 30 s


@pytest.mark.parametrize("timeout", ["0", "-1"])
def test_timeout_must_be_positive(timeout: str, current_sde: Snapshot, server: LocalServer) -> None:
    url = server.url("/sqlite-latest.sqlite.bz2")
    with pytest.raises(CommandError, match="--timeout"):
        run("--url", url, "--timeout", timeout)
    current_sde.assert_untouched()
    assert leftovers(current_sde.path.parent) == []


# --- Failures: a local file ----------------------------------------------------------------


def test_file_missing(current_sde: Snapshot, tmp_path: Path) -> None:
    missing = tmp_path / "nope.sqlite.bz2"
    assert_fails(["--file", str(missing)], f"no such file: {missing}", current_sde)


def test_file_is_a_directory(current_sde: Snapshot, tmp_path: Path) -> None:
    assert_fails(["--file", str(tmp_path)], "no such file", current_sde)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("garbage.sqlite.bz2", lambda sde: GARBAGE, "corrupt bzip2 data"),
        (
            "truncated.sqlite.bz2",
            lambda sde: sde.bz2[:-1000],
            "corrupt bzip2 data: the compressed stream ended early",
        ),
        ("garbage.sqlite", lambda sde: GARBAGE, "not an SQLite file"),
        ("empty.sqlite", lambda sde: b"", "not a usable SDE: table"),
    ],
)
def test_file_failures(
    name: str,
    content: Callable[[ValidSde], bytes],
    reason: str,
    current_sde: Snapshot,
    valid_sde: ValidSde,
    tmp_path: Path,
) -> None:
    source = tmp_path / name
    source.write_bytes(content(valid_sde))
    assert_fails(["--file", str(source)], reason, current_sde)


def test_file_invalid_wal_sde_leaves_no_sidecar_files(
    current_sde: Snapshot, variant: Callable[[str], Path]
) -> None:
    # Opening a WAL-mode candidate creates -wal/-shm files beside it; they go with it.
    assert_fails(
        ["--file", str(variant("wal_no_stations"))], "table staStations is missing", current_sde
    )
    assert sorted(p.name for p in current_sde.path.parent.iterdir()) == ["sde.sqlite"]


# --- Failures: the bundle ------------------------------------------------------------------


def _damage_bundle(tmp_path: Path, damage: str) -> Path:
    bundle = tmp_path / "bundle"
    shutil.copytree(install.BUNDLE_DIR, bundle, copy_function=shutil.copyfile)
    if damage == "no-build-json":
        (bundle / "BUILD.json").unlink()
    elif damage == "missing-csv":
        (bundle / "mapRegions.csv.gz").unlink()
    elif damage == "truncated-csv":
        data = (bundle / "invCategories.csv.gz").read_bytes()
        (bundle / "invCategories.csv.gz").write_bytes(data[: len(data) // 2])
    elif damage == "corrupt-csv":  # a valid gzip header, then scrambled deflate data
        data = bytearray((bundle / "invGroups.csv.gz").read_bytes())
        data[100:2000] = bytes(1900)
        (bundle / "invGroups.csv.gz").write_bytes(bytes(data))
    elif damage == "garbage-csv":
        (bundle / "invCategories.csv.gz").write_bytes(GARBAGE)
    elif damage == "empty-csv":
        (bundle / "invCategories.csv.gz").write_bytes(gzip.compress(b""))
    elif damage == "few-stations":
        with gzip.open(bundle / "staStations.csv.gz", "rt", encoding="utf-8") as fh:
            head = [next(fh) for _ in range(3)]  # the header and two stations
        with gzip.open(bundle / "staStations.csv.gz", "wt", encoding="utf-8") as fh:
            fh.writelines(head)
    return bundle


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("no-build-json", "bundled SDE is incomplete"),
        ("missing-csv", "bundled SDE could not be built"),
        ("truncated-csv", "bundled SDE could not be built"),
        ("corrupt-csv", "bundled SDE could not be built"),
        ("garbage-csv", "bundled SDE could not be built"),
        ("empty-csv", "bundled SDE could not be built"),
        ("few-stations", "not a usable SDE: table staStations has 2 rows"),
    ],
)
def test_bundled_failures(
    damage: str,
    reason: str,
    current_sde: Snapshot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundle = _damage_bundle(tmp_path, damage)
    monkeypatch.setattr(
        install, "build_from_bundle", partial(install.build_from_bundle, bundle_dir=bundle)
    )
    assert_fails(["--bundled"], reason, current_sde)


# --- Failures: the target ------------------------------------------------------------------


def test_target_directory_unusable(settings: Any, tmp_path: Path, valid_sde: ValidSde) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the SDE directory should be")
    settings.SDE_PATH = blocker / "sde.sqlite"
    source = tmp_path / "x.sqlite"
    source.write_bytes(valid_sde.raw)
    with pytest.raises(CommandError) as excinfo:
        run("--file", str(source))
    message = str(excinfo.value)
    assert "\n" not in message and message.startswith("SDE not installed: "), message
    assert "not-a-directory" in message
    assert blocker.read_text() == "a file where the SDE directory should be"


def test_target_is_a_directory(settings: Any, tmp_path: Path, valid_sde: ValidSde) -> None:
    target = tmp_path / "sde.sqlite"
    target.mkdir()
    (target / "keep").write_text("keep me")
    settings.SDE_PATH = target
    source = tmp_path / "x.sqlite"
    source.write_bytes(valid_sde.raw)
    with pytest.raises(CommandError) as excinfo:
        run("--file", str(source))
    message = str(excinfo.value)
    assert "\n" not in message and message.startswith("SDE not installed: "), message
    assert "directory" in message.lower()
    assert (target / "keep").read_text() == "keep me"
    assert leftovers(tmp_path) == []


# --- As a real command line ----------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str  # as written: \r kept (text mode would turn it into \n)


def _manage(sde_path: Path, *args: str) -> Result:
    python = settings.BASE_DIR / ".venv" / "bin" / "python"
    done = subprocess.run(
        [str(python if python.exists() else sys.executable), "manage.py", "sde_install", *args],
        cwd=settings.BASE_DIR,
        env={**os.environ, "SDE_PATH": str(sde_path)},
        capture_output=True,
        timeout=120,
    )
    return Result(done.returncode, done.stdout.decode(), done.stderr.decode())


def _visible_lines(stream: str) -> list[str]:
    """The lines a terminal shows: a progress bar redraws its line with \\r."""
    return [line.rsplit("\r", 1)[-1] for line in stream.split("\n") if line.rsplit("\r", 1)[-1]]


def test_cli_failure_exits_non_zero_with_one_line(current_sde: Snapshot) -> None:
    result = _manage(current_sde.path, "--url", closed_port_url(), "--timeout", "5")
    assert result.returncode != 0
    lines = _visible_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("CommandError: SDE not installed: download failed: cannot connect")
    assert "Traceback" not in result.stderr
    current_sde.assert_untouched()
    assert leftovers(current_sde.path.parent) == []


def test_cli_download_shows_progress_and_installs(
    sde_path: Path, valid_sde: ValidSde, server: LocalServer
) -> None:
    url = server.url("/sqlite-latest.sqlite.bz2")
    result = _manage(sde_path, "--url", url)
    assert result.returncode == 0, result.stderr
    assert "Downloading" in result.stderr  # the tqdm bar
    assert "Installed SDE" in result.stdout
    build = f"sqlite-latest.sqlite.bz2 (Last-Modified {LAST_MODIFIED})"
    assert_installed(sde_path, valid_sde, source=url, build=build)


# --- Size limit and published checksums ----------------------------------------------------

# 64 MiB of zeros: bzip2 writes it in about 50 bytes, as a decompression bomb would.
BOMB = bz2.compress(b"\0" * (64 << 20), 9)


def test_the_default_size_limit_is_far_above_a_real_sde(valid_sde: ValidSde) -> None:
    # Fuzzwork's whole dump is about 0.5 GB once decompressed; the bundled one ~25 MB.
    assert install.DEFAULT_MAX_BYTES >= 2 * 1024**3
    assert 50 * len(valid_sde.raw) < install.DEFAULT_MAX_BYTES


def test_a_download_past_the_size_setting_is_refused(
    current_sde: Snapshot, valid_sde: ValidSde, server: LocalServer, settings: Any
) -> None:
    # The valid SDE itself, with the limit set just under its decompressed size.
    settings.SDE_MAX_BYTES = len(valid_sde.raw) - 1
    message = assert_fails(
        ["--url", server.url("/sqlite-latest.sqlite.bz2")],
        f"larger than SDE_MAX_BYTES ({len(valid_sde.raw) - 1} bytes)",
        current_sde,
    )
    assert "it decompresses to more" in message


def test_a_decompression_bomb_is_refused_at_the_limit(
    current_sde: Snapshot, server: LocalServer, tmp_path: Path
) -> None:
    assert len(BOMB) < 1000
    server.routes["/bomb.sqlite.bz2"] = serve_bytes(BOMB)
    assert_fails(
        ["--url", server.url("/bomb.sqlite.bz2"), "--max-bytes", str(8 << 20)],
        f"larger than SDE_MAX_BYTES ({8 << 20} bytes): it decompresses to more",
        current_sde,
    )
    bomb = tmp_path / "bomb.sqlite.bz2"
    bomb.write_bytes(BOMB)
    assert_fails(
        ["--file", str(bomb), "--max-bytes", str(8 << 20)], "larger than SDE_MAX_BYTES", current_sde
    )


def test_a_download_announcing_more_than_the_limit_is_refused_before_reading(
    current_sde: Snapshot, valid_sde: ValidSde, server: LocalServer
) -> None:
    assert_fails(
        ["--url", server.url("/sqlite-latest.sqlite"), "--max-bytes", "1000"],
        f"announces {len(valid_sde.raw)} bytes",
        current_sde,
    )


def test_the_size_limit_must_be_positive(current_sde: Snapshot, server: LocalServer) -> None:
    with pytest.raises(CommandError, match="--max-bytes must be a positive number"):
        run("--url", server.url("/sqlite-latest.sqlite.bz2"), "--max-bytes", "0")
    current_sde.assert_untouched()


def publish(server: LocalServer, name: str, data: bytes, sums: dict[str, bytes]) -> str:
    """Serve `data` at /sums/<name> and each digest file at /sums/<name>.<algorithm>."""
    path = f"/sums/{name}"
    server.routes[path] = serve_bytes(data, content_type="application/x-bzip2")
    for algorithm, body in sums.items():
        server.routes[f"{path}.{algorithm}"] = serve_bytes(body, content_type="text/plain")
    return server.url(path)


@pytest.mark.parametrize(
    ("name", "sums", "checked"),
    [
        # As Fuzzwork publishes it: "<md5>  <file name>".
        (
            "md5.sqlite.bz2",
            lambda sde: {"md5": b"%s  sqlite-latest.sqlite.bz2\n" % md5(sde)},
            "md5",
        ),
        ("sha.sqlite.bz2", lambda sde: {"sha256": sha(sde).upper() + b"\n"}, "sha256"),
        # Both published: the stronger one is checked.
        ("both.sqlite.bz2", lambda sde: {"sha256": sha(sde), "md5": b"0" * 32}, "sha256"),
    ],
)
def test_a_download_matching_its_published_checksum_installs(
    name: str,
    sums: Callable[[ValidSde], dict[str, bytes]],
    checked: str,
    sde_path: Path,
    valid_sde: ValidSde,
    server: LocalServer,
) -> None:
    url = publish(server, name, valid_sde.bz2, sums(valid_sde))
    out = run("--url", url)
    assert f"The download matches the {checked} published at {url}.{checked}." in out
    info = install.read_info(sde_path)
    assert info is not None and info.build.startswith(f"{name} (Last-Modified ")
    assert_installed(sde_path, valid_sde, source=url, build=info.build)


def test_a_download_without_a_published_checksum_says_so(
    sde_path: Path, valid_sde: ValidSde, server: LocalServer
) -> None:
    out = run("--url", server.url("/sqlite-latest.sqlite.bz2"))
    assert "The source publishes no checksum (.sha256 or .md5)" in out
    assert "Installed SDE" in out


def md5(sde: ValidSde) -> bytes:
    return hashlib.md5(sde.bz2).hexdigest().encode()


def sha(sde: ValidSde) -> bytes:
    return hashlib.sha256(sde.bz2).hexdigest().encode()


@pytest.mark.parametrize(
    ("name", "sums", "reason"),
    [
        # The digest of the raw file, not of the .bz2 served: the download is not that file.
        (
            "wrong.sqlite.bz2",
            lambda sde: {"md5": hashlib.md5(sde.raw).hexdigest().encode()},
            "checksum mismatch: the download's md5 is ",
        ),
        ("garbled.sqlite.bz2", lambda sde: {"sha256": b"not a digest"}, "is not a sha256 digest"),
        ("empty.sqlite.bz2", lambda sde: {"md5": b""}, "is not a md5 digest"),
    ],
)
def test_a_download_not_matching_its_published_checksum_is_refused(
    name: str,
    sums: Callable[[ValidSde], dict[str, bytes]],
    reason: str,
    current_sde: Snapshot,
    valid_sde: ValidSde,
    server: LocalServer,
) -> None:
    url = publish(server, name, valid_sde.bz2, sums(valid_sde))
    assert_fails(["--url", url], reason, current_sde)


def test_a_checksum_that_cannot_be_read_refuses_the_install(
    current_sde: Snapshot, valid_sde: ValidSde, server: LocalServer
) -> None:
    url = publish(server, "down.sqlite.bz2", valid_sde.bz2, {})
    server.routes["/sums/down.sqlite.bz2.sha256"] = serve_status(503)
    assert_fails(
        ["--url", url],
        f"the published checksum could not be read: HTTP 503 from {url}.sha256",
        current_sde,
    )
