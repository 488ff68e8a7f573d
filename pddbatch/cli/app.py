"""The one click group and what every command shares: `--json`/`--lang`, the error sentence, exit codes.

Exit codes: 0 all good, 1 some rows rejected / short of numbers / exceptions found, 2 usage or fatal.
Every command is declared with `@face`, which adds `--json` and `--lang` (default: `PDDBATCH_LANG`,
else Chinese), hands the command an `Out` (language, JSON or text, echo helpers) and turns any
`PddBatchError` into one "错误：…" / "Error: …" line on stderr and exit code 2 — the only place
that translation happens. `run()` is the installed entry point: the last line of defence, so a
seller never sees a traceback.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import IO, Any, NoReturn, TypeVar

import click

from pddbatch import __version__
from pddbatch.errors import OutOfMemory, PddBatchError
from pddbatch.jsontext import readable_json
from pddbatch.messages import pick

LANG_ENV = "PDDBATCH_LANG"
LANGS = ("zh", "en")
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def env_lang() -> str | None:
    """The language the seller set for every command (`PDDBATCH_LANG`), if it is one we speak."""
    value = os.environ.get(LANG_ENV, "").strip().lower()
    return value if value in LANGS else None


class Failed(click.ClickException):
    """A fatal problem, shown as one line in the seller's language; exit code 2."""

    exit_code = 2

    def __init__(self, message: str, lang: str = "zh", as_json: bool = False) -> None:
        super().__init__(message)
        self.lang = lang
        self.as_json = as_json

    def show(self, file: IO[Any] | None = None) -> None:
        if self.as_json:    # a machine reading stdout still gets a document, and a person the sentence
            click.echo(readable_json({"ok": False, "exit_code": self.exit_code, "error": self.message}))
        click.echo(pick(self.lang, "错误：", "Error: ") + self.message, err=True)


def interrupted_text(lang: str) -> str:
    return pick(lang, "已中断：台账中不会留下半分配的单号，重新运行即可继续。",
                "Interrupted: the ledger holds no half-allocated number; run again to continue.")


class Out:
    """What a command knows about its reader: the language, JSON or text; and how to talk to them."""

    def __init__(self, lang: str | None, as_json: bool) -> None:
        chosen = lang or env_lang()
        self.lang_given = chosen is not None      # else a config's [output] lang may decide
        self.lang = chosen or "zh"
        self.json = as_json

    def pick(self, zh: str, en: str) -> str:
        return pick(self.lang, zh, en)

    def echo(self, zh: str, en: str | None = None, *, err: bool = False) -> None:
        click.echo(zh if en is None else self.pick(zh, en), err=err)

    def emit_json(self, data: object) -> None:
        click.echo(readable_json(data))

    def fail(self, zh: str, en: str) -> NoReturn:
        raise Failed(self.pick(zh, en), self.lang, self.json)

    def error(self, exc: PddBatchError) -> Failed:
        """The one translation of a library error into what the terminal shows."""
        return Failed(exc.text(self.lang), self.lang, self.json)

    def adopt(self, lang: str) -> None:
        """Use the config's language unless the seller chose one with --lang or PDDBATCH_LANG."""
        if not self.lang_given and lang in LANGS:
            self.lang = lang


def exit_with(code: int) -> NoReturn:
    raise click.exceptions.Exit(code)


# What a command's run made (its result, its working state), held until the process ends: `cli.leave`
# lets it all go at once, where Python would free a big day's millions of objects one by one after
# the answer (100,000 orders: ~0.2 s). Emptied as each command starts, so an in-process caller (the
# tests) holds only the last command's.
KEPT: list[object] = []


