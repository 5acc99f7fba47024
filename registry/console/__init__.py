"""The admin console as a whole: its menu, what every console page knows (who is
signed in, what they may do, how states are named), and the registry's counts on the
dashboard. The dashboard page itself shows reports too, so it lives with them
(``verify.reports.admin``); every room adds its own pages to ``platform.console``."""
