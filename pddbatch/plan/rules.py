"""Carrier rules: conditions on a parcel, actions when it matches. First match wins.

A rule is data in `pddbatch.toml` (`[[carriers.rules]]`, schema in schemas/config.schema.json).
Every decision can be explained: `Rule.check` says which condition failed, `Rule.matched_text`
which words of the buyer's message or the seller's remark made a keyword rule apply.

Keywords follow what the buyer meant, not the letters: the text (商家备注 + 买家留言) is cut into
clauses at punctuation (，。！？；… and line breaks, the mark kept with its clause), and a keyword
counts only in a clause that no `not_keywords` entry matches. So with `keywords = ["顺丰"]` and
`not_keywords = ["不要顺丰", "/顺丰.*[吗么嘛？?]/"]`, "不要发顺丰，运费太贵" and "能发顺丰吗？" do not
apply while "不要圆通，发顺丰" does. An entry written `/…/` is a regular expression (Python `re`);
any other entry is plain text, compared after NFKC normalisation and case folding (ＳＦ = sf).
"""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pddbatch.errors import ConfigError
from pddbatch.model import Order, Receiver

REMOTE_PROVINCES = ("新疆", "西藏", "青海", "内蒙古", "甘肃", "宁夏", "海南")


@dataclass(frozen=True)
class Range:
    low: float | None = None
    high: float | None = None

    @classmethod
    def parse(cls, raw: Any) -> Range | None:
        if raw is None:
            return None
        return cls(raw.get("min"), raw.get("max"))

    def holds(self, value: float | None) -> bool:
        if value is None:
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def text(self) -> str:
        lo = "" if self.low is None else f"{self.low:g}"
        hi = "" if self.high is None else f"{self.high:g}"
        return f"{lo}–{hi}"


@dataclass(frozen=True)
class ParcelFacts:
    """What rules look at, computed once per parcel."""

    receiver: Receiver
    skus: tuple[str, ...]
    quantity: int
    weight_g: int | None
    amount: Decimal | None
    text: str                     # 商家备注 and 买家留言 of all orders, one per line
    deadline: datetime | None
    now: datetime


@dataclass(frozen=True)
class Rule:
    name: str
    carrier: str | None = None
    label_size: str | None = None
    priority: int | None = None
    hold: str | None = None
    provinces: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    remote: bool | None = None
    skus: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    not_keywords: tuple[str, ...] = ()
    quantity: Range | None = None
    weight_g: Range | None = None
    amount: Range | None = None
    deadline_within_hours: float | None = None

    @classmethod
    def from_config(cls, raw: Mapping[str, Any], index: int, carrier_code: Any) -> Rule:
        return cls(
            name=str(raw.get("name") or f"规则{index + 1}"),
            carrier=carrier_code(raw["carrier"]) if raw.get("carrier") else None,
            label_size=raw.get("label_size"), priority=raw.get("priority"), hold=raw.get("hold"),
            provinces=tuple(raw.get("provinces", ())), cities=tuple(raw.get("cities", ())),
            remote=raw.get("remote"), skus=tuple(raw.get("skus", ())), keywords=keyword_entries(raw.get("keywords", ())),
            not_keywords=keyword_entries(raw.get("not_keywords", ())),
            quantity=Range.parse(raw.get("quantity")), weight_g=Range.parse(raw.get("weight_g")),
            amount=Range.parse(raw.get("amount")), deadline_within_hours=raw.get("deadline_within_hours"))

    def check(self, f: ParcelFacts, remote_list: Sequence[str]) -> str | None:
        """None when every condition holds, else a short reason (Chinese) naming the first that fails."""
        r = f.receiver
        if self.provinces and not _place_in(r.province, self.provinces):
            return f"省份 {r.province} 不在 {'/'.join(self.provinces)}"
        if self.cities and not _place_in(r.city, self.cities):
            return f"城市 {r.city} 不在 {'/'.join(self.cities)}"
        if self.remote is not None and _place_in(r.province, remote_list) != self.remote:
            return "不是偏远地区" if self.remote else "是偏远地区"
        if self.skus and not any(fnmatch.fnmatchcase(s, p) for s in f.skus for p in self.skus):
            return f"商家编码 {'/'.join(f.skus) or '（空）'} 不匹配 {'/'.join(self.skus)}"
        if self.keywords and self.matched_text(f) is None:
            if self.not_keywords and _keyword_clause(f.text, self.keywords, ()) is not None:
                return f"备注/留言提到 {'/'.join(self.keywords)}，但同一句里有 {'/'.join(self.not_keywords)}"
            return f"备注/留言中没有 {'/'.join(self.keywords)}"
        if self.quantity and not self.quantity.holds(f.quantity):
            return f"件数 {f.quantity} 不在 {self.quantity.text()}"
        if self.weight_g and not self.weight_g.holds(f.weight_g):
            shown = "未知" if f.weight_g is None else f"{f.weight_g}g"
            return f"重量 {shown} 不在 {self.weight_g.text()}g"
        if self.amount and not self.amount.holds(float(f.amount) if f.amount is not None else None):
            return f"金额 {f.amount} 不在 {self.amount.text()}"
        if self.deadline_within_hours is not None:
            if f.deadline is None:
                return "没有承诺发货时间"
            left = (f.deadline - f.now).total_seconds() / 3600
            if left > self.deadline_within_hours:
                return f"距发货截止还有 {left:.0f} 小时（规则：{self.deadline_within_hours:g} 小时内）"
        return None


    def matched_text(self, f: ParcelFacts) -> str | None:
        """The clause of 商家备注/买家留言 that satisfies `keywords` (None: no keyword condition or no match)."""
        if not self.keywords:
            return None
        return _keyword_clause(f.text, self.keywords, self.not_keywords)

    def applies_because(self, f: ParcelFacts) -> str:
        """A sentence for explain: the rule applies, and which text matched its keywords."""
        clause = self.matched_text(f)
        return f"规则“{self.name}”适用" + (f"：备注/留言中的“{clause}”" if clause else "")


