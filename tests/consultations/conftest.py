"""A small valid definition, written to YAML files, and a snapshot of what the database holds."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from consult.consultations.models import (
    Consultation,
    DefinitionVersion,
    Option,
    Question,
    Section,
)

OPENS_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CLOSES_AT = datetime(2026, 3, 31, 23, 59, tzinfo=UTC)

# Every definable type once, a condition on an earlier section, two profiles and a matrix.
BASE_DEFINITION: dict[str, Any] = {
    "slug": "test-consultation",
    "reference_prefix": "TC",
    "title": "A test consultation",
    "summary": "A consultation used by the loader tests.",
    "body": "## Why we ask\n\nBecause the tests need a body.",
    "privacy_notice": "## Who controls your data\n\nThe test suite.",
    "opens_at": OPENS_AT,
    "closes_at": CLOSES_AT,
    "sections": [
        {
            "key": "about-you",
            "title": "About you",
            "questions": [
                {
                    "key": "respondent_type",
                    "type": "single_choice",
                    "profile": "respondent_type",
                    "text": "Are you responding as an individual or an organisation?",
                    "options": [
                        {"code": "individual", "label": "As an individual"},
                        {"code": "organisation", "label": "For an organisation"},
                    ],
                },
                {
                    "key": "region",
                    "type": "select",
                    "text": "Where do you live?",
                    "options": [
                        {"code": "north", "label": "The north"},
                        {"code": "south", "label": "The south"},
                        {"code": "elsewhere", "label": "Elsewhere"},
                    ],
                },
            ],
        },
        {
            "key": "views",
            "title": "Your views",
            "intro": "Tell us what you think.",
            "questions": [
                {
                    "key": "organisation_name",
                    "type": "short_text",
                    "profile": "organisation_name",
                    "when": {"question": "respondent_type", "any_of": ["organisation"]},
                    "text": "What is your organisation called?",
                },
                {
                    "key": "support",
                    "type": "scale",
                    "text": "Do you support the proposal?",
                    "options": [
                        {"code": "support", "label": "Support", "value": 1},
                        {"code": "oppose", "label": "Oppose", "value": -1},
                        {"code": "dont_know", "label": "Don't know"},
                    ],
                },
                {
                    "key": "reasons",
                    "type": "multiple_choice",
                    "max_choices": 2,
                    "text": "Why?",
                    "options": [
                        {"code": "cost", "label": "Cost"},
                        {"code": "safety", "label": "Safety"},
                        {"code": "none", "label": "None of these", "exclusive": True},
                    ],
                },
                {
                    "key": "safeguards",
                    "type": "matrix",
                    "text": "How important is each safeguard?",
                    "rows": [
                        {"code": "law", "label": "A specific law"},
                        {"code": "notice", "label": "Public notice"},
                    ],
                    "options": [
                        {"code": "important", "label": "Important", "value": 1},
                        {"code": "not_important", "label": "Not important", "value": 0},
                    ],
                },
                {
                    "key": "details",
                    "type": "long_text",
                    "required": False,
                    "max_length": 500,
                    "text": "Anything else?",
                },
            ],
        },
        {
            "key": "your-details",
            "title": "Your details",
            "questions": [
                {
                    "key": "name",
                    "type": "short_text",
                    "profile": "name",
                    "text": "Your name",
                },
                {
                    "key": "email",
                    "type": "email",
                    "profile": "email",
                    "required": False,
                    "text": "Email address (optional)",
                },
            ],
        },
    ],
}


def find_question(data: dict[str, Any], key: str) -> dict[str, Any]:
    """The question with ``key`` in a definition dict, to mutate in place."""
    for section in data["sections"]:
        for question in section["questions"]:
            if question["key"] == key:
                return question
    raise KeyError(key)


@pytest.fixture
def definition() -> dict[str, Any]:
    """A fresh copy of the valid base definition, safe to mutate."""
    return copy.deepcopy(BASE_DEFINITION)


@pytest.fixture
def write_definition(tmp_path: Path) -> Callable[..., Path]:
    """Write a definition dict (as YAML) or raw text to a file under ``tmp_path``."""

    def write(data: dict[str, Any] | str, name: str = "consultation.yaml") -> Path:
        path = tmp_path / name
        text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def db_snapshot() -> Callable[[], dict[str, list[tuple[Any, ...]]]]:
    """Everything the loader writes, as comparable tuples."""

    def snapshot() -> dict[str, list[tuple[Any, ...]]]:
        return {
            "consultations": list(
                Consultation.objects.order_by("pk").values_list(
                    "pk",
                    "slug",
                    "reference_prefix",
                    "title",
                    "summary",
                    "body",
                    "privacy_notice",
                    "opens_at",
                    "closes_at",
                    "definition_version",
                    "definition_sha256",
                    "translations",
                )
            ),
            "versions": list(
                DefinitionVersion.objects.order_by("pk").values_list(
                    "pk", "consultation_id", "version", "sha256", "source"
                )
            ),
            "sections": list(
                Section.objects.order_by("pk").values_list(
                    "pk", "consultation_id", "key", "title", "intro", "position"
                )
            ),
            "questions": list(
                Question.objects.order_by("pk").values_list(
                    "pk",
                    "section_id",
                    "parent_id",
                    "key",
                    "type",
                    "text",
                    "hint",
                    "required",
                    "profile",
                    "max_length",
                    "max_choices",
                    "condition_question_id",
                    "condition_codes",
                    "position",
                )
            ),
            "options": list(
                Option.objects.order_by("pk").values_list(
                    "pk", "question_id", "code", "label", "value", "exclusive", "position"
                )
            ),
        }

    return snapshot
