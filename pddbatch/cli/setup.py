"""`pddbatch init`: the seller's first step, a commented `pddbatch.toml` beside the order export.

Every value is checked before anything is written (the same checks `process` makes), so `init`
never leaves a config that a later command refuses.
"""

from __future__ import annotations

from pathlib import Path

import click

from pddbatch.cli.app import Out, face


@click.command("init")
@click.argument("workbook", type=click.Path(path_type=Path), required=False)
@click.option("--dir", "folder", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where to write pddbatch.toml (default: beside WORKBOOK, else the current folder).")
@click.option("--sender-name", prompt="寄件人/店名 (sender name)")
@click.option("--sender-phone", prompt="寄件电话 (sender phone)")
@click.option("--sender-address", prompt="寄件地址 (sender address)")
@click.option("--carrier", default="ZTO", show_default=True, help="Default carrier code or PDD name.")
@click.option("--shop", default="", help="Shop name.")
@click.option("--force", is_flag=True, help="Overwrite an existing pddbatch.toml.")
@face
def init_cmd(workbook: Path | None, folder: Path | None, sender_name: str, sender_phone: str, sender_address: str,
             carrier: str, shop: str, force: bool, out: Out) -> None:
    """写一个带注释的 pddbatch.toml（放在订单表格旁边） / write a commented config beside the workbook."""
    from pddbatch.config import CONFIG_NAME, init_config

    folder = folder or (workbook.parent if workbook is not None else Path("."))
    target = folder / CONFIG_NAME
    if target.exists() and not force:
        out.fail(f"{target} 已存在；要覆盖请加 --force", f"{target} exists; add --force to overwrite it")
    text = init_config(sender_name, sender_phone, sender_address, carrier, shop)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        out.fail(f"无法写入 {target}：{exc.strerror or exc}", f"Cannot write {target}: {exc.strerror or exc}")
    if out.json:
        out.emit_json({"written": str(target)})
    else:
        out.echo(f"已写入 {target}", f"Written: {target}")
