"""Alembic environment: runs on the connection handed over by relaybox.store.migrate."""

from alembic import context

from relaybox.store.tables import metadata

#: Tables in the database that are not relaybox's: the shared simulator's network
#: (connectors/shared_simulator.py) creates its own.  Autogenerate leaves them alone.
FOREIGN_PREFIXES = ("simulator_",)


def include_name(name, type_, parent_names) -> bool:
    return not (type_ == "table" and name and name.startswith(FOREIGN_PREFIXES))


connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, include_name=include_name)
with context.begin_transaction():
    context.run_migrations()
