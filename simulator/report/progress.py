"""A live progress bar with ETA for one run: `simulate(progress=ProgressBar())` and `accsim run`.

It draws only where it can redraw in place (a terminal or a Jupyter notebook, where rich uses
ipywidgets) and only once the run has taken `delay` seconds, so short runs and piped output show
nothing; it is transient: the finished run leaves no bar behind.
"""

import threading

from rich.console import Console


class ProgressBar:
    """A context manager giving a `progress(phase, done, total)` callback for simulate(), or None
    where no bar would show (disabled, or output that cannot redraw: a pipe, a file, TERM=dumb)."""

    def __init__(self, console: Console | None = None, delay: float = 1.0, enabled: bool = True):
        self.console = console or Console(stderr=True)
        self.shown = enabled and (
            self.console.is_jupyter
            or (self.console.is_terminal and not self.console.is_dumb_terminal)
        )
        if not self.shown:  # piped or disabled: no bar, and rich.progress stays unimported
            return
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.task = self.bar.add_task("preparing", total=None)
        self.phase = ""
        self.timer = threading.Timer(delay, self.bar.start)
        self.timer.daemon = True

    def __call__(self, phase: str, done: float, total: float) -> None:
        if phase != self.phase:  # a new phase: its own bar and its own rate for the ETA
            self.phase = phase
            self.bar.reset(self.task, total=total, description=phase)
        self.bar.update(self.task, completed=done, total=total)

    def __enter__(self) -> "ProgressBar | None":
        if not self.shown:
            return None
        self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        if not self.shown:
            return
        self.timer.cancel()
        if self.timer.is_alive():
            self.timer.join()  # it may be starting the bar right now
        if self.bar.live.is_started:
            self.bar.stop()
