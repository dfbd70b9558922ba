"""Looking up the behaviour for ``--fault NAME`` / ``--variant NAME``."""

from __future__ import annotations

from .behaviour import FAITHFUL, Behaviour
from .faults import FAULTS
from .variants import VARIANTS

__all__ = ["UnknownBehaviour", "behaviour_for", "fault_lines", "variant_lines"]


class UnknownBehaviour(ValueError):
    """A fault or variant name that is not registered; the message is one line."""


def behaviour_for(fault: str | None = None, variant: str | None = None) -> Behaviour:
    """The behaviour of the named fault or variant (at most one), or the faithful one."""
    if fault is not None and variant is not None:
        raise UnknownBehaviour("give a fault or a variant, not both")
    if fault is not None:
        if fault not in FAULTS:
            raise UnknownBehaviour(f"unknown fault {fault!r} (see --list-faults)")
        return FAULTS[fault].behaviour
    if variant is not None:
        if variant not in VARIANTS:
            raise UnknownBehaviour(f"unknown variant {variant!r} (see --list-variants)")
        return VARIANTS[variant].behaviour
    return FAITHFUL


def _lines(items: dict[str, str]) -> list[str]:
    width = max(len(name) for name in items)
    return [f"{name:<{width}}  {description}" for name, description in items.items()]


def fault_lines() -> list[str]:
    """``NAME  description`` for every fault (what ``--list-faults`` prints)."""
    return _lines({name: fault.description for name, fault in FAULTS.items()})


def variant_lines() -> list[str]:
    """``NAME  description`` for every correct variant (``--list-variants``)."""
    return _lines({name: variant.description for name, variant in VARIANTS.items()})
