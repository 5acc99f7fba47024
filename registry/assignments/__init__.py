"""Assignments, the digital letters of introduction: a signed token that sends one
staff member to one agency for one purpose, its letter (print view data and the
one-page PDF), and the console pages and commands that manage them."""