def face(func: F) -> F:
    """Declare a command's shared options (`--json`, `--lang`) and its error translation.

    The decorated function takes `out: Out` instead of `lang`/`as_json`.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, lang: str | None, as_json: bool, **kwargs: Any) -> Any:
        out = Out(lang, as_json)
        KEPT.clear()
        try:
            return func(*args, out=out, **kwargs)
        except PddBatchError as exc:
            raise out.error(exc) from exc
        except KeyboardInterrupt:
            click.echo(interrupted_text(out.lang), err=True)
            exit_with(2)
        except MemoryError as exc:
            if os.environ.get("PDDBATCH_DEBUG"):
                raise
            raise out.error(OutOfMemory()) from exc

    wrapped = click.option("--lang", type=click.Choice(LANGS), default=None,
                           help=f"输出语言 / message language (default: ${LANG_ENV}, else zh).")(wrapper)
    wrapped = click.option("--json", "as_json", is_flag=True, help="输出 JSON / print a machine-readable summary.")(
        wrapped)
    return wrapped  # type: ignore[return-value]


STAGES = {"read": ("读取表格", "Reading"), "plan": ("规划包裹", "Planning"),
          "allocate": ("分配单号", "Allocating numbers"), "render": ("生成面单与单据", "Rendering documents"),
          "write_back": ("写回表格", "Writing back")}
Progress = Callable[[str, int, int], None]
# one-time work the library announces once it takes over a second: one line each, not a bar step
NOTICES = {"prepare_font": ("首次使用：正在准备面单中文字体（只需一次）…",
                            "First use: preparing the Chinese label font (one time only)…")}


def notice(stage: str, lang: str, newline: bool = False) -> bool:
    """Print a one-time notice for `stage` (stderr); False when `stage` is not one."""
    if stage not in NOTICES:
        return False
    click.echo(("\n" if newline else "") + pick(lang, *NOTICES[stage]), err=True)
    return True


class StageBar:
    """A progress bar over a run's stages, on stderr, only when a person is watching."""

    ORDER = ("read", "plan", "allocate", "render", "write_back")

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.bar: Any = None
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if notice(stage, self.lang, newline=self.bar is not None) or stage not in STAGES:
            return
        label = pick(self.lang, *STAGES[stage]) + (f" ({total})" if total > 1 else "")
        if self.bar is None:
            self.bar = click.progressbar(length=len(self.ORDER), label=label, file=sys.stderr, width=24)
            self.bar.__enter__()
        step = self.ORDER.index(stage) + 1
        self.bar.label = label
        self.bar.update(max(step - self.done, 0))
        self.done = max(step, self.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update(len(self.ORDER) - self.done)
            self.bar.__exit__(None, None, None)


def with_progress(fn: Callable[[Progress], T], out: Out) -> T:
    """Run a pipeline call with a stage bar on stderr when a person is watching (not for --json);
    one-time notices (preparing the label font) are printed either way, except with --json."""
    if out.json:
        return fn(lambda stage, done, total: None)
    if not sys.stderr.isatty():
        return fn(lambda stage, done, total: None if notice(stage, out.lang) else None)
    bar = StageBar(out.lang)
    try:
        return fn(bar)
    finally:
        bar.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pddbatch")
def main() -> None:
    """拼多多批量发货：校验订单、分配单号、打印面单、写回表格、对账。

    pddbatch turns a Pinduoduo order export into labelled, handed-over, shipped parcels.
    Every command takes --json and --lang (or PDDBATCH_LANG=en).
    """


def _argv_lang() -> str:
    """The language asked for on the command line, for the one message written outside click."""
    args = sys.argv[1:]
    for i, arg in enumerate(args):
        value = args[i + 1] if arg == "--lang" and i + 1 < len(args) else arg.partition("--lang=")[2]
        if value in LANGS:
            return value
    return env_lang() or "zh"


def run() -> None:
    """Entry point that never shows a traceback to a seller (PDDBATCH_DEBUG=1 shows it)."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:     # outside a command's own handling (parsing, the summary print)
        click.echo(pick(_argv_lang(), "错误：", "Error: ") + interrupted_text(_argv_lang()), err=True)
        sys.exit(2)
    except MemoryError:
        if os.environ.get("PDDBATCH_DEBUG"):
            raise
        click.echo(pick(_argv_lang(), "错误：", "Error: ") + OutOfMemory().text(_argv_lang()), err=True)
        sys.exit(2)
    except Exception as exc:  # last line of defence: a plain sentence, exit 2
        if os.environ.get("PDDBATCH_DEBUG"):
            raise
        lang = _argv_lang()
        detail = f"{type(exc).__name__}: {str(exc)[:200]}"
        click.echo(pick(lang, f"错误：内部错误（{detail}）。请把这条信息发给开发者；设置 PDDBATCH_DEBUG=1 可看到详细信息。",
                        f"Error: internal error ({detail}). Please send this line to the developers; "
                        f"PDDBATCH_DEBUG=1 shows the details."), err=True)
        sys.exit(2)
