"""Commands for a person at a terminal: send, status, campaigns, messages.

They speak HTTP through `relaybox.client`, like any other client, so they work against any
BSG-compatible base URL (`--url` / `RELAYBOX_URL`) with an API key (`--api-key` /
`RELAYBOX_API_KEY`).  Every failure is one line on stderr and exit status 1 (2 for a bad flag):
the client's errors are caught here, at the edge, never shown as a traceback.
"""

from __future__ import annotations

import csv
import functools
import itertools
import os
import time
from datetime import UTC, datetime
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.markup import escape
from rich.table import Column, Table
from rich.text import Text

from relaybox.cli_files import EXPORT_COLUMNS, CsvProblem, chunks, export_row, read_numbers
from relaybox.client import Client, RelayboxClientError, ValidationError
from relaybox.client import calls as client_calls
from relaybox.client.errors import NotFound
from relaybox.client.models import FINAL_CAMPAIGN_STATUSES, CampaignDetail

console = Console()
err = Console(stderr=True)

#: The most phones one campaign takes (One API `POST /api/campaigns/sms/send`).
MAX_CAMPAIGN_PHONES = 10_000

UrlOpt = Annotated[str, typer.Option("--url", envvar="RELAYBOX_URL", help="Base URL of the API (relaybox or any BSG-compatible one)")]
KeyOpt = Annotated[Optional[str], typer.Option("--api-key", envvar="RELAYBOX_API_KEY", help="API key, live_… or test_…", show_default=False)]
DEFAULT_URL = "http://127.0.0.1:8000"


class Fail(Exception):
    """A problem to report as one line (exit status 1)."""


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or exc.__class__.__name__


