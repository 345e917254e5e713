"""Cloud storage emulators the tests start on free ports: moto's S3 server and Azurite's blob service.

Both are real HTTP servers in their own processes; the blob store talks to them exactly as it would to the
cloud, with endpoint and credentials in the clouds' standard environment variables.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

SERVICES_DIR = Path(__file__).resolve().parents[1] / "services"  # the npm project with Azurite (package.json)
AZURITE_BIN = SERVICES_DIR / "node_modules" / ".bin" / "azurite-blob"
# Azurite's documented development account (public, the same in every installation)
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@dataclass
class Emulator:
    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _start(argv: list[str], ready: re.Pattern[str], what: str, timeout: float = 60.0) -> Emulator:
    """Start a server that prints the address it listens on, and wait for that line."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                            env={**os.environ, "NO_COLOR": "1"}, start_new_session=True)
    lines: list[str] = []
    found: list[str] = []
    seen = threading.Event()

    def pump() -> None:  # keep reading, so the server never blocks on a full pipe
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip())
            m = ready.search(line)
            if m and not found:
                found.append(m.group(1))
                seen.set()
        seen.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found and time.monotonic() < deadline and proc.poll() is None:
        seen.wait(0.1)
    if not found:
        proc.kill()
        pytest.fail(f"{what} did not start: " + " | ".join(lines[-10:]))
    return Emulator(proc, found[0], lines)


def start_moto() -> Emulator:
    """moto's S3 server (``moto[server]``, pinned in requirements.lock) on a free port."""
    return _start([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
                  re.compile(r"Running on (http://127\.0\.0\.1:\d+)"), "moto server")


def start_azurite(workdir: Path) -> Emulator:
    """Azurite's blob service (npm package pinned in tests/services/package-lock.json) on a free port."""
    if not AZURITE_BIN.exists():
        pytest.fail(f"Azurite is not installed at {AZURITE_BIN}: run `make services` (npm ci in tests/services)")
    return _start([str(AZURITE_BIN), "--blobHost", "127.0.0.1", "--blobPort", "0", "--location", str(workdir),
                   "--skipApiVersionCheck", "--disableTelemetry", "--silent", "--loose"],
                  re.compile(r"listens on (http://127\.0\.0\.1:\d+)"), "Azurite")


def s3_env(endpoint: str) -> dict[str, str]:
    """AWS's standard variables pointing at a moto server (which accepts any key)."""
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": "true", "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}


def azure_env(endpoint: str) -> dict[str, str]:
    """Azure's standard variables for the emulator (its development account and key)."""
    return {"AZURE_STORAGE_USE_EMULATOR": "true", "AZURITE_BLOB_STORAGE_URL": endpoint,
            "AZURE_STORAGE_ACCOUNT_NAME": AZURITE_ACCOUNT, "AZURE_STORAGE_ACCOUNT_KEY": AZURITE_KEY}


def create_s3_bucket(endpoint: str, bucket: str) -> None:
    r = httpx.put(f"{endpoint}/{bucket}")
    assert r.status_code == 200, r.text


def create_azure_container(endpoint: str, container: str) -> None:
    """Create a container with a Shared Key signed request (the blob store itself never creates one)."""
    headers = {"x-ms-date": email.utils.formatdate(usegmt=True), "x-ms-version": "2021-08-06"}
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in sorted(headers.items()))
    # path-style emulator URLs put the account in the path, so it appears twice in the canonical resource
    resource = f"/{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/{container}\nrestype:container"
    string_to_sign = "PUT\n" + "\n" * 11 + canonical_headers + resource
    digest = hmac.new(base64.b64decode(AZURITE_KEY), string_to_sign.encode(), hashlib.sha256).digest()
    headers["Authorization"] = f"SharedKey {AZURITE_ACCOUNT}:{base64.b64encode(digest).decode()}"
    r = httpx.put(f"{endpoint}/{AZURITE_ACCOUNT}/{container}?restype=container", headers=headers)
    assert r.status_code == 201, r.text
