"""One-line errors for the learner: UserError, and run_main, which turns it into `error: ...` and exit 2."""

from __future__ import annotations

import os
import re
import sys

USER_ERROR_EXIT = 2  # the same code argparse uses for a bad flag
STOPPED_EXIT = 130  # 128 + SIGINT: a run stopped by Ctrl-C, saved or not


class UserError(Exception):
    """A problem the learner can fix (a bad flag, missing data, ...): shown as one line, no traceback."""


def error_summary(error: BaseException) -> str:
    """The first line of an exception's message, without terminal colours (or its type if it has none)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__


def run_main(main) -> None:
    """Run `main()` and exit with the code it returns (None: 0); a UserError becomes `error: ...` and exit 2,
    a Ctrl-C that stops at once exit 130, a closed pipe exit 0."""
    first_process = os.environ.get("RANK", "0") == "0"  # under torchrun every process fails alike; one speaks
    try:
        code = main()
    except UserError as error:
        if first_process:
            print(f"error: {error}", file=sys.stderr)
        sys.exit(USER_ERROR_EXIT)
    except KeyboardInterrupt:
        if first_process:
            print("\ninterrupted", file=sys.stderr)
        sys.exit(STOPPED_EXIT)
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        sys.exit(0)
    if code:
        sys.exit(code)