def friendly(command: Callable) -> Callable:
    """Run `command`, turning the client's errors, file errors and Ctrl+C into one line and exit 1."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (RelayboxClientError, Fail, CsvProblem) as exc:
            err.print(f"[red]error:[/red] {escape(_one_line(exc))}", highlight=False, soft_wrap=True)
        except (UnicodeDecodeError, csv.Error) as exc:
            err.print(f"[red]error:[/red] not a readable CSV file (UTF-8 text): {escape(_one_line(exc))}", highlight=False)
        except OSError as exc:
            err.print("[red]error:[/red] " + escape(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")), highlight=False)
        except KeyboardInterrupt:
            err.print("interrupted")
        raise typer.Exit(1)

    return run


def _client(url: str, api_key: str | None) -> Client:
    if not api_key:
        raise Fail("no API key: pass --api-key or set RELAYBOX_API_KEY")
    return Client(url, api_key)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=False)


def _time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


def _add_row(table: Table, *cells: object) -> None:
    """A row of plain text: what a server sends (a message's text, a campaign's name) is never markup."""
    table.add_row(*(Text("" if c is None else str(c)) for c in cells))


def _money(value: Decimal | None, currency: str | None) -> str:
    if value is None:
        return ""
    return f"{value.normalize():f} {currency or ''}".strip()


# -- send ---------------------------------------------------------------------------------------------


def send(
    phone: Annotated[Optional[str], typer.Argument(help="One phone number (E.164 digits, + optional)", show_default=False)] = None,
    text: Annotated[str, typer.Option("--text", "-t", help="Message text")] = ...,
    sender: Annotated[str, typer.Option("--sender", "-s", help="Sender: 3-11 letters/digits or 3-15 digits")] = ...,
    reference: Annotated[Optional[str], typer.Option("--reference", help="Your reference for the one number (1-32 of A-Z a-z 0-9 _ -)")] = None,
    csv_file: Annotated[Optional[Path], typer.Option("--csv", help="Send to every number of this CSV (column phone/number/msisdn or the first; optional reference)", dir_okay=False)] = None,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, max=MAX_CAMPAIGN_PHONES, help="Phones per campaign for --csv")] = MAX_CAMPAIGN_PHONES,
    validity: Annotated[Optional[int], typer.Option("--validity", min=1, max=72, help="Hours to try delivering (default 72)", show_default=False)] = None,
    tariff: Annotated[Optional[int], typer.Option("--tariff", min=0, max=9, help="Tariff code (default: the account's)", show_default=False)] = None,
    start_at: Annotated[Optional[str], typer.Option("--start-at", help="Schedule: YYYY-MM-DD HH:MM:SS (UTC) or ISO 8601", show_default=False)] = None,
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
) -> None:
    """Send a text to one number, or to every number of a CSV file (campaigns of up to 10,000)."""
    if (phone is None) == (csv_file is None):
        raise Fail("give one phone number or --csv FILE (not both)")
    options = {k: v for k, v in {"validity": validity, "tariff_code": tariff, "start_at": start_at}.items() if v is not None}
    with _client(url, api_key) as client:
        if phone is not None:
            campaign = client.send_sms([(phone, reference)], text, sender, **options)
            console.print(f"campaign {campaign.id} {campaign.status}: 1 message to {phone}, "
                          f"{_money(campaign.calculated_price, campaign.currency)}", highlight=False, markup=False)
            found = client.messages(campaign_id=campaign.id, limit=15).items
            if found:
                console.print(f"message {found[0].id} {found[0].status}", highlight=False, markup=False)
            return
        _send_csv(client, csv_file, text, sender, chunk_size, options)


def _send_csv(client: Client, path: Path, text: str, sender: str, chunk_size: int, options: dict) -> None:
    # First pass: every line checked and counted before anything is sent (a bad line sends nothing).
    total = sum(1 for _ in read_numbers(path))
    if total == 0:
        raise Fail(f"no phone numbers in {path}")
    sent: list = []
    with _progress() as progress:
        task = progress.add_task(f"sending {path.name}", total=total)
        for chunk in chunks(read_numbers(path), chunk_size):
            try:
                campaign = client.send_sms([(r.phone, r.reference) for r in chunk], text, sender, **options)
            except ValidationError as exc:
                raise Fail(_csv_refusal(path, exc, chunk, sent)) from None
            except RelayboxClientError as exc:
                raise Fail(f"{_one_line(exc)}{_already(sent)}") from None
            sent.append((campaign, len(chunk)))
            progress.advance(task, len(chunk))
    table = Table("campaign", "phones", "status", "price", title=f"{total:,} numbers from {path.name}")
    for campaign, count in sent:
        _add_row(table, str(campaign.id), f"{count:,}", campaign.status, _money(campaign.calculated_price, campaign.currency))
    console.print(table)
    price = sum((c.calculated_price or Decimal(0) for c, _ in sent), Decimal(0))
    console.print(f"sent {total:,} numbers in {len(sent)} campaign(s): {', '.join(str(c.id) for c, _ in sent)}; "
                  f"total {_money(price, sent[0][0].currency)}", highlight=False)


def _already(sent: list) -> str:
    if not sent:
        return " (nothing was sent)"
    return f" (already sent: campaign(s) {', '.join(str(c.id) for c, _ in sent)}, {sum(n for _, n in sent):,} numbers)"


def _csv_refusal(path: Path, exc: ValidationError, chunk: list, sent: list) -> str:
    """The server's 422 in the file's terms: `phones.N.number` is line chunk[N].line."""
    for field, messages in exc.errors.items():
        parts = field.split(".")
        if len(parts) >= 2 and parts[0] == "phones" and parts[1].isdigit() and int(parts[1]) < len(chunk):
            row = chunk[int(parts[1])]
            return f"{path.name} line {row.line} ({row.phone}): {' '.join(messages)}{_already(sent)}"
    return f"{_one_line(exc)}{_already(sent)}"


# -- status ---------------------------------------------------------------------------------------------


def status(
    message_id: Annotated[Optional[int], typer.Argument(help="Message id", show_default=False)] = None,
    reference: Annotated[Optional[str], typer.Option("--reference", "-r", help="Look the message up by your reference instead")] = None,
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
) -> None:
    """Show one message: its status, times and price."""
    if (message_id is None) == (reference is None):
        raise Fail("give a message id or --reference R (not both)")
    with _client(url, api_key) as client:
        try:
            m = client.message(message_id) if message_id is not None else client.message_by_reference(reference)
        except NotFound:
            # the One API lists only the last three months; legacy REST finds any message of the account
            try:
                legacy = (client.legacy.sms_status(message_id) if message_id is not None
                          else client.legacy.sms_status_by_reference(reference))
            except NotFound:
                raise Fail(f"no message with id {message_id}" if message_id is not None
                           else f"no message with reference {reference!r}") from None
            rows = [("id", legacy.id), ("phone", legacy.msisdn), ("reference", legacy.reference), ("status", legacy.status),
                    ("accepted", _time(legacy.time_in)), ("sent", _time(legacy.time_sent)),
                    ("delivered", _time(legacy.time_dr)), ("price", _money(legacy.price, legacy.currency))]
        else:
            rows = [("id", m.id), ("campaign", m.campaign_id), ("reference", m.reference_id), ("phone", m.phone),
                    ("sender", m.sender), ("status", m.status), ("created", _time(m.created_at)),
                    ("sent", _time(m.sent_at)), ("delivered", _time(m.delivered_at)), ("country", m.country),
                    ("parts", m.parts), ("price", _money(m.amount.value, m.amount.currency) if m.amount else ""),
                    ("text", m.text)]
    table = Table(show_header=False, box=None)
    for name, value in rows:
        _add_row(table, name, value)
    console.print(table)


# -- campaigns --------------------------------------------------------------------------------------------

campaigns_app = typer.Typer(help="List, show, watch and stop campaigns.", no_args_is_help=True)


@campaigns_app.command("list")
def campaigns_list(
    limit: Annotated[int, typer.Option("--limit", min=1, help="Campaigns to show")] = 20,
    type_: Annotated[Optional[str], typer.Option("--type", help="sms, rcs or whatsapp", show_default=False)] = None,
    date_from: Annotated[Optional[str], typer.Option("--from", help="Created at or after (UTC)", show_default=False)] = None,
    date_to: Annotated[Optional[str], typer.Option("--to", help="Created at or before (UTC)", show_default=False)] = None,
    sort: Annotated[str, typer.Option("--sort", help="id, sender, type, date or status")] = "id",
    way: Annotated[str, typer.Option("--way", help="asc or desc")] = "desc",
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
) -> None:
    """The account's campaigns, newest first."""
    filters = {k: v for k, v in {"type": type_, "date_from": date_from, "date_to": date_to}.items() if v is not None}
    with _client(url, api_key) as client:
        found = list(itertools.islice(
            client.iter_campaigns(sort=sort, way=way, limit=max(30, min(500, limit)), **filters), limit))
    table = Table("id", "created", "status", "sender", "name", "sent", "delivered")
    for c in found:
        _add_row(table, str(c.id), _time(c.created_at), c.status, c.sender or "", c.name or "", str(c.statistics.sent),
                      str(c.statistics.delivered))
    console.print(table)


