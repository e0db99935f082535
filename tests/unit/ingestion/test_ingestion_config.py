"""gateways.yaml and generic_csv_mappings.yaml are validated on load, with clear messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from payrecon.ingestion.config import ConfigError, load_config, load_mappings


def test_shipped_config_loads_and_knows_the_sample_gateways() -> None:
    cfg = load_config()
    assert cfg.gateways["stripe_eu"] == "stripe"
    assert cfg.gateways["shopgate"] == "generic"
    assert cfg.mapping("novapay").columns["gross"] == "Gross Amount"
    assert cfg.limits.max_abs_amount > 0


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mappings:\n  m:\n    columns: {transaction_id: a}\n", "required field(s)"),
        ("mappings:\n  m:\n    columns: {transaction_id: a, colour: b}\n", "unknown field(s) ['colour']"),
        (
            "mappings:\n  m:\n    columns: {transaction_id: a, type: b, occurred_at: c, currency: d, gross: e,"
            " fee: f, net: g}\n    types: {sale: purchase}\n",
            "unknown line types",
        ),
        (
            "mappings:\n  m:\n    columns: {transaction_id: a, type: b, occurred_at: c, currency: d, gross: e,"
            " fee: f, net: g}\n    timezone: Mars/Olympus\n",
            "unknown time zone",
        ),
        ("mappings: [", "not valid YAML"),
    ],
)
def test_bad_mapping_file_is_refused_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="m.py|invalid|YAML") as exc:
        load_mappings(_write(tmp_path, "m.yaml", text))
    assert message in str(exc.value)


def test_gateway_with_unknown_format_or_missing_mapping_is_refused(tmp_path: Path) -> None:
    mappings = _write(tmp_path, "m.yaml", "mappings: {}\n")
    with pytest.raises(ConfigError, match="unknown format 'sepa'"):
        load_config(_write(tmp_path, "g.yaml", "gateways: {bank: sepa}\n"), mappings)
    with pytest.raises(ConfigError, match="uses mapping 'acme', which m.yaml does not define"):
        load_config(_write(tmp_path, "g2.yaml", "gateways: {acme: 'generic:acme'}\n"), mappings)
