"""Arbitrary definition files given to the loader: it loads them, or refuses them with its
own ``DefinitionError`` naming the file and the problem, and a refused file changes nothing.

Two kinds of file: arbitrary bytes and YAML-like text (undecodable bytes, NUL, deep
nesting, tags, dates that do not exist, the built-in file cut short or with junk spliced
in), and the built-in definition with a few mutations (keys dropped, values of the wrong
type, items duplicated so keys and codes repeat, conditions on unknown codes, NUL, lone
surrogates, very long text). Each is loaded into an empty database, over the loaded
built-in consultation, and over it once it has responses (where changing codes is
refused), through ``consultation_load`` or the ``load_consultation`` command. A file
that loads must be stored as it says, in values every database can hold (lengths within
the columns, no NUL, which PostgreSQL refuses), so the property holds on PostgreSQL too
when the suite runs there. Each example runs in a rolled-back savepoint (see
``conftest.py``).
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import models
from django.utils import timezone
from hypothesis import Phase, event, example, given, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from consult.consultations.definition import DEFINABLE_TYPES, DefinitionError
from consult.consultations.models import (
    Consultation,
    DefinitionVersion,
    Option,
    Question,
    QuestionType,
    Section,
)
from consult.consultations.services import consultation_load
from consult.responses.services import draft_start
from tests.conftest import BUILT_IN
from tests.robustness.conftest import rolled_back

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
SOURCE = BUILT_IN.read_bytes()
DEFINITION: dict[str, Any] = yaml.safe_load(SOURCE)
LOADER_MODELS: list[type[models.Model]] = [
    Consultation,
    DefinitionVersion,
    Section,
    Question,
    Option,
]


def database() -> dict[str, Counter[tuple[Any, ...]]]:
    """Every row the loader writes, every column."""
    return {
        model.__name__: Counter(
            tuple(str(value) for value in row) for row in model.objects.values_list()
        )
        for model in LOADER_MODELS
    }


def assert_fits_every_database() -> None:
    """Text within its column's length and without NUL, integers within 32 bits."""
    for model in LOADER_MODELS:
        for field in model._meta.concrete_fields:
            values = model.objects.values_list(field.attname, flat=True)
            if isinstance(field, models.CharField | models.TextField):
                for value in values:
                    assert "\x00" not in value, (model.__name__, field.name)
                    assert field.max_length is None or len(value) <= field.max_length, (
                        model.__name__,
                        field.name,
                        len(value),
                    )
            elif isinstance(field, models.IntegerField):
                assert all(value is None or -(2**31) <= value < 2**31 for value in values)


def assert_stored_as_written(text: str) -> None:
    """The consultation the file names holds exactly its sections, questions (and matrix
    rows) and options, and the file's text as its latest version."""
    data = yaml.safe_load(text)
    consultation = Consultation.objects.get(slug=data["slug"])
    sections = data["sections"]
    expected_questions = {
        key
        for section in sections
        for question in section["questions"]
        for key in [
            question["key"],
            *(f"{question['key']}__{row['code']}" for row in question.get("rows", [])),
        ]
    }
    expected_options = {
        (question["key"], option["code"])
        for section in sections
        for question in section["questions"]
        for option in question.get("options", [])
    }
    assert list(consultation.sections.values_list("key", flat=True)) == [
        section["key"] for section in sections
    ]
    assert set(consultation.questions.values_list("key", flat=True)) == expected_questions
    options = Option.objects.filter(question__consultation=consultation).exclude(
        question__type=QuestionType.MATRIX_ROW
    )
    assert set(options.values_list("question__key", "code")) == expected_options
    latest = consultation.definition_versions.order_by("-version").first()
    assert latest is not None
    assert latest.source == text
    assert latest.version == consultation.definition_version


# ---------------------------------------------------------------- what Hypothesis writes

