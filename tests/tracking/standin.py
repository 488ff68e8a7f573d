"""A local stand-in for 快递100's real-time query (poll/query.do), strict about what the docs say.

It checks the form (customer, sign, param), recomputes the signature exactly as documented —
upper(md5(param + key + customer)) — and answers in the documented shapes: the trace on success,
`{result: false, returnCode, message}` otherwise (503 bad signature, 601 no balance, 500 no such
number, 408 wrong phone digits, 400 bad request). `slow` numbers answer after `delay` seconds, `cut`
numbers get half an answer.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class StandIn:
    customer: str = "CUST0001"
    key: str = "kEy-secret"
    balance: int = 1000
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)     # number -> the 4 digits the carrier wants
    slow: set[str] = field(default_factory=set)
    cut: set[str] = field(default_factory=set)
    delay: float = 1.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def reply(self, form: dict[str, str]) -> tuple[bytes, float]:
        if not {"customer", "sign", "param"} <= set(form):
            return _refuse("400", "提交的数据不完整"), 0
        want = hashlib.md5((form["param"] + self.key + form["customer"]).encode("utf-8")).hexdigest().upper()
        if form["customer"] != self.customer or form["sign"] != want:
            return _refuse("503", "验证签名失败"), 0
        if self.balance <= 0:
            return _refuse("601", "POLL:KEY已过期或账户余额不足"), 0
        param = json.loads(form["param"])
        self.requests.append(param)
        self.balance -= 1
        num = param.get("num", "")
        if not param.get("com"):
            return _refuse("400", "找不到对应公司"), 0
        if num in self.phones and param.get("phone") != self.phones[num]:
            return _refuse("408", "快递公司参数异常：验证码错误"), 0
        if num not in self.answers:
            return _refuse("500", "查询无结果，请隔段时间再查"), 0
        body = json.dumps(self.answers[num], ensure_ascii=False).encode("utf-8")
        if num in self.cut:
            body = body[: len(body) // 2]
        return body, (self.delay if num in self.slow else 0)


def _refuse(code: str, message: str) -> bytes:
    return json.dumps({"result": False, "returnCode": code, "message": message}, ensure_ascii=False).encode()


@contextmanager
def running(standin: StandIn) -> Iterator[StandIn]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:   # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8")).items()}
            body, wait = standin.reply(form)
            if wait:
                time.sleep(wait)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json;charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:      # the client gave up (time-out)
                pass

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    standin.url = f"http://127.0.0.1:{server.server_address[1]}/poll/query.do"
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()
