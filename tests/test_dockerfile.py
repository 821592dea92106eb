"""The Dockerfile stays in step with the project, read rather than built (tests/test_image.py builds and runs it).

The commands it runs are the README's first command (venv + pinned requirements, asset fetch, database build,
`streamlit run`), taken from README.md here rather than copied into this test; paths come from analysis.config.
`dockerfile_problems` lists every inconsistency; the real files must have none, and each mutation below must be
caught with the expected message (so the checks can fail).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import pytest

from analysis import config
from analysis.store import schema

ROOT = config.ROOT
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
#: Python of the Debian release a Node image is built on (the fetch stage runs the CLI with Debian's python3).
DEBIAN_PYTHON = {"bookworm": "3.11"}
#: Streamlit's own default port, used unless .streamlit/config.toml sets server.port.
STREAMLIT_DEFAULT_PORT = 8501
#: The public demo's requirements: requirements.txt's pins without the packages of GPU_ONLY.
DEMO_REQUIREMENTS = "requirements-demo.txt"
GPU_ONLY = {"torch", "transformers", "ray"}


@dataclass
class Stage:
    base: str  # the image, with a build argument replaced by its default
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)  # (KEYWORD, arguments)
    base_arg: str | None = None  # the build argument that names the base image (``FROM ${PYTHON_IMAGE}``)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def index(self, keyword: str, predicate=lambda args: True) -> int:
        """Position of the first ``keyword`` instruction whose arguments satisfy ``predicate``, else -1."""
        return next((i for i, (kw, args) in enumerate(self.instructions) if kw == keyword and predicate(args)), -1)


def parse_dockerfile(text: str) -> list[Stage]:
    """Stages with their instructions; comments dropped, backslash continuations joined; a base image named by a
    build argument declared before the first FROM is resolved to the argument's default.

    >>> [(s.base, s.name, s.instructions) for s in parse_dockerfile("FROM a AS b\\nRUN x \\\\\\n  y\\n# c\\nFROM d\\n")]
    [('a', 'b', [('RUN', 'x y')]), ('d', None, [])]
    >>> [(s.base, s.base_arg) for s in parse_dockerfile("ARG IMG=python:3.11\\nFROM ${IMG}\\n")]
    [('python:3.11', 'IMG')]
    """
    stages: list[Stage] = []
    logical, pending = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1].strip() + " "
            continue
        logical.append(pending + line.strip())
        pending = ""
    global_args: dict[str, str] = {}
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "ARG" and not stages:
            name, _, default = args.partition("=")
            global_args[name] = default
        elif keyword == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", args, flags=re.IGNORECASE)
            assert m, f"cannot read FROM {args!r}"
            arg = re.fullmatch(r"\$\{?(\w+)\}?", m.group(1))
            base = global_args.get(arg.group(1), "") if arg else m.group(1)
            stages.append(Stage(base, m.group(2), base_arg=arg.group(1) if arg else None))
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append((keyword, args))
    return stages


def readme_steps() -> dict[str, str]:
    """The README's first command, split into its steps: venv, pip, fetch, build, run."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"```\n(.+?)\n```", readme, flags=re.DOTALL).group(1).strip()
    steps = {}
    for step in command.split(" && "):
        kind = ("venv" if " -m venv " in step else "pip" if " install " in step else "fetch" if "assets fetch" in step
                else "build" if "analysis build" in step else "run" if "streamlit run" in step else None)
        assert kind and kind not in steps, f"unexpected step in the README's first command: {step!r}"
        steps[kind] = step
    assert set(steps) == {"venv", "pip", "fetch", "build", "run"}, steps
    return steps


