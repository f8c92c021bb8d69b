"""The peers listen on 127.0.0.1 only and talk to nothing outside it."""

from __future__ import annotations

import pytest

from tests.peers.servers import sockets_of

pytestmark = pytest.mark.peers

LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


def test_every_peer_listens_on_the_loopback_address_only(pds, mastodon_mock):
    processes = [*pds.processes, mastodon_mock.process]

    for process in processes:
        sockets = sockets_of(process.popen.pid)
        listening = {local for state, local, _remote in sockets if state == "listen"}
        assert listening == {"127.0.0.1"}, (process.name, sockets)


def test_no_peer_holds_a_connection_to_an_outside_address(pds, mastodon_mock):
    pds.create_account("outbound-check")  # makes the PDS talk to the PLC

    for process in [*pds.processes, mastodon_mock.process]:
        remote = {r for state, _l, r in sockets_of(process.popen.pid) if state == "connected"}
        assert remote <= LOOPBACK, (process.name, remote)
    for process in pds.processes:
        log = process.log.read_text(errors="replace")
        assert "ENOTFOUND" not in log and "EAI_AGAIN" not in log, process.tail()
