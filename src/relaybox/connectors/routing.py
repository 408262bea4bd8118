"""Which connector takes a message: test keys to the built-in simulator, live ones by the routes.

A live message goes to the connector of the longest `routes.prefixes` entry its
number starts with, else to its country's `routes.countries` entry, else to
`routes.default` (connectors/config.py).  RCS messages go to the built-in
simulator when the routed connector cannot carry RCS (SMPP carries SMS only).

Routing is a pure function of the message and the configuration, so a message
resubmitted after a crash (engine recovery) goes to the same connector as the
first time — as long as the configuration did not change in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from relaybox.connectors.base import Connector
from relaybox.connectors.config import BUILTIN, ConnectorsConfig, SimulatorSpec, SmppSpec
from relaybox.connectors.simulator import SimulatorConnector
from relaybox.connectors.smpp import SmppConnector
from relaybox.domain.models import Message


def channels(connector: Connector) -> frozenset[str]:
    """The channels a connector carries (its `channels`, else SMS and RCS)."""
    return getattr(connector, "channels", frozenset({"sms", "rcs"}))


def is_up(connector: Connector) -> bool:
    """Whether the connector can take messages now: an SMPP link is bound; a simulator always can."""
    return bool(getattr(connector, "bound", True))


@dataclass
class Router:
    """Picks each message's connector (module docstring): test keys to the built-in simulator, live ones by longest
    prefix, then country, then the default.
    """
    builtin: Connector  # the built-in simulator: test keys, and RCS that no route can carry
    connectors: dict[str, Connector] = field(default_factory=dict)  # every connector, builtin included
    default: str = BUILTIN
    prefixes: list[tuple[str, str]] = field(default_factory=list)  # longest first
    countries: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.connectors = {self.builtin.name: self.builtin, **self.connectors}
        self.prefixes = sorted(self.prefixes, key=lambda p: -len(p[0]))

    @classmethod
    def single(cls, connector: Connector) -> Router:
        return cls(connector, default=connector.name)

    def all(self) -> list[Connector]:
        return list(self.connectors.values())

    def route(self, message: Message) -> Connector:
        if message.is_test:
            return self.builtin
        digits = str(message.phone)
        name = next((c for prefix, c in self.prefixes if digits.startswith(prefix)), None)
        name = name or self.countries.get(message.country) or self.default
        connector = self.connectors.get(name, self.builtin) if name != BUILTIN else self.builtin
        if message.type not in channels(connector):
            return self.builtin
        return connector

    def split(self, messages: Iterable[Message]) -> list[tuple[Connector, list[Message]]]:
        """A claimed batch, grouped by the connector each message goes to."""
        groups: dict[str, tuple[Connector, list[Message]]] = {}
        for message in messages:
            connector = self.route(message)
            groups.setdefault(connector.name, (connector, []))[1].append(message)
        return list(groups.values())


def build_router(config: ConnectorsConfig, builtin: Connector, *, sim_speed: float, sim_profile: str, sim_seed: int) -> Router:
    """The connectors a configuration declares, ready to start, and the routes to them."""
    connectors: dict[str, Connector] = {}
    for name, spec in config.connectors.items():
        if isinstance(spec, SmppSpec):
            connectors[name] = SmppConnector(spec.settings(name))
        elif isinstance(spec, SimulatorSpec):
            connectors[name] = SimulatorConnector(
                name=name,
                speed=sim_speed if spec.speed is None else spec.speed,
                profile=spec.profile or sim_profile,
                seed=sim_seed if spec.seed is None else spec.seed,
            )
    return Router(
        builtin,
        connectors,
        default=config.default if config.default != BUILTIN else builtin.name,
        prefixes=list(config.prefixes.items()),
        countries=dict(config.countries),
    )
