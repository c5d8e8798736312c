"""Syslog sources: UDP, TCP and TLS listeners, RELP, and the decoding PaaS log drains share.

Read from the wire (udp.py, stream.py, relp.py over connection.py), framed (framing.py),
decoded into per-account batches (decode.py, with parse/syslog.py and accounts.py) and handed
to the pipeline (sink.py); listeners.py builds them from the node's settings. docs/syslog.md
says what each transport promises.
"""
