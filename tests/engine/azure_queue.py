"""A minimal client of Azure Queue Storage's REST API (Shared Key signed), for Azurite's queue service: the
queue that feeds the serverless handler test as a Functions host's queue trigger would be fed."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import httpx

from ..store.emulators import AZURITE_ACCOUNT, AZURITE_KEY, SERVICES_DIR, Emulator, _start

AZURITE_QUEUE_BIN = SERVICES_DIR / "node_modules" / ".bin" / "azurite-queue"


def start_azurite_queue(workdir: Path) -> Emulator:
    return _start([str(AZURITE_QUEUE_BIN), "--queueHost", "127.0.0.1", "--queuePort", "0", "--location",
                   str(workdir), "--skipApiVersionCheck", "--disableTelemetry", "--silent", "--loose"],
                  re.compile(r"listens on (http://127\.0\.0\.1:\d+)"), "Azurite queue service")


@dataclass
class Received:
    id: str
    pop_receipt: str
    text: str


class AzureQueue:
    def __init__(self, endpoint: str, name: str) -> None:
        self.endpoint, self.name = endpoint, name
        self.http = httpx.Client(timeout=30)

    def _request(self, method: str, path: str, query: dict[str, str] | None = None, body: str = "") -> httpx.Response:
        query = query or {}
        data = body.encode()
        headers = {"x-ms-date": email.utils.formatdate(usegmt=True), "x-ms-version": "2021-08-06"}
        content_type = "application/xml" if data else ""
        canonical_headers = "".join(f"{k}:{v}\n" for k, v in sorted(headers.items()))
        resource = f"/{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/{self.name}{path}"
        resource += "".join(f"\n{k.lower()}:{v}" for k, v in sorted(query.items()))
        string_to_sign = "\n".join([method, "", "", str(len(data)) if data else "", "", content_type, "", "", "",
                                    "", "", ""]) + "\n" + canonical_headers + resource
        digest = hmac.new(base64.b64decode(AZURITE_KEY), string_to_sign.encode(), hashlib.sha256).digest()
        headers["Authorization"] = f"SharedKey {AZURITE_ACCOUNT}:{base64.b64encode(digest).decode()}"
        if content_type:
            headers["Content-Type"] = content_type
        url = f"{self.endpoint}/{AZURITE_ACCOUNT}/{self.name}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return self.http.request(method, url, headers=headers, content=data)

    def create(self) -> None:
        r = self._request("PUT", "")
        assert r.status_code in (201, 204), r.text

    def send(self, text: str) -> None:
        r = self._request("POST", "/messages", body=f"<QueueMessage><MessageText>{text}</MessageText></QueueMessage>")
        assert r.status_code == 201, r.text

    def receive(self, visibility_timeout: int = 60) -> Received | None:
        r = self._request("GET", "/messages", {"numofmessages": "1", "visibilitytimeout": str(visibility_timeout)})
        assert r.status_code == 200, r.text
        m = re.search(r"<MessageId>(.*?)</MessageId>.*?<PopReceipt>(.*?)</PopReceipt>.*?<MessageText>(.*?)"
                      r"</MessageText>", r.text, re.S)
        return Received(m.group(1), m.group(2), m.group(3)) if m else None

    def delete(self, message: Received) -> None:
        r = self._request("DELETE", f"/messages/{message.id}", {"popreceipt": message.pop_receipt})
        assert r.status_code == 204, r.text

    def length(self) -> int:
        r = self._request("GET", "", {"comp": "metadata"})
        assert r.status_code == 200, r.text
        return int(r.headers["x-ms-approximate-messages-count"])
