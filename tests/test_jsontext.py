"""summary.json and `--json` text: the same data back through json.loads, one key / one item per line."""

from __future__ import annotations

import json

import pytest

from pddbatch.jsontext import readable_json

CASES: list[object] = [
    {}, [], {"a": []}, {"a": {}}, 0, "文字", None, [1, 2, 3],
    {"ok": False, "exit_code": 2, "error": "错误：\"引号\"\n换行\t制表"},
    {"urgent": [{"order_sn": "261123-5872", "hours_left": -1.5, "overdue": True}] * 3, "files": ["a", "b"],
     "nested": {"x": [[1, 2], [3]]}, "n": 1.0e-7, 5: "int key"},
    [{"a": 1}, {"b": [None, "😀"]}],
]


@pytest.mark.parametrize("data", CASES)
def test_same_data_back(data: object) -> None:
    text = readable_json(data)
    expected = json.loads(json.dumps(data))   # int keys become strings, as in any JSON
    assert json.loads(text) == expected


def test_one_key_and_one_list_item_per_line() -> None:
    data = {"rows": 3, "urgent": [{"order_sn": f"SN{i}", "row": i} for i in range(4)], "files": ["x.pdf", "y.zpl"]}
    lines = readable_json(data).splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    assert lines[1] == '  "rows": 3,'
    assert lines[2] == '  "urgent": ['
    assert lines[3:7] == [f'    {{"order_sn": "SN{i}", "row": {i}}}' + ("," if i < 3 else "") for i in range(4)]
    assert lines[7] == "  ],"
    assert lines[8] == '  "files": ["x.pdf", "y.zpl"]'
    assert "文字" in readable_json({"k": "文字"})      # not \\u escapes: people read the file


VALUES: list[object] = ["引号\"反斜杠\\换行\n\x01", "", 0, -3, 10**30, 2.5, 1.0e-7, float("inf"), True, None, [],
                        {}, (1, "二"), {"k": [1, {"x": None}], 7: "int key", "嵌": {"深": [1.5]}}]


@pytest.mark.parametrize("value", VALUES)
def test_item_text_is_what_json_dumps_writes(value: object) -> None:
    """Each item (and each value) is encoded by the reused C encoder exactly as json.dumps does."""
    text = readable_json({"v": value, "items": [{"i": value}, [value]]})
    lines = text.splitlines()
    assert lines[1] == f'  "v": {json.dumps(value, ensure_ascii=False)},'
    assert lines[3] == "    " + json.dumps({"i": value}, ensure_ascii=False) + ","
    assert lines[4] == "    " + json.dumps([value], ensure_ascii=False)


def test_not_json_is_refused() -> None:
    with pytest.raises(TypeError):
        readable_json({"x": [object()]})
