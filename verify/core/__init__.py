"""Pure code the server and the offline client share, so that the two cannot
disagree: verdicts and the one table that decides them, what a presented text or URL
holds and the claims a token must carry, the agency rule, who to call back, QR
decoding of a card photo, what each verdict says, receipts and the signing keys that
check them. No Flask and no database."""
