"""Memory of an upload: a 200 MB file into `quartier serve` (limit raised), and the server's
resident memory before and after, as figures and ratio (issue 13, done-when 3: the growth must
stay under 30 MB, because the body streams to disk in chunks and is never whole in memory).

Baseline: the server's RSS after a small upload of the same kind (so imports, the first request
and libmagic are paid for). Growth: the peak during the big upload (VmRSS sampled every 5 ms,
and VmHWM after resetting it through /proc/<pid>/clear_refs where that is allowed) minus that
baseline. SQLite, one worker.

    python bench/upload_memory.py [--mb 200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

import httpx  # noqa: E402

from bench.common import (  # noqa: E402
    BIN,
    CALL_CODE,
    build_world,
    draft_fields,
    free_port,
    login,
    ratio,
    schema_engine,
    serve,
    server_env,
    sqlite_database,
    table,
)

TARGET_MB = 30.0
MB = 1024 * 1024


def status_mb(pid: int, field: str) -> float:
    """A memory figure of /proc/<pid>/status (VmRSS, VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")


def reset_peak(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (Linux: 5 > clear_refs); False if denied."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class Sampler(threading.Thread):
    """The largest VmRSS seen while it runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, status_mb(self.pid, "VmRSS"))
            self.stop.wait(0.005)


def pdf_file(path: Path, size: int) -> Path:
    """A file libmagic takes for a PDF, `size` bytes long, written in chunks."""
    with path.open("wb") as out:
        out.write(b"%PDF-1.4\n")
        block = b"%" + b"0" * (MB - 2) + b"\n"
        left = size - 9
        while left > 0:
            out.write(block[:left])
            left -= len(block)
    return path


def upload(client: httpx.Client, ref: str, headers: dict[str, str], path: Path) -> dict:
    with path.open("rb") as content:
        response = client.post(f"/api/v1/applications/{ref}/documents", headers=headers,
                               data={"purpose": "other"},
                               files={"file": (path.name, content, "application/pdf")})
    response.raise_for_status()
    return response.json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the big upload in MB")
    args = parser.parse_args()
    with sqlite_database() as url, tempfile.TemporaryDirectory() as scratch:
        world = build_world(schema_engine(url))
        env = server_env(url)
        env.update(QUARTIER_DATA_DIR=str(Path(scratch) / "data"),
                   QUARTIER_UPLOAD_MAX_BYTES=str((args.mb + 10) * MB),
                   QUARTIER_UPLOAD_MAX_BYTES_PER_APPLICATION=str((args.mb + 20) * MB))
        small = pdf_file(Path(scratch) / "small.pdf", 10 * 1024)
        big = pdf_file(Path(scratch) / "big.pdf", args.mb * MB)
        port = free_port()
        command = [str(BIN / "quartier"), "serve", "--port", str(port), "--workers", "1"]
        with serve(command, env, port) as server, \
                httpx.Client(base_url=server.base_url, timeout=600) as client:
            pid = server.worker_pids()[0]
            carrier = login(client, world.emails["carrier"])
            created = client.post("/api/v1/applications", headers=carrier,
                                  json={"call": CALL_CODE, **draft_fields()})
            created.raise_for_status()
            ref = created.json()["reference"]
            started = status_mb(pid, "VmRSS")
            upload(client, ref, carrier, small)
            upload(client, ref, carrier, small)
            baseline = status_mb(pid, "VmRSS")
            reset = reset_peak(pid)
            sampled = Sampler(pid)
            sampled.start()
            try:
                stored = upload(client, ref, carrier, big)
            finally:
                sampled.stop.set()
                sampled.join()
            after = status_mb(pid, "VmRSS")
            peak = max(sampled.peak, status_mb(pid, "VmHWM") if reset else 0.0)
        assert stored["size_bytes"] == args.mb * MB, stored
    growth = max(peak, after) - baseline
    print(table(["server RSS", "MB"], [
        ["after start", f"{started:.1f}"],
        ["after a 10 KB upload (baseline)", f"{baseline:.1f}"],
        [f"after the {args.mb} MB upload", f"{after:.1f}"],
        ["peak during it (VmRSS sampled every 5 ms"
         + (", and VmHWM reset before it)" if reset else ")"), f"{peak:.1f}"],
    ]))
    print()
    print(table(["upload", "RSS growth MB", "peak / baseline", f"target < {TARGET_MB:g} MB"], [
        [f"{args.mb} MB", f"{growth:.1f}", ratio(max(peak, after), baseline),
         "ok" if growth < TARGET_MB else "MISSED"]]))
    if growth >= TARGET_MB:
        sys.exit(1)


if __name__ == "__main__":
    main()
