"""Installing the SDE: get a candidate SQLite file, validate it, then swap it in atomically.

Three sources feed the same pipeline: a download (Fuzzwork's `sqlite-latest.sqlite.bz2` by
default), a local `.sqlite` or `.sqlite.bz2` file, and the compact copy bundled in
`sde/bundled/`. The candidate is written next to the target, validated (required tables and
columns, sane row counts, a known item, SQLite's own quick check), stamped with what was
installed, and only then renamed over the current SDE. Any failure raises `SdeInstallError`
with a one-line reason and leaves the current SDE untouched.

Every path also gives the published ships that have no `invVolumes` row their group's
packaged volume, recording where it came from (`sde/packaged_volumes.py`).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import json
import os
import sqlite3
import stat
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3
from django.apps import apps

from sde import packaged_volumes

BUNDLE_DIR = Path(__file__).resolve().parent / "bundled"
INFO_TABLE = "sde_install_info"
CHUNK = 1 << 20

# Fewer rows than this means a truncated or wrong file (a real SDE has several times more).
MIN_ROWS = {
    "invTypes": 20_000,
    "invGroups": 1_000,
    "invCategories": 30,
    "invMarketGroups": 1_500,
    "invMetaGroups": 5,
    "invMetaTypes": 5_000,
    "invVolumes": 100,
    "mapRegions": 60,
    "mapConstellations": 500,
    "mapSolarSystems": 5_000,
    "mapSolarSystemJumps": 5_000,
    "staStations": 3_000,
    "crpNPCCorporations": 200,
    "chrFactions": 10,
    "industryActivity": 5_000,
    "industryActivityMaterials": 10_000,
    "industryActivityProducts": 3_000,
    "industryBlueprints": 3_000,
}

# The largest SDE a download or a local file may decompress to (SDE_MAX_BYTES): Fuzzwork's
# whole dump is about 0.5 GB, so 4 GiB is far above any real one and still stops a .bz2 that
# would fill the disk (a few kilobytes of bzip2 can spell gigabytes of zeros).
DEFAULT_MAX_BYTES = 4 * 1024**3
# Digests a download source may publish next to the file ("<url>.sha256", "<url>.md5", as
# Fuzzwork does): the first one found is checked; "<hex digest>  <file name>" or the digest.
CHECKSUMS = (("sha256", 64), ("md5", 32))
CHECKSUM_MAX_BYTES = 4096

# Progress callback: (bytes done, bytes total or None).
Progress = Callable[[int, int | None], None]


class SdeInstallError(Exception):
    """Installing failed; the message is the one-line reason shown to the user."""


@dataclass(frozen=True)
class InstallInfo:
    source: str
    build: str
    sha256: str
    installed_at: str
    row_counts: dict[str, int]


def required_columns() -> dict[str, set[str]]:
    """Every SDE table and column the models read, taken from the models themselves."""
    tables: dict[str, set[str]] = {}
    for model in apps.get_app_config("sde").get_models():
        columns = {f.column for f in model._meta.concrete_fields if f.column}
        tables.setdefault(model._meta.db_table, set()).update(columns)
    return tables


def validate(path: Path) -> dict[str, int]:
    """Check a candidate SDE file; return its row counts per required table."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise SdeInstallError(f"cannot open {path.name} as SQLite: {exc}") from exc
    try:
        present = {
            row[0]: row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table','view')")
        }
        counts: dict[str, int] = {}
        for table, columns in sorted(required_columns().items()):
            if table not in present:
                raise SdeInstallError(f"not a usable SDE: table {table} is missing")
            have = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
            missing = sorted(columns - have)
            if missing:
                raise SdeInstallError(
                    f"not a usable SDE: table {table} lacks column(s) {', '.join(missing)}"
                )
            (count,) = conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()
            if count < MIN_ROWS.get(table, 1):
                raise SdeInstallError(
                    f"not a usable SDE: table {table} has {count} rows, "
                    f"expected at least {MIN_ROWS.get(table, 1)}"
                )
            counts[table] = count
        row = conn.execute('SELECT "typeName" FROM "invTypes" WHERE "typeID" = 34').fetchone()
        if not row or row[0] != "Tritanium":
            raise SdeInstallError("not a usable SDE: type 34 is not Tritanium")
        (check,) = conn.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise SdeInstallError(f"corrupt SQLite file: {check}")
        return counts
    except sqlite3.DatabaseError as exc:
        raise SdeInstallError(f"corrupt or not an SQLite file: {exc}") from exc
    finally:
        conn.close()


