"""`pddbatch addin build|install|uninstall|lite`: the classic Excel add-in and the xlwings Lite wheel (thin faces over `pddbatch.excel`)."""

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


@addin.command("lite")
@click.option("-o", "--out", "target", type=click.Path(path_type=Path, file_okay=False),
              default=Path("pddbatch-lite"), show_default=True, help="Folder for the wheel and its requirements.txt.")
@click.option("--url", default=None,
              help="Where you will host the wheel (https folder URL); requirements.txt then names that URL.")
@face
def lite(target: Path, url: str | None, out: Out) -> None:
    """为 xlwings Lite（网页版 Excel）生成 pddbatch 轮子和 requirements.txt（只含“校验”所需）。

    Build the pddbatch wheel for xlwings Lite and a pinned requirements.txt (only what 校验 needs).
    """
    from pddbatch.excel.lite import build as build_lite

    made = build_lite(target, url)
    where = f"{url.rstrip('/')}/{made.wheel.name}" if url else None
    if out.json:
        out.emit_json({"wheel": str(made.wheel), "requirements": str(made.requirements), "pins": made.pins,
                       "url": where})
        return
    pins = "、".join(f"{k}=={v}" for k, v in made.pins.items())
    out.echo(f"已生成 {made.wheel}\n已生成 {made.requirements}（{pins}）",
             f"Built {made.wheel}\nWrote {made.requirements} ({pins})")
    if where is None:
        out.echo("请把轮子文件上传到 xlwings Lite 能下载的 https 地址（允许跨域，如 GitHub Release），"
                 "把 requirements.txt 最后一行换成这个地址，再粘贴到 xlwings Lite 的 requirements.txt 标签页。",
                 "Upload the wheel to an https address xlwings Lite can download from (CORS allowed), put that "
                 "address on the last line of requirements.txt and paste it into xlwings Lite's requirements.txt tab.")
    else:
        out.echo(f"请把轮子上传到 {where}，再把 requirements.txt 粘贴到 xlwings Lite 的 requirements.txt 标签页。",
                 f"Upload the wheel to {where}, then paste requirements.txt into xlwings Lite's requirements.txt tab.")
