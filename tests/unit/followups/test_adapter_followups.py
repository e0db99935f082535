"""The adapter turns Airflow connections and variables into plain follow-up settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from payrecon import airflow_adapter as adapter


def test_smtp_settings_mirror_the_smtp_provider_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
        "conn_type": "smtp", "host": "mail.example", "port": 2525, "login": "bot", "password": "secret",
        "extra": {"disable_ssl": True, "from_email": "billing@northwind.example", "timeout": 7},
    }))
    settings = adapter.smtp_settings()
    assert (settings.host, settings.port, settings.login, settings.password) == ("mail.example", 2525, "bot", "secret")
    assert (settings.use_ssl, settings.starttls, settings.timeout) == (False, True, 7.0)
    assert settings.from_email == "billing@northwind.example"


def test_http_endpoint_from_an_http_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_PAYRECON_SMS", json.dumps({
        "conn_type": "http", "host": "sms.example", "schema": "https", "port": 8443,
        "extra": {"path": "/v1/messages", "headers": {"X-Api-Key": "k"}},
    }))
    endpoint = adapter.http_endpoint(adapter.SMS_CONN_ID)
    assert endpoint.base_url == "https://sms.example:8443"
    assert endpoint.path == "/v1/messages" and endpoint.headers == {"X-Api-Key": "k"}


def test_a_missing_http_connection_leaves_the_channel_unconfigured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_PAYRECON_CRM", raising=False)
    assert adapter.http_endpoint(adapter.CRM_CONN_ID) is None


def test_r12_offline_variable_defaults_to_yes_and_can_say_no(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_VAR_PAYRECON_ALLOW_OFFLINE_ORDERS", raising=False)
    assert adapter.followup_config_from_airflow().merchant.allow_offline_orders is True
    monkeypatch.setenv("AIRFLOW_VAR_PAYRECON_ALLOW_OFFLINE_ORDERS", "No")
    assert adapter.followup_config_from_airflow().merchant.allow_offline_orders is False


def test_logical_now_is_the_end_of_the_data_interval() -> None:
    end = datetime(2026, 11, 3, tzinfo=UTC)
    assert adapter.logical_now({"data_interval_end": end, "logical_date": datetime(2026, 11, 2, tzinfo=UTC)}) == end
    with pytest.raises(ValueError):
        adapter.logical_now({})
