"""Build each compiled group (omnidesk/compiled.py) into its package's `_compiled/` folder.

Each build is made in a temporary folder and swapped in whole, so a running server keeps the
libraries it loaded and a failed build leaves the previous one (or none) in place.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from mypyc.build import mypycify
from setuptools import setup

from omnidesk.compiled import BUILD_FOLDER, GROUPS, MANIFEST, library_name, manifest

SOURCES = Path("src")


def source_folder(package: str) -> Path:
    """Where the package's modules are, e.g. src/omnidesk/routing."""
    return SOURCES.joinpath(*package.split("."))


def build(package: str, scratch: Path) -> Path:
    """Compile the package's group in `scratch`; returns the folder holding its libraries."""
    paths = [str(source_folder(package) / f"{name}.py") for name in GROUPS[package]]
    extensions = mypycify(paths, group_name=library_name(package), target_dir=str(scratch / "c"))
    setup(name=f"{package}-compiled", ext_modules=extensions,
          script_args=["--quiet", "build_ext", "--build-lib", str(scratch / "lib"),
                       "--build-temp", str(scratch / "temp")])
    return scratch.joinpath("lib", *package.split("."))


def install(package: str, built: Path) -> Path:
    """Swap the built libraries and their manifest in as the package's build."""
    folder = source_folder(package)
    target, staged = folder / BUILD_FOLDER, folder / f"{BUILD_FOLDER}.new"
    retired = folder / f"{BUILD_FOLDER}.old"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir()
    for library in built.glob("*.so"):
        shutil.copy2(library, staged / library.name)
    recorded = manifest(folder, GROUPS[package])
    (staged / MANIFEST).write_text(json.dumps(recorded, indent=2), encoding="utf-8")
    shutil.rmtree(retired, ignore_errors=True)
    if target.exists():
        target.rename(retired)
    staged.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
    return target


def main() -> int:
    """Build and install every group; one that fails stays interpreted and says why."""
    failed = 0
    for package, modules in GROUPS.items():
        with tempfile.TemporaryDirectory(prefix="omnidesk-compile-") as scratch:
            try:
                built = build(package, Path(scratch))
            except (Exception, SystemExit) as error:  # setuptools exits on a compiler error
                print(f"scripts/compile: {package} was not compiled ({error}); it runs "
                      "interpreted", file=sys.stderr)
                failed += 1
                continue
            target = install(package, built)
        print(f"scripts/compile: {len(modules)} modules of {package} compiled into {target}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
