"""Scale-out: replicas that relay each other's MCP sessions (docs/deploy.md §Scale-out).

`replica.py` is this process in the cluster (its id, its lease, where the others are),
`hop.py` the internal hop's authentication, `relay.py` sending a request to the replica
that owns its session and streaming the answer back.
"""
