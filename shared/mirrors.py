"""Downloading one file from a list of mirrors, within limits, as plain-text progress.

Downloads come from ``$MNIST_MIRROR`` first when it is set (your institution's own copy), then
from ``MIRRORS``. ``fetch`` gives up on a mirror that cannot be reached, is too slow (see
``Limits``) or sends more than the file can be, and says why in a ``MirrorFailed``; whether a
second try is worth it is part of the answer (a transfer that broke off, a server error such as
HTTP 503). ``shared.mnist`` decides what to fetch, verifies it and writes it.
"""

from __future__ import annotations

import dataclasses
import http.client
import os
import time
import urllib.error
import urllib.parse
import urllib.request

MIRROR_ENV = "MNIST_MIRROR"

#: Known-good mirrors of the gzipped files (the original host often refuses downloads). Read
#: when a download starts, so changing this tuple takes effect at once.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

#: HTTP answers that mean "the server stumbled, ask again" rather than "no such file here".
RETRY_STATUSES = (500, 502, 503, 504)


def mirror_urls() -> tuple[str, ...]:
    """Where downloads come from, in order: ``$MNIST_MIRROR`` first when set, then
    ``MIRRORS``. Each is a URL of a folder that holds the four ``.gz`` files."""
    own = os.environ.get(MIRROR_ENV, "").strip()
    if not own:
        return tuple(MIRRORS)
    own = own if own.endswith("/") else own + "/"
    return (own, *(m for m in MIRRORS if m != own))


@dataclasses.dataclass(frozen=True)
class Limits:
    """When a download gives up on a mirror and tries the next one."""

    timeout: float = 10.0  # seconds to connect, and the longest silence while receiving
    deadline: float = 600.0  # seconds for the whole file
    stall_seconds: float = 30.0  # a mirror must send at least stall_bytes ...
    stall_bytes: int = 64 * 1024  # ... in every stall_seconds


class MirrorFailed(Exception):
    """One try at one mirror failed. ``reached``: the server answered (so the internet works);
    ``retry``: a second try might succeed (the transfer broke off or arrived damaged)."""

    def __init__(self, message: str, reached: bool = True, retry: bool = False):
        super().__init__(message)
        self.reached, self.retry = reached, retry


def fetch(url: str, limit: int, limits: Limits = Limits(), progress: bool = True) -> bytes:
    """The bytes at ``url``, at most ``limit`` of them, or MirrorFailed saying why not."""
    start = time.monotonic()
    try:
        response = urllib.request.urlopen(url, timeout=limits.timeout)
    except urllib.error.HTTPError as err:
        retry = err.code in RETRY_STATUSES  # the server's own hiccup: a second try may succeed
        message = f"the server answered HTTP {err.code} ({err.reason})"
        raise MirrorFailed(message, retry=retry) from None
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise MirrorFailed(f"could not connect ({reason})", reached=False) from None
    with response:
        if "html" in (response.headers.get("Content-Type") or ""):
            raise MirrorFailed(_WEB_PAGE)
        announced = int(response.headers.get("Content-Length") or 0)
        if announced > limit:
            raise MirrorFailed(f"it announced {announced:,} bytes, more than the file can be")
        bar = _Progress(url, announced) if progress else None
        try:
            raw = _receive(response, limit, limits, start, bar)
        finally:
            if bar:
                bar.close(time.monotonic() - start)
    if announced and len(raw) < announced:
        raise MirrorFailed(f"it sent {len(raw):,} of {announced:,} bytes", retry=True)
    if raw.lstrip()[:1] == b"<":
        raise MirrorFailed(_WEB_PAGE)
    return raw


def _receive(response, limit: int, limits: Limits, start: float, bar) -> bytes:
    """The body of ``response``, read as it arrives: at most ``limit`` bytes, within
    ``limits``."""
    chunks, received = [], 0
    window_start, window_bytes = start, 0
    while True:
        try:
            chunk = response.read1(1 << 16)  # whatever has arrived, at most 64 KiB
        except TimeoutError:
            raise MirrorFailed(f"it sent nothing for {limits.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as err:
            raise MirrorFailed(f"the transfer broke off ({err})", retry=True) from None
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
        window_bytes += len(chunk)
        now = time.monotonic()
        if received > limit:
            raise MirrorFailed(f"it sent more than {limit:,} bytes, more than the file can be")
        if now - start > limits.deadline:
            raise MirrorFailed(f"it took longer than {limits.deadline:g} s ({received:,} bytes)")
        if now - window_start >= limits.stall_seconds:
            if window_bytes < limits.stall_bytes:
                raise MirrorFailed(
                    f"it stalled: {window_bytes:,} bytes in {now - window_start:.0f} s"
                )
            window_start, window_bytes = now, 0
        if bar:
            bar.update(received)
    return b"".join(chunks)


_WEB_PAGE = (
    "it sent a web page (HTML), not the gzip file: perhaps the login page of a proxy or a "
    "Wi-Fi network"
)


class _Progress:
    """Download progress as plain text on one line: ``25% 50% 75% 100%``. It looks the same in
    a terminal, a notebook and a log file, and needs no widget library."""

    def __init__(self, url: str, total: int):
        parts = urllib.parse.urlsplit(url)
        where = parts.netloc or "a local folder"
        size = f" ({_size(total)})" if total else ""
        print(f"downloading {parts.path.rsplit('/', 1)[-1]}{size} from {where}:", end="")
        self.total, self.shown, self.received = total, 0, 0

    def update(self, received: int) -> None:
        self.received = received
        if self.total:
            while self.shown < 75 and 100 * received >= (self.shown + 25) * self.total:
                self.shown += 25
                print(f" {self.shown}%", end="", flush=True)

    def close(self, seconds: float) -> None:
        done = "done" if not self.total or self.received >= self.total else "stopped"
        print(f" {done}, {_size(self.received)} in {seconds:.1f} s", flush=True)


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 100_000 else f"{count / 1e3:.1f} kB"
