"""Which account a syslog message belongs to, LogDNA's way.

In order of precedence:
1. the ingestion key in the message's structured data, `[logdna@48950 key="..."]`;
2. the account of the TLS client certificate the connection presented
   (`syslog_tls_client_accounts`, see ingest/syslog/tls.py);
3. the listener's default account (`syslog_account`), for devices that cannot send a key.

A message whose key is wrong (unknown, revoked, a service key) is refused and counted, never
stored in the certificate's or the default account: a typo in one router's key must not pour
its lines into someone else's account. A message with no key where the connection has no
account is refused too. Refusals are per message, so one bad line does not cost its neighbours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from timberyard.auth.keys import KeyRing
from timberyard.core.errors import ConfigError, TimberyardError
from timberyard.meta.info import AccountInfo

WRONG_KEY = "wrong_key"
NO_ACCOUNT = "no_account"
TRANSPORTS = ("udp", "tcp", "tls", "relp", "relp-tls")  # as `syslog_account` names them


class KeyAccounts:
    """Ingestion keys to account ids through the node's key ring (which caches valid keys), with
    each batch's lookups remembered for the batch: a sender puts its key on every line."""

    def __init__(self, keyring: KeyRing) -> None:
        self.keyring = keyring

    def resolver(self) -> KeyLookup:
        return KeyLookup(self.keyring)


class KeyLookup:
    """The lookups of one batch."""

    def __init__(self, keyring: KeyRing) -> None:
        self.keyring = keyring
        self.known: dict[str, str | None] = {}

    def account(self, key: str) -> str | None:
        """The account of ingestion key `key`, or None when it is not a usable ingestion key."""
        if key not in self.known:
            try:
                self.known[key] = self.keyring.authenticate(key, "ingestion").account_id
            except TimberyardError:
                self.known[key] = None
        return self.known[key]


@dataclass(frozen=True)
class DefaultAccounts:
    """`syslog_account`: one account name for every listener, or `transport=name` pairs
    (`udp=network,tls=servers`), resolved to account ids."""

    by_transport: Mapping[str, str]

    def of(self, transport: str) -> str | None:
        return self.by_transport.get(transport)

    @classmethod
    def parse(cls, value: str, accounts: list[AccountInfo]) -> DefaultAccounts:
        ids = {account.name: account.id for account in accounts}
        names = parse_account_names(value)
        for name in names.values():
            if name not in ids:
                known = ", ".join(sorted(ids)) or "none yet"
                raise ConfigError(
                    f"syslog_account names the account {name!r}, which does not exist (accounts: {known}); "
                    f"create it with `timberyard accounts create {name}` or name another"
                )
        return cls({transport: ids[name] for transport, name in names.items()})


def parse_account_names(value: str) -> dict[str, str]:
    """`name` -> that name for every transport; `udp=a,tls=b` -> those; "" -> none. Checks the
    syntax only, so a bad value stops the node before it opens anything."""
    value = value.strip()
    if not value:
        return {}
    if "=" not in value:
        return dict.fromkeys(TRANSPORTS, value)
    names: dict[str, str] = {}
    for entry in value.split(","):
        transport, equals, name = entry.strip().partition("=")
        if not equals or transport.strip() not in TRANSPORTS or not name.strip():
            raise ConfigError(
                f"syslog_account: {entry.strip()!r} is not TRANSPORT=ACCOUNT with TRANSPORT one of "
                f"{', '.join(TRANSPORTS)}; give one account name for every listener, or e.g. udp=network,tls=servers"
            )
        names[transport.strip()] = name.strip()
    return names
