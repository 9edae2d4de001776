"""Each user's own credentials for servers (docs/config.md `$userToken`,
`userAuthentication`; sealed at rest, docs/THREAT_MODEL.md).

- `store.py`: the sealed records, a pasted token or a service connection, per (user, server);
- `validation.py`: what a pasted token must look like;
- `service_oauth.py`: the gate as an OAuth client of a service (`userAuthentication: oauth`);
- `connections.py`: connecting a service, and keeping its access token fresh;
- `lookup.py`: the token a request to a server carries for its user.
The browser page is `web/my_tokens_handlers.py`; the injection,
`proxy/user_credentials.py` (and the fronts that use it).
"""
