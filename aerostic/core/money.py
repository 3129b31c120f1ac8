"""Money without floats: rates are Decimals, amounts are integers in micro-units (1 unit = 10**6)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

MICROS_PER_UNIT = 1_000_000
_MICRO = Decimal("0.000001")


class NotExactInMicros(ValueError):
    """A price with more than six decimals: it would have to be rounded to become micro-units."""


def to_micros(amount: Decimal | int | str) -> int:
    """An exact amount of the currency as micro-units; refuses anything that would need rounding."""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise ValueError(f"{amount!r} is not a decimal amount") from error
    if not value.is_finite():
        raise ValueError(f"{amount!r} is not a finite amount")
    micros = value * MICROS_PER_UNIT
    if micros != micros.to_integral_value():
        raise NotExactInMicros(f"{amount} has more than six decimals")
    return int(micros)


def round_to_micros(amount: Decimal) -> int:
    """For estimates only (a share of a recipient costs a fraction of a micro): banker's rounding."""
    return int((amount * MICROS_PER_UNIT).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_micros(micros: int) -> Decimal:
    """Micro-units back to an exact Decimal of the currency (six decimals)."""
    return (Decimal(micros) / MICROS_PER_UNIT).quantize(_MICRO)


def format_money(micros: int, currency: str, *, places: int = 4) -> str:
    """For people: "1,234.5678 USD" (four decimals by default, as Meta prints per-message rates; the
    dashboard may ask for 2 on totals). Rounds half-even for display only; stored values stay exact."""
    quantum = Decimal(1).scaleb(-places)
    amount = from_micros(micros).quantize(quantum, rounding=ROUND_HALF_EVEN)
    return f"{amount:,} {currency}"


def rate_text(price: Decimal) -> str:
    """A rate as Meta prints it: at least four decimals, more only when the rate has them
    (0.011800 → "0.0118", 0.026 → "0.0260", 0.123456 → "0.123456")."""
    exponent = price.normalize().as_tuple().exponent
    places = max(4, -exponent if isinstance(exponent, int) else 0)
    return str(price.quantize(Decimal(1).scaleb(-places)))
