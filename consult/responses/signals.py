"""Signals of the responses app, for apps that keep figures about responses."""

from django.dispatch import Signal

# Sent in the transaction that withdraws a response, with ``response`` and ``now``.
response_withdrawn = Signal()
