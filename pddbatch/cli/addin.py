"""`pddbatch addin build|install`: the classic Excel add-in (a thin face over `pddbatch.excel.addin`)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import click

from pddbatch.cli.app import Out, face


@click.group("addin")
def addin() -> None:
    """Excel 加载项：生成 / 安装“拼多多发货”功能区选项卡。

    The Excel add-in: build or install the 拼多多发货 ribbon tab (校验 / 处理发货 / 对账).
    """


@addin.command("build")
@click.option("-o", "--out", "target", type=click.Path(path_type=Path, dir_okay=False), default=Path("pddbatch.xlam"),
              show_default=True, help="Where to write the add-in (.xlam).")
@face
def build(target: Path, out: Out) -> None:
    """生成 pddbatch.xlam（基于 xlwings 的加载项模板）。 Build the .xlam from xlwings' template."""
    from pddbatch.excel.addin import build_addin

    path = build_addin(target)
    if out.json:
        out.emit_json({"written": str(path)})
    else:
        out.echo(f"已生成 {path}", f"Built {path}")


@addin.command("install")
@face
def install(out: Out) -> None:
    """安装到 Excel（Windows / macOS，用 xlwings addin install）。 Install into Excel (Windows/macOS)."""
    if not sys.platform.startswith(("win", "darwin")):
        out.fail("只能在装有 Excel 的 Windows 或 macOS 上安装加载项；这台电脑是 "
                 f"{sys.platform}。可以用 pddbatch addin build 生成 pddbatch.xlam 后拷到 Windows/Mac 上安装，"
                 "或在这里直接用 pddbatch validate / process 命令。",
                 f"The add-in installs only on Windows or macOS with Excel; this computer is {sys.platform}. "
                 "Build pddbatch.xlam with `pddbatch addin build` and install it there, or use the "
                 "pddbatch validate / process commands here.")
    from pddbatch.excel.addin import build_addin

    with tempfile.TemporaryDirectory(prefix="pddbatch-") as tmp:
        path = build_addin(Path(tmp) / "pddbatch.xlam")
        # xlwings' own installer: copies into Excel's XLSTART folder and loads it
        done = subprocess.run([sys.executable, "-m", "xlwings.cli", "addin", "install", "--file", str(path)],
                              check=False)
    if done.returncode != 0:
        out.fail("安装失败（见上方 xlwings 的提示）；请先关闭 Excel 再试",
                 "Installing failed (see xlwings' message above); close Excel and try again")
    if out.json:
        out.emit_json({"installed": True})
    else:
        out.echo("已安装。重新打开 Excel 后，功能区会出现“拼多多发货”选项卡。",
                 "Installed. Open Excel again to see the 拼多多发货 ribbon tab.")
