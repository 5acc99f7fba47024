"""Live codes: each staff member's authenticator (TOTP), checked by agencies on the
phone with replay refusal and a lock after repeated wrong codes, all in the database;
its enrolment from the console and the command line."""
