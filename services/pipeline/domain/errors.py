"""Domain exceptions; entrypoints map them to the contract's error codes in one place."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"


class InvalidTransition(DomainError):
    code = "invalid_transition"

    def __init__(self, action: str, status: str, why: str = "") -> None:
        self.action = action
        self.status = status
        detail = f" ({why})" if why else ""
        super().__init__(f"cannot {action} a run that is {status}{detail}")


class RunActive(DomainError):
    code = "run_active"

    def __init__(self, site_id: str, run_id: str) -> None:
        self.site_id = site_id
        self.run_id = run_id
        super().__init__(f"site {site_id} already has an active run {run_id}")


class InsufficientCredits(DomainError):
    code = "insufficient_credits"

    def __init__(self, required: int, available: int) -> None:
        self.required = required
        self.available = available
        super().__init__(f"this needs {required} credits and {available} are available")


class UnknownSite(DomainError):
    code = "not_found"

    def __init__(self, site_id: str) -> None:
        super().__init__(f"site {site_id} does not exist for this account")


class UnknownRun(DomainError):
    code = "not_found"

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id} does not exist")


class EventTooLarge(DomainError):
    code = "event_too_large"

    def __init__(self, event_type: str, size: int, limit: int) -> None:
        self.event_type = event_type
        self.size = size
        super().__init__(f"a {event_type} of {size} bytes is over the {limit}-byte limit of an event")


class ForeignRun(DomainError):
    """A control command whose account is not the run's: refused, and set aside for operators."""

    code = "account_mismatch"

    def __init__(self, run_id: str, account_id: str) -> None:
        super().__init__(f"run {run_id} does not belong to account {account_id}")
