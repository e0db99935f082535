"""The action configuration is checked on load, and a bad entry is named (R9, R10, R11, R13)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from payrecon.followups.config import DEFAULT_CONFIG_PATH, ConfigError, load_config, parse_config

BASE = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))


def _with(change) -> dict:  # noqa: ANN001
    data = copy.deepcopy(BASE)
    change(data)
    return data


def _error(data: dict, templates_dir: Path | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(data, templates_dir=templates_dir)
    return str(info.value)


def test_the_project_configuration_loads() -> None:
    config = load_config()
    assert config.merchant.allow_offline_orders is True
    assert config.merchant.legacy_and_manual_orders_trigger_product_actions is False  # off by default (source 000)
    assert config.action_sets.defaults.failed_purchase == ["apology_email", "support_failed_task"]
    assert config.course_products() == ["P-1001"]
    assert [s.kind for s in config.journeys["post_checkout"].steps] == ["send", "await_delivery", "wait", "send"]


def test_the_offline_variable_overrides_the_file() -> None:
    assert load_config(allow_offline_orders=False).merchant.allow_offline_orders is False


def test_r10_unknown_action_in_a_product_set_is_named() -> None:
    data = _with(lambda d: d["action_sets"]["products"]["P-3001"].update(failed_purchase=["finance_failed_task", "nope"]))
    assert "action_sets.products.P-3001.failed_purchase[1]: unknown action 'nope'" in _error(data)


def test_r9_unknown_team_is_named() -> None:
    data = _with(lambda d: d["actions"]["support_failed_task"].update(to="legal"))
    assert "actions.support_failed_task.to: unknown team 'legal'" in _error(data)


def test_missing_and_broken_templates_are_named(tmp_path: Path) -> None:
    data = _with(lambda d: d["actions"]["welcome_email"].update(template="email/missing.j2"))
    assert "actions.welcome_email.template: no template 'email/missing.j2'" in _error(data)
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "broken.j2").write_text("{% block subject %}Hi {{ customer.first_name {% endblock %}")
    data = _with(lambda d: d["actions"].update(
        welcome_email={"channel": "email", "template": "email/broken.j2"},
    ))
    message = _error(data, templates_dir=tmp_path)
    assert "actions.welcome_email.template: template 'email/broken.j2' does not compile" in message


def test_a_misspelt_key_is_refused_with_its_path() -> None:
    data = _with(lambda d: d["merchant"].update(alow_offline_orders=False))
    assert "merchant.alow_offline_orders: Extra inputs are not permitted" in _error(data)


def test_bad_values_are_refused_with_their_path() -> None:
    data = _with(lambda d: d["merchant"].update(default_origins=["shopping_cart", "fax"]))
    assert "merchant.default_origins[1]:" in _error(data)
    data = _with(lambda d: d["actions"]["apology_email"].update(delay_minutes=-5))
    assert "actions.apology_email.delay_minutes:" in _error(data)


def test_action_shapes_are_checked() -> None:
    data = _with(lambda d: d["actions"].update(crm_x={"channel": "crm", "template": "email/welcome.j2",
                                                      "operation": "upsert_contact"}))
    assert "a crm action has no template" in _error(data)
    data = _with(lambda d: d["actions"].update(sms_team={"channel": "sms", "template": "sms/invoice.j2",
                                                         "to": "team:finance"}))
    assert "sms actions go to the customer" in _error(data)


def test_journey_steps_are_checked() -> None:
    def two_kinds(d: dict) -> None:
        d["journeys"]["post_checkout"]["steps"][2]["send"] = ["course_reminder_email"]

    assert "needs exactly one of send, await_delivery_of, wait_days" in _error(_with(two_kinds))

    def late_await(d: dict) -> None:
        d["journeys"]["post_checkout"]["steps"][1]["await_delivery_of"] = "reminder"

    assert "journeys.post_checkout.steps[1].await_delivery_of: 'reminder' is not an earlier send step" in _error(
        _with(late_await)
    )

    def unknown_exit(d: dict) -> None:
        d["journeys"]["post_checkout"]["steps"][2]["exit_on"] = "lesson_done"

    assert "journeys.post_checkout.steps[2].exit_on" in _error(_with(unknown_exit))


def test_not_yaml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "actions.yaml"
    path.write_text("merchant: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)
