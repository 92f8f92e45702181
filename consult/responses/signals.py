"""Signals of the responses app, for apps that keep figures about responses."""

from django.dispatch import Signal

# Sent in the transaction that withdraws a response, with ``response`` and ``now``.
response_withdrawn = Signal()

# Sent in the transaction that amends a sent response, with ``response``, ``now`` and
# ``changed_keys`` (the question keys whose answers were replaced, their rows new).
response_amended = Signal()
