"""The public side, one room per domain: verification of tokens, URLs and card
photos (``verification``), the documents verifiers read (``documents``), lookups and
live-code checks (``lookup``), impersonation reports (``reports``), letters of
introduction (``letters``), the API's own pages (``api``), and the offline verifier
client (``client``, ``python -m verify``). ``core`` is the pure code the server and
the client share. Kept light: the offline client imports this package without Flask.
"""
