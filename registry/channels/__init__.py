"""The Centre's official channels (emails, phones, domains, web addresses), each in
one normal form: what lookups answer ``official_channel`` for and what every answer
offers to call back on; the console page and commands that list them."""
