"""SMPP submit throughput: relaybox's SMPP connector to the SMSC simulator on one connection.

Starts `python -m relaybox.cli smsc --sim-speed 0` as its own process on a free port
(the SMSC side gets its own core, as a real SMSC would be elsewhere), then drives
`SmppConnector.submit` in this process the way the engine does: batches of 1,000
messages, `--concurrency` batches at once, one transceiver connection with a window
of 50 and no rate limit.  Receipts are read and acknowledged while it submits, so the
connection carries the deliver_sm traffic too.  Prints submit_sm per second; target
>= 2,000/s.  It measures the connector and the wire, not the store (see
engine_throughput.py for the whole engine).

    .venv/bin/python bench/smpp_submit.py [--messages 20000] [--window 50] [--text-parts 1]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

from _common import free_port, header

from relaybox.connectors.base import Submission
from relaybox.connectors.smpp import SmppConnector, SmppSettings

TARGET = 2000.0


async def run(args) -> None:
    port = free_port()
    smsc = subprocess.Popen(
        [sys.executable, "-m", "relaybox.cli", "smsc", "--port", str(port), "--sim-speed", "0",
         "--system-id", "bench", "--password", "bench"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        print(smsc.stdout.readline().strip())
        connector = SmppConnector(
            SmppSettings(name="bench", host="127.0.0.1", port=port, system_id="bench", password="bench",
                         window=args.window, tps=0, response_timeout=30)
        )
        await connector.start()
        await asyncio.wait_for(connector.wait_bound(), 10)
        text = ("Your code is 1234. " * 40)[: 150 if args.text_parts == 1 else 153 * args.text_parts]
        subs = [
            Submission(i, 380971230000 + 1000 + i % 8000, "UA", "relaybox", text, "gsm7", args.text_parts, "sms")
            for i in range(1, args.messages + 1)
        ]
        batches = [subs[i : i + 1000] for i in range(0, len(subs), 1000)]
        receipts = 0

        async def drain() -> None:
            nonlocal receipts
            while True:
                got = await connector.receipts()
                await connector.acknowledge(got)
                receipts += len(got)

        drainer = asyncio.create_task(drain())
        limit = asyncio.Semaphore(args.concurrency)

        async def one(batch):
            async with limit:
                return await connector.submit(batch)

        started = time.perf_counter()
        results = [r for rs in await asyncio.gather(*(one(b) for b in batches)) for r in rs]
        elapsed = time.perf_counter() - started
        accepted = sum(r.accepted for r in results)
        pdus = connector.submitted
        rate = pdus / elapsed
        await asyncio.sleep(0.5)
        drainer.cancel()
        print(f"messages {len(subs)} ({args.text_parts} part(s) each), accepted {accepted}, submit_sm {pdus}, "
              f"window {args.window}, in {elapsed:.2f} s")
        print(f"submit_sm/s {rate:,.0f}   target >= {TARGET:,.0f}   {'PASS' if rate >= TARGET else 'MISS'}")
        print(f"receipts read and acknowledged meanwhile: {receipts}")
        await connector.stop()
    finally:
        smsc.terminate()
        smsc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--window", type=int, default=50)
    parser.add_argument("--text-parts", type=int, default=1, choices=(1, 2, 3))
    parser.add_argument("--concurrency", type=int, default=8, help="batches of 1,000 in flight (the engine's default)")
    args = parser.parse_args()
    header("SMPP submit throughput (one connection, SMSC simulator in its own process)")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