JUNK = [
    b"\x00",
    b"\xff\xfe",
    b"\xed\xa0\x80",  # a surrogate in UTF-8 form: not valid UTF-8
    b"\t",
    b"\r",
    b"{",
    b"[",
    b": :",
    b"&a ",
    b"*a",
    b"*nowhere",
    b"<<: 1",
    b"!!python/object:os.system ",
    b"!!binary x",
    b"!!int x",
    b"!!float x",
    b"2026-02-30",
    b"2026-01-01 10:00:00+99:00",
    b'"\\0"',
    b'"\\ud800"',
    b"%TAG ! x\n",
    b"---\n",
    b"...\n",
    b"? ",
]
YAML_PIECES = [piece.decode("utf-8", "replace") for piece in JUNK] + [
    "slug: ",
    "sections:",
    "\n",
    "  ",
    "- ",
    "key: ",
    "questions: []",
    "opens_at: 2026-01-01T09:00:00+00:00",
]


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


raw_files = st.one_of(
    st.binary(max_size=300),
    st.lists(st.sampled_from(YAML_PIECES) | st.text(max_size=10), max_size=30).map(
        lambda pieces: "".join(pieces).encode("utf-8", "surrogatepass")
    ),
    st.integers(0, len(SOURCE)).map(lambda cut: SOURCE[:cut]),
    st.builds(
        lambda at, junk: SOURCE[:at] + junk + SOURCE[at:],
        st.integers(0, len(SOURCE)),
        st.sampled_from(JUNK) | st.binary(min_size=1, max_size=5),
    ),
    st.integers(1, 700).map(nested),
)

LONG = st.sampled_from([61, 101, 201, 301, 10_000, 1_000_000]).map(lambda n: "x" * n)
NASTY = st.sampled_from(["", " ", "\x00", "a\x00b", "\ud800", "a\udfffb", "\u202e", "\ufeff"])
CODES = st.from_regex(r"[a-z][a-z0-9_]{0,69}", fullmatch=True)
NUMBERS = st.integers() | st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 10**30])
MOMENTS = st.datetimes(
    timezones=st.sampled_from(
        [UTC, timezone.get_fixed_timezone(300), timezone.get_fixed_timezone(-300)]
    )
)
wrong_values = st.one_of(
    st.none(),
    st.booleans(),
    NUMBERS,
    st.floats(),
    st.text(max_size=20),
    NASTY,
    LONG,
    MOMENTS | st.dates(),
    st.lists(st.integers() | st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=5), max_size=3),
)


def codes_and_keys(data: Any) -> list[str]:
    """Every question key and option code in a definition, to use where another belongs."""
    found: list[str] = []
    if isinstance(data, dict):
        found += [str(data[k]) for k in ("key", "code") if isinstance(data.get(k), str)]
        for value in data.values():
            found += codes_and_keys(value)
    elif isinstance(data, list):
        for item in data:
            found += codes_and_keys(item)
    return found


def random_walk(draw: st.DrawFn, data: dict[str, Any], known: list[str]) -> None:
    """Walk down from the top a random way, then change what is there."""
    parent: Any = None
    key: Any = None
    node: Any = data
    while isinstance(node, dict | list) and node and draw(st.booleans()):
        parent = node
        key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
        node = node[key]
    if parent is None:
        return
    match draw(st.sampled_from(["replace", "delete", "duplicate", "other code", "add"])):
        case "replace":
            parent[key] = draw(wrong_values)
        case "delete":
            del parent[key]
        case "duplicate" if isinstance(parent, list):
            parent.insert(draw(st.integers(0, len(parent))), copy.deepcopy(node))
        case "other code":
            parent[key] = draw(st.sampled_from(known) | st.just("no_such_code"))
        case _ if isinstance(parent, dict):
            field = draw(st.sampled_from(["extra", "when", "rows", "options", "key", "type"]))
            parent[field] = draw(wrong_values)


