"""The limits of docs/deployment.md, deploy/ and the Docker image agree with analysis/config.py."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from analysis import config

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
ENV_FILE = dict(line.split("=", 1) for line in (ROOT / "deploy" / "atlas.env").read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#"))
SETTINGS = [limit.env for limit in config.LIMITS] + [config.MEMORY_MAX.env, "ATLAS_IMPORT"]


def docker_env() -> dict[str, str]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            out.update(pair.partition("=")[::2] for pair in shlex.split(line[4:]))
    return out


@pytest.mark.parametrize("name", SETTINGS)
def test_every_limit_is_documented_and_set_for_deployment(name: str) -> None:
    assert f"| `{name}` |" in DOC, f"docs/deployment.md has no row for {name}"
    assert name in ENV_FILE, f"deploy/atlas.env does not set {name}"
    assert docker_env().get(name) == ENV_FILE[name], f"the Dockerfile and deploy/atlas.env disagree on {name}"


@pytest.mark.parametrize("limit", config.LIMITS, ids=lambda limit: limit.env)
def test_deployed_values_are_the_defaults_and_parse(limit: config.Limit) -> None:
    assert config.parse_size(ENV_FILE[limit.env], name=limit.env) == limit.default


def test_the_memory_ceiling_sits_under_the_services_hard_stop() -> None:
    unit = (ROOT / "deploy" / "token-atlas.service").read_text(encoding="utf-8")
    hard = config.parse_size(re.search(r"^MemoryMax=(\S+)$", unit, re.M).group(1).replace("G", "GiB"), name="MemoryMax")
    ceiling = config.parse_size(ENV_FILE["ATLAS_MEMORY_MAX"], name="ATLAS_MEMORY_MAX")
    assert ceiling == 4 * 2**30 and ceiling < hard
    assert "EnvironmentFile=/opt/token-atlas/deploy/atlas.env" in unit
    assert config.parse_bool(ENV_FILE["ATLAS_IMPORT"], name="ATLAS_IMPORT") is False
