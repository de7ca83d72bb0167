"""The one family of domain errors.

Services raise a subclass of `DomainRuleError` when the caller broke a rule: it
carries a code, a message a person can act on, the input at fault and an HTTP
status. The API's exception handler, the page form helper and the socket
consumers each map it once, so a service error can never become a 500.
"""

from __future__ import annotations


class DomainRuleError(Exception):
    default_code = "invalid"
    default_status = 400

    def __init__(
        self, message: str, *, field: str | None = None, code: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or self.default_code
        self.status = status or self.default_status
