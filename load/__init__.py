"""replyguard's locust load suite: run ``locust -f load/locustfile.py`` (see load/README.md)."""
