"""The outbound policy: which addresses alert deliveries may reach, by default and as allowed."""

from __future__ import annotations

import ipaddress

import pytest

from timberyard.core.outbound import OutboundPolicy, OutboundRefused, check_url, request

REFUSED = ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "169.254.169.254", "fe80::1", "0.0.0.0", "::",
           "10.1.2.3", "172.16.0.1", "192.168.1.1", "fd00::1", "100.64.0.1", "224.0.0.1", "ff02::1", "240.0.0.1",
           "255.255.255.255", "192.0.2.1", "2001:db8::1"]


@pytest.mark.parametrize("address", REFUSED)
def test_loopback_private_link_local_and_reserved_addresses_are_refused_by_default(address: str) -> None:
    assert not OutboundPolicy().allows("example.com", ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert OutboundPolicy().allows("example.com", ipaddress.ip_address(address))


def test_the_setting_allows_networks_and_host_names_and_nothing_more() -> None:
    policy = OutboundPolicy.parse(" 10.20.0.0/16, smtp.internal. ,127.0.0.1")
    assert policy.allows("a", ipaddress.ip_address("10.20.3.4"))
    assert not policy.allows("a", ipaddress.ip_address("10.21.0.1"))
    assert policy.allows("SMTP.internal", ipaddress.ip_address("192.168.9.9"))
    assert policy.allows("a", ipaddress.ip_address("::ffff:127.0.0.1"))
    assert not policy.allows("a", ipaddress.ip_address("::1"))


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://localhost:8080/x", "http://[::1]/", "http://169.254.169.254/latest/meta-data",
                                 "https://0.0.0.0/", "http://[::ffff:127.0.0.1]/", "http://10.0.0.1/", "http://2130706433/"])
def test_urls_aimed_at_this_machine_or_the_private_network_are_refused_with_the_setting_named(url: str) -> None:
    with pytest.raises(OutboundRefused, match="alerts_outbound_allow") as refused:
        check_url(url, OutboundPolicy())
    assert refused.value.to_dict()["code"] == "OutboundRefused" and refused.value.status == 400


def test_every_resolved_address_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    def resolve(host: str, port: int, **kwargs: object) -> list[tuple]:
        return [(2, 1, 6, "", ("93.184.215.14", port)), (2, 1, 6, "", ("10.0.0.7", port))]

    monkeypatch.setattr("socket.getaddrinfo", resolve)
    with pytest.raises(OutboundRefused, match="10.0.0.7"):
        check_url("https://mixed.example.com/", OutboundPolicy())


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name that resolves to a public address when checked and to loopback afterwards (DNS
    rebinding) is connected to at the checked address."""
    answers = iter(["93.184.215.14"] + ["127.0.0.1"] * 10)
    connected: list[tuple[str, int]] = []

    def resolve(host: str, port: int, **kwargs: object) -> list[tuple]:
        return [(2, 1, 6, "", (next(answers), port))]

    def connect(address: tuple[str, int], timeout: float) -> object:
        connected.append(address)
        raise ConnectionRefusedError("test: no network")

    monkeypatch.setattr("socket.getaddrinfo", resolve)
    monkeypatch.setattr("socket.create_connection", connect)
    with pytest.raises(ConnectionRefusedError):
        request(OutboundPolicy(), "POST", "http://rebind.example.com/", b"{}", {})
    assert connected == [("93.184.215.14", 80)]


def test_only_http_urls_with_a_host_are_accepted() -> None:
    for url in ["ftp://example.com/", "file:///etc/passwd", "http:///nohost", "gopher://x", "http://example.com:99999/"]:
        with pytest.raises(Exception, match="url"):
            check_url(url, OutboundPolicy())
