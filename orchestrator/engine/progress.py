"""Live progress during waits (rich): which gateways are down, elapsed against the target."""

from __future__ import annotations

import sys
from collections.abc import Sequence


class LiveProgress:
    """Redraws one panel on stderr while the engine waits; silent when stderr is no terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self.enabled = sys.stderr.isatty()
        self._live = Live(console=self.console, refresh_per_second=8, transient=True) \
            if self.enabled else None
        if self._live is not None:
            self._live.start()

    def update(self, phase: str, what: str, elapsed: float, target: float | None,
               down: Sequence[str], pending: Sequence[str]) -> None:
        if self._live is None:
            return
        from rich.text import Text

        line = Text()
        line.append(f"{phase}", style="bold")
        line.append(f"  {what}  ")
        line.append(f"{elapsed:5.1f}s" + (f" / {target:g}s" if target else ""),
                    style="red" if target and elapsed > target else "green")
        line.append(f"\n  down: {', '.join(down[:12]) or 'none'}" + (" …" if len(down) > 12 else ""),
                    style="yellow" if down else "dim")
        if pending:
            line.append(f"\n  waiting for: {', '.join(pending[:12])}" + (" …" if len(pending) > 12 else ""))
        self._live.update(line)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
