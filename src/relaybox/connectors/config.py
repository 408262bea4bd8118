"""relaybox.toml: the connectors relaybox delivers through and the routes to them.

The file is named by `RELAYBOX_CONFIG` (or `--config`).  Without one, relaybox
has a single connector, the built-in simulator, and every message goes to it.
A file that is not valid is refused at start with every problem listed, each
with its place in the file (`connectors.kyivstar.port: …`).

```toml
[connectors.kyivstar]          # a name of your choice: [a-z0-9_-], up to 40 characters
type = "smpp"
host = "smpp.example.net"
port = 2775
system_id = "relaybox"
password = "secret"
bind = "transceiver"           # or "transmitter_receiver"
tps = 100                      # submit_sm per second on the connection (0: no limit)
window = 50                    # submit_sm awaiting their response at once
receipt_id_format = "auto"     # or "hex-decimal", ... when the SMSC writes receipt ids in another form

[connectors.sandbox]
type = "simulator"             # another simulated network (--sim-* settings unless given here)

[routes]
default = "kyivstar"           # where a live message goes when nothing below matches
prefixes = { "38050" = "sandbox" }   # longest matching number prefix wins
countries = { DE = "sandbox" }       # then the message's country (ISO 3166 alpha-2)
```

`simulator` is the built-in simulator — where every test key's message goes — and
can be named by routes but not declared.  docs/connectors.md has every key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from relaybox.connectors.smpp.connector import SmppSettings

BUILTIN = "simulator"
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"


class ConfigError(ValueError):
    """relaybox.toml cannot be used; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SimulatorSpec(_Strict):
    """A `[connectors.<name>]` table with `type = "simulator"`: speed (latency scale, 0 = at once), profile, seed."""
    type: Literal["simulator"]
    speed: Annotated[float, Field(ge=0)] | None = None
    profile: Literal["magic", "realistic"] | None = None
    seed: int | None = None


class SmppSpec(_Strict):
    """A `[connectors.<name>]` table with `type = "smpp"`: the SMSC, the ESME's credentials (SMPP 3.4 §4.1 field
    lengths), TPS, window (outstanding submit_sm), and timeouts and backoffs in seconds.
    """
    type: Literal["smpp"]
    host: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    port: Annotated[int, Field(ge=1, le=65535)] = 2775
    system_id: Annotated[str, StringConstraints(min_length=1, max_length=15)]  # SMPP 3.4 limits
    password: Annotated[str, StringConstraints(max_length=8)] = ""
    system_type: Annotated[str, StringConstraints(max_length=12)] = ""
    bind: Literal["transceiver", "transmitter_receiver"] = "transceiver"
    tps: Annotated[float, Field(ge=0)] = 50.0
    window: Annotated[int, Field(ge=1, le=1000)] = 10
    enquire_link_interval: Annotated[float, Field(gt=0)] = 30.0
    response_timeout: Annotated[float, Field(gt=0)] = 10.0
    connect_timeout: Annotated[float, Field(gt=0)] = 10.0
    reconnect_min: Annotated[float, Field(gt=0)] = 1.0
    reconnect_max: Annotated[float, Field(gt=0)] = 60.0
    throttle_backoff: Annotated[float, Field(gt=0)] = 1.0
    receipt_ack_timeout: Annotated[float, Field(gt=0)] = 5.0
    message_id_tlv: bool = True
    source_ton: Annotated[int, Field(ge=0, le=6)] | None = None
    source_npi: Annotated[int, Field(ge=0, le=18)] | None = None
    service_type: Annotated[str, StringConstraints(max_length=5)] = ""
    receipt_id_format: Literal["auto", "as-is", "hex", "decimal", "hex-decimal", "decimal-hex"] = "auto"

    def settings(self, name: str) -> SmppSettings:
        return SmppSettings(name=name, **self.model_dump(exclude={"type"}))


