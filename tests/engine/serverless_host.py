"""A queue-triggered function host, as Azure Functions runs one: it takes messages from a queue (Azurite's
queue service) one at a time and invokes the handler for each, ``aga_swarm.serverless.handle_queue_message``,
then sends the follow-up wake-ups (an output binding) and deletes the message. A message that an invocation
died on comes back after its visibility timeout. Several hosts run at once in tests/engine/test_serverless.py.
Stops when the file $HOST_STOP exists; its last line counts invocations and operations run."""

from __future__ import annotations

import os
import time
from pathlib import Path

from aga_swarm import serverless
from tests.engine.azure_queue import AzureQueue

FAN_OUT = 4  # at most this many wake-ups sent by one invocation


def main() -> None:
    queue = AzureQueue(os.environ["QUEUE_URL"], os.environ["QUEUE_NAME"])
    stop = Path(os.environ["HOST_STOP"])
    invocations = ran_total = 0
    print("host ready", flush=True)
    while not stop.exists():
        message = queue.receive(visibility_timeout=60)
        if message is None:
            time.sleep(0.05)
            continue
        ran = serverless.handle_queue_message(message.text)
        invocations += 1
        ran_total += ran
        if ran:
            for _ in range(min(serverless.queued_operations(), FAN_OUT)):
                queue.send("wake")
        queue.delete(message)
    serverless.close()
    print(f"host stopped: {invocations} invocations, {ran_total} operations run", flush=True)


if __name__ == "__main__":
    main()
