"""The trigger target: answers 204 and counts, on new and kept-alive connections."""

import http.client
import subprocess
import sys
import urllib.request
from pathlib import Path


def test_the_receiver_answers_204_and_counts_on_new_and_kept_alive_connections() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.receiver"], stdout=subprocess.PIPE, cwd=Path(__file__).parents[2]
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().decode().strip())
        base = f"http://127.0.0.1:{port}"
        for _ in range(2):
            request = urllib.request.Request(f"{base}/hook", data=b'{"a": 1}', method="POST")
            with urllib.request.urlopen(request, timeout=5) as response:
                assert response.status == 204
        kept_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        for body in (b"{}", b'{"b": 2}', b""):
            kept_alive.request("POST", "/hook", body=body, headers={"Content-Type": "application/json"})
            answer = kept_alive.getresponse()
            assert (answer.status, answer.read()) == (204, b"")
        kept_alive.request("GET", "/count")
        assert kept_alive.getresponse().read() == b"5"
        kept_alive.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
