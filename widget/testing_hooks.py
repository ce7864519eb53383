"""Test-only fault injection: lets the failure tests kill a worker at a chosen point.

For tests only. `WIDGET_TEST_KILL_AT=<point>` in the environment of a server makes
`reach(<point>)` kill the process with SIGKILL (no cleanup, no commit, no rollback),
as a crashed worker or an OOM kill would. The variable is read once, at import; unset
(always, outside tests) every `reach` does nothing, and WIDGET_ENV=production ignores it.
Points: `after_spend` (a booking and its credit entry are flushed, not yet committed).
"""

import os
import signal

_KILL_AT = (
    None
    if os.environ.get("WIDGET_ENV", "").strip().lower() == "production"
    else (os.environ.get("WIDGET_TEST_KILL_AT") or None)
)


def reach(point: str) -> None:
    """Mark a point in the code; a test that named it kills the process here."""
    if point == _KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)
