"""Admin console accounts: their rules and lifecycle, sign-in with password and
authenticator code (lockouts in the database), the session cookie and the role
guard every console view wears, and the console's account pages and commands."""
