"""What the terminal tells the seller: the problems themselves, in their language, on every command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pddbatch.cli import main
from tests.support import SAMPLE, generator, sample_rows


def _ready(rows: list[dict[str, object]], folder: Path, status: str = "待发货") -> Path:
    for r in rows:
        r["订单状态"], r["售后状态"], r["快递单号"] = status, "无售后或售后取消", ""
    book = folder / "orders.xlsx"
    generator.write_xlsx(rows, book)
    return book


def _bad_phones(tmp_path: Path, bad: int, total: int = 40) -> Path:
    rows = sample_rows(total, faults=False)
    for r in rows[:bad]:
        r["手机"] = "12345"
    return _ready(rows, tmp_path)


def test_validate_prints_the_first_20_problems_then_how_many_more(tmp_path: Path) -> None:
    book = _bad_phones(tmp_path, 25)
    res = CliRunner().invoke(main, ["validate", str(book)], env={"PDDBATCH_LANG": None})
    assert res.exit_code == 1, res.output
    lines = res.output.splitlines()
    assert lines[0] == "共检查 40 行：通过 15 行，校验失败 25 行，问题 25 个"
    assert lines[1] == "  问题："
    assert lines[2].startswith("    第 2 行 ") and "手机：手机号应为11位数字" in lines[2] and "现在是“123*5”" in lines[2]
    shown = [line for line in lines if line.startswith("    第 ")]
    assert len(shown) == 20
    assert "    …另有 5 个，见工作簿的问题清单" in lines


def test_english_problems_and_dry_run_pointer(tmp_path: Path) -> None:
    book = _bad_phones(tmp_path, 22)
    res = CliRunner().invoke(main, ["validate", str(book), "--dry-run", "--lang", "en"])
    lines = res.output.splitlines()
    assert lines[1] == "  Problems:"
    assert lines[2].startswith("    row 2, ") and "手机: Phone must be 11 digits" in lines[2]
    assert lines[-1] == "    … and 2 more, use --json to see them all"


def test_process_prints_problems_too(shop: Path) -> None:
    res = CliRunner().invoke(main, ["process", str(shop / "orders.xlsx"), "--now", "2026-11-26 09:00:00"])
    assert res.exit_code == 1
    lines = res.output.splitlines()
    assert lines[1] == "  问题："
    assert sum(1 for line in lines if line.startswith("    第 ")) == 13


def test_pddbatch_lang_is_honoured_by_every_command_and_json_exists_everywhere() -> None:
    def walk(cmd: click.Command, path: str) -> list[tuple[str, click.Command]]:
        if isinstance(cmd, click.Group):
            return [x for name, sub in cmd.commands.items() for x in walk(sub, f"{path} {name}".strip())]
        return [(path, cmd)]

    commands = walk(main, "")
    names = {p for p, _ in commands}
    assert {"validate", "process", "explain", "reprint", "init", "pool add", "pool import", "pool status", "void",
            "doctor", "reconcile", "addin build", "addin install"} <= names
    for path, cmd in commands:
        opts = {o for p in cmd.params for o in getattr(p, "opts", [])}
        assert {"--json", "--lang"} <= opts, path


def test_errors_speak_pddbatch_lang_and_json(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite"
    for args in (["void", "X", "--ledger", str(missing)], ["doctor", "--ledger", str(missing)]):
        res = CliRunner().invoke(main, args, env={"PDDBATCH_LANG": "en"})
        assert (res.exit_code, res.output) == (2, f"Error: Ledger file not found: {missing}\n")
    res = CliRunner().invoke(main, ["doctor", "--ledger", str(missing), "--json"])
    assert res.exit_code == 2
    assert json.loads(res.stdout) == {"ok": False, "exit_code": 2, "error": f"找不到台账文件：{missing}"}
    res = CliRunner().invoke(main, ["explain", str(tmp_path / "nope.xlsx"), "1", "--config",
                                    str(tmp_path / "nope.toml"), "--lang", "en"])
    assert (res.exit_code, res.output) == (2, f"Error: Config file not found: {tmp_path / 'nope.toml'}\n")


def test_validate_finds_the_config_like_process(tmp_path: Path) -> None:
    book = _bad_phones(tmp_path, 1, 5)
    cfg = tmp_path / "pddbatch.toml"
    cfg.write_text((SAMPLE / "pddbatch.toml").read_text(encoding="utf-8").replace('lang = "zh"', 'lang = "en"'),
                   encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(book), "--dry-run"], env={"PDDBATCH_LANG": None})
    assert res.output.startswith("5 rows checked: 4 valid, 1 rejected, 1 issues (dry run, nothing written)")
    res = CliRunner().invoke(main, ["validate", str(book), "--dry-run", "--lang", "zh"])
    assert res.output.startswith("共检查 5 行")
    cfg.write_text('[sender]\nname = "小店"\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(book), "--dry-run"])
    assert res.exit_code == 2 and "carriers" in res.output and "缺少" in res.output
    res = CliRunner().invoke(main, ["validate", str(book), "--config", str(tmp_path / "other.toml")])
    assert res.exit_code == 2 and "找不到配置文件" in res.output


def _config(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    book = tmp_path / "orders.xlsx"
    generator.write_xlsx(sample_rows(5, faults=False), book)
    (tmp_path / "pddbatch.toml").write_bytes(text.encode(encoding))
    return book


BASE = '[sender]\nname = "小店"\nphone = "13812345678"\naddress = "浙江省杭州市文一西路 998 号"\n'


def test_config_messages_are_chinese_sentences(tmp_path: Path) -> None:
    book = _config(tmp_path, BASE.replace("[sender]", "[sendr]") + '[carriers]\ndefault = "ZTO"\n'
                   '[labels]\nzpl = "yes"\n[plan]\ndeadline_window_hours = -1\n')
    res = CliRunner().invoke(main, ["process", str(book)])
    assert res.exit_code == 2
    out = res.output
    assert "（顶层）：缺少 sender" in out
    assert "有不认识的设置项 sendr（是不是 sender？）" in out
    assert 'labels.zpl：应为 true 或 false（是 / 否，不加引号），现在是 "yes"' in out
    assert "plan.deadline_window_hours：不能小于 0，现在是 -1" in out
    for english in ("was unexpected", "boolean", "is not of type", "is less than"):
        assert english not in out


def test_toml_mistake_is_told_with_its_line(tmp_path: Path) -> None:
    book = _config(tmp_path, BASE + "[carriers]\ndefault = 中通\n")
    res = CliRunner().invoke(main, ["process", str(book)])
    assert res.exit_code == 2
    assert "错误：配置文件 pddbatch.toml 的格式不对（TOML）：第 6 行第 11 列附近。" in res.output


def test_a_gbk_config_from_notepad_is_read(tmp_path: Path) -> None:
    book = _config(tmp_path, BASE + '[carriers]\ndefault = "中通快递"\n[shop]\nname = "小美的店"\n', encoding="gbk")
    from pddbatch.config import load_config

    cfg = load_config(tmp_path / "pddbatch.toml")
    assert (cfg.sender.name, cfg.default_carrier, cfg.shop_name) == ("小店", "ZTO", "小美的店")
    (tmp_path / "pddbatch.toml").write_bytes(b"\xff\xfe\x00garbage\x81")
    res = CliRunner().invoke(main, ["validate", str(book), "--dry-run"])
    assert res.exit_code == 2 and "“另存为”时把编码选为 UTF-8" in res.output


def test_carriers_enabled_is_enforced(tmp_path: Path) -> None:
    book = _config(tmp_path, BASE + '[carriers]\ndefault = "ZTO"\nenabled = ["YTO"]\n'
                   '[[carriers.rules]]\nname = "买家要顺丰"\nkeywords = ["顺丰"]\ncarrier = "SF"\n')
    res = CliRunner().invoke(main, ["process", str(book)])
    assert res.exit_code == 2
    assert ('carriers.default：默认快递 ZTO（中通快递）不在启用的快递 enabled = [YTO] 中；请把 "ZTO" 加进 enabled，'
            "或把 default 改成 enabled 里的一个") in res.output
    assert 'carriers.rules.0.carrier：规则“买家要顺丰”用的快递 SF（顺丰快递）没有启用；请把 "SF" 加进 [carriers] 的 enabled' \
        in res.output


def test_a_bad_regular_expression_is_named(tmp_path: Path) -> None:
    book = _config(tmp_path, BASE + '[carriers]\ndefault = "ZTO"\nenabled = ["ZTO", "SF"]\n'
                   '[[carriers.rules]]\nkeywords = ["顺丰"]\nnot_keywords = ["/不要(顺丰/"]\ncarrier = "SF"\n')
    res = CliRunner().invoke(main, ["process", str(book)])
    assert res.exit_code == 2
    assert "carriers.rules.0.not_keywords.0：关键词 /不要(顺丰/ 不是有效的正则表达式" in res.output


def test_init_checks_every_value_at_once_and_writes_nothing_wrong(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["init", "--dir", str(tmp_path), "--sender-name", "小店", "--sender-phone", "电话",
                                    "--sender-address", "杭州", "--carrier", "顺风"])
    assert res.exit_code == 2
    out = res.output
    assert out.startswith("错误：这些值不能用，没有写入配置文件：")
    assert '寄件电话（sender.phone）：格式不对："电话"' in out
    assert "寄件地址（sender.address）：至少 4 个字" in out
    assert not (tmp_path / "pddbatch.toml").exists()
    res = CliRunner().invoke(main, ["init", "--dir", str(tmp_path), "--sender-name", "小店", "--sender-phone",
                                    "13812345678", "--sender-address", "浙江省杭州市文一西路 998 号", "--carrier", "顺风"])
    assert res.exit_code == 2 and "默认快递（carriers.default）：不认识的快递公司“顺风”" in res.output
    assert not (tmp_path / "pddbatch.toml").exists()
    res = CliRunner().invoke(main, ["init", "--dir", str(tmp_path), "--sender-name", '小"店\n', "--sender-phone",
                                    "13812345678", "--sender-address", "浙江省杭州市文一西路 998 号", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == {"written": str(tmp_path / "pddbatch.toml")}
    from pddbatch.config import load_config

    assert load_config(tmp_path / "pddbatch.toml").sender.name == '小"店'


@pytest.mark.parametrize("message,routed", [
    ("不要发顺丰，运费太贵", False), ("能发顺丰吗？", False), ("别走顺丰", False),
    ("请发顺丰，谢谢", True), ("不要圆通，发顺丰", True),
])
def test_keyword_rules_follow_the_meaning(tmp_path: Path, message: str, routed: bool) -> None:
    rows = sample_rows(3, faults=False)
    for r in rows:
        r["省"], r["买家留言"], r["商家备注"] = "浙江省", "", ""
    rows[0]["买家留言"] = message
    book = _ready(rows, tmp_path)
    shutil.copy(SAMPLE / "pddbatch.toml", tmp_path / "pddbatch.toml")
    res = CliRunner().invoke(main, ["explain", str(book), str(rows[0]["订单号"])])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    carrier = next(line for line in lines if line.startswith("快递："))
    if routed:
        assert carrier == "快递：顺丰快递（规则“买家要顺丰”）"
        matched = next(line for line in lines if line.startswith("规则“买家要顺丰”适用"))
        clause = "发顺丰" if "圆通" in message else "请发顺丰"
        assert matched == f"规则“买家要顺丰”适用：备注/留言中的“{clause}”"
    else:
        assert "顺丰" not in carrier
        assert any("规则“买家要顺丰”不适用：备注/留言提到 顺丰，但同一句里有" in line for line in lines)


def test_reprint_and_rerun_say_what_the_ledger_knows(shop: Path) -> None:
    import openpyxl
    from openpyxl.utils import get_column_letter

    from tests.support import set_cell_text

    book = shop / "orders.xlsx"
    runner = CliRunner()
    first = runner.invoke(main, ["process", str(book), "--now", "2026-11-26 09:00:00"])
    assert first.exit_code == 1, first.output
    res = runner.invoke(main, ["reprint", "000000-000000000000000", "--config", str(shop / "pddbatch.toml")])
    assert res.exit_code == 2
    assert res.output == ("错误：000000-000000000000000 从未分配过单号（台账中没有），没有可补打的面单；"
                          "请先用 pddbatch process 处理\n")
    ws = openpyxl.load_workbook(book, read_only=True)["订单列表"]
    rows = list(ws.iter_rows(values_only=True))
    head = {str(h).strip(): i for i, h in enumerate(rows[0]) if h}
    idx, row = next((i, r) for i, r in enumerate(rows[1:], start=2) if r[head["处理状态"]] == "已分配")
    tracking = row[head["快递单号"]]
    set_cell_text(book, f"{get_column_letter(head['手机'] + 1)}{idx}", "12345")
    again = runner.invoke(main, ["process", str(book), "--now", "2026-11-26 09:00:00"])
    assert again.exit_code == 1, again.output
    ws = openpyxl.load_workbook(book, read_only=True)["订单列表"]
    after = list(ws.iter_rows(values_only=True))[idx - 1]
    assert after[head["处理状态"]] == "校验失败"
    assert str(after[head["处理说明"]]).startswith(
        f"该订单已有单号 中通快递 {tracking}（台账中仍有效，面单可能已打印）；改正下面的问题后重新处理会沿用这个单号；"
        f"不再发货请用 pddbatch void {tracking} 作废；")


@pytest.mark.parametrize("debug", [False, True])
def test_nothing_is_printed_after_the_run_has_answered(tmp_path: Path, debug: bool) -> None:
    """An object abandoned mid-write by a stop complains from __del__ when the process ends (Python 3.13
    printed a zipfile traceback after 已中断). Once `run()` has answered, such complaints are dropped —
    unless PDDBATCH_DEBUG asks for everything."""
    import os
    import subprocess
    import sys

    script = ("import sys\nfrom pddbatch.cli import run\n"
              "class Abandoned:\n    def __del__(self):\n        raise ValueError('complaint from __del__')\n"
              "left = Abandoned()\nsys.argv = ['pddbatch', '--version']\nrun()\n")
    env = {k: v for k, v in os.environ.items() if k != "PDDBATCH_DEBUG"} | ({"PDDBATCH_DEBUG": "1"} if debug else {})
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert "pddbatch" in res.stdout
    assert ("complaint from __del__" in res.stderr) is debug, res.stderr
