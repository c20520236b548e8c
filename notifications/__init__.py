"""Emails to carriers: templates, the outbox, SMTP delivery."""