def author_change(draw: st.DrawFn, data: dict[str, Any], known: list[str]) -> None:
    """A change an author might make: copy a question (so its key repeats), give it a
    condition on any question and codes, rename or drop an option, change a type, a key,
    a wording, a scale value or a date."""
    sections = data["sections"]
    section = draw(st.sampled_from(sections))
    question = draw(st.sampled_from(section["questions"]))
    options = question.get("options") or [{}]
    match draw(
        st.sampled_from(
            ["copy", "condition", "rename", "drop", "type", "key", "wording", "value", "date"]
        )
    ):
        case "copy":
            target = draw(st.sampled_from(sections))["questions"]
            target.insert(draw(st.integers(0, len(target))), copy.deepcopy(question))
        case "condition":
            codes = st.sampled_from([*known, "no_such_code"])
            question["when"] = {
                "question": draw(codes),
                "any_of": draw(st.lists(codes, min_size=0, max_size=3)),
            }
        case "rename":
            draw(st.sampled_from(options))["code"] = draw(st.sampled_from([*known, "renamed"]))
        case "drop" if question.get("options"):
            question["options"].pop(draw(st.integers(0, len(question["options"]) - 1)))
        case "type":
            question["type"] = draw(st.sampled_from([*DEFINABLE_TYPES, "matrix_row", "essay"]))
        case "key":
            owner = draw(st.sampled_from([question, *question.get("rows", []), *options]))
            owner["key" if owner is question else "code"] = draw(CODES)
        case "wording":
            owner, field = draw(
                st.sampled_from(
                    [
                        (data, "title"),
                        (data, "summary"),
                        (section, "title"),
                        (section, "intro"),
                        *((question, field) for field in ("text", "hint", "error")),
                        *((option, field) for option in options for field in ("label", "hint")),
                        *((row, "label") for row in question.get("rows", [])),
                    ]
                )
            )
            owner[field] = draw(NASTY | LONG | st.text(max_size=20))
        case "value":
            draw(st.sampled_from(options))["value"] = draw(NUMBERS)
        case _:
            data[draw(st.sampled_from(["opens_at", "closes_at"]))] = draw(MOMENTS)


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} characters)"


def differences(old: Any, new: Any, path: str = "") -> Iterator[str]:
    """Where ``new`` differs from ``old``, as ``path = value`` lines."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys(), key=str):
            if key not in new:
                yield f"{path}.{key}: removed"
            elif key not in old:
                yield f"{path}.{key} = {short(new[key])}"
            else:
                yield from differences(old[key], new[key], f"{path}.{key}")
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            yield from differences(before, after, f"{path}[{index}]")
    elif type(old) is not type(new) or old != new:
        yield f"{path} = {short(new)}"


class Mutated:
    """A mutated definition, shown in failure reports by its differences from the built-in."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.text = yaml.safe_dump(data, sort_keys=False)
        self.changes = list(differences(DEFINITION, data))

    def __repr__(self) -> str:
        return f"Mutated(changes={self.changes!r})"


@st.composite
def mutated_definitions(draw: st.DrawFn) -> Mutated:
    """The built-in definition with up to three mutations."""
    data = copy.deepcopy(DEFINITION)
    known = codes_and_keys(data)
    for _ in range(draw(st.integers(0, 3))):
        change = draw(st.sampled_from([author_change, random_walk]))
        if isinstance(data, dict) and isinstance(data.get("sections"), list):
            change(draw, data, known)
    return Mutated(data)


# ---------------------------------------------------------------- the property


@pytest.fixture
def starting_point(request: pytest.FixtureRequest, db: None) -> str:
    """The database the test's parameter names: empty, with the built-in consultation
    loaded, or loaded with a response (so its codes can no longer change)."""
    if request.param != "empty":
        consultation = consultation_load(path=BUILT_IN, now=timezone.now()).consultation
        if request.param == "answered":
            draft_start(consultation=consultation, now=timezone.now())
    return str(request.param)


def load(path: Path, entry: str) -> str | None:
    """Load through ``entry``; the loader's own error message, or None if it loaded."""
    if entry == "command":
        try:
            call_command("load_consultation", str(path), stdout=StringIO())
        except CommandError as error:
            return str(error)
    else:
        try:
            consultation_load(path=path, now=NOW)
        except DefinitionError as error:
            return str(error)
    return None


