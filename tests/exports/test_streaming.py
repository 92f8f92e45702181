"""Downloads stream: rows are read a batch at a time and the first bytes go out before the
last batch is read; the number of queries grows with batches, not with rows."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consult.exports import formats, tables
from consult.responses.models import Answer, Response, ResponseStatus
from tests.exports.conftest import START
from tests.exports.readers import download_url, read_csv, read_jsonl, references_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_batches(monkeypatch) -> list[int]:
    """Batches of 10 responses, flushed every 5 rows; returns the size of each batch of
    answers read, as it is read."""
    monkeypatch.setattr(tables, "BATCH_SIZE", 10)
    monkeypatch.setattr(formats, "FLUSH_EVERY", 5)
    reads: list[int] = []
    original = tables._answers_place

    def spy(rows, layout):
        reads.append(len(rows))
        return original(rows, layout)

    monkeypatch.setattr(tables, "_answers_place", spy)
    return reads


def bulk_responses(made, count: int) -> list[str]:
    """``count`` more sent responses, each answering one question, written in bulk."""
    spec = made.spec
    question = spec.by_key["respondent_type"]
    at = START + timedelta(days=60)
    responses = Response.objects.bulk_create(
        Response(
            reference=f"FR-BULK-{number:06d}",
            consultation=made.consultation,
            status=ResponseStatus.SUBMITTED,
            definition_version=made.consultation.definition_version,
            started_at=at,
            updated_at=at,
            submitted_at=at + timedelta(seconds=number),
        )
        for number in range(count)
    )
    Answer.objects.bulk_create(
        Answer(response=response, question_id=question.id, option_id=question.options[0].id)
        for response in responses
    )
    return [response.reference for response in responses]


@pytest.mark.parametrize("format_key", ["csv", "jsonl"])
def test_the_first_chunk_arrives_before_later_batches_are_read(
    made, controller_client, small_batches, format_key
):
    response = controller_client.get(download_url(made.slug, format_key, "full"))
    chunks = iter(response.streaming_content)

    first = next(chunks)

    assert small_batches == [10]  # only the first batch has been read
    if format_key == "csv":
        assert len(read_csv(first)[1]) == 5
    else:
        assert len(read_jsonl(first)) == 5
    rest = list(chunks)
    assert small_batches == [10, 10, 10, 2]
    assert len(made.sent) == 32
    assert len([chunk for chunk in rest if chunk]) >= math.ceil(32 / 5) - 1
    assert references_in(format_key, first + b"".join(rest)) == [s.reference for s in made.sent]


def test_a_large_csv_arrives_in_several_chunks_with_the_real_settings(made, controller_client):
    references = bulk_responses(made, 1200)
    assert (tables.BATCH_SIZE, formats.FLUSH_EVERY) == (2000, 500)

    response = controller_client.get(download_url(made.slug, "csv", "anonymised"))
    chunks = [chunk for chunk in response.streaming_content if chunk]

    assert len(chunks) == 3  # 500 rows, 500 rows, then the last 232
    assert len(read_csv(chunks[0])[1]) == 500
    body = b"".join(chunks)
    assert references_in("csv", body) == [s.reference for s in made.sent] + references


def test_queries_grow_with_batches_not_rows(
    made, controller_client, small_batches, django_assert_max_num_queries
):
    count = len(made.sent)
    url = download_url(made.slug, "csv", "full")

    with django_assert_max_num_queries(10 + math.ceil(count / 10) * 3) as captured:
        body = b"".join(controller_client.get(url).streaming_content)

    assert len(read_csv(body)[1]) == count
    sql = [query["sql"] for query in captured.captured_queries]
    assert sum('FROM "responses_response"' in q for q in sql) == 1  # one cursor
    assert sum('FROM "responses_answer"' in q for q in sql) == math.ceil(count / 10)
    assert sum('FROM "responses_respondent"' in q for q in sql) == math.ceil(count / 10)


@pytest.mark.parametrize("format_key", ["csv", "xlsx", "sav"])
def test_forty_times_the_responses_take_the_same_queries(made, controller_client, format_key):
    """With the real batch size (2,000), 32 and 1,232 responses are one batch each: the
    number of queries is the same, whatever the number of rows."""
    url = download_url(made.slug, format_key, "full")
    b"".join(controller_client.get(url).streaming_content)  # warm the session and spec

    with CaptureQueriesContext(connection) as few:
        small = b"".join(controller_client.get(url).streaming_content)
    references = bulk_responses(made, 1200)
    with CaptureQueriesContext(connection) as many:
        large = b"".join(controller_client.get(url).streaming_content)

    assert len(references_in(format_key, small)) == len(made.sent)
    assert len(references_in(format_key, large)) == len(made.sent) + len(references)
    assert len(many) == len(few) < 20


def test_the_xlsx_streams_while_the_rows_are_read(made, controller_client, small_batches):
    """The workbook is sent as it is written: its first bytes before any row is read, and
    more of it between one batch of responses and the next."""
    response = controller_client.get(download_url(made.slug, "xlsx", "full"))
    batches_read_at_each_chunk = []
    chunks = []
    for chunk in response.streaming_content:
        batches_read_at_each_chunk.append(len(small_batches))
        chunks.append(chunk)

    assert batches_read_at_each_chunk[0] == 0
    assert {1, 2, 3} <= set(batches_read_at_each_chunk)  # chunks sent between batches
    assert small_batches == [10, 10, 10, 2]
    body = b"".join(chunks)
    assert references_in("xlsx", body) == [s.reference for s in made.sent]
