"""Full-text search over free-text answers, on whichever database is in use.

SQLite: an FTS5 index over responses_answer.text, kept in step by triggers.
PostgreSQL: a GIN index on the tsvector of the text's words (non-word characters become
spaces first, so markup and web addresses split into words as FTS5's unicode61 tokeniser
splits them; the 'simple' configuration: no stemming, prefix search instead).
The query side is consult.analysis.queries._matches.
"""

from django.db import migrations

SQLITE_CREATE = [
    """CREATE VIRTUAL TABLE answer_text_fts USING fts5(
        text, content='responses_answer', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER answer_text_fts_insert AFTER INSERT ON responses_answer
        WHEN new.text IS NOT NULL BEGIN
        INSERT INTO answer_text_fts(rowid, text) VALUES (new.id, new.text);
    END""",
    """CREATE TRIGGER answer_text_fts_delete AFTER DELETE ON responses_answer
        WHEN old.text IS NOT NULL BEGIN
        INSERT INTO answer_text_fts(answer_text_fts, rowid, text)
        VALUES ('delete', old.id, old.text);
    END""",
    """CREATE TRIGGER answer_text_fts_update_old AFTER UPDATE ON responses_answer
        WHEN old.text IS NOT NULL BEGIN
        INSERT INTO answer_text_fts(answer_text_fts, rowid, text)
        VALUES ('delete', old.id, old.text);
    END""",
    """CREATE TRIGGER answer_text_fts_update_new AFTER UPDATE ON responses_answer
        WHEN new.text IS NOT NULL BEGIN
        INSERT INTO answer_text_fts(rowid, text) VALUES (new.id, new.text);
    END""",
    "INSERT INTO answer_text_fts(answer_text_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS answer_text_fts_insert",
    "DROP TRIGGER IF EXISTS answer_text_fts_delete",
    "DROP TRIGGER IF EXISTS answer_text_fts_update_old",
    "DROP TRIGGER IF EXISTS answer_text_fts_update_new",
    "DROP TABLE IF EXISTS answer_text_fts",
]
POSTGRES_CREATE = [
    """CREATE INDEX answer_text_search ON responses_answer
        USING gin (to_tsvector('simple', regexp_replace("text", '\\W+', ' ', 'g')))
        WHERE "text" IS NOT NULL""",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS answer_text_search"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("analysis", "0002_roles"),
        ("responses", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]
