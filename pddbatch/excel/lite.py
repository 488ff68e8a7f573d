"""xlwings Lite: the pddbatch wheel Excel's in-browser Python installs, and the requirements.txt naming it.

xlwings Lite runs Python in the browser (Pyodide) and installs what its requirements.txt tab lists
from PyPI, from Pyodide's own package repository, or from a wheel's URL. pddbatch is on no package
index, so `pddbatch addin lite` writes the installed pddbatch as a pure-Python wheel whose metadata
asks only for what 校验 (`pddbatch.excel.validate_book`) imports — xlwings, jsonschema, fastjsonschema
— instead of the desktop dependencies (the 30 MB CJK font wheel, Pillow, calamine, …), which pddbatch
imports lazily and 校验 never touches. Beside it goes a requirements.txt with every version pinned.

jsonschema is pinned to 4.17.3, the last release without `rpds-py` (Rust, via `referencing`): PyPI
has no WebAssembly build of rpds-py, so 4.18+ installs only where Pyodide's own repository is
reachable, while 4.17.3 and its dependencies (attrs, pyrsistent) are pure-Python wheels on PyPI.
It knows draft 2020-12, which the order schema declares. tests/excel/test_lite_pyodide.py installs
exactly this file's wheels into Pyodide under Node, offline, and runs the Lite script's 校验.

The wheel is written byte for byte reproducibly (fixed timestamps, sorted entries).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata
import importlib.util
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pddbatch
from pddbatch.errors import PddBatchError

# What 校验 imports beyond the standard library, as wheel metadata (lower bounds, like pyproject.toml).
REQUIRES = ("xlwings>=0.33", "jsonschema>=4.17", "fastjsonschema>=2.19")
# Pinned for Pyodide; see the module docstring. pyrsistent 0.20.0 is also what Pyodide 0.27 ships.
PINNED = {"jsonschema": "4.17.3", "pyrsistent": "0.20.0"}
# Pinned to the versions installed here (the ones the test suite ran), in requirements.txt order.
FROM_HERE = ("xlwings", "fastjsonschema", "attrs")
# Folders mapped into the package from elsewhere in a source checkout (pyproject's package-dir).
MAPPED = ("templates", "schemas")
EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class LiteBuild:
    wheel: Path
    requirements: Path
    pins: dict[str, str]


def _installed(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        raise PddBatchError(f"没有安装 {name}，无法确定 xlwings Lite 要装的版本：请先 pip install {name}。",
                            f"{name} is not installed, so its version for xlwings Lite is unknown: "
                            f"pip install {name} first.") from None


def pins() -> dict[str, str]:
    """Package -> exact version for xlwings Lite's requirements.txt (everything 校验 needs, deps included)."""
    here = {name: _installed(name) for name in FROM_HERE}
    return {"xlwings": here["xlwings"], "jsonschema": PINNED["jsonschema"], "attrs": here["attrs"],
            "pyrsistent": PINNED["pyrsistent"], "fastjsonschema": here["fastjsonschema"]}


def _package_files() -> Iterator[tuple[str, bytes]]:
    """(name inside the wheel, content) for every file of the installed pddbatch package."""
    root = Path(pddbatch.__file__).parent
    roots = [(root, "pddbatch")]
    for sub in MAPPED:
        spec = importlib.util.find_spec(f"pddbatch.{sub}")
        where = Path(next(iter(spec.submodule_search_locations or []))) if spec else None
        if where is not None and root not in where.parents:
            roots.append((where, f"pddbatch/{sub}"))
    seen: dict[str, bytes] = {}
    for folder, prefix in roots:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if path.is_dir() or "__pycache__" in rel.parts or path.suffix in (".pyc", ".pyo"):
                continue
            seen[f"{prefix}/{rel.as_posix()}"] = path.read_bytes()
    for name in sorted(seen):
        yield name, seen[name]


def _metadata(version: str) -> bytes:
    lines = ["Metadata-Version: 2.1", "Name: pddbatch", f"Version: {version}",
             "Summary: pddbatch for xlwings Lite (Excel's in-browser Python): 校验 on the open workbook",
             "License: MIT", "Requires-Python: >=3.11", *(f"Requires-Dist: {r}" for r in REQUIRES)]
    return ("\n".join(lines) + "\n").encode()


def _hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def wheel_name(version: str | None = None) -> str:
    return f"pddbatch-{version or pddbatch.__version__}-py3-none-any.whl"


def build_wheel(out: Path) -> Path:
    """Write the Lite wheel of the installed pddbatch into folder `out`; return its path."""
    version = pddbatch.__version__
    info = f"pddbatch-{version}.dist-info"
    entries = list(_package_files())
    entries.append((f"{info}/METADATA", _metadata(version)))
    entries.append((f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: pddbatch addin lite\n"
                                     b"Root-Is-Purelib: true\nTag: py3-none-any\n"))
    entries.append((f"{info}/top_level.txt", b"pddbatch\n"))
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for name, data in entries:
        writer.writerow([name, _hash(data), len(data)])
    writer.writerow([f"{info}/RECORD", "", ""])
    entries.append((f"{info}/RECORD", record.getvalue().encode()))
    out.mkdir(parents=True, exist_ok=True)
    path = out / wheel_name(version)
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            item = zipfile.ZipInfo(name, EPOCH)
            item.external_attr = 0o644 << 16
            item.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(item, data)
    tmp.replace(path)
    return path


def requirements_text(wheel: str, versions: dict[str, str]) -> str:
    """The requirements.txt for xlwings Lite: pinned packages, then the pddbatch wheel (file name or URL)."""
    head = [
        "# xlwings Lite: paste into the requirements.txt tab (then Restart if packages were installed before).",
        f"# Written by `pddbatch addin lite` for pddbatch {pddbatch.__version__}: only what 校验 needs.",
        "# The last line is the pddbatch wheel written beside this file: upload it somewhere xlwings Lite",
        "# can download it (https, CORS allowed, e.g. a GitHub release asset) and put its URL there.",
    ]
    return "\n".join([*head, *(f"{k}=={v}" for k, v in versions.items()), wheel]) + "\n"


def build(out: Path, url: str | None = None) -> LiteBuild:
    """`pddbatch addin lite`: the wheel and its requirements.txt in folder `out`."""
    versions = pins()
    wheel = build_wheel(out)
    line = f"{url.rstrip('/')}/{wheel.name}" if url else wheel.name
    req = out / "requirements.txt"
    req.write_text(requirements_text(line, versions), encoding="utf-8")
    return LiteBuild(wheel, req, versions)
