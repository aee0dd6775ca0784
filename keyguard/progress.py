"""Progress on stderr while large inputs are read and checked; silent when stderr is not a
terminal (CI logs, pipes), so reports on stdout stay clean."""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator


class Progress:
    def __init__(self, enabled: bool):
        self._bar = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
            self._bar = __import__("rich.progress", fromlist=["Progress"]).Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self._bar.start()

    @contextlib.contextmanager
    def task(self, description: str, total: int | None = None) -> Iterator[Callable]:
        if self._bar is None:
            yield lambda n=None: None
            return
        task = self._bar.add_task(description, total=total)

        def tick(n: int | None = None) -> None:
            if n is None:
                self._bar.advance(task)
            else:
                self._bar.update(task, completed=n, total=max(n, self._bar.tasks[task].total or 0))

        try:
            yield tick
        finally:
            self._bar.remove_task(task)

    def done(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