def read_info(path: Path) -> InstallInfo | None:
    """What `install` stamped into an installed SDE, or None (no SDE, or not stamped)."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = dict(conn.execute(f"SELECT key, value FROM {INFO_TABLE}").fetchall())
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return InstallInfo(
        source=rows.get("source", "unknown"),
        build=rows.get("build", "unknown"),
        sha256=rows.get("sha256", ""),
        installed_at=rows.get("installed_at", ""),
        row_counts=json.loads(rows.get("row_counts", "{}")),
    )


def install(candidate: Path, target: Path, *, source: str, build: str) -> InstallInfo:
    """Validate `candidate`, stamp it, and atomically replace `target` with it.

    `candidate` must be on the same file system as `target` (see `candidate_file`).
    """
    counts = validate(candidate)
    counts["invVolumes"] += fill_packaged_volumes(candidate)
    info = InstallInfo(
        source=source,
        build=build,
        sha256=_sha256(candidate),
        installed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        row_counts=counts,
    )
    conn = sqlite3.connect(candidate)
    try:
        # Rollback-journal mode, so read-only readers need no -wal/-shm files beside the SDE.
        conn.execute("PRAGMA journal_mode = DELETE")
        with conn:
            conn.execute(f"DROP TABLE IF EXISTS {INFO_TABLE}")
            conn.execute(f"CREATE TABLE {INFO_TABLE} (key TEXT PRIMARY KEY, value TEXT)")
            conn.executemany(
                f"INSERT INTO {INFO_TABLE} VALUES (?, ?)",
                [
                    ("source", info.source),
                    ("build", info.build),
                    ("sha256", info.sha256),
                    ("installed_at", info.installed_at),
                    ("row_counts", json.dumps(info.row_counts)),
                ],
            )
    finally:
        conn.close()
    # mkstemp made the candidate 0600: keep the current SDE's mode, or use the usual 0644.
    os.chmod(candidate, stat.S_IMODE(target.stat().st_mode) if target.is_file() else 0o644)
    with open(candidate, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(candidate, target)
    return info


@contextmanager
def candidate_file(target: Path) -> Iterator[Path]:
    """A temporary path beside `target` (so the final rename is atomic), removed on failure."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".sde-install-", suffix=".sqlite", dir=target.parent)
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        # SQLite may have left a journal, or -wal/-shm files for a WAL-mode candidate.
        for suffix in ("", ".download", "-journal", "-wal", "-shm"):
            leftover = Path(f"{path}{suffix}")
            with suppress(FileNotFoundError):
                leftover.unlink()


def build_from_bundle(dest: Path, bundle_dir: Path = BUNDLE_DIR) -> str:
    """Build an SDE SQLite file from the bundled CSVs; return the bundle's build label."""
    try:
        meta = json.loads((bundle_dir / "BUILD.json").read_text())
        schema = (bundle_dir / "schema.sql").read_text()
        build, tables = str(meta["build"]), list(meta["tables"])
    except (OSError, ValueError, LookupError, TypeError) as exc:
        raise SdeInstallError(f"bundled SDE is incomplete: {exc}") from exc
    dest.unlink(missing_ok=True)
    conn = sqlite3.connect(dest)
    try:
        conn.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        conn.executescript(schema)
        for table in tables:
            _load_csv(conn, table, bundle_dir / f"{table}.csv.gz")
        packaged_volumes.fill(conn)
        conn.commit()
    except (
        OSError,
        EOFError,
        zlib.error,
        ValueError,
        LookupError,
        csv.Error,
        sqlite3.Error,
    ) as exc:
        raise SdeInstallError(f"bundled SDE could not be built: {exc}") from exc
    finally:
        conn.close()
    return build


