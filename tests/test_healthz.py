"""The health check: answers without touching the database, the session or a template."""


def test_the_health_check_answers_ok_without_the_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        reply = client.get("/healthz")
    assert reply.status_code == 200
    assert reply.content == b"ok"
    assert reply["Content-Type"] == "text/plain"
    assert "no-cache" in reply["Cache-Control"]
    assert reply.cookies == {}  # no session started, no CSRF cookie set
