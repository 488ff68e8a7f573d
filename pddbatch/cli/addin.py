"""`pddbatch addin build|install`: the classic Excel add-in (a thin face over `pddbatch.excel.addin`)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import click

from pddbatch.errors import PddBatchError


@click.group("addin")
def addin() -> None:
    """Excel 加载项：生成 / 安装“拼多多发货”功能区选项卡。

    The Excel add-in: build or install the 拼多多发货 ribbon tab (校验 / 处理发货 / 对账).
    """


@addin.command("build")
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), default=Path("pddbatch.xlam"),
              show_default=True, help="Where to write the add-in (.xlam).")
def build(out: Path) -> None:
    """生成 pddbatch.xlam（基于 xlwings 的加载项模板）。 Build the .xlam from xlwings' template."""
    from pddbatch.excel.addin import build_addin

    try:
        path = build_addin(out)
    except PddBatchError as exc:
        click.echo("错误：" + exc.text("zh"), err=True)
        sys.exit(2)
    click.echo(f"已生成 {path}")


@addin.command("install")
def install() -> None:
    """安装到 Excel（Windows / macOS，用 xlwings addin install）。 Install into Excel (Windows/macOS)."""
    if not sys.platform.startswith(("win", "darwin")):
        click.echo("错误：只能在装有 Excel 的 Windows 或 macOS 上安装加载项；这台电脑是 "
                   f"{sys.platform}。可以用 pddbatch addin build 生成 pddbatch.xlam 后拷到 Windows/Mac 上安装，"
                   "或在这里直接用 pddbatch validate / process 命令。", err=True)
        sys.exit(2)
    from pddbatch.excel.addin import build_addin

    with tempfile.TemporaryDirectory(prefix="pddbatch-") as tmp:
        try:
            path = build_addin(Path(tmp) / "pddbatch.xlam")
        except PddBatchError as exc:
            click.echo("错误：" + exc.text("zh"), err=True)
            sys.exit(2)
        # xlwings' own installer: copies into Excel's XLSTART folder and loads it
        done = subprocess.run([sys.executable, "-m", "xlwings.cli", "addin", "install", "--file", str(path)],
                              check=False)
    if done.returncode != 0:
        click.echo("错误：安装失败（见上方 xlwings 的提示）；请先关闭 Excel 再试", err=True)
        sys.exit(2)
    click.echo("已安装。重新打开 Excel 后，功能区会出现“拼多多发货”选项卡。")