def readme_python() -> str:
    """The Python version the README asks for on a fresh clone ("Python 3.11")."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(r"\(Python (3\.\d+)", readme).group(1)


def streamlit_config() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def streamlit_port() -> int:
    return int(streamlit_config().get("server", {}).get("port", STREAMLIT_DEFAULT_PORT))


def env_values(stage: Stage) -> dict[str, str]:
    """ENV settings of a stage (``ENV A=1 B=2`` and the old ``ENV A 1`` form)."""
    out = {}
    for args in stage.all("ENV"):
        if "=" in args.split()[0]:
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                out[key] = value
        else:
            key, _, value = args.partition(" ")
            out[key] = value.strip()
    return out


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps ``path`` (or a folder above it) out of the build context (plain patterns only)."""
    parts = PurePosixPath(path.rstrip("/")).parts
    prefixes = {"/".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return any(p.strip("/") in prefixes for p in patterns)


def copy_args(args: str) -> tuple[dict[str, str], list[str], str]:
    """(flags, sources, destination) of a COPY (shell or JSON form)."""
    words = json.loads(args) if args.startswith("[") else shlex.split(args)
    flags = {}
    while words and words[0].startswith("--"):
        key, _, value = words.pop(0)[2:].partition("=")
        flags[key] = value
    return flags, words[:-1], words[-1]


def default_locations() -> tuple[str, str]:
    """(cache relative to the checkout, database relative to the cache) when ATLAS_CACHE and ATLAS_DB are unset."""
    saved = {k: os.environ.pop(k) for k in ("ATLAS_CACHE", "ATLAS_DB") if k in os.environ}
    try:
        cache = config.cache_dir()
        return cache.relative_to(ROOT).as_posix(), schema.default_db_path().relative_to(cache).as_posix()
    finally:
        os.environ.update(saved)


def resolve(workdir: str, path: str) -> str:
    return str(PurePosixPath(workdir) / path) if not path.startswith("/") else path.rstrip("/")


def dockerfile_problems(dockerfile: str, dockerignore: str) -> list[str]:
    """Every way the Dockerfile disagrees with the project (empty when it is consistent)."""
    problems: list[str] = []
    steps = readme_steps()
    stages = parse_dockerfile(dockerfile)
    patterns = [p.strip() for p in dockerignore.splitlines() if p.strip() and not p.startswith("#")]
    if len(stages) != 2:
        return [f"expected two stages (Node fetch, Python app), found {len(stages)}"]
    fetch_stage, app = stages

    for must in (".venv", ".cache", ".git", "test-artifacts"):
        if must not in patterns:
            problems.append(f".dockerignore does not exclude {must}")

    # Python version: the README's, in the app image and in the Node image's Debian python3.
    python = readme_python()
    if not re.fullmatch(rf"python:{re.escape(python)}(-[\w.-]+)?", app.base):
        problems.append(f"app stage is {app.base}, the README asks for Python {python}")
    node = re.fullmatch(r"node:\d+-(\w+)", fetch_stage.base)
    if not node or not fetch_stage.name:
        problems.append(f"fetch stage must be a named node:<version>-<debian> image, found {fetch_stage.base}")
    elif DEBIAN_PYTHON.get(node.group(1)) != python:
        problems.append(f"{fetch_stage.base} ships Python {DEBIAN_PYTHON.get(node.group(1))}, not {python}")

    # Both base images are build arguments (local images where the official ones cannot be pulled, docs/container.md).
    for stage, arg in ((fetch_stage, "NODE_IMAGE"), (app, "PYTHON_IMAGE")):
        if stage.base_arg != arg:
            problems.append(f"stage {stage.name or stage.base} does not take its base image from the build argument {arg}")
    # Every stage that fetches with pip or npm takes the CA bundle's path as a build argument (a proxy's CA).
    for stage, needed_args in ((fetch_stage, ("PIP_CERT", "NODE_EXTRA_CA_CERTS")), (app, ("PIP_CERT",))):
        declared = {a.partition("=")[0] for a in stage.all("ARG")}
        for arg in needed_args:
            if arg not in declared:
                problems.append(f"stage {stage.name or stage.base} does not declare ARG {arg} (the CA bundle for pip/npm)")

    # Both stages: the README's venv and its pip step (pip's cache left out of the image) on the public demo's
    # requirements: the fetch stage always, the app stage by default (build argument REQUIREMENTS).
    pip = steps["pip"].replace(" install ", " install --no-cache-dir ")
    readme_file = pip.rsplit(" ", 1)[1]
    app_args = dict(a.partition("=")[::2] for a in app.all("ARG"))
    for stage, file in ((fetch_stage, DEMO_REQUIREMENTS), (app, '"${REQUIREMENTS}"')):
        runs = stage.all("RUN")
        for step in (steps["venv"], pip.replace(f" {readme_file}", f" {file}")):
            if not any(step in run for run in runs):
                problems.append(f"stage {stage.name or stage.base} does not run `{step}` (the README's requirements)")
    if app_args.get("REQUIREMENTS") != DEMO_REQUIREMENTS:
        problems.append(f"the app stage's ARG REQUIREMENTS is {app_args.get('REQUIREMENTS')!r}, not {DEMO_REQUIREMENTS} "
                        "(the public demo carries no torch, transformers or Ray)")

    # The fetch: in the Node stage, then again in the app stage on the copied cache (no network the second time).
    for stage in stages:
        if stage.index("RUN", lambda a: steps["fetch"] in a) < 0:
            problems.append(f"stage {stage.name or stage.base} does not run the README's fetch `{steps['fetch']}`")

    # The cache moves from the fetch stage's default location to the app's (analysis.config / store.schema).
    rel_cache, rel_db = default_locations()
    copies = [(i, *copy_args(args)) for i, (kw, args) in enumerate(app.instructions) if kw == "COPY"]
    from_copies = [(i, flags, srcs, dest) for i, flags, srcs, dest in copies if "from" in flags]
    fetch_workdir = (fetch_stage.all("WORKDIR") or ["/"])[-1]
    app_workdir = (app.all("WORKDIR") or ["/"])[-1]
    app_env = env_values(app)
    app_cache = app_env.get("ATLAS_CACHE", resolve(app_workdir, rel_cache))
    cache_copy = [c for c in from_copies if c[2] == [resolve(fetch_workdir, rel_cache) + "/"]
                  or c[2] == [resolve(fetch_workdir, rel_cache)]]
    if not cache_copy or resolve(app_workdir, cache_copy[0][3]).rstrip("/") != app_cache:
        problems.append(f"the app stage does not copy the fetched cache {resolve(fetch_workdir, rel_cache)} to {app_cache}")
    for _, flags, _, _ in from_copies:
        if flags["from"] != fetch_stage.name:
            problems.append(f"COPY --from={flags['from']} names no previous stage")
    app_db = app_env.get("ATLAS_DB", f"{app_cache}/{rel_db}")
    if not app_db.startswith(app_cache + "/"):
        problems.append(f"the database {app_db} is outside the copied cache {app_cache}")

    # Every plain COPY source is in the repository and not kept out of the context by .dockerignore.
    for stage in stages:
        for kw, args in stage.instructions:
            if kw != "COPY" or "from" in copy_args(args)[0]:
                continue
            for src in copy_args(args)[1]:
                if not (ROOT / src).exists():
                    problems.append(f"COPY source {src} does not exist in the repository")
                elif ignored(src, patterns):
                    problems.append(f"COPY source {src} is excluded by .dockerignore")
    copied = {src.rstrip("/") for _, flags, srcs, _ in copies if "from" not in flags for src in srcs}
    needed = {"requirements.txt", DEMO_REQUIREMENTS, "analysis", "app", config.ASSETS_DIR.name, ".streamlit"}
    if missing := needed - copied:
        problems.append(f"the app stage does not copy {sorted(missing)}")

    # The database is built at image build time, after the re-verified fetch, by the app user.
    app_fetch = app.index("RUN", lambda a: steps["fetch"] in a)
    build = app.index("RUN", lambda a: steps["build"] in a)
    if build < 0:
        problems.append(f"the app stage does not build the database with `{steps['build']}`")
    elif build < app_fetch or (cache_copy and build < cache_copy[0][0]):
        problems.append("the database is built before the cache is copied and verified")

    # Non-root user from before the database build to the CMD.
    cmd = app.index("CMD")
    users = [(i, args) for i, (kw, args) in enumerate(app.instructions) if kw == "USER" and i < max(cmd, 0)]
    if cmd < 0:
        problems.append("no CMD in the app stage")
    if not users or users[-1][1].split(":")[0] in ("root", "0"):
        problems.append("the app does not run as a non-root USER")
    else:
        user = users[-1][1].split(":")[0]
        if not any("useradd" in run and user in run.split() for run in app.all("RUN")):
            problems.append(f"USER {user} is not created with useradd")
        if cache_copy and cache_copy[0][1].get("chown", "").split(":")[0] != user:
            problems.append(f"the cache is not copied --chown={user}, so the build cannot write the database")
        if build >= 0 and not users[-1][0] < build:
            problems.append("the database is built as root, not as the app user")

    toolbar = app_env.get("STREAMLIT_CLIENT_TOOLBAR_MODE", streamlit_config().get("client", {}).get("toolbarMode"))
    if toolbar != "viewer":
        problems.append(f"Streamlit's client.toolbarMode is {toolbar!r}, not 'viewer' (visitors would see 'Deploy')")
    if app_env.get("ATLAS_IMPORT") != "0":
        problems.append("ATLAS_IMPORT=0 is not set (a public demo must not let visitors write to the database)")

    # Port, health check, entry command.
    port = streamlit_port()
    if app.all("EXPOSE") != [str(port)]:
        problems.append(f"EXPOSE {app.all('EXPOSE')} is not Streamlit's port {port}")
    health = app.all("HEALTHCHECK")
    m = re.search(r"http://(?:127\.0\.0\.1|localhost):(\d+)/_stcore/health", health[0]) if health else None
    if not m or int(m.group(1)) != port:
        problems.append(f"no HEALTHCHECK on http://127.0.0.1:{port}/_stcore/health")
    elif re.search(r"\b(curl|wget)\b", health[0]):
        problems.append("the HEALTHCHECK uses curl/wget, which slim images lack")
    if cmd >= 0:
        argv = json.loads(app.instructions[cmd][1])
        entry = shlex.split(steps["run"])
        if argv[:len(entry)] != entry or argv[len(entry):] not in ([], ["--server.address", "0.0.0.0"]):
            problems.append(f"CMD {argv} is not the README's `{steps['run']}` (+ --server.address 0.0.0.0)")
    return problems


def test_the_dockerfile_is_consistent_with_the_project() -> None:
    assert dockerfile_problems(DOCKERFILE.read_text(encoding="utf-8"), DOCKERIGNORE.read_text(encoding="utf-8")) == []


def test_requirements_are_exact_pins() -> None:
    lines = [ln.split("#")[0].strip() for ln in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()]
    pins = [ln for ln in lines if ln]
    assert pins and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", p) for p in pins), pins


def pins(text: str) -> dict[str, str]:
    """``{normalized name: version}`` of a requirements file's exact pins (comments and blank lines skipped).

    >>> pins("# x\\nPyICU_wheels==2.15.2  # y\\n\\nnumpy==2.3.5\\n")
    {'pyicu-wheels': '2.15.2', 'numpy': '2.3.5'}
    """
    out = {}
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if line:
            m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([\w.]+)", line)
            assert m, f"not an exact pin: {line!r}"
            out[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return out


def demo_requirements_problems(full: str, demo: str) -> list[str]:
    """Where the public demo's requirements differ from requirements.txt's pins without GPU_ONLY (empty if none)."""
    full_pins, demo_pins = pins(full), pins(demo)
    problems = [f"{DEMO_REQUIREMENTS} pins {n}=={v}, requirements.txt pins {n}=={full_pins.get(n)}"
                for n, v in demo_pins.items() if n not in GPU_ONLY and full_pins.get(n) != v]
    problems += [f"{DEMO_REQUIREMENTS} carries {n}, which the public demo must not" for n in sorted(GPU_ONLY & set(demo_pins))]
    left_out = sorted(set(full_pins) - set(demo_pins) - GPU_ONLY)
    problems += [f"{DEMO_REQUIREMENTS} lacks {n} (requirements.txt pins it)" for n in left_out]
    return problems


def test_demo_requirements_are_requirements_txt_without_torch_transformers_ray() -> None:
    full = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert GPU_ONLY <= set(pins(full))  # what the demo leaves out is what the full file adds
    assert demo_requirements_problems(full, (ROOT / DEMO_REQUIREMENTS).read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(("edit", "expected"), [
    (("numpy==2.3.5", "numpy==2.3.4"), "pins numpy==2.3.4, requirements.txt pins numpy==2.3.5"),
    (("numpy==2.3.5\n", ""), "lacks numpy"),
    (("zstandard==0.25.0", "zstandard==0.25.0\ntorch==2.13.0"), "carries torch"),
    (("jinja2==3.1.6", "jinja2==3.1.6\nRay==2.60.0"), "carries ray"),
], ids=["other-version", "missing", "torch", "ray"])
def test_each_demo_requirements_check_can_fail(edit: tuple[str, str], expected: str) -> None:
    demo = (ROOT / DEMO_REQUIREMENTS).read_text(encoding="utf-8")
    assert edit[0] in demo
    problems = demo_requirements_problems((ROOT / "requirements.txt").read_text(encoding="utf-8"), demo.replace(*edit))
    assert expected in "\n".join(problems), problems


MUTATIONS = {
    "root-user": (("USER 1000:1000", "USER root"), "non-root USER"),
    "dev-requirements": (("-r requirements-demo.txt", "-r requirements-dev.txt"), "the README's requirements"),
    "app-requirements": (('-r "${REQUIREMENTS}"', "-r requirements.txt"), "the README's requirements"),
    "torch-in-demo": (("ARG REQUIREMENTS=requirements-demo.txt", "ARG REQUIREMENTS=requirements.txt"), "no torch"),
    "fixed-python-base": (("FROM ${PYTHON_IMAGE}", "FROM python:3.11-slim-bookworm"), "build argument PYTHON_IMAGE"),
    "fixed-node-base": (("FROM ${NODE_IMAGE} AS", "FROM node:20-bookworm AS"), "build argument NODE_IMAGE"),
    "no-pip-cert": (("ARG PIP_CERT\nARG NODE", "ARG NODE"), "ARG PIP_CERT"),
    "no-npm-cert": (("ARG NODE_EXTRA_CA_CERTS\n", ""), "ARG NODE_EXTRA_CA_CERTS"),
    "toolbar": (("ENV ATLAS_IMPORT=0", "ENV STREAMLIT_CLIENT_TOOLBAR_MODE=developer ATLAS_IMPORT=0"), "toolbarMode"),
    "no-no-cache": (("--no-cache-dir ", ""), "the README's requirements"),
    "health-port": (("8501/_stcore/health", "8502/_stcore/health"), "HEALTHCHECK"),
    "health-curl": (('CMD [".venv/bin/python", "-c", "import urllib.request as u; u.urlopen(',
                     'CMD ["curl", "-f", "--", "'), "curl"),
    "expose": (("EXPOSE 8501", "EXPOSE 80"), "EXPOSE"),
    "missing-source": (("COPY assets/ assets/", "COPY asset/ assets/"), "asset/ does not exist"),
    "python-version": (("python:3.11-slim", "python:3.12-slim"), "asks for Python"),
    "node-debian": (("node:20-bookworm", "node:20-trixie"), "ships Python"),
    "no-build": ((" && .venv/bin/python -m analysis build", ""), "does not build the database"),
    "unknown-stage": (("--from=assets", "--from=fetch"), "names no previous stage"),
    "cache-path": (("/app/.cache/atlas/ .cache/atlas/", "/app/.cache/atlas/ .cache/"), "copy the fetched cache"),
    "other-entry": (("app/streamlit_app.py", "app/other.py"), "not the README's"),
    "import-on": (("ATLAS_IMPORT=0", "ATLAS_IMPORT=1"), "ATLAS_IMPORT=0"),
    "build-as-root": ((("USER 1000:1000\n", ""), ("EXPOSE", "USER 1000:1000\nEXPOSE")), "built as root"),
    "cache-owner": (("--chown=1000:1000 ", ""), "--chown=1000"),
    "db-elsewhere": (("ENV ATLAS_IMPORT=0", "ENV ATLAS_DB=/data/atlas.duckdb ATLAS_IMPORT=0"), "outside the copied cache"),
    "no-second-fetch": (("RUN .venv/bin/python -m analysis assets fetch && ", "RUN "), "does not run the README's fetch"),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_each_check_can_fail(name: str) -> None:
    edits, expected = MUTATIONS[name]
    text = DOCKERFILE.read_text(encoding="utf-8")
    for old, new in edits if isinstance(edits[0], tuple) else [edits]:
        assert old in text, f"mutation {name} no longer applies: {old!r} is not in the Dockerfile"
        text = text.replace(old, new)
    problems = dockerfile_problems(text, DOCKERIGNORE.read_text(encoding="utf-8"))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("entry", [".venv", ".cache", ".git", "test-artifacts"])
def test_dockerignore_must_exclude(entry: str) -> None:
    kept = "\n".join(p for p in DOCKERIGNORE.read_text(encoding="utf-8").splitlines() if p.strip() != entry)
    assert dockerfile_problems(DOCKERFILE.read_text(encoding="utf-8"), kept) == [f".dockerignore does not exclude {entry}"]