def fill_packaged_volumes(path: Path) -> int:
    """Give a validated SDE file's published ships without an `invVolumes` row their group's
    packaged volume (see `sde/packaged_volumes.py`); return how many rows were added."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            filled = packaged_volumes.fill(conn)
    except (OSError, ValueError, LookupError, csv.Error, sqlite3.Error) as exc:
        raise SdeInstallError(f"packaged volumes could not be filled: {exc}") from exc
    finally:
        conn.close()
    return len(filled)


def _load_csv(conn: sqlite3.Connection, table: str, path: Path) -> None:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise csv.Error(f"{path.name} is empty")
        columns = ", ".join(f'"{c}"' for c in header)
        marks = ", ".join("?" * len(header))
        rows = ([value if value != "" else None for value in row] for row in reader)
        conn.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', rows)


def copy_local(
    source: Path,
    dest: Path,
    progress: Progress | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> str:
    """Copy (and bunzip2 when needed) a local SDE file of at most `max_bytes` once
    decompressed; return a build label for it."""
    if not source.is_file():
        raise SdeInstallError(f"no such file: {source}")
    with open(source, "rb") as raw:
        _write_decompressed(
            _iter_file(raw),
            dest,
            compressed=_is_bz2(source),
            progress=progress,
            total=source.stat().st_size,
            max_bytes=max_bytes,
        )
    modified = datetime.fromtimestamp(source.stat().st_mtime, UTC).date().isoformat()
    return f"{source.name} ({modified})"


def download(
    url: str,
    dest: Path,
    *,
    timeout: float = 30.0,
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    report: Callable[[str], None] | None = None,
) -> str:
    """Stream `url` into `dest`, decompressing .bz2, refusing more than `max_bytes` once
    decompressed and checking the digest the source publishes next to it (`CHECKSUMS`), if
    any; return a build label for it. `report` is told which digest was checked."""
    digests = [hashlib.new(algorithm) for algorithm, _ in CHECKSUMS]
    try:
        response = requests.get(url, stream=True, timeout=timeout)
    except requests.RequestException as exc:
        raise SdeInstallError(f"download failed: {_reason(exc)}") from exc
    with response:
        if response.status_code != 200:
            raise SdeInstallError(f"download failed: HTTP {response.status_code} from {url}")
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > max_bytes:
            raise SdeInstallError(_too_large(max_bytes, f"{url} announces {total} bytes"))
        compressed = _is_bz2(Path(url.split("?")[0])) or response.headers.get(
            "Content-Type", ""
        ).endswith("bzip2")
        try:
            received = _write_decompressed(
                response.iter_content(CHUNK),
                dest,
                compressed=compressed,
                progress=progress,
                total=total,
                max_bytes=max_bytes,
                digests=digests,
            )
        except requests.RequestException as exc:
            raise SdeInstallError(f"download interrupted: {_reason(exc)}") from exc
        # Content-Length counts the encoded bytes; requests decodes gzip/deflate transparently.
        encoded = response.headers.get("Content-Encoding", "identity") != "identity"
        if total is not None and not encoded and received != total:
            raise SdeInstallError(f"download interrupted: got {received} of {total} bytes")
        label = response.headers.get("Last-Modified") or datetime.now(UTC).strftime("%a, %d %b %Y")
    # Asked for once the download worked: a source that cannot be reached fails as a download.
    published = published_checksum(url, timeout=timeout)
    if published:
        algorithm, expected, where = published
        actual = next(d.hexdigest() for d in digests if d.name == algorithm)
        if actual != expected:
            raise SdeInstallError(
                f"checksum mismatch: the download's {algorithm} is {actual}, "
                f"{where} publishes {expected}"
            )
        if report:
            report(f"The download matches the {algorithm} published at {where}.")
    elif report:
        report("The source publishes no checksum (.sha256 or .md5) to check the download with.")
    return f"{Path(url.split('?')[0]).name} (Last-Modified {label})"


def checksum_url(url: str, algorithm: str) -> str:
    """Where a digest of `url` would be published: "<path>.<algorithm>", same query."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path}.{algorithm}"))


