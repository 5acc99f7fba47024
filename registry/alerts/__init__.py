"""Alerts to the genuine staff member whose name an impostor borrows: a wrong live
code tried for their staff code, a report naming their phone, email or name, and a
daily digest of the agencies that checked their card. Sent by email through the
outbox; each staff member can turn each kind off."""
