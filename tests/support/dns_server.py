"""A real DNS server on a local UDP port: fixed answers, NXDOMAIN, and names it never answers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

Records = Mapping[str, Mapping[str, Sequence[str]]]
_POLL_SECONDS = 0.05


@contextmanager
def dns_server(
    *, records: Records | None = None, black_holes: Sequence[str] = ()
) -> Iterator[tuple[str, int]]:
    """Serve DNS on 127.0.0.1 until the block ends; yields ``(host, port)``.

    ``records`` maps a name to ``{rdtype: [answer, ...]}``: TXT answers are the plain text (split
    into character strings here), other types in zone-file form. A name with records but none of
    the asked type gets an empty NOERROR answer, any other name NXDOMAIN. A query for a name
    equal to or below one of ``black_holes`` is read and never answered, as a dead server would.
    """
    server = _Server(records or {}, black_holes)
    thread = threading.Thread(target=server.serve, name="test-dns", daemon=True)
    thread.start()
    try:
        yield server.address
    finally:
        server.stop.set()
        thread.join()
        server.sock.close()


class _Server:
    def __init__(self, records: Records, black_holes: Sequence[str]) -> None:
        self.records = {
            _key(name): {rdtype.upper(): tuple(answers) for rdtype, answers in by_type.items()}
            for name, by_type in records.items()
        }
        self.black_holes = tuple(_key(suffix) for suffix in black_holes)
        self.stop = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(_POLL_SECONDS)
        host, port = self.sock.getsockname()
        self.address: tuple[str, int] = (str(host), int(port))

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                wire, client = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            reply = self.answer(wire)
            if reply is not None:
                self.sock.sendto(reply, client)

    def answer(self, wire: bytes) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
            question = query.question[0]
        except Exception:  # garbage on the port: a real server would drop it too
            return None
        name = _key(question.name.to_text())
        if self._black_holed(name):
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        self._fill(response, question, name)
        return response.to_wire()

    def _black_holed(self, name: str) -> bool:
        return any(name == hole or name.endswith("." + hole) for hole in self.black_holes)

    def _fill(self, response: dns.message.Message, question: dns.rrset.RRset, name: str) -> None:
        node = self.records.get(name)
        if node is None:
            if not any(known.endswith("." + name) for known in self.records):
                response.set_rcode(dns.rcode.NXDOMAIN)
            return
        rdtype = dns.rdatatype.to_text(question.rdtype)
        answers = [_rdata_text(rdtype, answer) for answer in node.get(rdtype, ())]
        if answers:
            response.answer.append(
                dns.rrset.from_text_list(question.name, 300, "IN", rdtype, answers)
            )


def _key(name: str) -> str:
    return name.rstrip(".").lower()


def _rdata_text(rdtype: str, answer: str) -> str:
    if rdtype != "TXT":
        return answer
    chunks = [answer[i : i + 250] for i in range(0, len(answer), 250)] or [""]
    return " ".join('"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"' for chunk in chunks)
