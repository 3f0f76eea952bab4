"""Printable reports (PDF through audit_api.services.pdf): HTML from Jinja2 templates in templates/, their
wording in wording.py (one catalogue per language, English today)."""