def published_checksum(url: str, *, timeout: float) -> tuple[str, str, str] | None:
    """(algorithm, hex digest, its URL) of the first digest the source publishes next to
    `url`, or None when it publishes none (a 4xx for each). A digest that cannot be read
    (5xx, no connection, not a digest) refuses the install: it was meant to be checked."""
    for algorithm, length in CHECKSUMS:
        where = checksum_url(url, algorithm)
        try:
            with requests.get(where, stream=True, timeout=timeout) as response:
                if 400 <= response.status_code < 500:
                    continue
                if response.status_code != 200:
                    raise SdeInstallError(
                        f"the published checksum could not be read: HTTP "
                        f"{response.status_code} from {where}"
                    )
                body = next(response.iter_content(CHECKSUM_MAX_BYTES), b"")
        except requests.RequestException as exc:
            raise SdeInstallError(
                f"the published checksum could not be read: {_reason(exc)} ({where})"
            ) from exc
        words = body.decode("ascii", errors="replace").split()
        digest = words[0].lower() if words else ""
        if len(digest) != length or any(c not in "0123456789abcdef" for c in digest):
            raise SdeInstallError(f"{where} is not a {algorithm} digest")
        return algorithm, digest, where
    return None


def _too_large(max_bytes: int, what: str) -> str:
    return (
        f"the SDE would be larger than SDE_MAX_BYTES ({max_bytes} bytes): {what}; "
        "raise SDE_MAX_BYTES (or --max-bytes) if this source is right"
    )


def _write_decompressed(
    chunks: Iterator[bytes],
    dest: Path,
    *,
    compressed: bool,
    progress: Progress | None,
    total: int | None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    digests: Sequence[Any] = (),
) -> int:
    """Write chunks to `dest`, bunzip2-ing on the fly (at most CHUNK bytes in memory at a
    time), refusing to write more than `max_bytes`; feed the chunks as they came to each of
    `digests` (hashlib objects); return how many input bytes came in."""
    bunzip2 = _Bunzip2() if compressed else None
    received = written = 0
    with open(dest, "wb") as out:
        for chunk in chunks:
            received += len(chunk)
            for digest in digests:
                digest.update(chunk)
            for data in bunzip2.feed(chunk) if bunzip2 else (chunk,):
                written += len(data)
                if written > max_bytes:
                    raise SdeInstallError(_too_large(max_bytes, "it decompresses to more"))
                out.write(data)
            if progress:
                progress(received, total)
    if bunzip2 and not bunzip2.finished:
        raise SdeInstallError("corrupt bzip2 data: the compressed stream ended early")
    return received


class _Bunzip2:
    """bunzip2 fed chunk by chunk, giving back at most CHUNK bytes at a time (a small chunk
    of bzip2 may spell gigabytes); a new decompressor starts at each stream boundary, since a
    .bz2 file may hold several concatenated streams (as parallel compressors write, and
    bzip2 -d reads)."""

    def __init__(self) -> None:
        self.decompressor = bz2.BZ2Decompressor()

    @property
    def finished(self) -> bool:
        return self.decompressor.eof

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            while True:
                if self.decompressor.eof:
                    if not data:
                        return
                    self.decompressor = bz2.BZ2Decompressor()
                elif not data and self.decompressor.needs_input:
                    return
                out = self.decompressor.decompress(data, CHUNK)
                data = self.decompressor.unused_data if self.decompressor.eof else b""
                if out:
                    yield out
        except OSError as exc:
            raise SdeInstallError(f"corrupt bzip2 data: {exc}") from exc


def _iter_file(fh: BinaryIO) -> Iterator[bytes]:
    while chunk := fh.read(CHUNK):
        yield chunk


def _is_bz2(path: Path) -> bool:
    return path.suffix == ".bz2"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _reason(exc: requests.RequestException) -> str:
    # A read timeout in the body comes as a ConnectionError wrapping urllib3's timeout.
    if isinstance(exc, requests.Timeout) or any(
        isinstance(arg, urllib3.exceptions.TimeoutError) for arg in exc.args
    ):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "cannot connect (no network, or the host is down)"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection closed mid-transfer"
    return str(exc) or type(exc).__name__
