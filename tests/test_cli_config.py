"""`pddbatch init` and config mistakes: the seller learns which key is wrong and what it should be."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from pddbatch.cli import main
from pddbatch.config import load_config
from tests.support import generator, sample_rows


def test_init_writes_a_commented_config_that_loads(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["init", "--dir", str(tmp_path), "--sender-name", "小店",
                                    "--sender-phone", "0571-88886666", "--sender-address", "浙江省杭州市文一西路 998 号",
                                    "--carrier", "圆通快递"])
    assert res.exit_code == 0, res.output
    cfg = load_config(tmp_path / "pddbatch.toml")
    assert (cfg.sender.name, cfg.default_carrier) == ("小店", "YTO")
    assert "# 快递规则" in (tmp_path / "pddbatch.toml").read_text(encoding="utf-8")
    again = CliRunner().invoke(main, ["init", "--dir", str(tmp_path), "--sender-name", "x", "--sender-phone", "1",
                                      "--sender-address", "y"])
    assert again.exit_code == 2 and "--force" in again.output


def test_init_asks_for_what_is_missing(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["init", "--dir", str(tmp_path)],
                             input="小店\n13812345678\n浙江省杭州市余杭区文一西路 998 号\n")
    assert res.exit_code == 0, res.output
    assert load_config(tmp_path / "pddbatch.toml").sender.phone == "13812345678"


def test_config_mistakes_name_the_key_and_expectation(tmp_path: Path) -> None:
    book = tmp_path / "orders.xlsx"
    generator.write_xlsx(sample_rows(10, faults=False), book)
    (tmp_path / "pddbatch.toml").write_text(
        '[sender]\nname = "小店"\naddress = "杭州"\n[carriers]\ndefault = "ZTO"\n[plan]\nmerge = "yes"\n'
        '[labels]\nsize = "80x100"\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["process", str(book)])
    assert res.exit_code == 2
    out = res.output
    assert "sender：缺少 phone" in out
    assert '  plan.merge：应为 true 或 false（是 / 否，不加引号），现在是 "yes"' in out
    assert 'labels.size：应为 76x130 / 100x180 之一，现在是 "80x100"' in out
    assert "boolean" not in out and "Traceback" not in out


def test_unknown_carrier_in_config(tmp_path: Path) -> None:
    (tmp_path / "pddbatch.toml").write_text(
        '[sender]\nname = "小店"\nphone = "13812345678"\naddress = "浙江杭州"\n[carriers]\ndefault = "顺风"\n',
        encoding="utf-8")
    book = tmp_path / "orders.xlsx"
    generator.write_xlsx(sample_rows(10, faults=False), book)
    res = CliRunner().invoke(main, ["process", str(book)])
    assert res.exit_code == 2 and "不认识的快递公司“顺风”" in res.output


def test_init_beside_the_workbook(tmp_path: Path) -> None:
    book = tmp_path / "exports" / "订单明细-20261126.xlsx"
    book.parent.mkdir()
    generator.write_xlsx(sample_rows(5, faults=False), book)
    res = CliRunner().invoke(main, ["init", str(book), "--sender-name", "小店", "--sender-phone", "13812345678",
                                    "--sender-address", "浙江省杭州市文一西路 998 号"])
    assert res.exit_code == 0, res.output
    assert (book.parent / "pddbatch.toml").is_file()
    assert f"已写入 {book.parent / 'pddbatch.toml'}" in res.output
