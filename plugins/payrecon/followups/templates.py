"""Render the jinja2 templates of `include/templates/` into subject/title and text.

Email and team templates define blocks (`subject` or `title`, and `text`); SMS templates are the text.
Undefined variables are errors, so a template and its context cannot drift apart silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from payrecon.followups.config import TEMPLATES_DIR


@dataclass(frozen=True)
class Rendered:
    title: str
    text: str


@cache
def _env(templates_dir: str) -> Environment:
    return Environment(
        loader=FileSystemLoader(templates_dir),
        undefined=StrictUndefined,
        trim_blocks=True,
        autoescape=False,
    )


def _block(template: Template, name: str, context: dict[str, Any]) -> str:
    render = template.blocks.get(name)
    if render is None:
        raise KeyError(f"template {template.name!r} has no block {name!r}")
    return "".join(render(template.new_context(context))).strip()


def render(name: str, context: dict[str, Any], templates_dir: Path | None = None) -> Rendered:
    template = _env(str(templates_dir or TEMPLATES_DIR)).get_template(name)
    if "text" not in template.blocks:
        return Rendered(title="", text=template.render(context).strip())
    title_block = "subject" if "subject" in template.blocks else "title"
    return Rendered(title=_block(template, title_block, context), text=_block(template, "text", context))
