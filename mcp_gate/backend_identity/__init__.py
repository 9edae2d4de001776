"""Identity for backends: who a backend is told the caller is (`mcpServers.<name>.identity`).

    templates.py   the `{{email}}`-style templates, their values for a principal, and
                   the encoding that keeps a value inside its header or variable (pure;
                   the config loader uses it, so it imports nothing of crypto)
    signer.py      the ES256 identity JWT and the keys it is signed with (JWKS)
    backend.py     `BackendIdentity`: one server's headers and env for a principal,
                   built once at startup; what the request path calls

A backend never gets the gate's token or the client's: what it learns is what its
`identity` config renders (MCP authorization §Token Passthrough).
"""
