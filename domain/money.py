"""Exact decimal money: ISO 4217 currencies, minor units and half-up rounding."""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal

from domain.errors import InvalidInput

# Active ISO 4217 codes by number of minor-unit digits. Funds and precious-metal
# codes without a minor unit (XAU, XDR, XXX, ...) and withdrawn codes are left out.
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN "
    "BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN "
    "ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD "
    "KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR "
    "MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON "
    "RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT "
    "TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)

MINOR_UNITS: dict[str, int] = {
    **{code: 2 for code in _TWO.split()},
    **{code: 0 for code in _ZERO.split()},
    **{code: 3 for code in _THREE.split()},
    **{code: 4 for code in _FOUR.split()},
}

HUNDRED = Decimal(100)
# Each currency's quantum, made once: every total rounds with it.
_QUANTUM: dict[str, Decimal] = {
    code: Decimal(1).scaleb(-units) for code, units in MINOR_UNITS.items()
}

_ZERO_OF: dict[str, Decimal] = {
    code: Decimal(0).quantize(quantum, rounding=ROUND_HALF_UP) for code, quantum in _QUANTUM.items()
}

# Wide enough that normalising any Decimal is exact: no rounding, no underflow to zero
# (1e-999999999 keeps its 999999999 places), no overflow.
_EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation],
)


class InvalidAmount(InvalidInput):
    """A number the money rules refuse; the message says why, the caller names the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


def is_currency(code: str) -> bool:
    return code in MINOR_UNITS


def minor_units(currency: str) -> int:
    return MINOR_UNITS[currency]


def exponent(currency: str) -> Decimal:
    """The quantum of a currency: Decimal('0.01') for GBP, Decimal('1') for JPY."""
    return _QUANTUM[currency]


def zero(currency: str) -> Decimal:
    """Nothing, to the currency's minor unit: `round_money(Decimal(0), currency)`."""
    return _ZERO_OF[currency]


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit (the contract's only rounding rule)."""
    return amount.quantize(_QUANTUM[currency], rounding=ROUND_HALF_UP)


def decimal_places(value: Decimal) -> int:
    """How many digits a finite decimal has after the point, ignoring trailing zeros."""
    exp = _EXACT.normalize(value).as_tuple().exponent if value.is_finite() else 0
    return max(0, -exp) if isinstance(exp, int) else 0


def parse(
    value: object,
    *,
    places: int,
    maximum: Decimal,
    minimum: Decimal | None = None,
    exclusive_minimum: Decimal | None = None,
) -> Decimal:
    """An exact, finite number within the bounds with at most `places` decimals.

    Accepts a Decimal, an int or a numeric string; anything else, or anything out of
    bounds, raises InvalidAmount. Without a lower bound, -maximum is the lower bound.
    A tiny amount is refused for its places, never rounded to zero.
    """
    number = _to_decimal(value)
    if not number.is_finite():
        raise InvalidAmount("Must be a finite number")
    # Comparisons look at the exponents first, so 1e999999999 is refused without
    # arithmetic; only a number already inside the bounds is ever quantized.
    if exclusive_minimum is not None and number <= exclusive_minimum:
        raise InvalidAmount(f"Must be greater than {exclusive_minimum:f}")
    if minimum is not None and number < minimum:
        raise InvalidAmount(f"Must be at least {minimum:f}")
    if minimum is None and exclusive_minimum is None and number < maximum.copy_negate():
        raise InvalidAmount(f"Must be at least {maximum.copy_negate():f}")
    if number > maximum:
        raise InvalidAmount(f"Must be at most {maximum:f}")
    if decimal_places(number) > places:
        raise InvalidAmount(f"Must have at most {places} decimal places")
    exp = number.as_tuple().exponent
    target = max(min(int(exp), 0), -places)
    if target != exp:
        # 1E+2 -> 100, 1.50000000 -> 1.5000: exact, as the checks above allow no more.
        number = number.quantize(Decimal(1).scaleb(target), context=_EXACT)
    return number if number else number.copy_abs()  # -0 -> 0


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise InvalidAmount("Must be a number")
    try:
        return Decimal(value)
    except (ArithmeticError, ValueError):
        raise InvalidAmount("Must be a number") from None


def fits_currency(amount: Decimal, currency: str) -> bool:
    """True if the amount needs no more digits than the currency's minor unit."""
    return amount.is_finite() and decimal_places(amount) <= MINOR_UNITS[currency]


def to_minor(amount: Decimal, currency: str) -> int:
    """The amount as an integer count of minor units (exact; used for sums in SQL)."""
    return int(round_money(amount, currency).scaleb(MINOR_UNITS[currency]))


def from_minor(units: int, currency: str) -> Decimal:
    return round_money(Decimal(units).scaleb(-MINOR_UNITS[currency]), currency)


def line_amount(quantity: Decimal, unit_price: Decimal, currency: str) -> Decimal:
    return round_money(quantity * unit_price, currency)


def tax_amount(subtotal: Decimal, tax_rate: Decimal, currency: str) -> Decimal:
    return round_money(subtotal * tax_rate / HUNDRED, currency)
