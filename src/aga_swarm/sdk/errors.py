"""The errors a step may raise or catch. ``aga_swarm.engine.errors`` re-exports them beside the engine's own."""

from __future__ import annotations


class SwarmError(Exception):
    """Base of every error the engine raises on purpose."""


class InvalidInput(SwarmError, ValueError):
    pass


class InvalidPlan(SwarmError, ValueError):
    """A plan's dependencies name an unknown subtask, the subtask itself, or form a cycle."""


class MalformedContinuation(SwarmError):
    pass


class UnknownStep(SwarmError):
    pass


class UnknownPolicy(SwarmError, ValueError):
    """No termination policy is registered under the name (at registration, or in a stored node)."""
