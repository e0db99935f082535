"""One parser per settlement format: `parser_for(format_name)` gives `parse(data, ctx) -> ParsedFile`."""

from __future__ import annotations

from collections.abc import Callable

from payrecon.ingestion.lines import FileContext, ParsedFile

Parser = Callable[[bytes, FileContext], ParsedFile]


def parser_for(format_name: str) -> Parser:
    """The parser of a format named as in gateways.yaml (`stripe`, `generic:<mapping>` ...)."""
    base, _, mapping = format_name.partition(":")
    if base == "generic":
        from payrecon.ingestion.formats import generic

        if mapping:
            return generic.mapped_parser(mapping)
        return generic.parse
    if base == "stripe":
        from payrecon.ingestion.formats import stripe

        return stripe.parse
    if base == "adyen":
        from payrecon.ingestion.formats import adyen

        return adyen.parse
    if base == "paypal_stl":
        from payrecon.ingestion.formats import paypal_stl

        return paypal_stl.parse
    if base == "braintree":
        from payrecon.ingestion.formats import braintree

        return braintree.parse
    raise ValueError(f"unknown settlement format {format_name!r}")
