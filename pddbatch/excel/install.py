"""Put the built add-in where Excel loads it at start-up (the user's XLSTART folder), and take it out.

Excel opens every workbook and add-in in the user's start-up folder when it starts:
- Windows: `%APPDATA%\\Microsoft\\Excel\\XLSTART`;
- macOS: `~/Library/Group Containers/UBF8T346G9.Office/User Content.localized/Startup.localized/Excel`.
xlwings' own installer asks a running Excel for that folder and reports success even when the copy
failed; here the folder is known without starting Excel, the copy is atomic, and the file that landed
is read back and compared before success is reported.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from pddbatch.errors import PddBatchError
from pddbatch.excel.addin import build_addin

ADDIN_NAME = "pddbatch.xlam"
MAC_STARTUP = "Library/Group Containers/UBF8T346G9.Office/User Content.localized/Startup.localized/Excel"


def startup_folder(platform: str | None = None) -> Path:
    """Excel's per-user start-up folder on this PC."""
    platform = platform or sys.platform
    if platform.startswith("win"):
        appdata = os.environ.get("APPDATA")
        if not appdata:
            raise PddBatchError("找不到 APPDATA 文件夹，无法确定 Excel 的启动文件夹",
                                "APPDATA is not set: cannot find Excel's start-up folder")
        return Path(appdata) / "Microsoft" / "Excel" / "XLSTART"
    if platform == "darwin":
        return Path.home() / MAC_STARTUP
    raise PddBatchError(
        f"只能在装有 Excel 的 Windows 或 macOS 上安装加载项；这台电脑是 {platform}。可以用 pddbatch addin build "
        "生成 pddbatch.xlam 后拷到 Windows/Mac 上安装，或在这里直接用 pddbatch validate / process 命令。",
        f"The add-in installs on Windows or macOS with Excel; this PC is {platform}. Build it with "
        "`pddbatch addin build` and copy it over, or use the pddbatch commands here.")


def install(folder: Path | None = None, interpreter: str | None = None) -> Path:
    """Build the add-in for this Python and copy it into `folder` (default: Excel's start-up folder).

    Returns the installed file; raises PddBatchError with a plain sentence when it did not land.
    """
    target_dir = folder or startup_folder()
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PddBatchError(f"无法创建文件夹 {target_dir}：{exc.strerror}",
                            f"Cannot create {target_dir}: {exc.strerror}") from exc
    target = target_dir / ADDIN_NAME
    with tempfile.TemporaryDirectory(prefix="pddbatch-addin-") as tmp:
        built = build_addin(Path(tmp) / ADDIN_NAME, interpreter)
        data = built.read_bytes()
    partial = target.with_name(target.name + ".partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        busy = " Excel 正在使用它：请先关闭 Excel 再安装。" if isinstance(exc, PermissionError) else ""
        raise PddBatchError(f"无法写入 {target}：{exc.strerror}。{busy}",
                            f"Cannot write {target}: {exc.strerror}.") from exc
    if not target.is_file() or target.read_bytes() != data:
        raise PddBatchError(f"安装后检查失败：{target} 与生成的加载项不一致",
                            f"Check after installing failed: {target} differs from the built add-in")
    return target


def uninstall(folder: Path | None = None) -> Path | None:
    """Remove the add-in from `folder` (default: Excel's start-up folder); the removed path, or None."""
    target = (folder or startup_folder()) / ADDIN_NAME
    if not target.exists():
        return None
    try:
        target.unlink()
    except OSError as exc:
        raise PddBatchError(f"无法删除 {target}：{exc.strerror}（Excel 是否还开着？请先关闭 Excel）",
                            f"Cannot remove {target}: {exc.strerror} (close Excel first)") from exc
    return target
