"""The safe fetcher's address policy: every address class, flags that open only what they name, IPv6 forms that
embed an IPv4 address judged by that address, whether typed, answered by DNS or reached by a redirect."""

import asyncio
import ipaddress

import httpx
import pytest

from summarizer.fetch import Fetcher, Refused

NO_FLAGS: dict = {}
PRIVATE = {"allow_private": True}
ALL_FLAGS = {"allow_private": True, "allow_link_local": True, "allow_shared": True}


def nat64_local(ipv4: str, prefix_len: int) -> str:
    """An address in 64:ff9b:1::/48 embedding `ipv4` at the RFC 6052 position for `prefix_len` (bits 64-71 skipped)."""
    packed = bytearray(ipaddress.ip_address("64:ff9b:1::").packed)
    positions = [i for i in range(prefix_len // 8, 16) if i != 8][:4]
    for position, byte in zip(positions, ipaddress.ip_address(ipv4).packed):
        packed[position] = byte
    return str(ipaddress.ip_address(bytes(packed)))


def teredo(client: str, server: str = "65.54.227.120") -> str:
    """A Teredo address (2001::/32): server IPv4, flags, obfuscated port, obfuscated client IPv4."""
    server_int = int(ipaddress.ip_address(server))
    client_int = int(ipaddress.ip_address(client)) ^ 0xFFFFFFFF
    return str(ipaddress.IPv6Address((0x20010000 << 96) | (server_int << 64) | (0x8000 << 48) | (0x63BF << 32) | client_int))


def fetch(url: str, answer: str | None = None, flags: dict = NO_FLAGS, redirect_to: str | None = None):
    """GET `url` through the fetcher, every host name resolving to `answer` (a literal resolves to itself); returns
    the (host, path) pairs the transport was asked to reach, or raises what the fetcher raised."""
    reached = []

    def resolver(host, port, proto=0):
        try:
            ipaddress.ip_address(host)
            address = host
        except ValueError:
            address = answer
        family = 10 if ":" in address else 2
        return [(family, 1, 6, "", (address, port))]

    def handler(request):
        reached.append((ipaddress.ip_address(request.url.host.strip("[]")), request.url.path))
        if redirect_to and request.url.path == "/start":
            return httpx.Response(302, headers={"location": redirect_to})
        return httpx.Response(200, text="<html><body><p>نص</p></body></html>", headers={"content-type": "text/html"})

    async def scenario():
        fetcher = Fetcher(timeout=5, concurrency=1, transport=httpx.MockTransport(handler), resolver=resolver,
                          **flags)
        try:
            await fetcher.get(url, html_only=True)
        finally:
            await fetcher.close()

    asyncio.run(scenario())
    return reached


REFUSED = [
    # (address, flags that are set, the flag named in the refusal or None when no flag opens it)
    ("127.0.0.1", NO_FLAGS, "--allow-private"),
    ("10.1.2.3", NO_FLAGS, "--allow-private"),
    ("fd00::1", NO_FLAGS, "--allow-private"),
    ("169.254.169.254", PRIVATE, "--allow-link-local"),
    ("fe80::1", PRIVATE, "--allow-link-local"),
    ("100.100.100.200", NO_FLAGS, "--allow-shared"),  # shared address space: one cloud's metadata service
    ("100.100.100.200", {"allow_private": True, "allow_link_local": True}, "--allow-shared"),
    ("::ffff:169.254.169.254", PRIVATE, "--allow-link-local"),  # IPv4-mapped
    ("::ffff:127.0.0.1", NO_FLAGS, "--allow-private"),
    ("::ffff:100.100.100.200", PRIVATE, "--allow-shared"),
    ("64:ff9b::169.254.169.254", PRIVATE, "--allow-link-local"),  # IPv4-translated (NAT64)
    (nat64_local("169.254.169.254", 48), PRIVATE, "--allow-link-local"),
    # A local NAT64 prefix's length is the operator's choice: every reading must be public. Read at /48, this one
    # is 0.0.0.0, so even --allow-private does not open it.
    (nat64_local("10.0.0.1", 96), PRIVATE, None),
    ("2002:a9fe:a9fe::1", PRIVATE, "--allow-link-local"),  # 6to4 of 169.254.169.254
    (teredo("10.0.0.1"), NO_FLAGS, "--allow-private"),
    (teredo("93.184.216.34", server="169.254.169.254"), PRIVATE, "--allow-link-local"),
    ("224.0.0.1", ALL_FLAGS, None),
    ("ff02::1", ALL_FLAGS, None),
    ("0.0.0.0", ALL_FLAGS, None),
    ("::", ALL_FLAGS, None),
    ("255.255.255.255", ALL_FLAGS, None),
    ("240.0.0.1", ALL_FLAGS, None),
    ("192.0.2.1", ALL_FLAGS, None),  # documentation ranges
    ("2001:db8::1", ALL_FLAGS, None),
    ("198.18.0.1", ALL_FLAGS, None),  # benchmarking: not global, in no class of its own
    ("::ffff:224.0.0.1", ALL_FLAGS, None),
]


@pytest.mark.parametrize("address, flags, named", REFUSED)
@pytest.mark.parametrize("how", ["typed", "dns", "redirect"])
def test_every_address_class_is_refused_unless_its_own_flag_opens_it(address, flags, named, how):
    literal = f"[{address}]" if ":" in address else address
    if how == "typed":
        call = dict(url=f"http://{literal}/")
    elif how == "dns":
        call = dict(url="http://news.example/", answer=address)
    else:  # a public page redirecting to the address
        call = dict(url="http://news.example/start", answer="93.184.216.34", redirect_to=f"http://{literal}/x")
    with pytest.raises(Refused) as refusal:
        fetch(flags=flags, **call)
    message = str(refusal.value)
    assert message.startswith("refused")
    if named:
        assert named in message
    else:
        assert "--allow" not in message  # no flag opens it: none is suggested


@pytest.mark.parametrize("address, flags", [
    ("93.184.216.34", NO_FLAGS), ("2606:4700::1111", NO_FLAGS), ("::ffff:93.184.216.34", NO_FLAGS),
    ("64:ff9b::93.184.216.34", NO_FLAGS), ("2002:5db8:d822::1", NO_FLAGS), (teredo("93.184.216.34"), NO_FLAGS),
    ("127.0.0.1", PRIVATE), ("10.1.2.3", PRIVATE), ("::ffff:10.1.2.3", PRIVATE),
    ("169.254.169.254", {"allow_link_local": True}), ("::ffff:169.254.169.254", {"allow_link_local": True}),
    ("100.100.100.200", {"allow_shared": True}),
])
def test_public_addresses_and_opened_classes_are_fetched(address, flags):
    literal = f"[{address}]" if ":" in address else address
    assert fetch("http://news.example/", answer=address, flags=flags) == [(ipaddress.ip_address(address), "/")]
    assert len(fetch(f"http://{literal}/", flags=flags)) == 1


def test_a_refused_redirect_target_is_never_reached():
    with pytest.raises(Refused):
        fetch("http://news.example/start", answer="93.184.216.34", flags=PRIVATE,
              redirect_to="http://[::ffff:a9fe:a9fe]/latest/meta-data")


def test_the_readme_shows_the_policy_table_of_the_code():
    from pathlib import Path

    from summarizer.fetch import ADDRESS_POLICY, EMBEDDED_IPV4

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    for entry in ADDRESS_POLICY:
        row = next((line for line in readme.splitlines() if line.startswith(f"| {entry.name} |")), None)
        assert row is not None, entry.name
        assert all(f"`{network}`" in row for network in entry.networks), entry.name
        assert (f"`{entry.flag_name}`" if entry.flag else "never") in row, entry.name
    for name, prefix, _ in EMBEDDED_IPV4:
        assert f"`{prefix}`" in readme, name
