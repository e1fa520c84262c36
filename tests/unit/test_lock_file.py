"""requirements.lock (the hashed lock file for deployments) pins every runtime dependency at a
version pyproject.toml admits; regenerate it with the command in its first lines."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^ \\]+)", re.MULTILINE)


def test_every_dependency_is_pinned_with_hashes_at_an_admitted_version() -> None:
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pinned = {canonicalize_name(name): version for name, version in PIN.findall(lock)}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for line in project["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is missing from requirements.lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"requirements.lock pins {name}=={pinned[name]}, outside {requirement.specifier}"
        )
    blocks = [block for block in lock.split("\n") if PIN.match(block)]
    assert blocks and lock.count("--hash=sha256:") >= len(blocks)
