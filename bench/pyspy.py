"""Sampling profiles of running Trail processes with py-spy, for `bench/http.py --profile`.

One `py-spy record --format raw` per process (collapsed stacks: `frame;frame;… count` a line,
frames as `function (file:line)`), then from that one file: a flame graph SVG drawn here (one
sampler per process, not two) and the functions with the most samples of their own.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import zlib
from collections import Counter
from pathlib import Path

RATE = 100  # samples/s per process
_LINE = re.compile(r" \((.*?):\d+\)$")


def start(pid: int, seconds: float, raw: Path) -> subprocess.Popen[bytes]:
    """Sample `pid` (the thread holding the GIL) for `seconds` into `raw`; ends by itself."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
         "--rate", str(RATE), "--format", "raw", "--output", str(raw),
         # Only the thread holding the GIL: the Python work. Every "active" thread instead
         # counts threads that a busy machine has woken but not yet run (they show as waiting
         # in a socket or lock). Without pausing the process: blocking mode took waiting
         # threads for running ones here.
         "--gil", "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def finish(sampler: subprocess.Popen[bytes], timeout: float) -> str:
    """Wait for a sampler; returns its complaint ('' when it wrote its file)."""
    try:
        _, err = sampler.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        sampler.kill()
        _, err = sampler.communicate()
        return "py-spy did not finish in time"
    return "" if sampler.returncode == 0 else err.decode(errors="replace").strip()[-500:]


def read_stacks(raw: Path) -> list[tuple[list[str], int]]:
    """Collapsed stacks, root first, with line numbers dropped so a function is one frame."""
    stacks = []
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            frames = [_LINE.sub(r" (\1)", frame) for frame in stack.split(";")]
            stacks.append((frames, int(count)))
    return stacks


def top_own(stacks: list[tuple[list[str], int]], limit: int = 15) -> list[tuple[str, int]]:
    """Functions by samples in which they were the innermost frame."""
    own: Counter[str] = Counter()
    for frames, count in stacks:
        own[frames[-1]] += count
    return own.most_common(limit)


def top_total(stacks: list[tuple[list[str], int]], limit: int = 15) -> list[tuple[str, int]]:
    """Functions by samples in which they were anywhere on the stack (once per sample)."""
    total: Counter[str] = Counter()
    for frames, count in stacks:
        for frame in set(frames):
            total[frame] += count
    return total.most_common(limit)


def flamegraph(stacks: list[tuple[list[str], int]], svg: Path, title: str) -> None:
    """A static flame graph (root at the bottom); hover a box for its name and samples."""
    tree: dict[str, object] = {}
    counts: dict[int, int] = {}
    for frames, count in stacks:
        node = tree
        for frame in frames:
            node = node.setdefault(frame, {})  # type: ignore[assignment]
            counts[id(node)] = counts.get(id(node), 0) + count
    total = sum(count for _, count in stacks) or 1
    width, row = 1200.0, 16
    depth = max((len(frames) for frames, _ in stacks), default=0)
    height = (depth + 3) * row
    boxes: list[str] = []

    def draw(node: dict[str, object], x: float, level: int) -> None:
        for name, child in sorted(node.items()):
            assert isinstance(child, dict)
            samples = counts[id(child)]
            w = samples / total * width
            if w >= 0.3:
                y = height - (level + 2) * row
                hue = 10 + zlib.crc32(name.split(" (")[-1].encode()) % 50
                label = html.escape(name if len(name) * 6.5 < w else name[: int(w / 6.5) - 2]
                                    + ".." if w > 20 else "")
                boxes.append(
                    f'<g><title>{html.escape(name)} — {samples} samples '
                    f'({samples / total:.1%})</title><rect x="{x:.1f}" y="{y}" '
                    f'width="{w:.1f}" height="{row - 1}" fill="hsl({hue},85%,60%)"/>'
                    f'<text x="{x + 2:.1f}" y="{y + row - 4}">{label}</text></g>'
                )
                draw(child, x, level + 1)
            x += w

    draw(tree, 0.0, 0)
    svg.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" '
        f'font-family="monospace" font-size="11">'
        f'<text x="4" y="14">{html.escape(title)} ({total} samples)</text>'
        + "".join(boxes) + "</svg>\n"
    )
