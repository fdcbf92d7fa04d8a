"""A DNS zone file written at run time, with DKIM keys generated for it (never committed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dkim

from tests.support.dkim_keys import new_rsa_key, pem, rsa_record

SENDER_IP = "127.0.0.1"
OTHER_IP = "192.0.2.10"


def _txt(value: str) -> str:
    """A TXT rdata: quoted strings of at most 255 characters each."""
    chunks = [value[i : i + 250] for i in range(0, len(value), 250)]
    return " ".join(f'"{chunk}"' for chunk in chunks)


@dataclass(frozen=True)
class TestZone:
    """Domains the tests send as.

    ``sender.example``: SPF allows 127.0.0.1, DKIM selector ``s1``, DMARC p=reject.
    ``attack.com``: an attacker's own domain, SPF and DKIM that pass for itself, no DMARC.
    ``legitimate.com``: a brand, SPF only 192.0.2.10, DMARC p=reject (what spoofers aim at).
    ``quarantine.example``: SPF only 192.0.2.10, DMARC p=quarantine.
    """

    directory: Path
    private_keys: dict[str, bytes]

    @classmethod
    def build(cls, directory: Path) -> TestZone:
        directory.mkdir(parents=True, exist_ok=True)
        keys = {domain: new_rsa_key() for domain in ("sender.example", "attack.com")}
        lines = ["$TTL 300"]
        lines += _domain_records(
            "sender.example", SENDER_IP, "reject", rsa_record(keys["sender.example"])
        )
        lines += _domain_records("attack.com", SENDER_IP, None, rsa_record(keys["attack.com"]))
        lines += _domain_records("legitimate.com", OTHER_IP, "reject", None)
        lines += _domain_records("quarantine.example", OTHER_IP, "quarantine", None)
        (directory / "test.zone").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return cls(directory, {domain: pem(key) for domain, key in keys.items()})

    def sign(self, raw: bytes, domain: str, selector: str = "s1") -> bytes:
        """``raw`` with a DKIM-Signature by ``domain``'s key prepended."""
        header = dkim.sign(raw, selector.encode(), domain.encode(), self.private_keys[domain])
        return bytes(header) + raw


def _domain_records(domain: str, spf_ip: str, dmarc: str | None, key: str | None) -> list[str]:
    records = [f"{domain}. IN A {OTHER_IP}", f'{domain}. IN TXT "v=spf1 ip4:{spf_ip} -all"']
    if dmarc:
        records.append(f'_dmarc.{domain}. IN TXT "v=DMARC1; p={dmarc}"')
    if key:
        records.append(f"s1._domainkey.{domain}. IN TXT {_txt(key)}")
    return records
