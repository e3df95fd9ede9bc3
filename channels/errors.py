"""The two errors of a channel: it cannot be built, or a send did not go through; and
whether a failure was TLS."""

from __future__ import annotations

import ssl

__all__ = ["ChannelConfigError", "DeliveryFailed", "is_tls_failure"]


class DeliveryFailed(Exception):
    """A send that did not go through, with a reason safe to show to the on-call agent (French).

    `retryable`: trying again cannot duplicate the message (429, connection refused).
    `ambiguous`: the request may have reached the provider (timeout after it left): the message
    must be looked up before any resend. `retry_after_s`: the provider's own delay (Retry-After),
    which the dispatcher waits at least.
    """

    def __init__(
        self,
        public_reason: str,
        *,
        retryable: bool,
        ambiguous: bool = False,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(public_reason)
        self.public_reason = public_reason
        self.retryable = retryable
        self.ambiguous = ambiguous
        self.retry_after_s = retry_after_s  # the provider said when to try again (429)


class ChannelConfigError(Exception):
    """A channel cannot be built: missing credential, bad number, bad URL. The message is
    French, names the setting or environment variable, and never contains a secret."""


def is_tls_failure(exc: BaseException) -> bool:
    """Whether `exc`, or an exception it was raised from or during, is a TLS failure."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
