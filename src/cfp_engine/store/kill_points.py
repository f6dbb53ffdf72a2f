"""Named points where a test kills the process, to check that every change is atomic.

Tests stop a run with ``CFP_ENGINE_TEST_KILL_AT=<stage>``: in an import or remove of the
user store ``extracted``, ``written``, ``scored``, ``committed``; in a build of the
built-in or a per-inventory project ``build-written`` (the Brightway project written, no
scores yet), ``cache-half-written`` (one score file in the temporary folder) and
``cache-swapped`` (the old table moved aside, the new one not yet in place).
"""

from __future__ import annotations

import os
import signal

#: Environment variable naming the stage at which a test kills the process (SIGKILL).
KILL_ENV_VAR = "CFP_ENGINE_TEST_KILL_AT"
KILL_STAGES = (
    "extracted",
    "written",
    "scored",
    "committed",
    "build-written",
    "cache-half-written",
    "cache-swapped",
)


def kill_point(stage: str) -> None:
    """Kill this process with SIGKILL if ``CFP_ENGINE_TEST_KILL_AT`` names ``stage``.

    A test hook: it simulates a power cut or ``kill -9`` at a known point of a change.
    """
    if os.environ.get(KILL_ENV_VAR) == stage:
        os.kill(os.getpid(), signal.SIGKILL)
