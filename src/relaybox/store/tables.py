"""The schema, as SQLAlchemy Core tables.  Migrations in `migrations/` build it;
`tests/integration/test_migrations.py` checks that they agree.

Money columns are integer counts of 10^-7 currency units (see domain/money.py).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Float,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from relaybox.domain.status import MessageStatus
from relaybox.store.types import BigIntId, JSONDocument, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: Statuses that still need the engine; the partial indexes below cover only these rows,
#: so the dispatcher and the expiry sweep stay cheap however many final messages pile up.
PENDING_SQL = "status IN ('scheduled', 'moderation', 'accepted', 'sending', 'sent')"
DUE_SQL = "status IN ('scheduled', 'accepted')"
#: A contact on the stop list of any channel.
STOPLISTED_SQL = "sms_stoplist OR viber_stoplist OR rcs_stoplist OR whatsapp_stoplist"

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("balance", BigInteger, nullable=False, server_default="0"),  # units
    Column("credit", BigInteger, nullable=False, server_default="0"),  # units: how far balance may go below zero
    Column("status", String(16), nullable=False, server_default="active"),  # active | blocked
    Column("tariff_code", Integer, nullable=False, server_default="0"),  # the account's default tariff
    Column("webhook_url", String(500)),
    Column("created_at", UTCDateTime, nullable=False),
    # HMAC-SHA256 key of the X-Relaybox-Signature header of this account's webhooks
    # (engine/webhooks.py); made on first use for accounts created before it existed.
    Column("webhook_secret", String(64)),
    # Rate limits (services/rate_limits.py): requests and accepted messages per second, and the
    # burst each bucket holds; NULL: the platform's default (RELAYBOX_RATE_*); 0: no limit.
    Column("rate_requests_per_second", Integer),
    Column("rate_requests_burst", Integer),
    Column("rate_messages_per_second", Integer),
    Column("rate_messages_burst", Integer),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("key_hash", String(64), nullable=False, unique=True),  # sha256 hex of the key
    Column("mode", String(8), nullable=False),  # live | test
    Column("prefix", String(12), nullable=False),  # first characters, to recognise a key in listings
    Column("created_at", UTCDateTime, nullable=False),
    # When the key stops working: NULL while it works; may lie in the future (`key rotate --grace`).
    # Every lookup compares it with the time, so an UPDATE in SQL revokes a key as the CLI does.
    Column("revoked_at", UTCDateTime),
    Column("label", String(100)),  # the operator's name for the key (`key create --label`)
    Column("last4", String(4)),  # last characters, shown with the prefix; NULL for keys made before 0006
)

#: Every change of an account's balance made by an operator (`relaybox account top-up`), written
#: in the transaction that changes the balance: who, when, how much, and the balance it left.
account_ledger = Table(
    "account_ledger",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # top-up
    Column("amount", BigInteger, nullable=False),  # units, signed
    Column("balance_after", BigInteger, nullable=False),  # units
    Column("actor", String(100), nullable=False),  # who made it (`--by`, RELAYBOX_OPERATOR, else the OS user)
    Column("note", String(500)),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_account_ledger_account_id_id", "account_id", "id"),
)

tariffs = Table(
    "tariffs",
    metadata,
    Column("code", Integer, primary_key=True, autoincrement=False),  # 0-9
    Column("name", String(100), nullable=False),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("is_default", Boolean, nullable=False, server_default=text("false")),
)

rates = Table(
    "rates",
    metadata,
    Column("tariff_code", Integer, ForeignKey("tariffs.code"), primary_key=True, autoincrement=False),
    Column("country", String(2), primary_key=True),
    Column("channel", String(8), primary_key=True),  # sms | rcs
    Column("price", BigInteger, nullable=False),  # base-currency units per part (SMS) or message (RCS)
)

countries = Table(
    "countries",
    metadata,
    Column("code", String(2), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("calling_code", Integer, nullable=False),
    Column("mcc", String(3), nullable=False, server_default=""),
)

currency_rates = Table(
    "currency_rates",
    metadata,
    Column("currency", String(3), primary_key=True),
    Column("rate", BigInteger, nullable=False),  # units of this currency per 1 base-currency unit, ×10^7
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("type", String(8), nullable=False),  # channel: sms | rcs
    Column("source", String(16), nullable=False),  # web (One API) | rest (legacy)
    Column("sender", String(40), nullable=False),
    Column("text", Text),  # the common text; NULL for individual campaigns
    Column("validity", Integer, nullable=False),
    Column("tariff_code", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("is_test", Boolean, nullable=False),
    Column("start_at", UTCDateTime, nullable=False),
    Column("real_start_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("total_messages", Integer, nullable=False),
    Column("total_phones", Integer, nullable=False),
    Column("total_price", BigInteger, nullable=False),  # units, as reserved at creation
    Column("currency", String(3), nullable=False),
    Column("callback_url", String(500)),
    # Per-status message counters, kept in the same transaction as every status
    # change so that detail costs the same for 1 message and for 100,000.
    *[Column(f"n_{s.value}", Integer, nullable=False, server_default="0") for s in MessageStatus],
    # The same counters for the SMS fallbacks of an RCS campaign's messages (the
    # detail's `alternative_channels.sms.statistics`); the fallbacks are not in n_<status>.
    *[Column(f"n_alt_{s.value}", Integer, nullable=False, server_default="0") for s in MessageStatus],
    Column("n_pending", Integer, nullable=False, server_default="0"),  # messages not yet final, fallbacks included
    Index("ix_campaigns_account_id_created_at", "account_id", "created_at"),
    Index("ix_campaigns_account_id_id", "account_id", "id"),
    Index("ix_campaigns_pending_status", "status", sqlite_where=text("status IN ('scheduled', 'sending')"),
          postgresql_where=text("status IN ('scheduled', 'sending')")),
)

messages = Table(
    "messages",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("campaign_id", BigInteger, ForeignKey("campaigns.id")),  # NULL for single messages
    Column("type", String(8), nullable=False),  # channel: sms | rcs
    Column("source", String(16), nullable=False),  # web | rest
    Column("reference_id", String(32)),
    Column("phone", BigInteger, nullable=False),
    Column("country", String(2), nullable=False),
    Column("sender", String(40), nullable=False),
    Column("text", Text, nullable=False),
    Column("encoding", String(8), nullable=False),  # gsm7 | ucs2
    Column("parts", Integer, nullable=False),
    Column("validity", Integer, nullable=False),
    Column("tariff_code", Integer, nullable=False),
    Column("price", BigInteger, nullable=False),  # units, reserved at acceptance
    Column("currency", String(3), nullable=False),
    Column("status", String(20), nullable=False),
    Column("is_test", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),  # earliest dispatch time
    Column("expires_at", UTCDateTime, nullable=False),  # due_at + validity
    Column("sent_at", UTCDateTime),
    Column("delivered_at", UTCDateTime),  # time of the final delivery report
    Column("connector", String(40)),  # who took it
    Column("operator_id", String(64)),  # the connector's id for it; receipts are keyed by it
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("callback_url", String(500)),
    # RCS: the content as accepted ({"text"?, "cards"?}, shown as `rcs_options`).
    Column("rcs_options", JSONDocument),
    # RCS: the SMS to send instead if it cannot be delivered, checked and priced at
    # acceptance ({text, sender, encoding, parts, validity, tariff_code, price}).
    Column("alternative_sms", JSONDocument),
    Column("alternative_id", BigInteger),  # RCS: the SMS fallback once it was created
    Column("parent_id", BigInteger),  # SMS fallback: the RCS message it stands in for
    # The operator's brand by libphonenumber's carrier data, set at acceptance (domain/networks.py);
    # NULL: unknown (and for messages accepted before migration 0010). MCC/MNC derive from it.
    Column("brand", String(64)),
    Index("ix_messages_account_id_created_at", "account_id", "created_at"),
    Index("ix_messages_account_id_id", "account_id", "id"),
    Index("ix_messages_account_id_phone", "account_id", "phone"),
    Index("ix_messages_account_id_delivered_at", "account_id", "delivered_at"),
    Index("ix_messages_campaign_id_id", "campaign_id", "id"),
    Index("uq_messages_account_id_reference_id", "account_id", "reference_id", unique=True,
          sqlite_where=text("reference_id IS NOT NULL"), postgresql_where=text("reference_id IS NOT NULL")),
    Index("ix_messages_due", "due_at", sqlite_where=text(DUE_SQL), postgresql_where=text(DUE_SQL)),
    Index("ix_messages_pending_expires_at", "expires_at", sqlite_where=text(PENDING_SQL),
          postgresql_where=text(PENDING_SQL)),
    Index("ix_messages_connector_operator_id", "connector", "operator_id"),
    # Inbound routing (docs/inbound.md): the latest message to a phone from a sender, any account.
    Index("ix_messages_phone_sender_id", "phone", "sender", "id"),
)

#: Per account and hour of creation: the range of message ids created in it and
#: their number.  Message ids grow with creation time only roughly (concurrent
#: writers), so a date range cannot be turned into an id range directly; these
#: rows give an exact superset of ids for any date range, which lets the
#: messages list walk the (account_id, id) index in id order instead of sorting
#: the whole range, and give its total without counting every row.
message_hours = Table(
    "message_hours",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("hour", UTCDateTime, primary_key=True),
    Column("min_id", BigInteger, nullable=False),
    Column("max_id", BigInteger, nullable=False),
    Column("n", BigInteger, nullable=False),
)

#: Breakdowns (services/breakdowns.py) read these roll-ups, never the messages: each is kept
#: exact by the transaction that inserts messages (store/messages.py) or changes their status
#: (store/transitions.py), with deltas summed per key and one upsert per table per batch.
#:
#: In all three, campaign_id is the campaign, 0 for messages of none, and -1 for the whole account
#: (every message counted there too: store/rollups.py ACCOUNT), so that an account's figures read
#: one row per hour and key however many campaigns ran.
#:
#: Messages now in each status, per account, campaign, hour of creation, country and
#: operator brand ('' unknown); `cost`: what those messages are charged (units; 0 for test
#: traffic and refunded messages).
traffic_rollups = Table(
    "traffic_rollups",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("campaign_id", BigInteger, primary_key=True, autoincrement=False),
    Column("hour", UTCDateTime, primary_key=True),
    Column("country", String(2), primary_key=True),
    Column("brand", String(64), primary_key=True),
    Column("status", String(20), primary_key=True),
    Column("n", BigInteger, nullable=False),
    Column("cost", BigInteger, nullable=False),
    Index("ix_traffic_rollups_account_id_hour", "account_id", "hour"),
)

#: Events per minute of when they happened: messages that reached an operator (`sent`, by
#: sent_at), were delivered (by delivered_at), or ended in another final status (`failed`).
#: Per campaign (no rows for messages of none), and for the whole account under campaign_id -1 per
#: minute and -2 per hour (`minute` is then the hour's start).
traffic_minutes = Table(
    "traffic_minutes",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("campaign_id", BigInteger, primary_key=True, autoincrement=False),
    Column("minute", UTCDateTime, primary_key=True),
    Column("sent", BigInteger, nullable=False),
    Column("delivered", BigInteger, nullable=False),
    Column("failed", BigInteger, nullable=False),
    Index("ix_traffic_minutes_account_id_minute", "account_id", "minute"),
)

#: Delivered messages by delivery time (delivered_at − sent_at) bucket (domain/delivery_times.py),
#: per account, campaign and hour of creation: percentiles without reading the messages.
delivery_times = Table(
    "delivery_times",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("campaign_id", BigInteger, primary_key=True, autoincrement=False),
    Column("hour", UTCDateTime, primary_key=True),
    Column("bucket", Integer, primary_key=True, autoincrement=False),
    Column("n", BigInteger, nullable=False),
    Index("ix_delivery_times_account_id_hour", "account_id", "hour"),
)

#: Statistics export jobs (One API `/api/stat/jobs`): created by the API, run by an engine
#: process (engine/stat_jobs.py), their result kept in `stat_job_chunks`.
stat_jobs = Table(
    "stat_jobs",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("key", String(32), nullable=False, unique=True),  # the public id, random hex
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("request", Text, nullable=False),  # the filters as given (JSON), shown in the list
    Column("status", String(12), nullable=False),  # pending | processing | done | failed
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("claimed_by", String(64)),  # the engine's claim tag while processing
    Column("heartbeat_at", UTCDateTime),  # renewed while processing; a stale one is taken over
    Column("rows", BigInteger, nullable=False, server_default="0"),
    Column("error", Text),
    Index("ix_stat_jobs_account_id_id", "account_id", "id"),
    Index("ix_stat_jobs_open", "created_at", sqlite_where=text("status IN ('pending', 'processing')"),
          postgresql_where=text("status IN ('pending', 'processing')")),
)

#: A job's result: its rows as CSV (no header), gzip-compressed, in runs of up to
#: `STAT_CHUNK_ROWS` rows; `first_row` is the 0-based index of the run's first row.
stat_job_chunks = Table(
    "stat_job_chunks",
    metadata,
    Column("job_id", BigInteger, ForeignKey("stat_jobs.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("first_row", BigInteger, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

webhook_outbox = Table(
    "webhook_outbox",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("message_id", BigInteger),
    Column("url", String(500), nullable=False),
    Column("payload", Text, nullable=False),  # the JSON body, exactly as it will be sent
    Column("status", String(12), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Index("ix_webhook_outbox_pending", "next_attempt_at", sqlite_where=text("status = 'pending'"),
          postgresql_where=text("status = 'pending'")),
)

#: Bodies of recent POST requests, per account: the same body again within the
#: window is refused (429).  In the database so that every API process agrees.
request_fingerprints = Table(
    "request_fingerprints",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("digest", String(64), primary_key=True),
    Column("seen_at", UTCDateTime, nullable=False, index=True),
)

#: What each engine process's connectors are doing, written every few seconds by the
#: engine (engine/connector_status.py) and read by `relaybox connectors`: the link state
#: lives in the process that holds the link, and this is how another process sees it.
connector_status = Table(
    "connector_status",
    metadata,
    Column("connector", String(40), primary_key=True),
    Column("worker", String(64), primary_key=True),  # the engine's claim tag (store/workers.py)
    Column("kind", String(16), nullable=False),  # simulator | smpp
    Column("bound", Boolean, nullable=False),
    Column("state", String(200), nullable=False),
    Column("details", Text, nullable=False),  # JSON: rate, window, queue, counters, last error
    Column("updated_at", UTCDateTime, nullable=False),
)

#: The token buckets of the rate limits, shared by every API process (services/rate_limits.py):
#: each process spends from a copy of its own and, every few hundred milliseconds, adds what it
#: spent here and takes back the bucket's level.  `refilled_at` is the database's clock.
rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(8), primary_key=True),  # requests | messages
    Column("rate", Float, nullable=False),  # tokens added per second
    Column("burst", Float, nullable=False),  # most tokens the bucket holds
    Column("tokens", Float, nullable=False),  # level at refilled_at; below zero after an overshoot
    Column("consumed", BigInteger, nullable=False),  # every token ever spent: a counter for operators
    Column("refilled_at", Float, nullable=False),  # seconds since the Unix epoch
)

#: The contact book (One API `/api/contacts*`): one row per account and phone (E.164 digits).
#: The stop list is not a table of its own: as in BSG's API, a phone is stop-listed per channel
#: by the `*_stoplist` flags of its contact row (a stop-listed phone that was not in the book
#: gets a contact row), so list counts and the send paths read one place.
contacts = Table(
    "contacts",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("phone", BigInteger, nullable=False),  # E.164 digits, as messages.phone
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("hlr_status", String(16), nullable=False, server_default="unknown"),
    Column("sms_stoplist", Boolean, nullable=False, server_default=text("false")),
    Column("viber_stoplist", Boolean, nullable=False, server_default=text("false")),
    Column("rcs_stoplist", Boolean, nullable=False, server_default=text("false")),
    Column("whatsapp_stoplist", Boolean, nullable=False, server_default=text("false")),
    Column("stoplisted_at", UTCDateTime),  # last time a stop-list flag was set
    Column("stoplist_source", String(16)),  # api | reply (an inbound STOP keyword) | import | cli
    Index("uq_contacts_account_id_phone", "account_id", "phone", unique=True),
    Index("ix_contacts_account_id_id", "account_id", "id"),
    # the stop list's listings and the lists' stop_list_count start from the (few) stop-listed contacts
    Index("ix_contacts_stoplisted", "account_id", "id", sqlite_where=text(STOPLISTED_SQL),
          postgresql_where=text(STOPLISTED_SQL)),
)

#: Custom contact fields (`/api/contacts/fields*`): typed, per account, unique by name.
contact_fields = Table(
    "contact_fields",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("description", String(255)),
    Column("type", String(16), nullable=False),  # text | number | date | ... (ContactFieldType)
    Column("is_visible", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", UTCDateTime, nullable=False),
    Index("uq_contact_fields_account_id_name", "account_id", "name", unique=True),
)

#: A contact's value of a custom field.
contact_field_values = Table(
    "contact_field_values",
    metadata,
    Column("contact_id", BigInteger, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("field_id", BigInteger, ForeignKey("contact_fields.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("value", Text, nullable=False),
    Index("ix_contact_field_values_field_id", "field_id"),
)

#: Contact lists (`/api/groups*`, "groups" in BSG's paths); one per account may be the default.
contact_groups = Table(
    "contact_groups",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("description", String(255)),
    Column("is_default", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_contact_groups_account_id_id", "account_id", "id"),
    Index("uq_contact_groups_account_id_name", "account_id", "name", unique=True),
    # at most one default list per account, whoever creates it first (services/contacts.py)
    Index("uq_contact_groups_default", "account_id", unique=True, sqlite_where=text("is_default"),
          postgresql_where=text("is_default")),
)

#: Which contacts are in which list.
contact_group_members = Table(
    "contact_group_members",
    metadata,
    Column("group_id", BigInteger, ForeignKey("contact_groups.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("contact_id", BigInteger, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_contact_group_members_contact_id", "contact_id"),
)

#: Two-way numbers (docs/inbound.md): a mobile-originated message sent to one of these belongs to
#: its account, whatever was sent before.  Digits only (E.164 long numbers or short codes).
inbound_numbers = Table(
    "inbound_numbers",
    metadata,
    Column("number", String(20), primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_inbound_numbers_account_id", "account_id"),
)

#: Per account: where its inbound messages are pushed (a webhook of its own, not the status one:
#: its receivers expect BSG's status shape).
inbound_settings = Table(
    "inbound_settings",
    metadata,
    Column("account_id", BigInteger, ForeignKey("accounts.id"), primary_key=True, autoincrement=False),
    Column("webhook_url", String(500)),
    Column("updated_at", UTCDateTime, nullable=False),
)

#: Mobile-originated (MO) messages, reassembled.  `account_id` NULL: unroutable (kept, counted by
#: `relaybox inbound stats`, shown to no tenant).
inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id")),
    Column("sender", String(21), nullable=False),  # the subscriber's MSISDN (source_addr), digits
    Column("recipient", String(40), nullable=False),  # the number or sender it was sent to (destination_addr)
    Column("text", Text, nullable=False),
    Column("encoding", String(8), nullable=False),  # gsm7 | ucs2 | latin1 | ascii | binary
    Column("parts", Integer, nullable=False),
    Column("connector", String(40), nullable=False),  # who received it
    Column("route", String(16), nullable=False),  # number | last_sender | none
    Column("reply_to", BigInteger),  # route last_sender: the MT message it answers
    Column("action", String(16)),  # stoplisted: a STOP keyword put the sender on the stop list
    Column("dedupe_key", String(64), nullable=False),  # sha256 of what identifies a redelivery
    Column("received_at", UTCDateTime, nullable=False),
    Index("ix_inbound_messages_account_id_id", "account_id", "id"),
    Index("ix_inbound_messages_account_id_received_at", "account_id", "received_at"),
    Index("ix_inbound_messages_dedupe_key_received_at", "dedupe_key", "received_at"),
)

#: Parts of concatenated MO messages waiting for the rest of their set (UDH 8/16-bit reference or
#: sar_* TLVs).  A set is complete when `total` distinct numbers are here; then its rows become one
#: inbound_messages row.  Sets older than RELAYBOX_INBOUND_PARTS_TTL_SECONDS are dropped.
inbound_parts = Table(
    "inbound_parts",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("connector", String(40), nullable=False),
    Column("sender", String(21), nullable=False),
    Column("recipient", String(40), nullable=False),
    Column("reference", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("number", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("encoding", String(8), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Index("uq_inbound_parts_set_number", "connector", "sender", "recipient", "reference", "total", "number",
          unique=True),
    Index("ix_inbound_parts_received_at", "received_at"),
)
