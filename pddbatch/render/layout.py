"""Label layouts as data: a JSON layout (schemas/label.schema.json) whose field texts are Jinja2.

Templates run in a Jinja2 SandboxedEnvironment with StrictUndefined (a misspelt variable is an error,
not a blank). Autoescape is off: label text is drawn as glyphs, not markup; the ZPL writer escapes
its own control characters. Any broken template raises `TemplateError` naming the file and line.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from pddbatch.errors import TemplateError
from pddbatch.resources import load_json, template_path


@dataclass(frozen=True)
class FieldTemplate:
    """One compiled field text; `render(ctx)` raises TemplateError with file and line."""

    file: str
    line: int            # line in `file` where the template starts
    source: str
    template: jinja2.Template | None   # None: constant text

    def render(self, ctx: Mapping[str, Any]) -> str:
        if self.template is None:
            return self.source
        try:
            return self.template.render(ctx)
        except Exception as exc:  # noqa: BLE001 - any template failure is the seller's template
            raise _error(self, exc, sys.exc_info()[2]) from exc


@dataclass(frozen=True)
class Field:
    id: str
    kind: str
    x: float
    y: float
    w: float
    h: float
    text: FieldTemplate
    size: float
    min_size: float
    bold: bool
    align: str
    valign: str
    wrap: bool
    line_height: float
    static: bool
    max_module_dots: int
    min_module_dots: int


@dataclass(frozen=True)
class Rule:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float
    dash: bool


@dataclass(frozen=True)
class Layout:
    name: str
    file: str
    width_mm: float
    height_mm: float
    rules: tuple[Rule, ...]
    fields: tuple[Field, ...]


def _env() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False,
                                trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)


def _read(name: str, layout_dir: Path | None) -> tuple[str, str]:
    """(display path, text) of a layout/template file: the seller's dir first, then the package."""
    if layout_dir is not None and (layout_dir / name).is_file():
        p = layout_dir / name
        return str(p), p.read_text(encoding="utf-8")
    t = template_path(name)
    if not t.is_file():
        raise TemplateError(f"找不到模板文件：{name}", f"Template file not found: {name}")
    return f"templates/{name}", t.read_text(encoding="utf-8")


def _line_of(raw: str, value: str, near: str) -> int:
    """Line in the JSON text where the string `value` appears (after the field `near`)."""
    start = max(raw.find(f'"{near}"'), 0)
    for enc in (json.dumps(value, ensure_ascii=False), json.dumps(value)):
        i = raw.find(enc, start)
        if i < 0:
            i = raw.find(enc)
        if i >= 0:
            return raw.count("\n", 0, i) + 1
    return raw.count("\n", 0, start) + 1


def _compile(env: SandboxedEnvironment, file: str, line: int, source: str) -> FieldTemplate:
    if "{" not in source:
        return FieldTemplate(file, line, source, None)
    try:
        tpl = env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        at = line + (exc.lineno or 1) - 1
        raise TemplateError(f"模板有错：{file} 第 {at} 行：{exc.message}",
                            f"Broken template: {file} line {at}: {exc.message}") from exc
    return FieldTemplate(file, line, source, tpl)


def _error(ft: FieldTemplate, exc: BaseException, tb: TracebackType | None) -> TemplateError:
    rel = 1
    while tb is not None:  # Jinja rewrites tracebacks so template frames carry template line numbers
        if tb.tb_frame.f_code.co_filename == "<template>":
            rel = tb.tb_lineno
        tb = tb.tb_next
    at = ft.line + rel - 1
    return TemplateError(f"模板有错：{ft.file} 第 {at} 行：{exc}", f"Broken template: {ft.file} line {at}: {exc}")


SEP = "\x1e"


class CombinedTemplate:
    """All of a label's page fields as one template; `render(ctx)` gives their texts joined by SEP.

    `Template.render` merges the template's globals (a ChainMap of Jinja's and ours) into every
    context; read once here and handed over as the context itself (`shared=True`, Jinja's public
    way to pass data as is), a label's one render costs 57 -> 38 us.
    """

    def __init__(self, template: jinja2.Template) -> None:
        self.template = template
        self.globals = dict(template.globals)

    def render(self, ctx: Mapping[str, Any]) -> str:
        t = self.template
        return "".join(t.root_render_func(t.new_context({**self.globals, **ctx}, shared=True)))


def combined(texts: Sequence[FieldTemplate]) -> CombinedTemplate | None:
    """One template rendering all `texts` joined by SEP (one Jinja context per label, not per field).

    Callers split the output on SEP; on any error they render the fields one by one, which raises
    the precise TemplateError. None when the sources can't be combined safely.
    """
    srcs = [t.source for t in texts]
    if any(SEP in s for s in srcs):
        return None
    try:
        return CombinedTemplate(_env().from_string(SEP.join(srcs)))
    except jinja2.TemplateError:
        return None


def _validate(doc: Any, file: str) -> None:
    import jsonschema

    schema = load_json("label.schema.json")
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(根)"
        raise TemplateError(f"标签版式不合规：{file} {where}：{e.message}",
                            f"Invalid label layout: {file} {where}: {e.message}")


def load_layout(label_size: str, layout_dir: Path | None = None) -> Layout:
    """Load and compile `label-<size>.json` (seller's layout dir first, then templates/)."""
    if not re.fullmatch(r"\d{2,3}x\d{2,3}", label_size):
        raise TemplateError(f"不支持的面单尺寸：{label_size}", f"Unsupported label size: {label_size}")
    file, raw = _read(f"label-{label_size}.json", layout_dir)
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"标签版式不是合法 JSON：{file} 第 {exc.lineno} 行：{exc.msg}",
                            f"Label layout is not valid JSON: {file} line {exc.lineno}: {exc.msg}") from exc
    _validate(doc, file)
    env = _env()
    fields = []
    for f in doc["fields"]:
        if "template" in f:
            tfile, src = _read(f["template"], layout_dir)
            src = src.rstrip("\n")
            text = _compile(env, tfile, 1, src)
        else:
            text = _compile(env, file, _line_of(raw, f["text"], f["id"]), f["text"])
        size = float(f.get("size", 9))
        fields.append(Field(
            id=f["id"], kind=f["kind"], x=f["x"], y=f["y"], w=f["w"], h=f["h"], text=text, size=size,
            min_size=float(f.get("min_size", min(size, 6))), bold=f.get("bold", False),
            align=f.get("align", "left"), valign=f.get("valign", "top"), wrap=f.get("wrap", False),
            line_height=float(f.get("line_height", 1.2)), static=f.get("static", False),
            max_module_dots=f.get("max_module_dots", 3), min_module_dots=f.get("min_module_dots", 2)))
    rules = tuple(Rule(r["x1"], r["y1"], r["x2"], r["y2"], r.get("width_mm", 0.3), r.get("dash", False))
                  for r in doc.get("rules", []))
    return Layout(doc["name"], file, float(doc["width_mm"]), float(doc["height_mm"]), rules, tuple(fields))
