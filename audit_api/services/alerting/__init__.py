"""Alert delivery (issue 14): per-site channels, a persistent delivery queue in the database and the sender
that drains it through Apprise or our own signed webhook. See docs/alerts.md."""
