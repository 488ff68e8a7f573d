"""快递100 real-time query (实时查询), the live tracking provider.

    POST https://poll.kuaidi100.com/poll/query.do
    customer=…&param={"com":…,"num":…,"phone":…,"from":"","to":"","resultv2":"1"}&sign=…
    sign = upper(md5(param + key + customer))

The answer is `{message, nu, ischeck, com, status: "200", state, data: [{time, ftime, context}]}`;
a refusal is `{result: false, returnCode, message}`. The phone (last 4 digits, or a virtual number's
extension) is sent because SF and others refuse queries without it. No third-party HTTP library:
one form POST over urllib is all it takes.
"""

from __future__ import annotations

import hashlib
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from functools import cache
from typing import Any

from pddbatch.messages import pick
from pddbatch.resources import load_json
from pddbatch.tracking.events import EventImport, parcel_events
from pddbatch.tracking.provider import LiveAnswer, LiveQuery, TrackingServiceError, query_phone

URL = "https://poll.kuaidi100.com/poll/query.do"
TIMEOUT_S = 10.0


def sign(param: str, key: str, customer: str) -> str:
    """The documented signature: upper-case hex MD5 of param + key + customer (UTF-8)."""
    return hashlib.md5((param + key + customer).encode("utf-8")).hexdigest().upper()


@cache
def _com_codes() -> dict[str, str]:
    return {c["code"]: c["kuaidi100"] for c in load_json("carriers.json")["carriers"] if c.get("kuaidi100")}


def com_code(carrier_code: str) -> str:
    """快递100's company code for a PDD carrier code (ZTO -> zhongtong); '' when it has none."""
    return _com_codes().get(carrier_code, "")


class Kuaidi100:
    """快递100 实时查询 with the shop's `customer` id and `key` (pddbatch.toml [tracking.kuaidi100])."""

    name = "kuaidi100"
    min_interval = timedelta(minutes=30)

    def __init__(self, customer: str, key: str, url: str = URL, timeout: float = TIMEOUT_S) -> None:
        self.customer = customer
        self.key = key
        self.url = url
        self.timeout = timeout

    def request_body(self, q: LiveQuery) -> bytes:
        param = json.dumps({"com": com_code(q.carrier), "num": q.tracking_no, "phone": query_phone(q.phone),
                            "from": "", "to": "", "resultv2": "1"}, ensure_ascii=False, separators=(",", ":"))
        form = {"customer": self.customer, "sign": sign(param, self.key, self.customer), "param": param}
        return urllib.parse.urlencode(form).encode("utf-8")

    def query(self, q: LiveQuery, lang: str = "zh") -> LiveAnswer:
        if not com_code(q.carrier):
            return LiveAnswer(q.tracking_no, error="bad-request", message=pick(
                lang, f"快递100 不支持快递公司 {q.carrier}", f"快递100 has no code for carrier {q.carrier}"))
        req = urllib.request.Request(self.url, data=self.request_body(q), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:   # noqa: S310 (URL from config)
                raw = resp.read(8 << 20)
        except TimeoutError:
            return self._timeout(q, lang)
        except urllib.error.HTTPError as exc:
            return LiveAnswer(q.tracking_no, error="busy", message=pick(
                lang, f"快递100 服务出错（HTTP {exc.code}），稍后再查", f"快递100 answered HTTP {exc.code}; try later"))
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                return self._timeout(q, lang)
            raise TrackingServiceError(f"无法连接快递100（{exc.reason}）：请检查网络或配置中的地址",
                                       f"Cannot reach 快递100 ({exc.reason}): check the network or the URL") from exc
        except OSError as exc:       # a reset connection mid-answer
            return LiveAnswer(q.tracking_no, error="busy", message=pick(
                lang, f"快递100 连接中断（{exc}），稍后再查", f"Connection to 快递100 broke ({exc}); try later"))
        try:
            answer = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return LiveAnswer(q.tracking_no, error="bad-answer", message=pick(
                lang, "快递100 返回的内容无法识别（可能不完整），稍后再查",
                "快递100's answer can't be read (cut short?); try later"))
        return self._read(q, answer, lang)

    def _timeout(self, q: LiveQuery, lang: str) -> LiveAnswer:
        return LiveAnswer(q.tracking_no, error="timeout", message=pick(
            lang, f"查询 {q.tracking_no} 超时（{self.timeout:g} 秒），稍后再查",
            f"Query for {q.tracking_no} timed out ({self.timeout:g} s); try later"))

    def _read(self, q: LiveQuery, answer: Any, lang: str) -> LiveAnswer:
        if not isinstance(answer, dict):
            return LiveAnswer(q.tracking_no, error="bad-answer", message=pick(
                lang, "快递100 返回的内容无法识别", "快递100's answer can't be read"))
        if answer.get("result") is False or ("returnCode" in answer and "data" not in answer):
            return self._refusal(q, str(answer.get("returnCode", "")), str(answer.get("message", "")), lang)
        got = EventImport(self.name)
        parcel_events({**answer, "nu": answer.get("nu") or q.tracking_no}, self.name, got, 1, lang)
        events = [e for e in got.events if e.tracking_no == q.tracking_no.upper()] or got.events
        if got.issues and not events:
            return LiveAnswer(q.tracking_no, error="bad-answer", message=got.issues[0].message)
        return LiveAnswer(q.tracking_no, events)

    def _refusal(self, q: LiveQuery, code: str, text: str, lang: str) -> LiveAnswer:
        said = f"（快递100：{code} {text}）" if lang != "en" else f" (快递100: {code} {text})"
        if code == "503" or "签名" in text or "sign" in text.lower():
            raise TrackingServiceError(
                f"快递100 拒绝了查询：customer 或 key 不对{said}。请核对 pddbatch.toml 的 [tracking.kuaidi100]",
                f"快递100 refused the query: wrong customer or key{said}. Check [tracking.kuaidi100] in pddbatch.toml")
        if code == "601" or "余额" in text or "过期" in text or "单量" in text:
            raise TrackingServiceError(
                f"快递100 账户余额不足或 key 已过期{said}：请在快递100 后台充值或续期",
                f"快递100 account out of balance or the key expired{said}: top up in the 快递100 console")
        if code == "500":
            return LiveAnswer(q.tracking_no, error="unknown-number", message=pick(
                lang, f"快递100 查不到单号 {q.tracking_no}（可能尚未揽收或快递公司不对）",
                f"快递100 knows nothing about {q.tracking_no} (not picked up yet, or the wrong carrier)"))
        if code == "408":
            return LiveAnswer(q.tracking_no, error="phone-check", message=pick(
                lang, f"{q.tracking_no}：快递公司要求的手机号后四位不对{said}",
                f"{q.tracking_no}: the carrier rejected the phone's last 4 digits{said}"))
        if code in ("501", "502"):
            return LiveAnswer(q.tracking_no, error="busy", message=pick(
                lang, f"快递100 服务繁忙{said}，稍后再查", f"快递100 is busy{said}; try later"))
        return LiveAnswer(q.tracking_no, error="bad-request", message=pick(
            lang, f"快递100 拒绝查询 {q.tracking_no}{said}", f"快递100 refused the query for {q.tracking_no}{said}"))
