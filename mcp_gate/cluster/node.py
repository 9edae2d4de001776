"""What this process brings to the cluster, as the app holds it: replica, hop key, relay.

Built once at start (app.py). Alone (no `proxy.cluster`), only the replica is there: it
still renews the session quota's leases, and nothing is relayed or accepted as a hop.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp_gate.cluster.hop import HopVerifier
from mcp_gate.cluster.relay import Relay
from mcp_gate.cluster.replica import Replica


@dataclass(frozen=True)
class ClusterNode:
    replica: Replica
    relay: Relay | None = None
    hops: HopVerifier | None = None
    # The port of the internal listener (only hops come in there), when clustered.
    internal_port: int | None = None

    def is_internal(self, local_port: int | None) -> bool:
        return self.internal_port is not None and local_port == self.internal_port
