"""`relaybox contacts import FILE.csv --account ID [--list NAME]`: a CSV file into an account's
contact book (services/contact_import.py; the format is in docs/contacts.md).

It writes to the store directly, like the operator's commands (`account`, `key`): a 100,000-row
file is a few hundred multi-row transactions instead of 100,000 API requests.  Each refused row
is one line on stderr (`line N: reason`); the import goes on.  Exit status: 0 when every row was
imported, 1 when some rows were refused (the others are imported), 2 when nothing could be
imported (unknown account, unreadable file, no phone column, unknown columns).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from relaybox.cli_delivery import DatabaseOpt, _settings

contacts_app = typer.Typer(help="The contact book: import contacts from a CSV file.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.add_typer(contacts_app, name="contacts")


@contacts_app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(help="CSV file: a header naming a `phone` column and custom fields", dir_okay=False)],
    account: Annotated[int, typer.Option("--account", envvar="RELAYBOX_ACCOUNT", help="The account's id (see `relaybox account list`) [env: RELAYBOX_ACCOUNT]")],
    list_name: Annotated[Optional[str], typer.Option("--list", help="Put the contacts in this list (made if missing); default: the account's default list", show_default=False)] = None,
    create_fields: Annotated[bool, typer.Option("--create-fields", help="Create a text field for each column that names no custom field (else such a column stops the import)")] = False,
    chunk_rows: Annotated[int, typer.Option("--chunk-rows", min=1, max=5000, help="Rows per transaction")] = 1000,
    database_url: DatabaseOpt = None,
) -> None:
    """Import contacts from a CSV file; bad rows are reported (line and reason) and skipped. Re-running it changes nothing."""
    from relaybox.cli_store import open_store
    from relaybox.errors import NotFound, ValidationFailed
    from relaybox.services.contact_import import ImportProblem, count_rows, import_csv

    def report_row(line: int, reason: str) -> None:
        errors.print(escape(f"{path.name} line {line}: {reason}"), highlight=False, soft_wrap=True)

    async def run():
        platform = await open_store(_settings(database_url=database_url))  # never creates one (cli_store.py)
        try:
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=errors) as progress:
                task = progress.add_task(f"importing {path.name}", total=count_rows(path))
                return await import_csv(
                    platform, account, path, list_name=list_name, create_fields=create_fields, chunk_rows=chunk_rows,
                    on_error=report_row, on_progress=lambda n: progress.update(task, completed=n),
                )
        finally:
            await platform.db.dispose()

    try:
        report = asyncio.run(run())
    except (ImportProblem, NotFound, OSError, UnicodeDecodeError) as exc:
        errors.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    except ValidationFailed as exc:
        errors.print(f"[red]error:[/red] --list: {escape(exc.errors[0].message)}", highlight=False)
        raise typer.Exit(2) from None
    if report.fields_created:
        console.print(f"created text fields: {', '.join(report.fields_created)}", highlight=False, markup=False)
    console.print(
        f"{report.rows:,} rows: {report.imported:,} imported into list {report.list_id} ({report.list_name}), "
        f"{report.created:,} of them new contacts; {report.refused:,} refused",
        highlight=False, markup=False,
    )
    if report.refused:
        raise typer.Exit(1)
