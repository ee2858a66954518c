"""The pure parts of webhooks: which addresses and URLs are refused, the backoff schedule, and the
signature a portal verifies."""

from __future__ import annotations

import ipaddress
import random
from datetime import UTC, datetime, timedelta

import pytest

from services.intake.settings import IntakeSettings
from services.intake.webhooks.backoff import next_attempt_at, retry_delay
from services.intake.webhooks.signing import (
    new_signing_secret,
    open_secret,
    seal_secret,
    signature_header,
    signature_matches,
)
from services.intake.webhooks.targets import (
    TargetRefused,
    address_refusal,
    check_target,
    parse_target,
)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("169.254.169.254", "link-local"),
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.0.1", "private"),
        ("100.64.0.1", "non-public"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "IPv4-mapped"),
        ("::ffff:8.8.8.8", "IPv4-mapped"),
        ("2002:7f00:1::", "tunnelled"),
        ("64:ff9b::a00:1", "NAT64"),
        ("2001:db8::1", "private"),
    ],
)
def test_non_public_addresses_are_refused(address: str, reason: str) -> None:
    refusal = address_refusal(ipaddress.ip_address(address))
    assert refusal is not None and reason in refusal


@pytest.mark.parametrize("address", ["1.1.1.1", "8.8.8.8", "93.184.215.14", "2606:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://portal.example/hook",
        "file:///etc/passwd",
        "gopher://portal.example/",
        "ftp://portal.example/",
        "javascript:alert(1)",
        "https://user:pw@portal.example/",
        "https://portal.example/hook#part",
        "https://portal.example:99999/",
        "https:///hook",
        "//portal.example/hook",
    ],
)
def test_urls_refused_before_any_lookup(url: str) -> None:
    with pytest.raises(TargetRefused):
        parse_target(url, allow_private=False)


def test_local_development_allows_http_but_no_other_scheme() -> None:
    assert parse_target("http://127.0.0.1:8080/hook", allow_private=True).port == 8080
    for url in ("file:///etc/passwd", "gopher://127.0.0.1/"):
        with pytest.raises(TargetRefused):
            parse_target(url, allow_private=True)


async def test_a_name_resolving_to_loopback_is_refused_as_if_it_did_not_resolve() -> None:
    # The same answer for both, so refusals do not reveal which internal names exist.
    with pytest.raises(TargetRefused) as private:
        await check_target("https://localhost/hook", allow_private=False)
    with pytest.raises(TargetRefused) as unknown:
        await check_target("https://nowhere.invalid/hook", allow_private=False)
    assert str(private.value) == str(unknown.value).replace("nowhere.invalid", "localhost")


async def test_an_address_literal_is_refused_with_its_reason() -> None:
    with pytest.raises(TargetRefused, match="link-local"):
        await check_target("https://169.254.169.254/latest/meta-data/", allow_private=False)


async def test_the_checked_address_is_what_is_connected_to() -> None:
    target = await check_target("https://1.1.1.1:8443/a/b?c=d", allow_private=False)
    assert target.connect_url == "https://1.1.1.1:8443/a/b?c=d"
    assert target.host_header == "1.1.1.1:8443" and not target.host_is_name
    v6 = await check_target("https://[2606:4700::1111]/", allow_private=False)
    assert (
        v6.connect_url == "https://[2606:4700::1111]:443/" and v6.host_header == "[2606:4700::1111]"
    )


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(7)
    for attempts, step in [(1, 10), (2, 20), (3, 40), (4, 80), (10, 3600), (60, 3600)]:
        delay = retry_delay(attempts, base_seconds=10, cap_seconds=3600, rng=rng)
        assert step * 0.5 <= delay.total_seconds() <= step


def test_retries_end_with_the_window_after_the_first_attempt() -> None:
    first = datetime(2026, 11, 30, tzinfo=UTC)
    window = timedelta(hours=24)
    settings = {"window": window, "base_seconds": 10.0, "cap_seconds": 3600.0}
    soon = next_attempt_at(attempts=1, now=first, first_attempted_at=first, **settings)
    assert soon is not None and first + timedelta(seconds=5) <= soon <= first + timedelta(
        seconds=10
    )
    # Near the end, the last retry falls at the end of the window, not after it.
    late = first + window - timedelta(seconds=30)
    last = next_attempt_at(attempts=40, now=late, first_attempted_at=first, **settings)
    assert last == first + window
    assert (
        next_attempt_at(attempts=41, now=first + window, first_attempted_at=first, **settings)
        is None
    )


def test_signature_verifies_only_the_body_and_secret_it_was_made_with() -> None:
    secret = new_signing_secret()
    body = b'{"status":"assigned"}'
    header = signature_header(secret, timestamp=1_764_460_800, body=body)
    assert header.startswith("t=1764460800,v1=")
    assert signature_matches(secret, header=header, body=body)
    assert not signature_matches(secret, header=header, body=body + b" ")
    assert not signature_matches(new_signing_secret(), header=header, body=body)
    assert not signature_matches(secret, header="v1=abc", body=body)


def test_secrets_are_sealed_under_the_key() -> None:
    secret = new_signing_secret()
    sealed = seal_secret(secret, key="one key")
    assert secret not in sealed
    assert open_secret(sealed, key="one key") == secret
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidToken
        open_secret(sealed, key="another key")


def test_production_refuses_private_targets_and_seals_under_a_production_key() -> None:
    production = {"CONDUCT_ENVIRONMENT": "production", "PSEUDONYM_KEY": "a production secret"}
    with pytest.raises(ValueError, match="ALLOW_PRIVATE_TARGETS"):
        IntakeSettings.model_validate({**production, "webhook_allow_private_targets": True})
    derived = IntakeSettings.model_validate(production)
    own = IntakeSettings.model_validate({**production, "webhook_secret_key": "its own key"})
    assert "a production secret" in derived.webhook_sealing_key()
    assert own.webhook_sealing_key() != derived.webhook_sealing_key()


async def test_an_international_name_is_checked_in_its_ascii_form() -> None:
    with pytest.raises(TargetRefused, match="xn--"):
        await check_target("https://bücher.invalid/hook", allow_private=False)
