"""Live view cost on the worker: CPU of `siteaudit serve` with one RTSP camera at 0 / 1 / 5 / 10 MJPEG
viewers, and decode → received latency (p50 / p95) of the frames the viewers get.

    python -m bench.live [--viewers 0,1,5,10] [--seconds 20]

The camera is a shared video looped by GStreamer's RTSP server on loopback; viewers are threads reading
`GET /api/cameras/{id}/live` on loopback and parsing the multipart stream. Latency is the time from the
frame's capture time (`X-Frame-Ts`, stamped when decoded) to the part arriving — on loopback, that is the
pipeline's decode → ring → send path (a browser adds its JPEG decode, a few ms). CPU is the serve process's
user+system time over the window, as % of one core; the 0-viewer row is the camera's own cost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.fixtures.net import free_port
from tests.fixtures.rtsp import RtspServer, gst_rtsp_available

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SITEAUDIT_SHARED", REPO.parent / "shared"))
VIDEO = SHARED / "videos" / "ppe-2.mp4"
PASSWORD = "correct horse battery staple"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}")


def viewer(url: str, stop: threading.Event, latencies: list[float]) -> None:
    buffer = b""
    with httpx.stream("GET", url, timeout=30) as response:
        if response.status_code != 200:
            raise SystemExit(f"viewer refused: {response.status_code} {response.read()!r}")
        for chunk in response.iter_raw():
            buffer += chunk
            while b"\r\n\r\n" in buffer:
                head, rest = buffer.split(b"\r\n\r\n", 1)
                fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line)
                size = int(fields["Content-Length"])
                if len(rest) < size + 2:
                    break
                latencies.append(time.time() - float(fields["X-Frame-Ts"]))
                buffer = rest[size + 2 :]
            if stop.is_set():
                return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", default="0,1,5,10")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    counts = [int(n) for n in args.viewers.split(",")]
    if not gst_rtsp_available():
        raise SystemExit("needs GStreamer's RTSP server (python3-gi, gir1.2-gst-rtsp-server-1.0)")
    rtsp = RtspServer([VIDEO])
    rtsp.start()
    data = Path(tempfile.mkdtemp(prefix="bench-live-"))
    port = free_port()
    env = os.environ | {
        "SITEAUDIT_DATA_DIR": str(data),
        "SITEAUDIT_SECRET_KEY": "bench-live-" + "x" * 40,
        "SITEAUDIT_PORT": str(port),
        "SITEAUDIT_LIVE_MAX_VIEWERS": str(max([*counts, 1])),
    }
    cli = [sys.executable, "-m", "audit_api.cli"]
    subprocess.run([*cli, "user", "create", "admin@bench.test", "--role", "admin"], input=PASSWORD + "\n",
                   env=env, text=True, check=True, capture_output=True)  # fmt: skip
    proc = subprocess.Popen([*cli, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait(lambda: httpx.get(base + "/api/health", timeout=2).status_code == 200, 60, "serve")
        form = {"username": "admin@bench.test", "password": PASSWORD}
        headers = {
            "Authorization": "Bearer "
            + httpx.post(base + "/api/auth/token", data=form).json()["access_token"]
        }
        site = httpx.post(base + "/api/sites", json={"name": "bench"}, headers=headers).json()["id"]
        body = {"site_id": site, "name": "cam", "kind": "rtsp", "url": rtsp.url("ppe-2")}
        camera = httpx.post(base + "/api/cameras", json=body, headers=headers).json()["id"]
        health = f"{base}/api/cameras/{camera}/health"
        wait(lambda: (httpx.get(health, headers=headers).json().get("analysed_fps") or 0) > 0, 90, "analysis")
        time.sleep(5)  # let the pipeline settle
        print(
            f"{'viewers':>7} {'cpu %':>7} {'analysed fps':>12} {'fps/viewer':>10} {'p50 ms':>7} {'p95 ms':>7}"
        )
        for n in counts:
            stop = threading.Event()
            latencies: list[float] = []
            threads = []
            for _ in range(n):
                url = (
                    base
                    + httpx.post(f"{base}/api/cameras/{camera}/live-token", headers=headers).json()["url"]
                )
                thread = threading.Thread(target=viewer, args=(url, stop, latencies), daemon=True)
                thread.start()
                threads.append(thread)
            time.sleep(2)
            latencies.clear()
            cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(args.seconds)
            cpu = (cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - t0) * 100
            got = list(latencies)
            analysed = httpx.get(health, headers=headers).json().get("analysed_fps") or 0.0
            stop.set()
            for thread in threads:
                thread.join(10)
            per_viewer = len(got) / args.seconds / n if n else 0.0
            p50 = statistics.median(got) * 1000 if got else float("nan")
            p95 = statistics.quantiles(got, n=20)[18] * 1000 if len(got) >= 20 else float("nan")
            print(
                f"{n:>7} {cpu:>7.1f} {analysed:>12.1f} {per_viewer:>10.1f} {p50:>7.0f} {p95:>7.0f}",
                flush=True,
            )
            time.sleep(2)
    finally:
        proc.terminate()
        proc.wait(30)
        rtsp.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
