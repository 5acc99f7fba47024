"""The console's sessions, kept on the server: one row per signed-in browser (the
cookie holds only a random id whose hash the row keeps), and the sign-in failure
counters per account and source address that throttle guessing."""
