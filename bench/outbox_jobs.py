"""The benchmark's empty job: what 4 workers do when the job itself costs nothing."""

from jobs.base import job


@job
def empty(i: int) -> None:
    """Same decorator and queue as a notice batch, no work."""