_CLAUSE = re.compile(r"[^，,。.！!？?；;、\n\r]+[，,。.！!？?；;、]*")


def keyword_entries(raw: Any) -> tuple[str, ...]:
    """Keyword entries from the config; a `/…/` entry must be a valid regular expression."""
    entries = tuple(str(e) for e in raw)
    for e in entries:
        _matcher(e)
    return entries


def _is_regex(entry: str) -> bool:
    return len(entry) > 2 and entry.startswith("/") and entry.endswith("/")


@lru_cache(maxsize=1024)
def _matcher(entry: str) -> Callable[[str], bool]:
    if _is_regex(entry):
        try:
            pattern = re.compile(entry[1:-1])
        except re.error as exc:
            raise ConfigError(f"关键词 {entry} 不是有效的正则表达式（{exc}）",
                              f"Keyword {entry} is not a valid regular expression ({exc})") from exc
        return lambda text: pattern.search(text) is not None
    needle = _fold(entry)
    return lambda text: needle in _fold(text)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _keyword_clause(text: str, keywords: Sequence[str], not_keywords: Sequence[str]) -> str | None:
    """The first clause that a keyword matches and no not-keyword does."""
    if not text or text.isspace():      # most orders carry no remark or message (measured: 200k calls, 0.9 s)
        return None
    needles = _plain_needles(tuple(keywords))
    if needles is not None:             # no keyword anywhere in the text: in no clause either
        folded = _fold(text)
        if not any(n in folded for n in needles):
            return None
    for m in _CLAUSE.finditer(text):
        clause = m.group().strip()
        if clause and any(_matcher(k)(clause) for k in keywords) \
                and not any(_matcher(k)(clause) for k in not_keywords):
            return clause.rstrip("，,、；;。.")
    return None


@lru_cache(maxsize=256)
def _plain_needles(keywords: tuple[str, ...]) -> tuple[str, ...] | None:
    """The keywords folded, when none is a `/…/` expression (an anchored one may match a clause and not
    the whole text); None otherwise."""
    if any(_is_regex(k) for k in keywords):
        return None
    return tuple(_fold(k) for k in keywords)


def _place_in(place: str, names: Sequence[str]) -> bool:
    return bool(place) and any(n and (n in place or place in n) for n in names)


