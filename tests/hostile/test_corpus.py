"""Every hostile case through `validate`, `process` and `reconcile`: no traceback, no hang, no leak.

The corpus (>= 200 cases) runs once per session in parallel; each case is then its own test item so a
failure names the case. The 1,000,000-row cases are slow: `python -m pytest -m slow tests/hostile`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile import runner
from tests.hostile.corpus import cases

BIG_ROWS = 200_000
CASES = cases(BIG_ROWS)
BY_NAME = {c.name: c for c in CASES}


@pytest.fixture(scope="session")
def corpus_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, runner.CaseResult]:
    return runner.run_all([c for c in CASES if not c.slow], tmp_path_factory.mktemp("corpus"))


def test_corpus_is_big_and_covers_every_group() -> None:
    groups = {c.group for c in CASES}
    assert len([c for c in CASES if not c.slow]) >= 200
    assert groups == {"container", "xml", "content", "formula", "csv", "size"}
    xml_parts = {c.name.split(":", 2)[2] for c in CASES if c.group == "xml"}
    assert {"xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml", "xl/styles.xml",
            "[Content_Types].xml", "xl/comments1.xml"} <= xml_parts
    assert any(c.name.startswith("rows-1000000") for c in CASES)


@pytest.mark.parametrize("name", [c.name for c in CASES if not c.slow])
def test_hostile_case(name: str, corpus_results: dict[str, runner.CaseResult]) -> None:
    result = corpus_results[name]
    assert result.ok, result.describe()


def test_canary_never_leaks(corpus_results: dict[str, runner.CaseResult]) -> None:
    """The XXE cases ran (and read nothing): at least one per parsed part got past the reader or was refused."""
    xxe = [r for r in corpus_results.values() if r.case.startswith("xml:xxe")]
    assert len(xxe) >= 18
    assert all(r.ok for r in xxe), "\n".join(r.describe() for r in xxe if not r.ok)


def test_some_cases_fail_and_some_pass(corpus_results: dict[str, runner.CaseResult]) -> None:
    """The corpus is not all refusals: odd-but-valid input is processed, hostile input is refused."""
    codes = {c.rc for r in corpus_results.values() for c in r.commands if c.command == "process"}
    assert {0, 1, 2} <= codes
    bombs = [corpus_results[n] for n in corpus_results if n.startswith(("bomb:real", "declared-huge"))]
    assert bombs and all(c.rc == 2 for r in bombs for c in r.commands if c.command != "reconcile")


@pytest.mark.slow
@pytest.mark.parametrize("name", [c.name for c in CASES if c.slow])
def test_million_rows(name: str, tmp_path: Path) -> None:
    case = BY_NAME[name]
    result = runner.run_case(case, tmp_path, runner.SAMPLE / "售后-sample.xlsx", runner.SAMPLE / "退货登记-sample.xlsx")
    runner.RESULTS[name] = result
    assert result.ok, result.describe()
