"""How numbers are written in every report: one place, so the markdown, HTML and terminal agree."""

from __future__ import annotations

MIB = 1024 * 1024


def format_seconds(seconds: float | None) -> str:
    """Three significant digits in the unit that suits: "412 ms", "1.23 s", "85.2 µs"."""
    if seconds is None:
        return "–"
    magnitude = abs(seconds)
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if magnitude >= scale:
            return f"{_three_digits(seconds / scale)} {unit}"
    return f"{_three_digits(seconds / 1e-9)} ns"


def _three_digits(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_times(value: float | None) -> str:
    """A speedup or ratio: "1.78x"."""
    if value is None:
        return "–"
    return f"{value:.2g}x" if 0 < abs(value) < 0.1 else f"{_three_digits(value)}x"


def format_percent(fraction: float | None, digits: int = 0) -> str:
    if fraction is None:
        return "–"
    return f"{fraction * 100:.{digits}f}%"


def format_cores(cores: float | None) -> str:
    return "–" if cores is None else f"{cores:.2f}"


def format_mib(size_bytes: int | None) -> str:
    return "–" if size_bytes is None else f"{size_bytes / MIB:.1f}"


def format_p_value(p_value: float | None) -> str:
    if p_value is None:
        return "–"
    return "p<0.001" if p_value < 0.001 else f"p={p_value:.3f}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def code(text: object) -> str:
    """A name from the data as a markdown code span; backticks in it cannot end the span."""
    return "`" + str(text).replace("`", "'").replace("\n", " ") + "`"
