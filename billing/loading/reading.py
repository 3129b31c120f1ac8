"""Reading and checking rate card and market structure CSV files: every problem with its file and
line number, nothing written (billing.loading.writing writes)."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import phonenumbers

from aerostic.core.money import NotExactInMicros, to_micros
from billing.models import PricingModel
from billing.pricing import DEFAULT_RULES, WEBHOOK_MODELS, category_of

CARD_COLUMNS = ("effective_date", "pricing_model", "currency", "market", "category", "rate")
MARKET_COLUMNS = ("effective_date", "country_code", "market")
MAX_PRICE = Decimal("999999.999999")  # DecimalField(max_digits=12, decimal_places=6)
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_META_LINE = re.compile(r"^#\s*([a-z_]+)\s*:\s*(.*)$")
# Rule keys each pricing model understands, with the type each value must have.
RULE_TYPES: dict[str, dict[str, type | tuple[type, ...]]] = {
    PricingModel.PER_MESSAGE: {
        "service_free": bool,
        "utility_free_in_service_window": bool,
        "free_entry_point_hours": int,
        "volume_tiers": dict,
    },
    PricingModel.PER_CONVERSATION: {
        "conversation_hours": int,
        "service_free_monthly_allowance": int,
        "free_entry_point_hours": int,
    },
}


class PricingLoadError(Exception):
    """Problems found in the files (or against what is loaded); nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class _Header:
    source: list[str] = field(default_factory=list)
    retrieved: str = ""
    rules: dict[str, Any] | None = None
    rules_line: int = 0
    partial: bool = False


@dataclass
class ParsedCard:
    path: Path
    sha256: str
    currency: str
    pricing_model: str
    effective_from: date
    source: str
    retrieved: str
    rules: dict[str, Any]
    is_partial: bool
    rates: dict[tuple[str, str], Decimal]

    @property
    def key(self) -> tuple[str, str, date]:
        return (self.currency, self.pricing_model, self.effective_from)


@dataclass
class ParsedMarkets:
    path: Path
    sha256: str
    effective_from: date
    source: str
    retrieved: str
    assignments: dict[str, str]


def _rows(path: Path, problems: list[str]) -> tuple[_Header, list[tuple[int, list[str]]], bytes | None]:
    """(header comments, [(line number, fields)] with the column-name row first, raw bytes or None).
    Line numbers are the file's own, comments and blank lines included, so an operator finds them."""
    header = _Header()
    try:
        raw = path.read_bytes()
    except OSError as error:
        problems.append(f"{path}: cannot be read ({error.strerror or error})")
        return header, [], None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.append(f"{path}: is not UTF-8 text")
        return header, [], None
    rows: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            _read_comment(path, number, stripped, header, problems)
            continue
        rows.append((number, [cell.strip() for cell in next(csv.reader([line]))]))
    if not header.source:
        problems.append(f"{path}: no `# source:` line: say where the figures come from (and `# retrieved:` when)")
    return header, rows, raw


def _read_comment(path: Path, number: int, line: str, header: _Header, problems: list[str]) -> None:
    match = _META_LINE.match(line)
    if not match:
        return  # a plain comment
    key, value = match.group(1), match.group(2).strip()
    if key == "source" and value:
        header.source.append(value)
    elif key == "retrieved":
        header.retrieved = value[:200]
    elif key == "partial":
        header.partial = value.lower() in ("true", "yes", "1")
    elif key == "rules":
        header.rules_line = number
        try:
            rules = json.loads(value)
        except json.JSONDecodeError as error:
            problems.append(f"{path}:{number}: rules are not valid JSON ({error.msg})")
            return
        if not isinstance(rules, dict):
            problems.append(f"{path}:{number}: rules must be a JSON object")
            return
        header.rules = rules


def _columns(path: Path, rows: list[tuple[int, list[str]]], wanted: tuple[str, ...], problems: list[str]) -> dict:
    if not rows:
        problems.append(f"{path}: no column names and no rows")
        return {}
    number, names = rows[0]
    names = [name.lower() for name in names]
    missing = [column for column in wanted if column not in names]
    if missing:
        problems.append(f"{path}:{number}: missing column(s) {', '.join(missing)} (expected {', '.join(wanted)})")
        return {}
    if len(rows) == 1:
        problems.append(f"{path}: no data rows after the column names on line {number}")
        return {}
    return {column: names.index(column) for column in wanted} | {"_width": len(names)}


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def read_rate_card(path: Path, *, allow_partial: bool = False) -> tuple[ParsedCard | None, list[str]]:
    """Parses and checks one rate card file: (the card, []) or (None, problems with line numbers)."""
    problems: list[str] = []
    header, rows, raw = _rows(path, problems)
    at = _columns(path, rows, CARD_COLUMNS, problems) if raw is not None else {}
    if not at or raw is None:
        return None, problems
    first: dict[str, tuple[Any, int]] = {}  # column → (value of the first row, its line)
    rates: dict[tuple[str, str], Decimal] = {}
    seen: dict[tuple[str, str], int] = {}
    for number, cells in rows[1:]:
        where = f"{path}:{number}"
        if len(cells) != at["_width"]:
            problems.append(f"{where}: {len(cells)} fields, expected {at['_width']}")
            continue
        effective = _date(cells[at["effective_date"]])
        if effective is None:
            problems.append(f"{where}: effective_date {cells[at['effective_date']]!r} is not a date (YYYY-MM-DD)")
        raw_model = cells[at["pricing_model"]]
        model = WEBHOOK_MODELS.get(raw_model.upper()) or (
            raw_model.lower() if raw_model.lower() in PricingModel.values else None
        )
        if model is None:
            problems.append(f"{where}: pricing_model {raw_model!r} is neither per_message nor per_conversation")
        currency = cells[at["currency"]].upper()
        if not _CURRENCY.match(currency):
            problems.append(f"{where}: currency {cells[at['currency']]!r} is not a three-letter ISO code")
        for column, value in (("effective_date", effective), ("pricing_model", model), ("currency", currency)):
            if value is None:
                continue
            if column not in first:
                first[column] = (value, number)
            elif first[column][0] != value:
                problems.append(
                    f"{where}: {column} {value} differs from {first[column][0]} on line {first[column][1]}: "
                    "one card (one currency, model and date) per file"
                )
        market = cells[at["market"]]
        if not market or len(market) > 64:
            problems.append(f"{where}: market is empty or longer than 64 characters")
        category = category_of(cells[at["category"]])
        if category is None:
            problems.append(
                f"{where}: unknown category {cells[at['category']]!r} (marketing, utility, authentication, "
                "authentication_international, service)"
            )
        price = _price(cells[at["rate"]], where, problems)
        if not market or category is None or price is None:
            continue
        key = (market, category)
        if key in seen:
            problems.append(f"{where}: duplicate rate for {market} {category.lower()} (first on line {seen[key]})")
            continue
        seen[key] = number
        rates[key] = price
    model_value = first.get("pricing_model", (None, 0))[0]
    rules = _rules(path, header, model_value, problems)
    is_partial = header.partial or path.name.endswith(".partial.csv")
    if is_partial and not allow_partial:
        problems.append(
            f"{path}: a partial card (some markets missing): refused. --allow-partial loads it; its missing "
            "markets then stay unpriced, never guessed"
        )
    if problems:
        return None, problems
    return (
        ParsedCard(
            path=path,
            sha256=_sha(raw),
            currency=first["currency"][0],
            pricing_model=model_value,
            effective_from=first["effective_date"][0],
            source="\n".join(header.source),
            retrieved=header.retrieved,
            rules=rules,
            is_partial=is_partial,
            rates=rates,
        ),
        [],
    )