def _detail_table(d: CampaignDetail) -> Group:
    head = Table(show_header=False, box=None)
    for name, value in (("id", d.id), ("name", d.name), ("sender", d.sender), ("status", d.status), ("type", d.type),
                        ("created", _time(d.created_at)), ("started", _time(d.actual_start_at or d.started_at)),
                        ("finished", _time(d.finished_at)), ("messages", d.total_messages),
                        ("price", _money(d.total_price, d.currency))):
        _add_row(head, name, value)
    counts = Table("status", "messages", title="statistics")
    for name, count in d.statistics.items():
        if count or name in ("delivered", "sent", "accepted"):
            _add_row(counts, name, f"{count:,}")
    return Group(head, counts)


@campaigns_app.command("show")
def campaigns_show(
    campaign_id: Annotated[int, typer.Argument(help="Campaign id")],
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
) -> None:
    """One campaign: its details and how many of its messages are in each status."""
    with _client(url, api_key) as client:
        console.print(_detail_table(client.campaign_detail(campaign_id)))


@campaigns_app.command("watch")
def campaigns_watch(
    campaign_id: Annotated[int, typer.Argument(help="Campaign id")],
    interval: Annotated[float, typer.Option("--interval", min=0.1, help="Seconds between looks")] = 1.0,
    timeout: Annotated[Optional[float], typer.Option("--timeout", min=0, help="Give up (exit 1) after this many seconds", show_default=False)] = None,
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
) -> None:
    """Redraw a campaign's statistics as its messages move, until it is done or stopped."""
    deadline = time.monotonic() + timeout if timeout is not None else None
    with _client(url, api_key) as client:

        def looks():
            # the campaign's detail now, then after every interval, until it is final
            detail = client.campaign_detail(campaign_id)
            yield detail
            while not _finished(detail):
                if deadline is not None and time.monotonic() >= deadline:
                    raise Fail(f"campaign {campaign_id} is still {detail.status} after {timeout:g} s")
                time.sleep(interval)
                detail = client.campaign_detail(campaign_id)
                yield detail

        if console.is_terminal:
            with Live(console=console, auto_refresh=False) as live:
                for detail in looks():
                    live.update(_detail_table(detail), refresh=True)
        else:
            # not a terminal (a log, a pipe): a line whenever the counts change, then the table
            last = None
            for detail in looks():
                counts = _counts(detail)
                if counts != last:
                    console.print(f"{_time(datetime.now(UTC))} {counts}", highlight=False, markup=False)
                    last = counts
            console.print(_detail_table(detail))
    console.print(f"campaign {campaign_id} {detail.status}", highlight=False, markup=False)


