"""Downloads filtered by how responses were received, with a channel column and the filter
in their audit record."""

from __future__ import annotations

import pytest

from consult.exports.models import DownloadRecord
from tests.exports.readers import fetch, read_csv, references_in


@pytest.mark.parametrize(
    "channels",
    [["post"], ["email", "phone"], ["online"]],
)
def test_a_download_holds_only_the_channels_chosen(made, controller_client, channels):
    query = [("channel", channel) for channel in channels]
    _, body = fetch(controller_client, made.slug, "csv", "anonymised", query)

    expected = [sent.reference for sent in made.sent if sent.channel in channels]
    assert expected
    assert references_in("csv", body) == expected
    _header, rows = read_csv(body)
    assert {row["channel"] for row in rows} == set(channels)
    record = DownloadRecord.objects.get()
    assert record.filters == {"channels": sorted(channels)}
    assert record.row_count == len(expected)


def test_an_unknown_channel_is_not_applied(made, controller_client):
    _, body = fetch(controller_client, made.slug, "csv", "anonymised", [("channel", "pigeon")])
    assert references_in("csv", body) == [sent.reference for sent in made.sent]
    assert DownloadRecord.objects.get().filters == {}
