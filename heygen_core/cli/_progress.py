"""What ``heygen-avatar say`` shows on stderr while it works: progress and live events.

On a terminal it draws two `rich` progress bars (audio sent to the service,
audio the avatar has played) with the events scrolling above them. When
stderr is not a terminal (a pipe, a log file, CI) the same facts come as
plain lines, one per event and at most one progress line a second, so logs
stay readable and greppable.
"""

from __future__ import annotations

import math
import time
from typing import TextIO

# rich is the `cli` extra: `heygen_core.cli.main.main` checks it is installed
# (naming the extra) before any command imports this module.
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.text import Text

# Plain mode: at most one progress line per this many seconds.
_PLAIN_PROGRESS_INTERVAL = 1.0


class SpeakProgress:
    """Progress of one spoken file, and the lines around it, written to `err`.

    Use it as a context manager; `message` prints a line (above the bars on a
    terminal), `update` moves the bars.

    Args:
        err: Where to write (stderr).
        total_seconds: Seconds of audio to speak (the bars' length).
        plain: Force plain lines even on a terminal (None: decide from `err`).
    """

    def __init__(self, err: TextIO, total_seconds: float, *, plain: bool | None = None) -> None:
        self._err = err
        self._total = max(total_seconds, 1e-3)
        self._console = Console(file=err, highlight=False, soft_wrap=True)
        if plain is None:
            plain = not self._console.is_terminal or self._console.is_dumb_terminal
        self.plain = plain
        """Whether progress is written as plain lines (not a terminal)."""
        self._progress: Progress | None = None
        self._sent_task: TaskID | None = None
        self._played_task: TaskID | None = None
        self._last: tuple[float, float] | None = None
        self._printed: tuple[float, float] | None = None
        self._last_line_at = -math.inf  # the first progress line is always printed

    def __enter__(self) -> SpeakProgress:
        if not self.plain:
            self._progress = Progress(
                TextColumn("{task.description:>7}"),
                BarColumn(),
                TextColumn("{task.completed:5.2f} / {task.total:.2f} s"),
                console=self._console,
                # The JSON report goes to stdout afterwards; leave stdout alone.
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._sent_task = self._progress.add_task("sent", total=self._total)
            self._played_task = self._progress.add_task("played", total=self._total)
            self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        elif self._last is not None and self._last != self._printed:
            self._plain_line(*self._last, force=True)

    def message(self, line: str) -> None:
        """Print `line` (an event, a link): above the bars, or as a plain line."""
        if self._progress is not None:
            # Text, not markup: event JSON is full of [brackets].
            self._progress.console.print(Text(line), soft_wrap=True)
        else:
            print(line, file=self._err, flush=True)

    def update(self, sent_seconds: float, played_seconds: float) -> None:
        """Set the seconds sent so far and the seconds the avatar has played."""
        sent = min(sent_seconds, self._total)
        played = min(played_seconds, sent)
        if self._progress is not None:
            assert self._sent_task is not None and self._played_task is not None
            self._progress.update(self._sent_task, completed=sent)
            self._progress.update(self._played_task, completed=played)
        elif (sent, played) != self._last:
            self._plain_line(sent, played, force=False)
        self._last = (sent, played)

    def _plain_line(self, sent: float, played: float, *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._last_line_at < _PLAIN_PROGRESS_INTERVAL:
            return
        self._last_line_at = now
        self._printed = (sent, played)
        print(
            f"  progress: sent {sent:.2f} / {self._total:.2f} s, "
            f"played {played:.2f} / {self._total:.2f} s",
            file=self._err,
            flush=True,
        )
