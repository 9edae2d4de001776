"""Access policy: who may use a server and its tools (engine.py), and from where
(client_address.py). Pure: no I/O, no HTTP."""
