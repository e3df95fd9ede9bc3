"""The outbox: its dispatcher, the retry policy and limits it keeps, the outcomes it writes.

`from crisis.outbox import X` is the import to use outside this package.
"""

from __future__ import annotations

from crisis.outbox.dispatcher import Dispatcher, to_outgoing
from crisis.outbox.outcome import REPORTED_REASON, Outcome
from crisis.outbox.policy import MAX_PROVIDER_WAIT_S, ChannelLimits, RetryPolicy, TokenBucket

__all__ = [
    "MAX_PROVIDER_WAIT_S",
    "REPORTED_REASON",
    "ChannelLimits",
    "Dispatcher",
    "Outcome",
    "RetryPolicy",
    "TokenBucket",
    "to_outgoing",
]
