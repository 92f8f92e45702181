"""Audit trails whose rows are written once and never changed or deleted."""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

from django.db import models

RecordT = TypeVar("RecordT", bound=models.Model)


class AppendOnlyError(Exception):
    """An audit record is never changed or deleted."""


class AppendOnlyQuerySet(models.QuerySet[RecordT]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} cannot be changed")

    def delete(self) -> NoReturn:
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} cannot be deleted")


class AppendOnlyModel(models.Model):
    """A model whose rows can be added and read, and nothing else (bulk updates and
    deletes through the manager are refused too)."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{self._meta.verbose_name_plural} cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError(f"{self._meta.verbose_name_plural} cannot be deleted")
