"""Syslog over TLS (RFC 5425) and RELP over TLS: the node's certificate, and client certificates
as accounts.

The TLS listeners present the node's own certificate (`tls_cert`, `tls_key`, the same files as
HTTPS) with TLS 1.2 or newer. With `syslog_tls_client_ca` set, they ask every client for a
certificate and accept only those that CA signed (a client may still send none, and then
uses a key or the default account). `syslog_tls_client_accounts` maps certificates to accounts,
first match wins:

  fw01.example.org=network      the certificate's common name or a DNS subject alternative name
  *.dc1.example.org=servers     any name ending in .dc1.example.org
  sha256:4F:2A:...=audit        the certificate's SHA-256 fingerprint (colons and case optional)

A device with such a certificate needs no key in its messages; a key in a message still wins.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from timberyard.core.errors import ConfigError


def server_context(cert: str, key: str, client_ca: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # HIPAA transmission security: no TLS 1.0/1.1
    context.load_cert_chain(Path(cert).expanduser(), Path(key).expanduser())
    if client_ca:
        try:
            context.load_verify_locations(Path(client_ca).expanduser())
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"syslog_tls_client_ca {client_ca} is not a readable PEM file of CA certificates ({exc})") from None
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


@dataclass(frozen=True)
class _Rule:
    pattern: str  # a name, `*.suffix`, or a fingerprint (lowercase hex, no colons)
    fingerprint: bool
    account: str  # account id

    def matches(self, names: list[str], fingerprint: str) -> bool:
        if self.fingerprint:
            return self.pattern == fingerprint
        if self.pattern.startswith("*."):
            return any(name.endswith(self.pattern[1:]) for name in names)
        return self.pattern in names


class ClientCertificates:
    def __init__(self, rules: list[_Rule]) -> None:
        self.rules = rules

    @classmethod
    def parse(cls, value: str, account_ids: Mapping[str, str]) -> ClientCertificates:
        """`syslog_tls_client_accounts` with account names resolved to ids (`account_ids`)."""
        rules = []
        for pattern, name in parse_rules(value):
            if name not in account_ids:
                raise ConfigError(
                    f"syslog_tls_client_accounts maps {pattern} to the account {name!r}, which does not exist; "
                    f"create it with `timberyard accounts create {name}`"
                )
            fingerprint = pattern.lower().startswith("sha256:")
            text = pattern[7:].replace(":", "").lower() if fingerprint else pattern.lower()
            rules.append(_Rule(text, fingerprint, account_ids[name]))
        return cls(rules)

    def account_of(self, transport: asyncio.BaseTransport) -> str | None:
        """The account of the certificate the peer presented (verified by the CA), if one maps."""
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if not der or not self.rules:
            return None
        certificate = x509.load_der_x509_certificate(der)
        names = [attribute.value.lower() for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME) if isinstance(attribute.value, str)]
        try:
            names += [name.lower() for name in certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)]
        except x509.ExtensionNotFound:
            pass
        fingerprint = hashlib.sha256(der).hexdigest()
        return next((rule.account for rule in self.rules if rule.matches(names, fingerprint)), None)


def parse_rules(value: str) -> list[tuple[str, str]]:
    """`PATTERN=ACCOUNT,...` as pairs; checks the syntax only."""
    rules = []
    for entry in filter(None, (part.strip() for part in value.split(","))):
        pattern, equals, name = entry.rpartition("=")
        if not equals or not pattern.strip() or not name.strip():
            raise ConfigError(
                f"syslog_tls_client_accounts: {entry!r} is not PATTERN=ACCOUNT; a pattern is a certificate name "
                "(fw01.example.org), a wildcard (*.example.org) or sha256:FINGERPRINT"
            )
        rules.append((pattern.strip(), name.strip()))
    return rules
