"""The hot pure cores compiled by mypyc (`scripts/compile`), used only while they match.

Two groups are compiled: the analytics fold and the routing engine. A group's build lives in
its package's `_compiled/` folder with a manifest of the sources it was compiled from. The
package puts that folder first on its search path only when the manifest names this
interpreter's extension suffix and every source is unchanged; otherwise (or with
`OMNIDESK_INTERPRETED=1`) the very same modules run interpreted. So an edit to a source is
never shadowed by a stale build, and a group is never half compiled.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import sysconfig
from pathlib import Path
from typing import Any

GROUPS: dict[str, tuple[str, ...]] = {
    "omnidesk.analytics": ("config", "events", "fcr", "fold", "intervals", "measures",
                           "records", "sinks"),
    "omnidesk.routing": ("decisions", "engine", "errors", "events", "expressions", "hours",
                         "model", "pools", "state", "strategies", "timers"),
}
"""Per package, the modules compiled together (calls inside a group stay native).

Not `routing.views`: the API serves its dataclasses through pydantic, and mypyc rewrites a
compiled dataclass's annotations to runtime classes (`float | None` becomes `type`).
"""

BUILD_FOLDER = "_compiled"
MANIFEST = "sources.json"
INTERPRETED_ENV = "OMNIDESK_INTERPRETED"

logger = logging.getLogger(__name__)


def library_name(package: str) -> str:
    """The group's shared library is the module `<package>.native__mypyc`."""
    return f"{package}.native"


def manifest(folder: Path, modules: tuple[str, ...]) -> dict[str, Any]:
    """What a build of the modules in `folder` for this interpreter records about itself."""
    sources = {name: hashlib.sha256((folder / f"{name}.py").read_bytes()).hexdigest()
               for name in modules}
    return {"ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"), "sources": sources}


def compiled_folder(folder: Path, modules: tuple[str, ...]) -> Path | None:
    """The folder of a usable build of these modules, or None to run them interpreted."""
    build = folder / BUILD_FOLDER
    if os.environ.get(INTERPRETED_ENV) or not (build / MANIFEST).is_file():
        return None
    try:
        recorded = json.loads((build / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = None
    if recorded != manifest(folder, modules):
        logger.warning("the compiled modules in %s were built from other sources or for "
                       "another Python; running them interpreted (scripts/compile rebuilds "
                       "them)", build)
        return None
    return build


def use_compiled(package: str, path: list[str]) -> None:
    """Put the package's usable build, if any, first on its search path (`__path__`)."""
    build = compiled_folder(Path(path[0]), GROUPS[package])
    if build is not None:
        path.insert(0, str(build))


def running_compiled(package: str) -> bool:
    """Whether this process runs the package's group compiled."""
    module = importlib.import_module(f"{package}.{GROUPS[package][0]}")
    return module.__file__ is not None and not module.__file__.endswith(".py")