class RoutesSpec(_Strict):
    """The `[routes]` table: the default connector, by number prefix (digits) and by ISO 3166 alpha-2 country."""
    default: str
    prefixes: dict[Annotated[str, StringConstraints(pattern=r"^[0-9]{1,15}$")], str] = {}
    countries: dict[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")], str] = {}


class _File(_Strict):
    connectors: dict[
        Annotated[str, StringConstraints(pattern=NAME_PATTERN)],
        Annotated[SimulatorSpec | SmppSpec, Field(discriminator="type")],
    ] = {}
    routes: RoutesSpec | None = None


@dataclass(frozen=True)
class ConnectorsConfig:
    """relaybox.toml as checked: the connectors by name and the routes."""
    source: str  # where it was read from, for messages
    connectors: dict[str, SimulatorSpec | SmppSpec]
    default: str
    prefixes: dict[str, str]
    countries: dict[str, str]

    @classmethod
    def builtin_only(cls) -> ConnectorsConfig:
        return cls("(no relaybox.toml)", {}, BUILTIN, {}, {})


def parse(data: dict, source: str = "relaybox.toml") -> ConnectorsConfig:
    """Check a parsed relaybox.toml. Raises ConfigError listing every problem with its place in the file."""
    try:
        spec = _File.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            # pydantic names the union member it tried (connectors.x.smpp.port): drop that step
            if len(loc) >= 3 and loc[0] == "connectors" and loc[2] in ("simulator", "smpp"):
                loc = loc[:2] + loc[3:]
            message = error["msg"]
            is_key = bool(loc) and loc[-1] == "[key]"
            loc = tuple(part for part in loc if part != "[key]")
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            elif is_key and loc[:1] == ("connectors",):
                message = "connector names are 1-40 of a-z, 0-9, _ and -, starting with a letter or digit"
            elif is_key and loc[:2] == ("routes", "countries"):
                message = "countries are ISO 3166 alpha-2 codes in capitals (UA, DE, ...)"
            elif is_key and loc[:2] == ("routes", "prefixes"):
                message = "number prefixes are 1 to 15 digits, as a quoted string"
            elif error["type"] == "union_tag_invalid":
                message = 'type must be "smpp" or "simulator"'
            problems.append(f"{'.'.join(map(str, loc)) or '(file)'}: {message}")
        raise ConfigError(f"{source} is invalid:\n  " + "\n  ".join(problems)) from None
    problems = []
    if BUILTIN in spec.connectors:
        problems.append(f"connectors.{BUILTIN}: the name is the built-in simulator's (test keys use it); choose another")
    for name, connector in spec.connectors.items():
        if isinstance(connector, SmppSpec) and connector.reconnect_max < connector.reconnect_min:
            problems.append(f"connectors.{name}.reconnect_max: must not be less than reconnect_min")
    if spec.routes is None:
        if spec.connectors:
            problems.append("routes.default: missing; say where live messages go (a connector's name, or simulator)")
        routes = RoutesSpec(default=BUILTIN)
    else:
        routes = spec.routes
    known = set(spec.connectors) | {BUILTIN}
    targets = [("routes.default", routes.default)]
    targets += [(f'routes.prefixes."{p}"', c) for p, c in routes.prefixes.items()]
    targets += [(f"routes.countries.{k}", c) for k, c in routes.countries.items()]
    for where, name in targets:
        if name not in known:
            problems.append(f"{where}: no connector named {name!r} (declared: {', '.join(sorted(known))})")
    if problems:
        raise ConfigError(f"{source} is invalid:\n  " + "\n  ".join(problems))
    return ConnectorsConfig(source, dict(spec.connectors), routes.default, dict(routes.prefixes), dict(routes.countries))


def load(path: str | Path | None) -> ConnectorsConfig:
    """The configuration in `path`; the built-in simulator alone when `path` is None."""
    if path is None or str(path) == "":
        return ConnectorsConfig.builtin_only()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (RELAYBOX_CONFIG / --config)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return parse(data, str(path))
