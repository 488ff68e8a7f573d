"""`pddbatch addin build|install|uninstall`: the classic Excel add-in (a thin face over `pddbatch.excel`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pddbatch.cli.app import Out, face


@click.group("addin")
def addin() -> None:
    """Excel 加载项：生成 / 安装 / 卸载“拼多多发货”功能区选项卡。

    The Excel add-in: build, install or remove the 拼多多发货 ribbon tab (校验 / 处理发货 / 对账 / 物流跟踪).
    """


@addin.command("build")
@click.option("-o", "--out", "target", type=click.Path(path_type=Path, dir_okay=False), default=Path("pddbatch.xlam"),
              show_default=True, help="Where to write the add-in (.xlam).")
@click.option("--interpreter", default=None,
              help="Python that Excel should start (default: this one, which has pddbatch installed).")
@face
def build(target: Path, interpreter: str | None, out: Out) -> None:
    """生成 pddbatch.xlam（基于 xlwings 的加载项模板）。 Build the .xlam from xlwings' template."""
    from pddbatch.excel.addin import build_addin

    path = build_addin(target, interpreter)
    python = interpreter or sys.executable
    if out.json:
        out.emit_json({"written": str(path), "interpreter": python})
    else:
        out.echo(f"已生成 {path}（Python：{python}）", f"Built {path} (Python: {python})")


@addin.command("install")
@click.option("--dir", "folder", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Install into this folder instead of Excel's start-up folder (XLSTART).")
@face
def install(folder: Path | None, out: Out) -> None:
    """安装到 Excel 的启动文件夹（Windows / macOS）。 Install into Excel's start-up folder."""
    from pddbatch.excel.install import install as run_install

    path = run_install(folder)
    if out.json:
        out.emit_json({"installed": str(path), "interpreter": sys.executable})
    else:
        out.echo(f"已安装：{path}\n加载项会启动这个 Python：{sys.executable}\n"
                 "请完全退出并重新打开 Excel，功能区会出现“拼多多发货”选项卡。",
                 f"Installed: {path}\nThe add-in starts this Python: {sys.executable}\n"
                 "Quit Excel completely and open it again to see the 拼多多发货 ribbon tab.")


@addin.command("uninstall")
@click.option("--dir", "folder", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Remove from this folder instead of Excel's start-up folder.")
@face
def uninstall(folder: Path | None, out: Out) -> None:
    """从 Excel 的启动文件夹删除加载项。 Remove the add-in from Excel's start-up folder."""
    from pddbatch.excel.install import uninstall as run_uninstall

    path = run_uninstall(folder)
    if out.json:
        out.emit_json({"removed": str(path) if path else None})
    elif path is None:
        out.echo("没有找到已安装的 pddbatch.xlam，无需卸载。", "No installed pddbatch.xlam found; nothing to remove.")
    else:
        out.echo(f"已删除 {path}；重新打开 Excel 后选项卡消失。", f"Removed {path}; the tab is gone once Excel restarts.")