def _counts(d: CampaignDetail) -> str:
    counts = ", ".join(f"{name} {count:,}" for name, count in d.statistics.items() if count)
    return f"{d.status}: {counts or 'no messages yet'}"


def _finished(d: CampaignDetail) -> bool:
    return d.status in FINAL_CAMPAIGN_STATUSES


@campaigns_app.command("stop")
def campaigns_stop(
    campaign_id: Annotated[int, typer.Argument(help="Campaign id")],
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
) -> None:
    """Stop a scheduled, sending or paused campaign; its unsent messages are refunded."""
    with _client(url, api_key) as client:
        stopped = client.stop_campaign(campaign_id)
    console.print(f"campaign {stopped.id} {stopped.status}", highlight=False, markup=False)


# -- messages ----------------------------------------------------------------------------------------------


def messages(
    campaign: Annotated[Optional[int], typer.Option("--campaign", help="Only this campaign's messages", show_default=False)] = None,
    reference: Annotated[Optional[str], typer.Option("--reference", help="Only the message with this reference", show_default=False)] = None,
    date_from: Annotated[Optional[str], typer.Option("--from", help="Created at or after (UTC; default 3 months before --to)", show_default=False)] = None,
    date_to: Annotated[Optional[str], typer.Option("--to", help="Created at or before (UTC; default now)", show_default=False)] = None,
    sort: Annotated[str, typer.Option("--sort", help="id, phone or delivered")] = "id",
    way: Annotated[str, typer.Option("--way", help="asc or desc")] = "asc",
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="At most this many messages (default 50 shown; all exported)", show_default=False)] = None,
    export: Annotated[Optional[Path], typer.Option("--export", help="Write the messages to this CSV file instead (streamed page by page)", dir_okay=False, show_default=False)] = None,
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
) -> None:
    """List messages with the One API list's filters, or export them all to CSV."""
    filters = {k: v for k, v in {"campaign_id": campaign, "reference_id": reference, "date_from": date_from,
                                 "date_to": date_to}.items() if v is not None}
    with _client(url, api_key) as client:
        if export is not None:
            _export(client, export, filters, sort, way, limit)
            return
        shown = limit or 50
        found = list(itertools.islice(client.iter_messages(sort=sort, way=way, limit=max(15, min(500, shown)), **filters), shown))
    # the id and the MSISDN whole on any terminal width (Rich folds or cuts columns that do not fit)
    table = Table(Column("id", no_wrap=True), "campaign", Column("phone", no_wrap=True, min_width=15), "status", "created",
                  "delivered", "parts", "price", "reference")
    for m in found:
        _add_row(table, str(m.id), str(m.campaign_id or ""), str(m.phone), m.status, _time(m.created_at),
                      _time(m.delivered_at), str(m.parts or ""), _money(m.amount.value, m.amount.currency) if m.amount else "",
                      m.reference_id or "")
    console.print(table)


def _export(client: Client, path: Path, filters: dict, sort: str, way: str, limit: int | None) -> None:
    """Page by page (500 a page) into `path`, through a `.part` file renamed when complete."""
    partial = path.with_name(path.name + ".part")
    written = 0
    try:
        with partial.open("w", newline="", encoding="utf-8") as handle, _progress() as progress:
            writer = csv.writer(handle)
            writer.writerow(EXPORT_COLUMNS)
            task = progress.add_task(f"exporting to {path.name}", total=None)
            for page in client.pages(client_calls.messages(sort=sort, way=way, limit=500, **filters)):
                progress.update(task, total=page.total if limit is None else min(limit, page.total))
                rows = page.items if limit is None else page.items[: limit - written]
                writer.writerows(export_row(m) for m in rows)
                written += len(rows)
                progress.update(task, completed=written)
                if limit is not None and written >= limit:
                    break
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    console.print(f"exported {written:,} message{'' if written == 1 else 's'} to {path}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add the people's commands to the `relaybox` command."""
    app.command("send")(friendly(send))
    app.command("status")(friendly(status))
    app.command("messages")(friendly(messages))
    for command in campaigns_app.registered_commands:
        command.callback = friendly(command.callback)
    app.add_typer(campaigns_app, name="campaigns")