def facts(orders: Sequence[Order], receiver: Receiver, weight_g: int | None, deadline: datetime | None,
          now: datetime) -> ParcelFacts:
    return ParcelFacts(
        receiver=receiver, skus=_skus(orders), quantity=sum(o.quantity for o in orders), weight_g=weight_g,
        amount=_amount(orders), text=_text(orders), deadline=deadline, now=now)


def _skus(orders: Sequence[Order]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(o.sku for o in orders if o.sku))


def _amount(orders: Sequence[Order]) -> Decimal | None:
    amounts = [o.buyer_paid for o in orders if o.buyer_paid is not None]
    return sum(amounts, Decimal(0)) if amounts else None


def _text(orders: Sequence[Order]) -> str:
    return "\n".join(f"{o.merchant_remark}\n{o.buyer_message}" for o in orders)


def first_match(rules: Sequence[Rule], f: ParcelFacts, remote_list: Sequence[str]
                ) -> tuple[Rule | None, list[str]]:
    """The first rule whose conditions all hold, and the sentences explaining the choice.

    The sentences say why each earlier rule did not apply and, for a keyword rule that did, which
    text of the buyer's message or the seller's remark matched (`explain` prints them).
    """
    why_not: list[str] = []
    for rule in rules:
        reason = rule.check(f, remote_list)
        if reason is None:
            if rule.keywords:
                why_not.append(rule.applies_because(f))
            return rule, why_not
        why_not.append(f"规则“{rule.name}”不适用：{reason}")
    return None, why_not


MEMO_MAX = 50_000    # remembered rule verdicts in one plan (a key per distinct remark/place seen)

Verdict = tuple[Rule | None, list[str]]


class RuleMemo:
    """`first_match` answers remembered by the facts the configured rules read, and only those.

    Rules look at a few facts (the shipped config: 备注/留言 text and the province); most parcels of a
    day share them (no remark, one of 31 provinces), so the answer — the rule and the explain
    sentences, both made from those facts alone — is computed once per distinct set (make_plan on
    50,000 one-order parcels, profiled: 8.8 -> 4.6 s CPU).
    """

    def __init__(self, rules: Sequence[Rule], remote_list: Sequence[str]) -> None:
        self.rules, self.remote_list = rules, remote_list
        self.uses = rule_inputs(rules)
        self.answers: dict[tuple[object, ...], Verdict] = {}

    def first_match(self, orders: Sequence[Order], receiver: Receiver, weight_g: int | None,
                    deadline: datetime | None, now: datetime) -> Verdict:
        key = self._key(orders, receiver, weight_g, deadline, now)
        got = self.answers.get(key)
        if got is None:
            got = first_match(self.rules, facts(orders, receiver, weight_g, deadline, now), self.remote_list)
            if len(self.answers) < MEMO_MAX:
                self.answers[key] = got
        return got

    def _key(self, orders: Sequence[Order], receiver: Receiver, weight_g: int | None, deadline: datetime | None,
             now: datetime) -> tuple[object, ...]:
        uses = self.uses
        key: list[object] = []
        if "text" in uses:
            key.append(_text(orders))
        if "province" in uses:
            key.append(receiver.province)
        if "city" in uses:
            key.append(receiver.city)
        if "skus" in uses:
            key.append(_skus(orders))
        if "quantity" in uses:
            key.append(sum(o.quantity for o in orders))
        if "weight_g" in uses:
            key.append(weight_g)
        if "amount" in uses:
            key.append(_amount(orders))
        if "deadline" in uses:
            key += (deadline, now)
        return tuple(key)


def rule_inputs(rules: Sequence[Rule]) -> frozenset[str]:
    """The parcel facts that `Rule.check` reads for these rules (and that its sentences show)."""
    uses: set[str] = set()
    for r in rules:
        if r.provinces or r.remote is not None:
            uses.add("province")
        if r.cities:
            uses.add("city")
        if r.skus:
            uses.add("skus")
        if r.keywords or r.not_keywords:
            uses.add("text")
        if r.quantity:
            uses.add("quantity")
        if r.weight_g:
            uses.add("weight_g")
        if r.amount:
            uses.add("amount")
        if r.deadline_within_hours is not None:
            uses.add("deadline")
    return frozenset(uses)
