"""Raw SMTP over a socket, for tests that must send what no well-behaved client would."""

from __future__ import annotations

import socket
from typing import BinaryIO


def open_data(
    port: int, rcpt: str, *, mail_from: str = "alice@sender.example", helo: str = "c.example"
) -> tuple[socket.socket, BinaryIO, list[bytes]]:
    """A session taken up to DATA: the socket, its reader, and every reply so far."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    reader = sock.makefile("rb")
    replies = [reader.readline()]
    for command in (f"HELO {helo}", f"MAIL FROM:<{mail_from}>", f"RCPT TO:<{rcpt}>", "DATA"):
        sock.sendall(command.encode() + b"\r\n")
        replies.append(reader.readline())
    return sock, reader, replies
