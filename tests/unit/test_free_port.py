"""``free_port`` never hands one process the same port twice: the kernel does, within a few
hundred binds, and two servers of one stack (the API and a service's metrics) were once given the
same port, so the stack's requests reached the wrong server."""

from __future__ import annotations

import socket

from mailmoat.common.processes import free_port


def test_ports_handed_out_are_all_different_and_free() -> None:
    ports = [free_port() for _ in range(1000)]
    assert len(set(ports)) == len(ports)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports[-1]))  # free when handed out
