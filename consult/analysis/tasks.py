"""Background tasks of the workspace (django-tasks), run by the worker process
(``manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task

from consult.analysis.themes import suggestion_run_execute


@task()
def theme_suggestions_run(run_id: int) -> None:
    """Suggest themes for a queued ``SuggestionRun`` (``consult.analysis.themes``)."""
    suggestion_run_execute(run_id=run_id)
