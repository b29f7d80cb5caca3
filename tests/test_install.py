"""requirements.lock: every package pinned with its hashes, every dependency of pyproject.toml in it at a version
its range allows, and this environment installed from it (`make install`), so tests run on the tested versions."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tenant_migrate.paths import PROJECT_ROOT

LOCK = PROJECT_ROOT / "requirements.lock"


def pins() -> dict[str, tuple[str, str, list[str]]]:
    """name -> (version, marker, hashes) for each entry of the lock whose marker holds here."""
    entries = re.split(r"\n(?=\S)", LOCK.read_text(encoding="utf-8"))
    found = {}
    for entry in entries:
        head = entry.split("\\")[0].strip()
        if not head or head.startswith("#"):
            continue
        spec, _, marker = head.partition(";")
        name, _, version = spec.strip().partition("==")
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", entry)
        assert version and hashes, f"not pinned with hashes: {head}"
        if not marker.strip() or Marker(marker.strip()).evaluate():
            found[canonicalize_name(name)] = (version, marker.strip(), hashes)
    return found


def declared() -> list[Requirement]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]


def test_every_declared_dependency_is_locked_at_a_version_it_allows():
    locked = pins()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(locked[name][0], prereleases=True), (name, locked[name][0])


def test_this_environment_was_installed_from_the_lock():
    wrong = {}
    for name, (version, _, _) in pins().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (version, installed)
    assert {} == wrong, "installed versions differ from requirements.lock (locked, installed): run `make install`"
