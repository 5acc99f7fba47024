"""The outbox: notifications written in the transaction of what they tell of, and
delivered later with retries (webhooks today, signed with HMAC), by a background
thread after a request or by ``outbox deliver``."""
