"""Deployment files (nginx, gunicorn, systemd) and a loopback stack runner built from them."""
