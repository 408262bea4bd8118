"""What the inbound routing index `messages (phone, sender, id)` (migration 0009) costs a send.

Stores a 10,000-phone campaign through the sending service (no HTTP) on a fresh SQLite file, with
the index and with it dropped, alternating, `--runs` times each; prints each time and the medians.
Not a target: a measurement of the write cost an extra index adds to every accepted message.

    PYTHONPATH=. .venv/bin/python bench/inbound_index_cost.py --runs 4
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

from sqlalchemy import text

from relaybox.api.app import open_platform
from relaybox.config import Settings
from relaybox.domain.models import Caller
from relaybox.services import sending
from relaybox.services.accounts import create_account
from relaybox.services.auth import new_api_key
from relaybox.services.recipients import Recipient

SECRET = "inbound-index-bench-secret-0123456789abcdef"


async def one(with_index: bool, run: int, phones: int) -> float:
    from decimal import Decimal

    folder = tempfile.mkdtemp(prefix="relaybox-bench-index-")
    platform = await open_platform(Settings(database_url=f"sqlite:///{folder}/bench.db", jwt_secret=SECRET, sim_speed=0))
    try:
        if not with_index:
            async with platform.db.write() as conn:
                await conn.execute(text("DROP INDEX ix_messages_phone_sender_id"))
        account_id, _ = await create_account(platform, name="bench", currency="EUR", balance=Decimal(10**6),
                                             credit=Decimal(0), api_key=new_api_key("live"))
        recipients = [Recipient(path=f"phones.{i}", phone=380970000011 + i * 10, text=f"bench {run}", sender="Shop")
                      for i in range(phones)]
        start = time.perf_counter()
        await sending.send(platform, Caller(account_id, False), recipients, sending.SendOptions(),
                           common_text=f"bench {run}")
        return time.perf_counter() - start
    finally:
        await platform.db.dispose()


async def main(args: argparse.Namespace) -> None:
    times: dict[bool, list[float]] = {True: [], False: []}
    for run in range(args.runs):
        for with_index in (True, False):
            times[with_index].append(await one(with_index, run, args.phones))
    for with_index, values in times.items():
        label = "with the index   " if with_index else "without the index"
        print(f"{label}: {[round(v * 1000) for v in values]} ms, median {statistics.median(values) * 1000:.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--phones", type=int, default=10_000)
    asyncio.run(main(parser.parse_args()))
