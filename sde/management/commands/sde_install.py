"""`manage.py sde_install`: install or update the SDE from a URL, a local file or the bundle.

Exits 0 and reports the installed build on success; on any failure exits non-zero with a
one-line reason, and the SDE in place (if any) is left exactly as it was. A download or file
that decompresses past `SDE_MAX_BYTES` (or `--max-bytes`; default 4 GiB, far above the real
SDE) is refused, and so is a download whose published digest (`<url>.sha256` or `<url>.md5`,
as Fuzzwork publishes) does not match.
"""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from sde import install
from sde.search import invalidate_index


class Command(BaseCommand):
    help = "Install or update the SDE (default: download Fuzzwork's current SQLite dump)."

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--url", help=f"download from URL (default {settings.SDE_DEFAULT_URL})")
        source.add_argument("--file", type=Path, help="install a local .sqlite or .sqlite.bz2")
        source.add_argument(
            "--bundled", action="store_true", help="build from the compact copy in sde/bundled/"
        )
        parser.add_argument(
            "--if-missing", action="store_true", help="do nothing when an SDE is already installed"
        )
        parser.add_argument("--timeout", type=float, default=30.0, help="network timeout, seconds")
        parser.add_argument(
            "--max-bytes",
            type=int,
            default=None,
            help="refuse an SDE larger than this once decompressed (default SDE_MAX_BYTES, "
            f"{install.DEFAULT_MAX_BYTES} bytes unless set)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["timeout"] > 0:  # urllib3 would raise ValueError (and NaN is not > 0)
            raise CommandError(f"--timeout must be a positive number, not {options['timeout']}")
        max_bytes = options["max_bytes"]
        if max_bytes is None:
            max_bytes = int(getattr(settings, "SDE_MAX_BYTES", install.DEFAULT_MAX_BYTES))
        if max_bytes <= 0:
            raise CommandError(f"--max-bytes must be a positive number, not {max_bytes}")
        options["max_bytes"] = max_bytes
        target = Path(settings.SDE_PATH)
        self._quiet = options["verbosity"] == 0
        if options["if_missing"] and install.read_info(target):
            self.stdout.write(f"SDE already installed at {target}; nothing to do.")
            return
        try:
            with install.candidate_file(target) as candidate:
                source, build = self._fetch(candidate, options)
                self.stdout.write("Validating...")
                info = install.install(candidate, target, source=source, build=build)
        except (install.SdeInstallError, OSError) as exc:  # OSError: SDE dir unwritable, full...
            raise CommandError(f"SDE not installed: {exc}. The current SDE is unchanged.") from exc
        invalidate_index()
        self.stdout.write(
            self.style.SUCCESS(
                f"Installed SDE {info.build} from {info.source} at {target} "
                f"({info.row_counts['invTypes']} types, "
                f"{info.row_counts['mapSolarSystems']} systems, "
                f"{info.row_counts['staStations']} stations)."
            )
        )

    def _fetch(self, candidate: Path, options: dict[str, Any]) -> tuple[str, str]:
        if options["bundled"]:
            self.stdout.write("Building the SDE from the bundled copy...")
            return "bundled", install.build_from_bundle(candidate)
        if options["file"]:
            path: Path = options["file"]
            self.stdout.write(f"Reading {path}...")
            with self._progress(f"Reading {path.name}") as progress:
                build = install.copy_local(
                    path, candidate, progress=progress, max_bytes=options["max_bytes"]
                )
            return f"file {path}", build
        url = options["url"] or settings.SDE_DEFAULT_URL
        self.stdout.write(f"Downloading {url}...")
        with self._progress("Downloading") as progress:
            build = install.download(
                url,
                candidate,
                timeout=options["timeout"],
                progress=progress,
                max_bytes=options["max_bytes"],
                report=self.stdout.write,
            )
        return url, build

    def _progress(self, label: str) -> "_Bar":
        return _Bar(label, disable=self._quiet)


class _Bar:
    """A tqdm progress bar on stderr, fed with (bytes done, bytes total)."""

    def __init__(self, label: str, *, disable: bool) -> None:
        self.bar = tqdm(desc=label, unit="B", unit_scale=True, disable=disable, leave=False)

    def __enter__(self) -> "install.Progress":
        return self.update

    def __exit__(self, *exc: object) -> None:
        self.bar.close()

    def update(self, done: int, total: int | None) -> None:
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)
