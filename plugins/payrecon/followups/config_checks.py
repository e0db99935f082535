"""Cross-references of the follow-up configuration: every action, team, template and step it names exists."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from payrecon.followups.config import FollowupConfig


def reference_problems(config: FollowupConfig, templates_dir: Path) -> list[str]:
    """Every broken reference, each prefixed with its path in the file."""
    from payrecon.followups.config import PURCHASE_EVENTS, Team

    problems: list[str] = []

    for action_id, action in config.actions.items():
        if action.team and action.team not in config.teams:
            problems.append(f"actions.{action_id}.to: unknown team {action.team!r} (known: {sorted(config.teams)})")
        if action.channel == "email" and action.team and not config.teams.get(action.team, Team()).email:
            problems.append(f"actions.{action_id}.to: team {action.team!r} has no email")
        if action.template:
            problem = _template_problem(templates_dir, action.template)
            if problem:
                problems.append(f"actions.{action_id}.template: {problem}")

    def check(where: str, ids: list[str]) -> None:
        for i, action_id in enumerate(ids):
            if action_id not in config.actions:
                problems.append(f"{where}[{i}]: unknown action {action_id!r} (known: {', '.join(sorted(config.actions))})")

    sets = config.action_sets
    for event in PURCHASE_EVENTS:
        check(f"action_sets.defaults.{event}", sets.defaults.for_event(event))
    check("action_sets.offline_order", sets.offline_order)
    for product_id, product in sets.products.items():
        for event in PURCHASE_EVENTS:
            check(f"action_sets.products.{product_id}.{event}", product.for_event(event))

    for journey_id, journey in config.journeys.items():
        where = f"journeys.{journey_id}"
        names = [s.name for s in journey.steps]
        if len(set(names)) != len(names) or "end" in names:
            problems.append(f"{where}.steps: step names must be unique and not 'end' ({names})")
        if journey.trigger.products == "courses":
            if not any(p.course for p in config.products.values()):
                problems.append(f"{where}.trigger.products: 'courses' but no product has `course: true`")
        for i, step in enumerate(journey.steps):
            if step.send is not None:
                check(f"{where}.steps[{i}].send", step.send)
            if step.await_delivery_of is not None:
                earlier = {s.name for s in journey.steps[:i] if s.send is not None}
                if step.await_delivery_of not in earlier:
                    problems.append(
                        f"{where}.steps[{i}].await_delivery_of: {step.await_delivery_of!r} is not an earlier send step"
                    )
    return problems


def _template_problem(templates_dir: Path, name: str) -> str | None:
    from jinja2 import Environment, FileSystemLoader, TemplateError

    if not (templates_dir / name).is_file():
        return f"no template {name!r} under {templates_dir}"
    try:
        Environment(loader=FileSystemLoader(str(templates_dir))).get_template(name)
    except TemplateError as exc:
        return f"template {name!r} does not compile: {exc}"
    return None