def check_load(path: Path, content: bytes, entry: str) -> None:
    path.write_bytes(content)
    note(f"file: {short(content)}")
    with rolled_back():
        before = database()
        problem = load(path, entry)
        if problem is None:
            event("loaded")
            assert_stored_as_written(content.decode("utf-8"))
            assert_fits_every_database()
        else:
            event(f"refused: {problem.removeprefix(f'{path}: ').split(' ')[0]}")
            note(problem[:2000])
            assert problem.startswith(f"{path}: ")
            assert len(problem) > len(f"{path}: ") + 5
            assert "errors.pydantic.dev" not in problem  # pydantic's message was put into words
            assert database() == before


@hypothesis_settings(max_examples=60)
@given(content=raw_files, entry=st.sampled_from(["service", "command"]))
@example(content=b"slug: a\nopens_at: 2026-02-30\n", entry="service")
@example(content=b"opens_at: !!int x\n", entry="service")
@example(content=nested(1000), entry="service")
def test_any_file_loads_or_is_refused_with_the_loaders_own_error(
    db: None, tmp_path: Path, content: bytes, entry: str
) -> None:
    check_load(tmp_path / "definition.yaml", content, entry)


@pytest.mark.parametrize("starting_point", ["empty", "loaded", "answered"], indirect=True)
# Each try loads a whole definition, so shrinking would take minutes; a failure report
# lists the few changes that made the example anyway.
@hypothesis_settings(max_examples=30, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(definition=mutated_definitions(), entry=st.sampled_from(["service", "service", "command"]))
def test_a_mutated_definition_loads_or_is_refused_with_the_loaders_own_error(
    starting_point: str, tmp_path: Path, definition: Mutated, entry: str
) -> None:
    check_load(tmp_path / "definition.yaml", definition.text.encode(), entry)


def _set(*changes: tuple[list[Any], Any]) -> str:
    """The built-in definition with the value at each path replaced, as YAML."""
    data = copy.deepcopy(DEFINITION)
    for path, value in changes:
        node = data
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
    return yaml.safe_dump(data, sort_keys=False)


MATRIX = ["sections", 2, "questions", 2]  # lfr_by_operator


# Found by the tests above, on SQLite or on PostgreSQL: each once got past validation and
# failed in the database (an overflow, a value too long for its column, NUL) or in YAML
# parsing (a bare ValueError or RecursionError) instead of giving a DefinitionError.
@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param(
            _set((["title"], "x" * 201)),
            "field 'title': String should have at most 200 characters",
            id="title too long for its column (PostgreSQL)",
        ),
        pytest.param(
            _set((["title"], "a\x00b")),
            "field 'title': must not contain a NUL character",
            id="NUL (PostgreSQL)",
        ),
        pytest.param(
            _set((["closes_at"], "9999-12-31T23:59:00-05:00")),
            "field 'closes_at': must be between the years 2000 and 2999",
            id="date after 9999 in UTC",
        ),
        pytest.param(
            _set((["opens_at"], "0001-01-01T00:00:00+05:00")),
            "field 'opens_at': must be between the years 2000 and 2999",
            id="date before the year 1 in UTC",
        ),
        pytest.param(
            _set(([*MATRIX, "key"], "q" * 60), ([*MATRIX, "rows", 0, "code"], "r" * 60)),
            "is longer than 100 characters",
            id="matrix row key too long for its column (PostgreSQL)",
        ),
        pytest.param(
            _set(([*MATRIX, "options", 0, "value"], 10**30)),
            "field 'value': Input should be less than or equal to 2147483647",
            id="scale value beyond an integer column",
        ),
        pytest.param(
            _set((["sections", 0, "questions", 0, "options", 0, "label"], "x" * 301)),
            "field 'label': String should have at most 300 characters",
            id="option label too long for its column (PostgreSQL)",
        ),
        pytest.param(
            "opens_at: 2026-02-30\n",
            "is not valid YAML (day is out of range for month)",
            id="a date that does not exist",
        ),
        pytest.param("[" * 1000, "is nested too deeply", id="deep nesting"),
    ],
)
def test_values_the_database_cannot_hold_are_refused(db, tmp_path, text, problem):
    path = tmp_path / "definition.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with pytest.raises(DefinitionError, match=re.escape(problem)):
        consultation_load(path=path, now=NOW)
    assert not Consultation.objects.exists()