def _price(value: str, where: str, problems: list[str]) -> Decimal | None:
    try:
        price = Decimal(value)
    except InvalidOperation:
        hint = " (Meta's n/a cells: leave the row out)" if value.lower() in ("n/a", "na", "-") else ""
        problems.append(f"{where}: rate {value!r} is not a decimal number{hint}")
        return None
    if not price.is_finite():
        problems.append(f"{where}: rate {value!r} is not a decimal number")
        return None
    if price < 0:
        problems.append(f"{where}: rate {value} is negative")
        return None
    if price > MAX_PRICE:
        problems.append(f"{where}: rate {value} is too large")
        return None
    try:
        to_micros(price)
    except NotExactInMicros:
        problems.append(f"{where}: rate {value} has more than six decimals (amounts are kept in micro-units)")
        return None
    return price


def _rules(path: Path, header: _Header, model: str | None, problems: list[str]) -> dict[str, Any]:
    if model is None:
        return {}
    rules = {**DEFAULT_RULES[model], **(header.rules or {})}
    where = f"{path}:{header.rules_line}" if header.rules_line else str(path)
    types = RULE_TYPES[model]
    for key, value in (header.rules or {}).items():
        if key not in types:
            problems.append(f"{where}: unknown rule {key!r} for a {model} card (known: {', '.join(types)})")
        elif not isinstance(value, types[key]) or (types[key] is int and isinstance(value, bool)):
            problems.append(f"{where}: rule {key!r} must be a {types[key].__name__}")  # type: ignore[union-attr]
        elif isinstance(value, int) and not isinstance(value, bool) and value < 0:
            problems.append(f"{where}: rule {key!r} cannot be negative")
    if rules.get("volume_tiers"):
        problems.append(
            f"{where}: volume_tiers are not applied yet: load the card without them (list rates are charged)"
        )
    return rules


def read_markets(path: Path) -> tuple[ParsedMarkets | None, list[str]]:
    """Parses and checks one market structure file: (the structure, []) or (None, problems)."""
    problems: list[str] = []
    header, rows, raw = _rows(path, problems)
    at = _columns(path, rows, MARKET_COLUMNS, problems) if raw is not None else {}
    if not at or raw is None:
        return None, problems
    effective: tuple[date, int] | None = None
    assignments: dict[str, str] = {}
    seen: dict[str, int] = {}
    for number, cells in rows[1:]:
        where = f"{path}:{number}"
        if len(cells) != at["_width"]:
            problems.append(f"{where}: {len(cells)} fields, expected {at['_width']}")
            continue
        day = _date(cells[at["effective_date"]])
        if day is None:
            problems.append(f"{where}: effective_date {cells[at['effective_date']]!r} is not a date (YYYY-MM-DD)")
        elif effective is None:
            effective = (day, number)
        elif effective[0] != day:
            problems.append(f"{where}: effective_date {day} differs from {effective[0]} on line {effective[1]}")
        code = cells[at["country_code"]].upper()
        if not _COUNTRY.match(code) or code not in phonenumbers.SUPPORTED_REGIONS:
            problems.append(f"{where}: {cells[at['country_code']]!r} is not an ISO 3166 country code")
            continue
        market = cells[at["market"]]
        if not market or len(market) > 64:
            problems.append(f"{where}: market is empty or longer than 64 characters")
            continue
        if code in seen:
            problems.append(f"{where}: {code} is listed twice (first on line {seen[code]})")
            continue
        seen[code] = number
        assignments[code] = market
    if problems or effective is None:
        return None, problems
    return (
        ParsedMarkets(
            path=path,
            sha256=_sha(raw),
            effective_from=effective[0],
            source="\n".join(header.source),
            retrieved=header.retrieved,
            assignments=assignments,
        ),
        [],
    )
